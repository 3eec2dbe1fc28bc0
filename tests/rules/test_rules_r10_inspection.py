"""R10: met at work during a company inspection while on a benefit (CONTRACT.md 4b, reading 27)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

AS_OF = "2026-06-15"
CVR = "12345678"
OTHER = "87654321"


def _recipient(d, amount: str = "12400.00") -> str:
    p = d.person("1985-04-01")
    d.lives(p, "2010-01-01", "A")
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount=amount)  # n = 31
    return p


def test_r10_two_days_met_at_work_put_k_over_n_at_stake(d) -> None:
    p = _recipient(d)
    d.inspection(p, "2026-03-10", CVR, "INS-1").inspection(p, "2026-03-24", CVR, "INS-2")
    d.income(p, "2026-03-01", "9000.00", cvr=OTHER)  # another employer: irrelevant
    d.payment(p, "FOLKEPENSION", "2026-03-01", amount="9000.00")  # not work excluded
    case = d.case(AS_OF, "R10")
    assert case["anchor_date"] == date(2026, 3, 10)
    assert (case["period_start"], case["period_end"]) == (date(2026, 3, 1), date(2026, 3, 31))
    assert case["amount_at_stake_dkk"] == Decimal("800.00")  # 12400 * 2 / 31
    assert case["benefit_codes"] == ["KONTANTHJAELP"]
    item = case["evidence_json"]["items"][0]
    assert (item["line_days"], item["flagged_days"], item["prorated_dkk"]) == (31, 2, "800.00")
    assert item["inspections"] == [
        {
            "inspection_id": "INS-1",
            "inspection_date": "2026-03-10",
            "employer_cvr": CVR,
            "income_month": "2026-03",
            "income_from_employer_dkk": None,
        },
        {
            "inspection_id": "INS-2",
            "inspection_date": "2026-03-24",
            "employer_cvr": CVR,
            "income_month": "2026-03",
            "income_from_employer_dkk": None,
        },
    ]


@pytest.mark.parametrize(
    ("rows", "flagged"),
    [
        ((), True),  # no row: flagged
        (("0.00",), True),
        (("0.00", "0.00"), True),
        (("0.01",), False),  # declared work, however little
        (("0.01", "0.00"), False),  # summed
    ],
)
def test_r10_income_from_the_inspected_employer(d, rows: tuple[str, ...], flagged: bool) -> None:
    p = _recipient(d)
    d.inspection(p, "2026-03-10", CVR)
    for amount in rows:
        d.income(p, "2026-03-01", amount, cvr=CVR)
    found = d.cases(AS_OF, "R10")
    assert len(found) == int(flagged)
    if flagged:
        item = d.case(AS_OF, "R10")["evidence_json"]["items"][0]
        expected = None if not rows else "0.00"
        assert item["inspections"][0]["income_from_employer_dkk"] == expected


def test_r10_income_of_another_month_or_employer_is_irrelevant(d) -> None:
    p = _recipient(d)
    d.inspection(p, "2026-03-10", CVR)
    d.income(p, "2026-02-01", "30000.00", cvr=CVR).income(p, "2026-03-01", "30000.00", cvr=OTHER)
    assert len(d.cases(AS_OF, "R10")) == 1


def test_r10_one_inspection_without_income_suffices_on_a_day(d) -> None:
    p = _recipient(d)
    d.income(p, "2026-03-01", "5000.00", cvr=OTHER)
    d.inspection(p, "2026-03-10", OTHER).inspection(p, "2026-03-10", CVR)
    d.inspection(p, "2026-03-10", "99999999")  # same day again: k counts days, not inspections
    case = d.case(AS_OF, "R10")
    assert case["amount_at_stake_dkk"] == Decimal("400.00")  # 12400 * 1 / 31
    assert case["evidence_json"]["items"][0]["flagged_days"] == 1


@pytest.mark.parametrize(
    ("day", "flagged"),
    [("2026-02-28", False), ("2026-03-01", True), ("2026-03-31", True), ("2026-04-01", False)],
)
def test_r10_inspection_day_must_lie_in_the_line(d, day: str, flagged: bool) -> None:
    p = _recipient(d)
    d.inspection(p, day, CVR)
    assert len(d.cases(AS_OF, "R10")) == int(flagged)


def test_r10_inspections_after_as_of_do_not_count(d) -> None:
    p = d.person("1985-04-01")
    d.payment(p, "DAGPENGE", "2026-06-01", amount="3000.00")
    d.inspection(p, "2026-06-16", CVR)
    assert d.cases(AS_OF, "R10") == []
    assert len(d.cases("2026-06-16", "R10")) == 1


def test_r10_prorating_rounds_half_up_per_line(d) -> None:
    p = d.person("1985-04-01")
    # 0.01 * 1 / 2 = 0.005 -> 0.01 (half up), per line
    d.payment(p, "KONTANTHJAELP", "2026-03-30", "2026-03-31", amount="0.01")
    d.payment(p, "DAGPENGE", "2026-03-30", "2026-03-31", amount="0.01")
    d.inspection(p, "2026-03-31", CVR)
    case = d.case(AS_OF, "R10")
    assert case["amount_at_stake_dkk"] == Decimal("0.02")  # not round(0.01) of the sum 0.01


def test_r10_a_line_prorated_to_zero_still_widens_the_period(d) -> None:
    p = d.person("1985-04-01")
    d.payment(p, "DAGPENGE", "2026-02-01", amount="0.01")  # 0.01 * 1 / 28 -> 0.00
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="3100.00")
    d.inspection(p, "2026-02-10", CVR).inspection(p, "2026-03-05", CVR)
    case = d.case(AS_OF, "R10")
    assert case["amount_at_stake_dkk"] == Decimal("100.00")
    assert (case["period_start"], case["period_end"]) == (date(2026, 2, 1), date(2026, 3, 31))
    assert case["anchor_date"] == date(2026, 2, 10)  # the earliest flagged day over all lines
    assert case["benefit_codes"] == ["DAGPENGE", "KONTANTHJAELP"]


def test_r10_only_zero_lines_give_no_case(d) -> None:
    p = d.person("1985-04-01")
    d.payment(p, "DAGPENGE", "2026-02-01", amount="0.01")
    d.inspection(p, "2026-02-10", CVR)
    assert len(d.items(AS_OF, "R10")) == 1
    assert d.cases(AS_OF, "R10") == []


def test_r10_not_evaluated_without_inspections(d) -> None:
    _recipient(d)
    assert d.cases(AS_OF, "R10") == []
    d.deliver("inspections")
    assert d.cases(AS_OF, "R10") == []
