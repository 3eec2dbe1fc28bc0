"""R11: paid while deprived of liberty (CONTRACT.md 4b, reading 28)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

AS_OF = "2026-06-15"


def _recipient(d, amount: str = "3100.00") -> str:
    p = d.person("1985-04-01")
    d.payment(p, "DAGPENGE", "2026-03-01", amount=amount)  # n = 31, 100.00 a day
    return p


def test_r11_remand_then_sentence_merge_into_one_spell(d) -> None:
    p = _recipient(d)
    d.custody(p, "2026-02-20", "2026-03-05", "remand")
    d.custody(p, "2026-03-06", None, "sentence")  # touches, open
    d.payment(p, "FOLKEPENSION", "2026-03-01", amount="9000.00")  # does not stop in custody
    d.payment(p, "DAGPENGE", "2026-06-01", amount="3000.00")  # n = 30, d = 15 (to as_of)
    case = d.case(AS_OF, "R11")
    assert case["anchor_date"] == date(2026, 2, 20)
    assert (case["period_start"], case["period_end"]) == (date(2026, 3, 1), date(2026, 6, 30))
    assert case["amount_at_stake_dkk"] == Decimal("4600.00")  # 3100 + 3000 * 15 / 30
    assert case["benefit_codes"] == ["DAGPENGE"]
    items = case["evidence_json"]["items"]
    assert (items[0]["days_in_custody"], items[0]["line_days"]) == (31, 31)
    assert (items[1]["days_in_custody"], items[1]["prorated_dkk"]) == (15, "1500.00")
    assert items[0]["spells"] == [
        {
            "spell_from": "2026-02-20",
            "spell_to": "2026-06-15",
            "spell_days": 116,
            "held_at_as_of": True,
            "records_total": 2,
            "records": [
                {"custody_type": "remand", "start_date": "2026-02-20", "end_date": "2026-03-05"},
                {"custody_type": "sentence", "start_date": "2026-03-06", "end_date": None},
            ],
        }
    ]


@pytest.mark.parametrize(
    ("second_start", "flagged"),
    [("2026-03-11", True), ("2026-03-12", False)],  # touching d / d + 1 merges; a gap does not
)
def test_r11_touching_rows_merge(d, second_start: str, flagged: bool) -> None:
    p = _recipient(d)
    d.custody(p, "2026-03-01", "2026-03-10")  # 10 days
    d.custody(p, second_start, "2026-03-14" if flagged else "2026-03-15")  # 4 more days
    assert len(d.cases(AS_OF, "R11")) == int(flagged)


def test_r11_overlapping_rows_merge(d) -> None:
    p = _recipient(d)
    d.custody(p, "2026-03-01", "2026-03-10", "remand")
    d.custody(p, "2026-03-05", "2026-03-14", "sentence")  # 10 + 10 days, 14 merged
    d.custody(p, "2026-03-06", "2026-03-08", "remand")  # inside, changes nothing
    case = d.case(AS_OF, "R11")
    assert case["amount_at_stake_dkk"] == Decimal("1400.00")  # 3100 * 14 / 31
    spell = case["evidence_json"]["items"][0]["spells"][0]
    assert (spell["spell_from"], spell["spell_to"], spell["spell_days"]) == (
        "2026-03-01",
        "2026-03-14",
        14,
    )
    assert spell["records_total"] == 3


@pytest.mark.parametrize(("end", "flagged"), [("2026-03-13", False), ("2026-03-14", True)])
def test_r11_13_versus_14_days(d, end: str, flagged: bool) -> None:
    p = _recipient(d)
    d.custody(p, "2026-03-01", end)
    assert len(d.cases(AS_OF, "R11")) == int(flagged)


@pytest.mark.parametrize(("days", "flagged"), [(13, True), (12, False)])
def test_r11_min_spell_days_is_configurable(d, days: int, flagged: bool) -> None:
    p = _recipient(d)
    d.custody(p, "2026-03-01", f"2026-03-{days:02d}")
    found = d.cases(AS_OF, "R11", rule_parameters={"R11": {"min_spell_days": 13}})
    assert len(found) == int(flagged)


@pytest.mark.parametrize("end", [None, "2026-07-31"])
@pytest.mark.parametrize(("start", "flagged"), [("2026-06-03", False), ("2026-06-02", True)])
def test_r11_a_spell_running_at_as_of_is_clipped_at_as_of(
    d, start: str, end: str | None, flagged: bool
) -> None:
    p = d.person("1985-04-01")
    d.payment(p, "KONTANTHJAELP", "2026-06-01", amount="3000.00")  # n = 30
    d.custody(p, start, end)  # to 2026-06-15: 13 or 14 days
    found = d.cases(AS_OF, "R11")
    assert len(found) == int(flagged)
    if flagged:  # only the days up to as_of are at stake: 14 of 30
        assert found[0]["amount_at_stake_dkk"] == Decimal("1400.00")


def test_r11_spells_starting_after_as_of_do_not_count(d) -> None:
    p = d.person("1985-04-01")
    d.payment(p, "KONTANTHJAELP", "2026-06-01", amount="3000.00")
    d.custody(p, "2026-05-20", "2026-06-14").custody(p, "2026-06-16", "2026-06-30")
    case = d.case(AS_OF, "R11")
    assert case["amount_at_stake_dkk"] == Decimal("1400.00")  # 2026-06-01..14


def test_r11_prorating_rounds_half_up_per_line(d) -> None:
    p = d.person("1985-04-01")
    d.custody(p, "2026-02-01", "2026-03-30")
    # 0.01 * 1 / 2 = 0.005 -> 0.01 per line, twice
    d.payment(p, "KONTANTHJAELP", "2026-03-30", "2026-03-31", amount="0.01")
    d.payment(p, "SYGEDAGPENGE", "2026-03-30", "2026-03-31", amount="0.01")
    case = d.case(AS_OF, "R11")
    assert case["amount_at_stake_dkk"] == Decimal("0.02")


def test_r11_a_line_prorated_to_zero_still_widens_the_period(d) -> None:
    p = d.person("1985-04-01")
    d.custody(p, "2026-01-01", "2026-02-01")  # 32 days, one of them in February
    d.payment(p, "DAGPENGE", "2026-01-01", amount="3100.00")
    d.payment(p, "DAGPENGE", "2026-02-01", amount="0.01")  # 0.01 * 1 / 28 -> 0.00
    case = d.case(AS_OF, "R11")
    assert case["amount_at_stake_dkk"] == Decimal("3100.00")
    assert (case["period_start"], case["period_end"]) == (date(2026, 1, 1), date(2026, 2, 28))
    assert case["evidence_json"]["items_total"] == 2


def test_r11_anchor_is_the_spell_of_the_earliest_flagged_day_of_the_earliest_line(d) -> None:
    p = d.person("1985-04-01")
    d.custody(p, "2025-11-01", "2025-11-30")  # before every line: no anchor
    d.custody(p, "2026-01-20", "2026-02-10")
    d.custody(p, "2026-02-20", "2026-03-20")
    d.payment(p, "DAGPENGE", "2026-02-01", amount="2800.00")  # days 1-10 and 20-28
    case = d.case(AS_OF, "R11")
    assert case["anchor_date"] == date(2026, 1, 20)
    assert case["amount_at_stake_dkk"] == Decimal("1900.00")  # 19 of 28 days
    assert len(case["evidence_json"]["items"][0]["spells"]) == 2


def test_r11_not_evaluated_without_custody(d) -> None:
    _recipient(d)
    assert d.cases(AS_OF, "R11") == []
    d.deliver("custody")
    assert d.cases(AS_OF, "R11") == []
