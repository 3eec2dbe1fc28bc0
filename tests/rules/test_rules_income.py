"""R04: income while on an income-tested benefit (reading 12)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kontrol.config import KontrolConfig
from kontrol.errors import ConfigError
from kontrol.rules import evaluate_rules

AS_OF = "2026-06-15"


@pytest.mark.parametrize(
    ("income", "amount"), [("1000.00", None), ("1000.01", "1000.01"), ("0.00", None)]
)
def test_r04_threshold_is_strict(d, income: str, amount: str | None) -> None:
    p = d.person()
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="12000.00")
    d.income(p, "2026-03-01", income)
    found = d.cases(AS_OF, "R04")
    if amount is None:
        assert found == []
    else:
        assert [c["amount_at_stake_dkk"] for c in found] == [Decimal(amount)]


def test_r04_threshold_is_configurable(d) -> None:
    p = d.person()
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="12000.00")
    d.income(p, "2026-03-01", "1200.00")
    params = {"R04": {"income_threshold_dkk": "1500.00"}}
    assert d.cases(AS_OF, "R04", rule_parameters=params) == []
    params = {"R04": {"income_threshold_dkk": "1199.99"}}
    case = d.case(AS_OF, "R04", rule_parameters=params)
    assert case["evidence_json"]["items"][0]["income_threshold_dkk"] == "1199.99"


@pytest.mark.parametrize(
    "rule_parameters",
    [
        {"R04": {"income_treshold_dkk": "1500.00"}},  # misspelt parameter
        {"R04": {"income_threshold_dkk": "-1.00"}},  # invalid value
        {"R99": {}},  # no such rule
        {"R02": {"anything": 1}},  # R02 has no parameters
    ],
)
def test_r04_bad_parameters_are_refused(d, rule_parameters: dict) -> None:
    config = KontrolConfig(rule_parameters=rule_parameters)
    with pytest.raises(ConfigError):
        evaluate_rules(d.extracts(), date(2026, 6, 15), config)


def test_r04_sums_employers_and_lines_and_takes_the_minimum(d) -> None:
    p = d.person()
    d.payment(p, "KONTANTHJAELP", "2026-03-01", "2026-03-15", amount="3000.00")
    d.payment(p, "UDDANNELSESHJAELP", "2026-03-16", "2026-03-31", amount="2000.00")
    d.payment(p, "SYGEDAGPENGE", "2026-03-01", amount="9000.00")  # not income-tested
    d.income(p, "2026-03-01", "8500.00", cvr="11111111")
    d.income(p, "2026-03-01", "1200.00", cvr="22222222")  # I = 9700 > B = 5000
    d.payment(p, "KONTANTHJAELP", "2026-05-01", amount="6000.00")
    d.income(p, "2026-05-01", "1500.00")  # I = 1500 < B
    d.income(p, "2026-04-01", "50000.00")  # no benefit in April
    case = d.case(AS_OF, "R04")
    assert case["amount_at_stake_dkk"] == Decimal("6500.00")
    assert case["anchor_date"] == date(2026, 3, 1)
    assert (case["period_start"], case["period_end"]) == (date(2026, 3, 1), date(2026, 5, 31))
    assert case["benefit_codes"] == ["KONTANTHJAELP", "UDDANNELSESHJAELP"]
    march = case["evidence_json"]["items"][0]
    assert march["month"] == "2026-03"
    assert (march["benefit_total_dkk"], march["income_total_dkk"]) == ("5000.00", "9700.00")
    assert [e["employer_cvr"] for e in march["employers"]] == ["11111111", "22222222"]
    assert len(march["lines"]) == 2


def test_r04_anchor_is_first_day_of_month_even_for_mid_month_lines(d) -> None:
    p = d.person()
    d.payment(p, "KONTANTHJAELP", "2026-04-10", "2026-04-30", amount="3000.00")
    d.income(p, "2026-04-01", "2000.00")
    case = d.case(AS_OF, "R04")
    assert case["anchor_date"] == date(2026, 4, 1)
    assert case["period_start"] == date(2026, 4, 10)


def test_r04_income_outside_window_is_ignored(d) -> None:
    p = d.person()
    d.payment(p, "KONTANTHJAELP", "2025-06-01", amount="3000.00")  # before the window
    d.income(p, "2025-06-01", "9000.00")
    assert d.cases(AS_OF, "R04") == []
