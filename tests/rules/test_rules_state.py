"""R02 (abroad), R03 (dead), R07 (disappeared): the recipient's own state on s."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

AS_OF = "2026-06-15"


# --- R02 ------------------------------------------------------------------------------


def test_r02_emigrated_on_s_is_abroad_on_s(d) -> None:
    p = d.person()
    d.lives(p, "2010-01-01", "A").emigrates(p, "2026-03-01", "DE")
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="9000.00")
    case = d.case(AS_OF, "R02")
    assert case["anchor_date"] == date(2026, 3, 1)
    assert case["amount_at_stake_dkk"] == Decimal("9000.00")
    item = case["evidence_json"]["items"][0]
    assert item["event"] == {
        "event_type": "emigrated",
        "event_date": "2026-03-01",
        "country_code": "DE",
    }
    assert item["period_start"] == "2026-03-01" and item["amount_dkk"] == "9000.00"


def test_r02_emigration_the_day_after_s_is_not_abroad_on_s(d) -> None:
    p = d.person()
    d.lives(p, "2010-01-01", "A").emigrates(p, "2026-03-02")
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    assert d.cases(AS_OF, "R02") == []


@pytest.mark.parametrize(("returned", "flagged"), [("2026-03-01", False), ("2026-03-02", True)])
def test_r02_return_on_or_before_s_ends_abroad(d, returned: str, flagged: bool) -> None:
    p = d.person()
    d.lives(p, "2010-01-01", "A").emigrates(p, "2026-01-10")
    d.event(p, returned, "immigrated", address="B", country="DE")
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    assert len(d.cases(AS_OF, "R02")) == int(flagged)


def test_r02_unknown_state_is_never_abroad(d) -> None:
    p = d.person()  # no events at all
    q = d.person()
    d.emigrates(q, "2026-04-01")  # first event after s: unknown on s
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    d.payment(q, "KONTANTHJAELP", "2026-03-01")
    assert d.cases(AS_OF) == []


def test_r02_scope_residence_required_only(d) -> None:
    p = d.person()
    d.emigrates(p, "2026-01-10")
    d.payment(p, "FOLKEPENSION", "2026-03-01", amount="15000.00")
    d.payment(p, "FOERTIDSPENSION", "2026-03-01", amount="15000.00")
    assert d.cases(AS_OF, "R02") == []
    d.payment(p, "BOLIGSTOTTE", "2026-03-01", amount="2000.00")
    assert d.case(AS_OF, "R02")["benefit_codes"] == ["BOLIGSTOTTE"]


def test_r02_events_after_as_of_are_ignored(d) -> None:
    p = d.person()
    d.lives(p, "2010-01-01", "A").emigrates(p, "2026-06-16")
    d.payment(p, "KONTANTHJAELP", "2026-06-01")
    assert d.cases(AS_OF) == []
    # ...and an emigration after as_of cannot end an earlier one.
    q = d.person()
    d.emigrates(q, "2026-02-01").event(q, "2026-06-20", "immigrated", address="B")
    d.payment(q, "KONTANTHJAELP", "2026-06-01")
    assert d.case(AS_OF, "R02")["cpr"] == q


def test_r02_one_case_per_person_with_anchor_of_earliest_line(d) -> None:
    p = d.person()
    d.lives(p, "2010-01-01", "A")
    d.emigrates(p, "2025-08-10", "NO")
    d.event(p, "2025-12-01", "immigrated", address="B")
    d.emigrates(p, "2026-02-20", "SE")
    d.payment(p, "KONTANTHJAELP", "2025-09-01", amount="100.00")  # abroad (1st spell)
    d.payment(p, "BOLIGSTOTTE", "2025-10-01", amount="10.00")  # abroad (1st spell)
    d.payment(p, "KONTANTHJAELP", "2026-01-01", amount="200.00")  # resident: not flagged
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="300.00")  # abroad (2nd spell)
    case = d.case(AS_OF, "R02")
    assert case["anchor_date"] == date(2025, 8, 10)
    assert (case["period_start"], case["period_end"]) == (date(2025, 9, 1), date(2026, 3, 31))
    assert case["amount_at_stake_dkk"] == Decimal("410.00")
    assert case["benefit_codes"] == ["BOLIGSTOTTE", "KONTANTHJAELP"]
    evidence = case["evidence_json"]
    assert evidence["items_total"] == 3
    assert [i["period_start"] for i in evidence["items"]] == [
        "2025-09-01",
        "2025-10-01",
        "2026-03-01",
    ]
    assert "NO" in evidence["summary"] and "2025-08-10" in evidence["summary"]


def test_r02_evidence_is_bounded(d) -> None:
    p = d.person()
    d.emigrates(p, "2020-01-01")
    for month in range(1, 13):
        start = f"{2025 + (month + 6 > 12):d}-{(month + 6 - 1) % 12 + 1:02d}-01"
        for code in ("KONTANTHJAELP", "BOLIGSTOTTE", "OEKONOMISK_FRIPLADS"):
            d.payment(p, code, start, amount="1.00")
    evidence = d.case(AS_OF, "R02")["evidence_json"]
    assert evidence["items_total"] == 36
    assert evidence["items_listed"] == 24
    assert len(evidence["items"]) == 24
    assert evidence["items"][0]["period_start"] == "2025-07-01"


# --- R03 ------------------------------------------------------------------------------


@pytest.mark.parametrize(("died", "flagged"), [("2026-03-01", True), ("2026-03-02", False)])
def test_r03_death_on_s_counts(d, died: str, flagged: bool) -> None:
    p = d.person("1930-01-01")
    d.lives(p, "1990-01-01", "A").event(p, died, "died")
    d.payment(p, "FOLKEPENSION", "2026-03-01", amount="14000.00")
    found = d.cases(AS_OF, "R03")
    assert len(found) == int(flagged)
    if flagged:
        assert found[0]["anchor_date"] == date.fromisoformat(died)


def test_r03_any_benefit_and_anchor_is_date_of_death(d) -> None:
    p = d.person("1930-01-01")
    d.lives(p, "1990-01-01", "A").event(p, "2026-01-14", "died")
    d.payment(p, "FOLKEPENSION", "2026-01-01", amount="14000.00")  # before death
    d.payment(p, "FOLKEPENSION", "2026-02-01", amount="14000.00")
    d.payment(p, "BOLIGSTOTTE", "2026-03-01", amount="1500.00")
    case = d.case(AS_OF, "R03")
    assert case["anchor_date"] == date(2026, 1, 14)
    assert (case["period_start"], case["period_end"]) == (date(2026, 2, 1), date(2026, 3, 31))
    assert case["amount_at_stake_dkk"] == Decimal("15500.00")
    assert case["benefit_codes"] == ["BOLIGSTOTTE", "FOLKEPENSION"]
    assert d.cases(AS_OF, "R02") == [] and d.cases(AS_OF, "R07") == []


# --- R07 ------------------------------------------------------------------------------


def test_r07_disappeared_on_s(d) -> None:
    p = d.person()
    d.lives(p, "2010-01-01", "A").event(p, "2026-03-05", "disappeared")
    d.payment(p, "KONTANTHJAELP", "2026-03-01")  # before the event
    d.payment(p, "KONTANTHJAELP", "2026-04-01", amount="7000.00")
    d.payment(p, "FOLKEPENSION", "2026-04-01")  # no residence requirement
    case = d.case(AS_OF, "R07")
    assert case["anchor_date"] == date(2026, 3, 5)
    assert case["period_start"] == date(2026, 4, 1)
    assert case["amount_at_stake_dkk"] == Decimal("7000.00")
    assert case["benefit_codes"] == ["KONTANTHJAELP"]
    assert case["evidence_json"]["items"][0]["event"]["event_type"] == "disappeared"


def test_r07_found_again_ends_disappeared(d) -> None:
    p = d.person()
    d.event(p, "2026-01-05", "disappeared").lives(p, "2026-04-01", "C")
    d.payment(p, "KONTANTHJAELP", "2026-04-01")
    assert d.cases(AS_OF) == []
