"""The anomaly score: an Isolation Forest over the declared features, and its explanation.

Why Isolation Forest: it needs no labels (there are none we would trust: a
past case's outcome reflects past selection), it makes no assumption about
the shape of the distribution, it is fast on millions of rows because each
tree sees only ``max_samples_per_tree`` rows, and "isolated after few random
splits" is an honest description of *unusual*, nothing more.

Reproducibility: the fitting sample is drawn with ``numpy``'s seeded
generator from the recipients sorted by cpr; the forest has a fixed
``random_state`` and ``n_jobs=1`` (one thread, so no scheduling can change
the result). The same features and configuration give the same bytes.

The score in [0, 1] is a **percentile within the run**: the share of the
reference population (the fitting sample) that is less unusual than the
person, ties counted half (mid-rank). 0.97 reads "more unusual than 97 % of
this month's recipients". It is comparable within a run, not across runs,
and its distribution is uniform, so a ``score_weight`` means the same every
month. Only the fitting sample and the persons asked for are scored, which
keeps the cost at national scale to a few hundred thousand rows.

The explanation compares the person with the same reference population per
feature, by a robust z-score ``(value - median) / spread`` with spread = IQR,
or the mean absolute deviation from the median where the IQR is 0 (most
recipients have no moves and no corrections, so their IQR is 0), or 1.

Why scikit-learn is imported inside :func:`score`: ``import sklearn.ensemble``
costs about 3 s of CPU here, and everything that reads the configuration
(:mod:`kontrol.config` uses :class:`~kontrol.scoring.config.ScoringConfig`)
would pay it at import time, including a CLI call that only reports a bad
argument, the Airflow DAG's parse, and the register's lock helpers. It is an
import cost moved to the one function that needs it, not a cycle dodged.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from kontrol.scoring.config import ScoringConfig
from kontrol.scoring.features import FEATURES, Feature

#: Fewer recipients than this and "unusual" means nothing: scores are null.
MIN_POPULATION = 10

#: Columns of :func:`score`.
SCORE_SCHEMA = pl.Schema(
    {"cpr": pl.String(), "anomaly_score": pl.Float64(), "score_explanation": pl.String()}
)

FloatArray = NDArray[np.float64]
#: Spreads below this are rounding noise, not spread.
_EPS = 1e-9


def _matrix(features: pl.DataFrame) -> FloatArray:
    """The detector's view: ``log1p`` of the skewed non-negative features, the rest as is."""
    columns = [
        pl.col(f.name).clip(lower_bound=0.0).log1p() if f.log else pl.col(f.name) for f in FEATURES
    ]
    return features.select(columns).to_numpy().astype(np.float64, copy=False)


def _fit_rows(n: int, config: ScoringConfig) -> NDArray[np.int64]:
    if n <= config.max_fit_samples:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(config.random_state)
    return np.sort(rng.choice(n, size=config.max_fit_samples, replace=False)).astype(np.int64)


def _spread(ref: FloatArray, median: FloatArray) -> FloatArray:
    q1, q3 = np.quantile(ref, [0.25, 0.75], axis=0)
    iqr = q3 - q1
    mad = np.mean(np.abs(ref - median), axis=0)
    return np.where(iqr > _EPS, iqr, np.where(mad > _EPS, mad, 1.0))


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def describe(feature: Feature, value: float) -> str:
    """A feature value as a caseworker reads it (DKK amounts, percentages, counts)."""
    if feature.kind == "dkk":
        return f"{value:,.0f} DKK"
    if feature.kind == "share":
        return f"{value * 100:.0f} %"
    if feature.kind == "change":
        pct = round(value * 100)
        if pct == 0:
            return "unchanged"
        return f"rose {pct} %" if pct > 0 else f"fell {-pct} %"
    return _number(value)


def _explain(
    row: FloatArray, median: FloatArray, spread: FloatArray, config: ScoringConfig
) -> list[dict[str, Any]]:
    z = (row - median) / spread
    order = sorted(range(len(FEATURES)), key=lambda i: (-abs(z[i]), i))
    out: list[dict[str, Any]] = []
    for i in order[: config.explanation_features]:
        if abs(z[i]) < config.min_explained_z:
            break
        f = FEATURES[i]
        value, typical = float(row[i]), float(median[i])
        out.append(
            {
                "feature": f.name,
                "value": round(value, 4),
                "typical": round(typical, 4),
                "robust_z": round(float(z[i]), 2),
                "text": f.template.format(value=describe(f, value), typical=describe(f, typical)),
            }
        )
    return out


def score(
    features: pl.DataFrame, config: ScoringConfig, cprs: pl.Series | None = None
) -> pl.DataFrame:
    """``cpr, anomaly_score, score_explanation`` for ``cprs`` (default: every recipient).

    ``features`` is the collected :func:`~kontrol.scoring.person_features`
    frame: the whole recipient population, which defines what is usual.
    ``score_explanation`` is a JSON list (see :func:`_explain`), ``[]`` when
    nothing stands out. With scoring disabled, or fewer than
    :data:`MIN_POPULATION` recipients, scores are null and explanations ``[]``.
    """
    population = features.sort("cpr")
    targets = (
        population
        if cprs is None
        else population.join(pl.DataFrame({"cpr": cprs.unique().sort()}), on="cpr", how="semi")
    )
    if not config.enabled or population.height < MIN_POPULATION:
        return targets.select(
            "cpr",
            pl.lit(None, dtype=pl.Float64()).alias("anomaly_score"),
            pl.lit("[]").alias("score_explanation"),
        )
    x = _matrix(population)
    fit = _fit_rows(population.height, config)
    from sklearn.ensemble import IsolationForest

    forest = IsolationForest(
        n_estimators=config.n_estimators,
        max_samples=min(config.max_samples_per_tree, len(fit)),
        random_state=config.random_state,
        n_jobs=1,
    ).fit(x[fit])
    reference = np.sort(-forest.score_samples(x[fit]))
    xt = _matrix(targets)
    raw = -forest.score_samples(xt)
    below = np.searchsorted(reference, raw, side="left")
    upto = np.searchsorted(reference, raw, side="right")
    pct = np.round((below + upto) / (2.0 * len(reference)), 6)

    values = population.select(f.name for f in FEATURES).to_numpy()[fit]
    median = np.median(values, axis=0)
    spread = _spread(values, median)
    raw_targets = targets.select(f.name for f in FEATURES).to_numpy().astype(np.float64)
    explanations = [
        json.dumps(_explain(r, median, spread, config), ensure_ascii=False, separators=(",", ":"))
        for r in raw_targets
    ]
    return pl.DataFrame(
        {"cpr": targets["cpr"], "anomaly_score": pct, "score_explanation": explanations},
        schema=SCORE_SCHEMA,
    )
