"""R08: no electricity used at the registered address (CONTRACT.md 4b, reading 25)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kontrol.errors import ConfigError

AS_OF = "2026-06-15"


def _resident(d, since: str = "2019-05-01", address: str = "A") -> str:
    p = d.person("1985-04-01")
    d.lives(p, since, address)
    return p


def _low_months(d, address: str = "A", months=("2026-01-01", "2026-02-01", "2026-03-01")) -> None:
    for month, kwh in zip(months, ("2.500", "0.000", "9.999"), strict=False):
        d.reading(address, month, kwh)


def test_r08_three_low_months_flag_the_line_with_readings_and_address(d) -> None:
    p = _resident(d)
    _low_months(d)
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="12000.00")
    d.payment(p, "FOLKEPENSION", "2026-03-01", amount="9000.00")  # no residence requirement
    case = d.case(AS_OF, "R08")
    assert case["anchor_date"] == date(2026, 1, 1)  # first day of m - 2
    assert (case["period_start"], case["period_end"]) == (date(2026, 3, 1), date(2026, 3, 31))
    assert case["amount_at_stake_dkk"] == Decimal("12000.00")
    item = case["evidence_json"]["items"][0]
    assert item["address_id"] == "A"
    assert item["registered_at_address_since"] == "2019-05-01"
    assert item["max_monthly_kwh"] == "10.000"
    assert item["electricity_readings"] == [
        {"month": "2026-01", "consumption_kwh": "2.500"},
        {"month": "2026-02", "consumption_kwh": "0.000"},
        {"month": "2026-03", "consumption_kwh": "9.999"},
    ]


@pytest.mark.parametrize("missing", ["2026-01-01", "2026-02-01", "2026-03-01"])
def test_r08_a_missing_reading_is_not_zero_use(d, missing: str) -> None:
    p = _resident(d)
    for month in ("2026-01-01", "2026-02-01", "2026-03-01"):
        if month != missing:
            d.reading("A", month, "0")
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    assert d.cases(AS_OF, "R08") == []


@pytest.mark.parametrize(("kwh", "flagged"), [("10.000", True), ("10.001", False)])
def test_r08_limit_is_inclusive(d, kwh: str, flagged: bool) -> None:
    p = _resident(d)
    d.reading("A", "2026-01-01", "0").reading("A", "2026-02-01", kwh)
    d.reading("A", "2026-03-01", "0")
    d.payment(p, "BOLIGSTOTTE", "2026-03-01")
    assert len(d.cases(AS_OF, "R08")) == int(flagged)


@pytest.mark.parametrize(("kwh", "flagged"), [("25.000", True), ("25.001", False)])
def test_r08_limit_is_configurable(d, kwh: str, flagged: bool) -> None:
    p = _resident(d)
    d.reading("A", "2026-01-01", kwh).reading("A", "2026-02-01", "0")
    d.reading("A", "2026-03-01", "0")
    d.payment(p, "BOLIGSTOTTE", "2026-03-01")
    found = d.cases(AS_OF, "R08", rule_parameters={"R08": {"max_monthly_kwh": "25"}})
    assert len(found) == int(flagged)


def test_r08_parameter_is_typed() -> None:
    from kontrol.rules import CATALOGUE

    spec = next(s for s in CATALOGUE if s.rule_id == "R08")
    assert spec.resolve_parameters({"max_monthly_kwh": "7.5"}).max_monthly_kwh == Decimal("7.5")
    with pytest.raises(ConfigError):
        spec.resolve_parameters({"max_monthly_kwh": "-1"})


def test_r08_water_and_heat_do_not_count(d) -> None:
    p = _resident(d)
    for month in ("2026-01-01", "2026-02-01", "2026-03-01"):
        d.reading("A", month, "0", utility="water").reading("A", month, "0", utility="heat")
    d.reading("A", "2026-01-01", "0").reading("A", "2026-02-01", "0")
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    assert d.cases(AS_OF, "R08") == []


@pytest.mark.parametrize(
    ("moved_in", "flagged"),
    [("2026-01-01", True), ("2026-01-02", False), ("2025-12-31", True)],
)
def test_r08_resident_at_the_address_from_the_first_day_of_m_minus_2(
    d, moved_in: str, flagged: bool
) -> None:
    p = d.person("1985-04-01")
    d.lives(p, "2010-01-01", "B").lives(p, moved_in, "A")
    d.reading("B", "2025-12-01", "0")
    _low_months(d)
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    assert len(d.cases(AS_OF, "R08")) == int(flagged)


@pytest.mark.parametrize(
    ("moved_out", "flagged"),
    [("2026-03-01", False), ("2026-03-02", True), ("2026-02-10", False)],
)
def test_r08_a_move_away_up_to_s_unflags(d, moved_out: str, flagged: bool) -> None:
    p = _resident(d)
    d.lives(p, moved_out, "B")
    for month in ("2026-01-01", "2026-02-01", "2026-03-01"):
        d.reading("A", month, "0").reading("B", month, "0")
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    assert len(d.cases(AS_OF, "R08")) == int(flagged)


def test_r08_a_move_away_and_back_inside_the_span_unflags(d) -> None:
    p = _resident(d)
    d.lives(p, "2026-02-01", "B").lives(p, "2026-02-15", "A")
    for month in ("2026-01-01", "2026-02-01", "2026-03-01"):
        d.reading("A", month, "0").reading("B", month, "0")
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    assert d.cases(AS_OF, "R08") == []


def test_r08_registering_again_at_the_same_address_is_no_break(d) -> None:
    p = _resident(d)
    d.lives(p, "2026-02-01", "A")  # a second address event to the same dwelling
    _low_months(d)
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    case = d.case(AS_OF, "R08")
    assert case["evidence_json"]["items"][0]["registered_at_address_since"] == "2019-05-01"


def test_r08_abroad_inside_the_span_unflags(d) -> None:
    p = _resident(d)
    d.emigrates(p, "2026-01-20").event(p, "2026-01-25", "immigrated", address="A")
    _low_months(d)
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    assert d.cases(AS_OF, "R08") == []


def test_r08_anchor_is_m_minus_2_of_the_earliest_flagged_line(d) -> None:
    p = _resident(d)
    for month in ("2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01"):
        d.reading("A", month, "1")
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="100.00")  # January missing
    d.payment(p, "KONTANTHJAELP", "2026-04-01", amount="200.00")
    d.payment(p, "BOLIGSTOTTE", "2026-05-16", "2026-05-31", amount="50.00")
    case = d.case(AS_OF, "R08")
    assert case["anchor_date"] == date(2026, 2, 1)
    assert (case["period_start"], case["period_end"]) == (date(2026, 4, 1), date(2026, 5, 31))
    assert case["amount_at_stake_dkk"] == Decimal("250.00")
    assert case["benefit_codes"] == ["BOLIGSTOTTE", "KONTANTHJAELP"]


def test_r08_readings_before_the_window_count(d) -> None:
    p = _resident(d)
    d.reading("A", "2025-05-01", "0").reading("A", "2025-06-01", "0")
    d.reading("A", "2025-07-01", "0")
    d.payment(p, "KONTANTHJAELP", "2025-07-01")  # first window month of as_of 2026-06-15
    assert d.case(AS_OF, "R08")["anchor_date"] == date(2025, 5, 1)


def test_r08_not_evaluated_without_utility_readings(d) -> None:
    from kontrol.config import KontrolConfig
    from kontrol.rules import CATALOGUE, RuleInputs, rules_not_evaluated

    p = _resident(d)
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    inputs = RuleInputs.build(d.extracts(), date(2026, 6, 15), KontrolConfig())
    assert rules_not_evaluated(inputs, CATALOGUE)["R08"] == ["utility_readings"]
    d.deliver("utility_readings")  # delivered but empty: evaluated, no case
    inputs = RuleInputs.build(d.extracts(), date(2026, 6, 15), KontrolConfig())
    assert "R08" not in rules_not_evaluated(inputs, CATALOGUE)
    assert d.cases(AS_OF, "R08") == []
