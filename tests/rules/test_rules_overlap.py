"""R06: overlapping income-replacement benefits (reading 14)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

AS_OF = "2026-06-15"


def test_r06_prorates_and_takes_the_smaller_share(d) -> None:
    p = d.person()
    d.payment(p, "SYGEDAGPENGE", "2026-03-01", amount="9000.00")  # n = 31
    d.payment(p, "KONTANTHJAELP", "2026-03-22", amount="5000.00")  # n = 10
    case = d.case(AS_OF, "R06")
    # min(9000 * 10 / 31 = 2903.2258.., 5000 * 10 / 10) = 2903.23
    assert case["amount_at_stake_dkk"] == Decimal("2903.23")
    assert case["anchor_date"] == date(2026, 3, 22)
    assert (case["period_start"], case["period_end"]) == (date(2026, 3, 1), date(2026, 3, 31))
    assert case["benefit_codes"] == ["KONTANTHJAELP", "SYGEDAGPENGE"]
    item = case["evidence_json"]["items"][0]
    assert (item["shared_from"], item["shared_to"], item["shared_days"]) == (
        "2026-03-22",
        "2026-03-31",
        10,
    )
    assert item["line_2"]["prorated_dkk"] == "2903.23"


def test_r06_rounds_half_up_not_to_even(d) -> None:
    p = d.person()
    d.payment(p, "DAGPENGE", "2026-03-01", "2026-03-02", amount="100.01")  # n = 2
    d.payment(p, "SYGEDAGPENGE", "2026-03-02", amount="30000.00")  # n = 30, share 1000.00
    exact = Decimal("100.01") * 1 / 2  # 50.005
    assert exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN) == Decimal("50.00")
    case = d.case(AS_OF, "R06")
    assert case["amount_at_stake_dkk"] == Decimal("50.01")
    assert case["anchor_date"] == date(2026, 3, 2)


def test_r06_same_benefit_or_outside_group_or_adjacent_not_flagged(d) -> None:
    p = d.person()
    d.payment(p, "KONTANTHJAELP", "2026-03-01", "2026-03-31")
    d.payment(p, "KONTANTHJAELP", "2026-03-15", "2026-03-31")  # same benefit
    d.payment(p, "BOLIGSTOTTE", "2026-03-01")  # not income-replacement
    d.payment(p, "DAGPENGE", "2026-04-01", "2026-04-15")
    d.payment(p, "SYGEDAGPENGE", "2026-04-16", "2026-04-30")  # adjacent, no shared day
    assert d.cases(AS_OF, "R06") == []


def test_r06_pensions_and_all_pairs_summed(d) -> None:
    p = d.person()
    d.payment(p, "FOLKEPENSION", "2026-02-01", amount="310.00")  # n = 28
    d.payment(p, "FOERTIDSPENSION", "2026-02-01", amount="280.00")  # pair: min(310, 280) = 280
    d.payment(p, "DAGPENGE", "2026-01-11", "2026-01-20", amount="100.00")  # n = 10
    d.payment(p, "SYGEDAGPENGE", "2026-01-16", "2026-01-31", amount="1600.00")  # n = 16
    # pair: d = 5 (16th-20th): min(100*5/10 = 50.00, 1600*5/16 = 500.00) = 50.00
    case = d.case(AS_OF, "R06")
    assert case["amount_at_stake_dkk"] == Decimal("330.00")
    assert case["anchor_date"] == date(2026, 1, 16)
    assert (case["period_start"], case["period_end"]) == (date(2026, 1, 11), date(2026, 2, 28))
    assert case["benefit_codes"] == ["DAGPENGE", "FOERTIDSPENSION", "FOLKEPENSION", "SYGEDAGPENGE"]
    assert case["evidence_json"]["items_total"] == 2


def test_r06_three_benefits_give_three_pairs(d) -> None:
    p = d.person()
    for code in ("DAGPENGE", "KONTANTHJAELP", "SYGEDAGPENGE"):
        d.payment(p, code, "2026-03-01", amount="31.00")
    case = d.case(AS_OF, "R06")
    assert case["amount_at_stake_dkk"] == Decimal("93.00")
    assert case["evidence_json"]["items_total"] == 3


def test_r06_case_rounding_to_zero_is_not_emitted(d) -> None:
    p = d.person()
    d.payment(p, "DAGPENGE", "2026-03-01", amount="0.01")  # 0.01 * 1 / 31 rounds to 0.00
    d.payment(p, "SYGEDAGPENGE", "2026-03-31", "2026-03-31", amount="500.00")
    assert d.cases(AS_OF, "R06") == []
