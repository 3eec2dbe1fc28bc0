"""Priority: 1..N without gaps, deterministic ties, configurable weight of the score."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from kontrol.queue import DEMO_CASE_KEY, assemble_queue
from kontrol.rules.spec import CASE_SCHEMA
from kontrol.schema import CASE_MONEY
from kontrol.scoring import ScoringConfig, attach_scores, prioritise, rule_weights
from kontrol.scoring.priority import EXPLANATION_KEY


def cases(rows: list[tuple[str, str, str, float | None]]) -> pl.DataFrame:
    """(case_id, rule_id, amount, score) rows."""
    return pl.DataFrame(
        {
            "case_id": [r[0] for r in rows],
            "rule_id": [r[1] for r in rows],
            "amount_at_stake_dkk": [Decimal(r[2]) for r in rows],
            "anomaly_score": [r[3] for r in rows],
        },
        schema={
            "case_id": pl.String,
            "rule_id": pl.String,
            "amount_at_stake_dkk": CASE_MONEY,
            "anomaly_score": pl.Float64,
        },
    )


def order(frame: pl.DataFrame) -> list[str]:
    return frame.sort("priority")["case_id"].to_list()


EXAMPLE = cases(
    [
        ("c", "R01", "1000.00", 0.1),
        ("a", "R02", "1000.00", 0.1),
        ("b", "R02", "1000.00", 0.1),
        ("d", "R04", "900.00", 1.0),
        ("e", "R04", "5000.00", 0.0),
        ("f", "R03", "10.00", None),
    ]
)


def test_priorities_are_one_to_n_without_gaps() -> None:
    out = prioritise(EXAMPLE, {}, ScoringConfig(score_weight=1.0))
    assert out["priority"].dtype == pl.Int32
    assert out["priority"].to_list() == list(range(1, EXAMPLE.height + 1))
    assert prioritise(EXAMPLE.head(0), {}, ScoringConfig()).height == 0


def test_ties_are_broken_by_amount_rule_then_case_id() -> None:
    out = prioritise(EXAMPLE.sample(fraction=1.0, shuffle=True, seed=1), {}, ScoringConfig())
    assert order(out) == ["e", "c", "a", "b", "d", "f"]
    again = prioritise(EXAMPLE.reverse(), {}, ScoringConfig())
    assert order(again) == order(out)


def test_score_weight_zero_reproduces_the_amount_order_of_assemble_queue() -> None:
    raw = pl.DataFrame(
        {
            "rule_id": ["R01", "R02", "R02", "R04", "R03"],
            "cpr": ["0101011111", "0101011112", "0101011113", "0101011114", "0101011115"],
            "anchor_date": [date(2026, 1, 1)] * 5,
            "period_start": [date(2026, 1, 1)] * 5,
            "period_end": [date(2026, 1, 31)] * 5,
            "amount_at_stake_dkk": [Decimal(x) for x in ("5.00", "5.00", "7.00", "1.00", "5.00")],
            "benefit_codes": [["KONTANTHJAELP"]] * 5,
            "evidence": ["{}"] * 5,
            "legal_basis": ["x"] * 5,
        },
        schema=CASE_SCHEMA,
    )
    today = assemble_queue(raw, DEMO_CASE_KEY.encode(), "run")
    scored = today.with_columns(pl.Series("anomaly_score", [0.9, 0.1, 0.5, 1.0, 0.0]))
    ours = prioritise(scored.drop("priority"), rule_weights(), ScoringConfig(score_weight=0.0))
    assert order(ours) == order(today)


def test_score_weight_moves_unusual_cases_up_within_bounds() -> None:
    amount_only = prioritise(EXAMPLE, {}, ScoringConfig(score_weight=0.0))
    assert order(amount_only)[:5] == ["e", "c", "a", "b", "d"]
    blended = prioritise(EXAMPLE, {}, ScoringConfig(score_weight=1.0))
    # d: 900 * 2 = 1800 beats 1000 * 1.1; it cannot beat e's 5000
    assert order(blended)[:2] == ["e", "d"]


def test_rule_weights_scale_the_amount() -> None:
    out = prioritise(EXAMPLE, {"R03": 1000.0}, ScoringConfig())
    assert order(out)[:2] == ["f", "e"]  # 10 * 1000 beats 5000


@pytest.mark.parametrize(("policy", "place"), [("as_zero", 2), ("last", 6)])
def test_null_scores_have_a_defined_place(policy: str, place: int) -> None:
    frame = cases(
        [
            ("a", "R01", "100.00", 0.5),
            ("b", "R01", "90.00", None),
            ("c", "R01", "80.00", 0.0),
            ("d", "R01", "70.00", 0.0),
            ("e", "R01", "60.00", 0.0),
            ("f", "R01", "50.00", 0.0),
        ]
    )
    out = prioritise(frame, {}, ScoringConfig(score_weight=0.0, null_score=policy))  # type: ignore[arg-type]
    assert order(out).index("b") + 1 == place


def test_attach_scores_appends_the_explanation_to_the_evidence() -> None:
    queue = pl.DataFrame(
        {
            "cpr": ["1", "2", "3"],
            "evidence": ['{"rule_id":"R01","items":[1]}', "{}", '{"a":"b"}'],
            "anomaly_score": [None, None, None],
        },
        schema_overrides={"anomaly_score": pl.Float64},
    )
    scored = pl.DataFrame(
        {
            "cpr": ["1", "2"],
            "anomaly_score": [0.75, 0.5],
            EXPLANATION_KEY: [
                '[{"feature":"corrections","text":"3 corrections (typical: 0)"}]',
                "[]",
            ],
        }
    )
    out = attach_scores(queue, scored)
    evidence = [json.loads(e) for e in out["evidence"]]
    assert list(evidence[0]) == ["rule_id", "items", EXPLANATION_KEY]
    assert evidence[0][EXPLANATION_KEY][0]["feature"] == "corrections"
    assert evidence[1] == {EXPLANATION_KEY: []}
    assert evidence[2] == {"a": "b", EXPLANATION_KEY: []}  # not scored: empty list
    assert out["anomaly_score"].to_list() == [0.75, 0.5, None]
    assert out["evidence"][0].startswith('{"rule_id":"R01","items":[1],')
