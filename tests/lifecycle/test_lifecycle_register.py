"""The case transitions across runs, on small frames (kontrol.lifecycle.register)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
from lifecycle.lifecycle_helpers import make_queue

from kontrol.lifecycle import add_months, apply_run, classify, empty_register
from kontrol.lifecycle.outcomes import Outcome, apply_outcomes
from kontrol.queue import QUEUE_SCHEMA

SEP, OCT, NOV = date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 30)
A, B = "0101801234", "0202805678"


def publish(register: pl.DataFrame, queue: pl.DataFrame, as_of: date) -> pl.DataFrame:
    return apply_run(register, queue, None, queue["run_id"][0], as_of)


def close(register: pl.DataFrame, case_id: str, outcome: str, closed: date) -> pl.DataFrame:
    return apply_outcomes(
        register, [Outcome(case_id, outcome, closed, Decimal("100.00"), Decimal("50.00"))]
    )


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2026, 3, 31), 6) == date(2026, 9, 30)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2026, 1, 15), 0) == date(2026, 1, 15)


def test_without_register_every_case_is_new() -> None:
    queue = make_queue([{"rule_id": "R01", "cpr": A, "anchor_date": date(2026, 5, 1)}], SEP)
    kept, suppressed = classify(queue, empty_register(), SEP, 6)
    assert kept.schema == QUEUE_SCHEMA
    assert kept["status"].to_list() == ["new"]
    assert kept["case_id"].to_list() == queue["case_id"].to_list()
    assert suppressed.height == 0


def test_new_then_continuing_with_a_moving_anchor_keeps_the_case_id() -> None:
    sep = make_queue(
        [
            {"rule_id": "R01", "cpr": A, "anchor_date": date(2025, 10, 1)},
            {"rule_id": "R02", "cpr": B, "anchor_date": date(2026, 8, 1)},
        ],
        SEP,
    )
    sep_kept, _ = classify(sep, empty_register(), SEP, 6)
    register = publish(empty_register(), sep_kept, SEP)
    first_id = sep_kept.filter(pl.col("cpr") == A)["case_id"][0]

    # October: the window moved, so R01's anchor moved; the amount grew
    octo = make_queue(
        [
            {
                "rule_id": "R01",
                "cpr": A,
                "anchor_date": date(2025, 11, 1),
                "amount_at_stake_dkk": Decimal("2500.00"),
            }
        ],
        OCT,
    )
    assert octo["case_id"][0] != first_id  # the keyed id differs with the anchor
    kept, suppressed = classify(octo, register, OCT, 6)
    assert suppressed.height == 0
    assert kept["status"].to_list() == ["continuing"]
    assert kept["case_id"].to_list() == [first_id]
    register = publish(register, kept, OCT)
    row = register.filter(pl.col("case_id") == first_id).row(0, named=True)
    assert row["anchor_date"] == date(2025, 11, 1)
    assert row["amount_at_stake_dkk"] == Decimal("2500.00")
    assert row["period_start"] == date(2025, 11, 1) and row["period_end"] == OCT
    assert row["first_as_of"] == SEP and row["last_as_of"] == OCT
    assert register.height == 2  # no second case for the same (rule, cpr)


def test_rerunning_a_month_gives_the_same_statuses() -> None:
    queue = make_queue([{"rule_id": "R01", "cpr": A, "anchor_date": date(2026, 5, 1)}], OCT)
    first, _ = classify(queue, empty_register(), OCT, 6)
    register = publish(empty_register(), first, OCT)
    again, _ = classify(queue, register, OCT, 6)
    assert again.equals(first)
    assert publish(register, again, OCT).equals(register)


def test_closed_founded_same_case_is_not_raised_again_but_a_later_anchor_is_new() -> None:
    sep = make_queue([{"rule_id": "R03", "cpr": A, "anchor_date": date(2026, 4, 1)}], SEP)
    register = publish(empty_register(), classify(sep, empty_register(), SEP, 6)[0], SEP)
    register = close(register, sep["case_id"][0], "founded", date(2026, 10, 5))

    # October, nothing flagged after September: the same case
    same = make_queue(
        [{"rule_id": "R03", "cpr": A, "anchor_date": date(2026, 4, 1), "period_end": SEP}], OCT
    )
    kept, suppressed = classify(same, register, OCT, 6)
    assert kept.height == 0
    assert suppressed["closed_case_id"].to_list() == [sep["case_id"][0]]
    assert suppressed["outcome"].to_list() == ["founded"]
    assert "closed founded" in suppressed["reason"][0]

    # new flagged lines (paid again in October), with a later anchor or the same one
    for anchor in (date(2026, 9, 1), date(2026, 4, 1)):
        later = make_queue([{"rule_id": "R03", "cpr": A, "anchor_date": anchor}], OCT)
        kept, suppressed = classify(later, register, OCT, 6)
        assert suppressed.height == 0
        assert kept["status"].to_list() == ["new"]
        assert kept["case_id"][0] != sep["case_id"][0]


def test_closed_unfounded_is_suppressed_for_six_months_then_new_with_a_new_id() -> None:
    sep = make_queue([{"rule_id": "R04", "cpr": A, "anchor_date": date(2026, 4, 1)}], SEP)
    register = publish(empty_register(), classify(sep, empty_register(), SEP, 6)[0], SEP)
    closed_id = sep["case_id"][0]
    register = close(register, closed_id, "unfounded", date(2026, 10, 15))

    # within the window: any anchor is suppressed, with the reason and the end date
    for as_of in (OCT, date(2027, 3, 31)):
        queue = make_queue([{"rule_id": "R04", "cpr": A, "anchor_date": date(2026, 9, 1)}], as_of)
        kept, suppressed = classify(queue, register, as_of, 6)
        assert kept.height == 0
        row = suppressed.row(0, named=True)
        assert row["suppressed_until"] == date(2027, 4, 15)
        assert row["closed_case_id"] == closed_id
        assert "§ 11 a" in row["reason"]

    # after the window: new, and with a new id even for the same anchor date
    after = date(2027, 4, 30)
    queue = make_queue([{"rule_id": "R04", "cpr": A, "anchor_date": date(2026, 4, 1)}], after)
    assert queue["case_id"][0] == closed_id
    kept, suppressed = classify(queue, register, after, 6)
    assert suppressed.height == 0
    assert kept["status"].to_list() == ["new"]
    assert kept["case_id"][0] != closed_id
    assert len(kept["case_id"][0]) == 32
    register = publish(register, kept, after)
    assert register.height == 2

    # a configurable window
    kept, suppressed = classify(queue, register.head(1), date(2027, 1, 31), 2)
    assert kept["status"].to_list() == ["new"] and suppressed.height == 0


def test_no_action_suppresses_and_other_rules_and_persons_are_unaffected() -> None:
    sep = make_queue([{"rule_id": "R05", "cpr": A, "anchor_date": date(2026, 4, 1)}], SEP)
    register = publish(empty_register(), classify(sep, empty_register(), SEP, 6)[0], SEP)
    register = close(register, sep["case_id"][0], "no_action", date(2026, 10, 1))
    queue = make_queue(
        [
            {"rule_id": "R05", "cpr": A, "anchor_date": date(2026, 4, 1)},
            {"rule_id": "R06", "cpr": A, "anchor_date": date(2026, 4, 1)},
            {"rule_id": "R05", "cpr": B, "anchor_date": date(2026, 4, 1)},
        ],
        NOV,
    )
    kept, suppressed = classify(queue, register, NOV, 6)
    assert suppressed.select("rule_id", "cpr").rows() == [("R05", A)]
    assert sorted(kept.select("rule_id", "cpr").rows()) == [("R05", B), ("R06", A)]
    assert kept["priority"].to_list() == [1, 2]
    assert set(kept["status"]) == {"new"}
