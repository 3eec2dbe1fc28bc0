"""The anomaly score: range, reproducibility, explanations, and blindness to protected columns."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from kontrol.config import KontrolConfig
from kontrol.extracts import Extracts
from kontrol.queue import DEMO_CASE_KEY, assemble_queue
from kontrol.rules import evaluate_rules
from kontrol.scoring import (
    FEATURE_NAMES,
    ScoringConfig,
    attach_scores,
    person_features,
    prioritise,
    rule_weights,
    score,
)
from kontrol.synth import synthesize

AS_OF = date(2026, 10, 31)
NAMES = ("persons", "residence_events", "relations", "payments", "income")
CONFIG = ScoringConfig(n_estimators=50, score_weight=1.0)


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Extracts:
    out = tmp_path_factory.mktemp("scoring") / "town"
    synthesize(out, persons=3000, seed=515, as_of=AS_OF)
    return Extracts(**{n: pl.read_parquet(out / f"{n}.parquet").lazy() for n in NAMES})


def _queue(extracts: Extracts, config: ScoringConfig) -> pl.DataFrame:
    """The whole scoring path as the pipeline runs it, ending in a prioritised queue."""
    cases = evaluate_rules(extracts, AS_OF, KontrolConfig()).collect()
    base = assemble_queue(cases, DEMO_CASE_KEY.encode(), "run")
    features = person_features(extracts, AS_OF, 12).collect()
    scored = score(features, config, base["cpr"])
    return prioritise(attach_scores(base, scored), rule_weights(), config)


def test_scores_in_unit_interval_and_reproducible(town: Extracts) -> None:
    features = person_features(town, AS_OF, 12).collect()
    first = score(features, CONFIG)
    second = score(features, CONFIG)
    assert first.equals(second)
    assert first.write_ipc(None).getvalue() == second.write_ipc(None).getvalue()
    s = first["anomaly_score"]
    assert s.null_count() == 0
    assert s.min() >= 0.0 and s.max() <= 1.0  # type: ignore[operator]
    assert first.height == features.height
    # a percentile over the population: roughly uniform
    assert 0.4 < float(s.mean()) < 0.6  # type: ignore[arg-type]


def test_fit_subsample_is_seeded(town: Extracts) -> None:
    features = person_features(town, AS_OF, 12).collect()
    small = ScoringConfig(n_estimators=50, max_fit_samples=300)
    assert score(features, small).equals(score(features, small))
    other_seed = ScoringConfig(n_estimators=50, max_fit_samples=300, random_state=1)
    assert not score(features, small).equals(score(features, other_seed))


def test_scoring_only_some_persons_gives_them_the_same_scores(town: Extracts) -> None:
    features = person_features(town, AS_OF, 12).collect()
    everyone = score(features, CONFIG)
    some = score(features, CONFIG, features["cpr"].head(25))
    assert some.equals(everyone.join(some.select("cpr"), on="cpr", how="semi"))


def test_explanations_are_readable_and_name_declared_features(town: Extracts) -> None:
    features = person_features(town, AS_OF, 12).collect()
    scored = score(features, CONFIG)
    top = scored.sort("anomaly_score", descending=True).head(20)
    for text in top["score_explanation"]:
        items = json.loads(text)
        assert 1 <= len(items) <= CONFIG.explanation_features
        for item in items:
            assert item["feature"] in FEATURE_NAMES
            assert "(typical: " in item["text"]
            assert abs(item["robust_z"]) >= CONFIG.min_explained_z
        zs = [abs(i["robust_z"]) for i in items]
        assert zs == sorted(zs, reverse=True)


def test_disabled_or_tiny_population_gives_null_scores(town: Extracts) -> None:
    features = person_features(town, AS_OF, 12).collect()
    off = score(features, ScoringConfig(enabled=False))
    assert off["anomaly_score"].null_count() == off.height
    tiny = score(features.head(5), CONFIG)
    assert tiny["anomaly_score"].null_count() == 5
    assert set(tiny["score_explanation"]) == {"[]"}


def _permuted(extracts: Extracts, seed: int, columns: tuple[str, ...]) -> Extracts:
    """``columns`` shuffled across rows: every person gets someone else's value."""
    rng = np.random.default_rng(seed)
    persons = extracts.persons.collect()
    events = extracts.residence_events.collect()
    persons = persons.with_columns(
        persons[c].gather(rng.permutation(persons.height)) for c in columns if c in persons.columns
    )
    if "country_code" in columns:
        pool = sorted(set(events["country_code"].drop_nulls()))
        codes = pl.Series(rng.choice(pool, size=events.height))
        events = events.with_columns(
            pl.when(pl.col("country_code").is_not_null()).then(codes).alias("country_code")
        )
    return Extracts(
        persons=persons.lazy(),
        residence_events=events.lazy(),
        relations=extracts.relations,
        payments=extracts.payments,
        income=extracts.income,
    )


def _order(queue: pl.DataFrame) -> pl.DataFrame:
    explanation = pl.col("evidence").str.extract(r'"score_explanation":(\[.*\])\}$')
    return queue.select("case_id", "anomaly_score", "priority", explanation.alias("expl"))


def test_permuting_sex_citizenship_country_changes_no_case_score_or_priority(
    town: Extracts,
) -> None:
    """The whole path, rules included: none of these columns selects or orders anyone.

    (R02's evidence quotes the destination country as a register fact, so the
    evidence text may differ; the score explanation may not.)
    """
    shuffled = _permuted(town, 3, ("sex", "citizenship", "country_code"))
    changed = shuffled.persons.collect().join(town.persons.collect(), on="cpr")
    assert (changed["citizenship"] != changed["citizenship_right"]).any()
    before, after = _queue(town, CONFIG), _queue(shuffled, CONFIG)
    assert before.height > 0 and before["anomaly_score"].null_count() == 0
    assert _order(before)["expl"].null_count() == 0
    assert _order(before).equals(_order(after))


def test_permuting_all_protected_columns_leaves_scoring_unchanged(town: Extracts) -> None:
    """Birth dates too. Rule R01 legitimately reads ages (a child under 18 is part of the
    household, CONTRACT.md section 4), so the rule output is held fixed here and only the
    scoring stage sees the permuted registers: scores, explanations and priorities for the
    same cases are identical."""
    shuffled = _permuted(town, 4, ("sex", "citizenship", "birth_date", "country_code"))
    cases = evaluate_rules(town, AS_OF, KontrolConfig()).collect()
    base = assemble_queue(cases, DEMO_CASE_KEY.encode(), "run")

    def scored_queue(extracts: Extracts) -> pl.DataFrame:
        features = person_features(extracts, AS_OF, 12).collect()
        scored = score(features, CONFIG, base["cpr"])
        return prioritise(attach_scores(base, scored), rule_weights(), CONFIG)

    assert _order(scored_queue(town)).equals(_order(scored_queue(shuffled)))


def test_score_weight_changes_only_the_order(town: Extracts, tmp_path: Path) -> None:
    amount = _queue(town, ScoringConfig(n_estimators=50, score_weight=0.0))
    blended = _queue(town, ScoringConfig(n_estimators=50, score_weight=4.0))
    assert set(amount["case_id"]) == set(blended["case_id"])
    assert amount.sort("case_id")["anomaly_score"].equals(blended.sort("case_id")["anomaly_score"])
