"""The queue order: amount at stake, the rule's weight and (optionally) the anomaly score.

The score only *orders* cases the rules have already found; it never adds or
removes one. The ordering, in full::

    priority_value = amount_at_stake_dkk * rule_weight * (1 + score_weight * s)

sorted by ``priority_value`` descending, then ``amount_at_stake_dkk``
descending, ``rule_id``, ``case_id``; priorities are numbered 1..N without
gaps. ``s`` is the anomaly score; a case without one (scoring disabled, too
few recipients) is placed by ``null_score``: ``"as_zero"`` (s = 0: by amount
and weight, the order kontrol used before scoring) or ``"last"`` (after
every scored case, in the same order among themselves).

With ``score_weight = 0`` and every weight 1 this is exactly the pre-scoring
order (amount descending, rule id, case id). Why multiplicative: the score
is a percentile, so ``score_weight = 1`` means "the most unusual recipient's
case counts as if twice the money": a bounded nudge that cannot lift a
trivial amount over a large one, whereas an additive or lexicographic use
of the score would let "unusual" outrank "money at stake".

Money stays exact where it is compared on its own (the amount tie-break is
the Decimal column); ``priority_value`` is a Float64 because it multiplies
by float weights.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from kontrol.scoring.config import ScoringConfig

EXPLANATION_KEY = "score_explanation"


def priority_value(weights: Mapping[str, float], config: ScoringConfig) -> pl.Expr:
    """The expression above; a rule missing from ``weights`` has weight 1."""
    weight = pl.col("rule_id").replace_strict(dict(weights), default=1.0, return_dtype=pl.Float64())
    s = pl.col("anomaly_score").fill_null(0.0)
    return pl.col("amount_at_stake_dkk").cast(pl.Float64) * weight * (1.0 + config.score_weight * s)


def prioritise(
    cases: pl.DataFrame, weights: Mapping[str, float], config: ScoringConfig
) -> pl.DataFrame:
    """``cases`` sorted into queue order with ``priority`` (Int32, 1..N, no gaps) added.

    Needs ``case_id``, ``rule_id``, ``amount_at_stake_dkk`` and
    ``anomaly_score`` (nullable); every other column is carried along.
    """
    keys = ["_unscored", "_value", "amount_at_stake_dkk", "rule_id", "case_id"]
    unscored = pl.col("anomaly_score").is_null() if config.null_score == "last" else pl.lit(False)
    return (
        cases.with_columns(
            unscored.alias("_unscored"), priority_value(weights, config).alias("_value")
        )
        .sort(keys, descending=[False, True, True, False, False], maintain_order=True)
        .drop("_unscored", "_value")
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32()).alias("priority"))
    )


def rule_weights() -> dict[str, float]:
    """``RuleSpec.weight`` of every rule in the catalogue, by rule id."""
    from kontrol.rules import CATALOGUE

    return {spec.rule_id: spec.weight for spec in CATALOGUE}


def attach_scores(cases: pl.DataFrame, scored: pl.DataFrame) -> pl.DataFrame:
    """Each case gains its person's ``anomaly_score``; its evidence gains ``score_explanation``.

    The explanation is appended as the last key of the evidence object, by
    string splice rather than re-serialisation, so the rule's evidence keeps
    its exact bytes and key order. A case whose person was not scored gets
    a null score and an empty explanation list.
    """
    joined = cases.drop("anomaly_score", strict=False).join(
        scored.select("cpr", "anomaly_score", EXPLANATION_KEY), on="cpr", how="left"
    )
    explanation = pl.col(EXPLANATION_KEY).fill_null("[]")
    evidence = pl.col("evidence").str.strip_chars_end()
    merged = (
        pl.when(evidence == "{}")
        .then(pl.format('{{"{}":{}}}', pl.lit(EXPLANATION_KEY), explanation))
        .otherwise(
            pl.format(
                '{},"{}":{}}}',
                evidence.str.slice(0, evidence.str.len_chars() - 1),
                pl.lit(EXPLANATION_KEY),
                explanation,
            )
        )
    )
    return joined.with_columns(merged.alias("evidence")).drop(EXPLANATION_KEY)
