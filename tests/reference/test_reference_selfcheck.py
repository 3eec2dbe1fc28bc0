"""Hand-computed examples that pin the reference itself to CONTRACT.md.

Each expected value below is worked out by hand from the contract's words
(and docs/contract-readings.md), not by running code, so the property test's
oracle is itself checked.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from reference_rules import (
    age_on,
    prorate,
    reference_cases,
    window_start,
)

from kontrol.config import KontrolConfig

D = Decimal
MOTHER = "0203851234"
FATHER = "1104831235"
CHILD = "0506151236"
TEEN = "0103081237"  # born 2008-03-01: 18 on 2026-03-01
LEAP = "2902081238"  # born 2008-02-29: 18 on 2026-03-01 (common year)

_ids = count(1)


def person(cpr: str, birth: date) -> dict[str, Any]:
    return {
        "cpr": cpr,
        "birth_date": birth,
        "sex": "K",
        "citizenship": "DK",
        "municipality_code": 461,
    }


def event(cpr: str, day: date, kind: str, address: str | None = None) -> dict[str, Any]:
    country = "SE" if kind in ("emigrated", "immigrated") else None
    if kind in ("address", "immigrated") and address is None:
        address = "A1"
    return {
        "cpr": cpr,
        "event_date": day,
        "event_type": kind,
        "address_id": address,
        "country_code": country,
    }


def relation(
    cpr: str, other: str, kind: str, valid_from: date, valid_to: date | None = None
) -> dict[str, Any]:
    return {
        "cpr": cpr,
        "related_cpr": other,
        "relation": kind,
        "valid_from": valid_from,
        "valid_to": valid_to,
    }


def spouses(a: str, b: str, valid_from: date, valid_to: date | None = None) -> list[dict]:
    return [
        relation(a, b, "spouse", valid_from, valid_to),
        relation(b, a, "spouse", valid_from, valid_to),
    ]


def payment(
    cpr: str, code: str, s: date, e: date, amount: str, kind: str = "regular"
) -> dict[str, Any]:
    return {
        "payment_id": f"P{next(_ids)}",
        "cpr": cpr,
        "benefit_code": code,
        "period_start": s,
        "period_end": e,
        "amount_dkk": D(amount),
        "payment_type": kind,
        "paid_date": e,
    }


def income(cpr: str, month: date, amount: str, cvr: str = "12345678") -> dict[str, Any]:
    return {"cpr": cpr, "employer_cvr": cvr, "month": month, "gross_income_dkk": D(amount)}


def run(
    *,
    persons: list | None = None,
    events: list | None = None,
    relations: list | None = None,
    payments: list | None = None,
    incomes: list | None = None,
    as_of: date = date(2026, 3, 31),
    window_months: int = 12,
    rule_parameters: dict | None = None,
) -> dict[str, dict[str, Any]]:
    """Cases keyed by rule_id (each test uses at most one case per rule)."""
    config = KontrolConfig(window_months=window_months, rule_parameters=rule_parameters or {})
    cases = reference_cases(
        persons or [], events or [], relations or [], payments or [], incomes or [], as_of, config
    )
    out: dict[str, dict[str, Any]] = {}
    for case in cases:
        assert case["rule_id"] not in out, "these examples expect one case per rule"
        out[case["rule_id"]] = case
    return out


def family(child_event: dict[str, Any] | None) -> dict[str, list]:
    """Mother resident at A1; father emigrates 2026-01-10; their child maybe too."""
    events = [
        event(MOTHER, date(2015, 1, 1), "address"),
        event(FATHER, date(2015, 1, 1), "address"),
        event(CHILD, date(2015, 6, 5), "address"),
        event(FATHER, date(2026, 1, 10), "emigrated"),
    ]
    if child_event is not None:
        events.append(child_event)
    return {
        "persons": [
            person(MOTHER, date(1985, 3, 2)),
            person(FATHER, date(1983, 4, 11)),
            person(CHILD, date(2015, 6, 5)),
        ],
        "events": events,
        "relations": [
            *spouses(MOTHER, FATHER, date(2010, 1, 1)),
            relation(MOTHER, CHILD, "child", date(2015, 6, 5)),
            relation(FATHER, CHILD, "child", date(2015, 6, 5)),
        ],
        "payments": [
            payment(MOTHER, "KONTANTHJAELP", date(2026, 1, 1), date(2026, 1, 31), "10000.00"),
            payment(MOTHER, "KONTANTHJAELP", date(2026, 2, 1), date(2026, 2, 28), "10000.00"),
            payment(MOTHER, "BOERNE_UNGEYDELSE", date(2026, 3, 1), date(2026, 3, 31), "1234.56"),
            # no residence requirement: never R01
            payment(MOTHER, "FOLKEPENSION", date(2026, 3, 1), date(2026, 3, 31), "999.00"),
        ],
    }


# --- R01 ----------------------------------------------------------------------------


def test_r01_family_abroad_father_and_child_emigrated() -> None:
    data = family(event(CHILD, date(2026, 1, 12), "emigrated"))
    cases = run(**data)
    # Jan line: on 2026-01-01 father and child still resident -> not flagged.
    # Feb and Mar residence lines: household {father, child} all abroad, mother resident.
    assert cases["R01"] == {
        "rule_id": "R01",
        "cpr": MOTHER,
        "anchor_date": date(2026, 1, 12),  # latest emigration among the members
        "period_start": date(2026, 2, 1),
        "period_end": date(2026, 3, 31),
        "amount_at_stake_dkk": D("11234.56"),
        "benefit_codes": ("BOERNE_UNGEYDELSE", "KONTANTHJAELP"),
    }
    assert set(cases) == {"R01"}  # the mother is resident: no R02


def test_r01_not_when_a_member_stays_or_is_unknown() -> None:
    assert "R01" not in run(**family(None))  # child still resident
    data = family(event(CHILD, date(2026, 1, 12), "emigrated"))
    data["events"] = [e for e in data["events"] if e["cpr"] != CHILD]  # child: unknown
    assert "R01" not in run(**data)


def test_r01_emigration_on_the_period_start_counts() -> None:
    data = family(event(CHILD, date(2026, 2, 1), "emigrated"))
    case = run(**data)["R01"]
    assert case["anchor_date"] == date(2026, 2, 1)
    assert case["period_start"] == date(2026, 2, 1)


def test_r01_eighteenth_birthday() -> None:
    """A child who turns 18 on s is no longer a minor on s (reading 8)."""
    for cpr, birth in ((TEEN, date(2008, 3, 1)), (LEAP, date(2008, 2, 29))):
        data = {
            "persons": [person(MOTHER, date(1985, 3, 2)), person(cpr, birth)],
            "events": [
                event(MOTHER, date(2015, 1, 1), "address"),
                event(cpr, date(2025, 12, 31), "emigrated"),
            ],
            "relations": [relation(MOTHER, cpr, "child", birth)],
            "payments": [
                payment(MOTHER, "BOLIGSTOTTE", date(2026, 2, 28), date(2026, 2, 28), "50.00"),
                payment(MOTHER, "BOLIGSTOTTE", date(2026, 3, 1), date(2026, 3, 31), "1550.00"),
            ],
        }
        case = run(**data)["R01"]
        assert (case["period_start"], case["period_end"]) == (date(2026, 2, 28), date(2026, 2, 28))
        assert case["amount_at_stake_dkk"] == D("50.00")
        assert case["anchor_date"] == date(2025, 12, 31)


def test_age_on() -> None:
    assert age_on(date(2008, 3, 1), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 3, 1), date(2026, 3, 1)) == 18
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18
    assert age_on(date(2008, 2, 29), date(2028, 2, 29)) == 20


# --- R02, R03, R07 and the window ---------------------------------------------------


def test_r02_r03_r07_and_net_lines() -> None:
    p, q, r = "0101801001", "0101801002", "0101801003"
    data = {
        "events": [
            event(p, date(2020, 1, 1), "address"),
            event(p, date(2026, 1, 20), "emigrated"),
            event(p, date(2026, 3, 2), "immigrated"),
            event(q, date(2026, 2, 14), "died"),
            event(r, date(2025, 11, 30), "disappeared"),
        ],
        "payments": [
            # p: abroad on 2026-02-01 and 2026-03-01, resident again from 2026-03-02
            payment(p, "DAGPENGE", date(2026, 2, 1), date(2026, 2, 28), "100.00"),
            payment(p, "DAGPENGE", date(2026, 3, 1), date(2026, 3, 1), "7.00"),
            payment(p, "DAGPENGE", date(2026, 3, 2), date(2026, 3, 31), "93.00"),
            payment(p, "FOERTIDSPENSION", date(2026, 1, 20), date(2026, 1, 31), "5.00"),
            # q: dead from 2026-02-14; any benefit; the Mar line fully reversed
            payment(q, "FOLKEPENSION", date(2026, 2, 14), date(2026, 2, 28), "300.00"),
            payment(q, "FOLKEPENSION", date(2026, 3, 1), date(2026, 3, 31), "300.00"),
            payment(
                q, "FOLKEPENSION", date(2026, 3, 1), date(2026, 3, 31), "-300.00", "correction"
            ),
            payment(q, "FOLKEPENSION", date(2026, 2, 13), date(2026, 2, 13), "20.00"),
            # r: disappeared; a partial correction leaves 0.01
            payment(r, "BOLIGSTOTTE", date(2026, 1, 1), date(2026, 1, 31), "10.00"),
            payment(r, "BOLIGSTOTTE", date(2026, 1, 1), date(2026, 1, 31), "-9.99", "correction"),
        ],
    }
    cases = run(**data)
    assert cases["R02"] == {
        "rule_id": "R02",
        "cpr": p,
        "anchor_date": date(2026, 1, 20),
        "period_start": date(2026, 2, 1),
        "period_end": date(2026, 3, 1),
        "amount_at_stake_dkk": D("107.00"),
        "benefit_codes": ("DAGPENGE",),
    }
    assert cases["R03"] == {
        "rule_id": "R03",
        "cpr": q,
        "anchor_date": date(2026, 2, 14),
        "period_start": date(2026, 2, 14),
        "period_end": date(2026, 2, 28),
        "amount_at_stake_dkk": D("300.00"),
        "benefit_codes": ("FOLKEPENSION",),
    }
    assert cases["R07"] == {
        "rule_id": "R07",
        "cpr": r,
        "anchor_date": date(2025, 11, 30),
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 1, 31),
        "amount_at_stake_dkk": D("0.01"),
        "benefit_codes": ("BOLIGSTOTTE",),
    }
    assert set(cases) == {"R02", "R03", "R07"}


def test_window_edges() -> None:
    assert window_start(date(2026, 3, 15), 3) == date(2026, 1, 1)
    assert window_start(date(2026, 3, 15), 1) == date(2026, 3, 1)
    assert window_start(date(2027, 1, 10), 12) == date(2026, 2, 1)
    p = "0101801001"
    data = {
        "events": [event(p, date(2020, 1, 1), "emigrated")],
        "payments": [
            payment(p, "DAGPENGE", date(2025, 12, 31), date(2025, 12, 31), "1.00"),  # before
            payment(p, "DAGPENGE", date(2026, 1, 1), date(2026, 1, 1), "2.00"),  # first day
            payment(p, "DAGPENGE", date(2026, 3, 15), date(2026, 3, 31), "4.00"),  # as_of
            payment(p, "DAGPENGE", date(2026, 3, 16), date(2026, 3, 31), "8.00"),  # after
        ],
        # an emigration after as_of does not count (section 3)
        "as_of": date(2026, 3, 15),
        "window_months": 3,
    }
    case = run(**data)["R02"]
    assert case["amount_at_stake_dkk"] == D("6.00")
    assert (case["period_start"], case["period_end"]) == (date(2026, 1, 1), date(2026, 3, 31))
    data["events"] = [event(p, date(2026, 3, 16), "emigrated")]
    assert run(**data) == {}


# --- R04 ----------------------------------------------------------------------------


def r04_data() -> dict[str, Any]:
    p = "0101801001"
    return {
        "payments": [
            payment(p, "KONTANTHJAELP", date(2026, 1, 1), date(2026, 1, 15), "300.00"),
            payment(p, "UDDANNELSESHJAELP", date(2026, 1, 16), date(2026, 1, 31), "200.00"),
            payment(p, "KONTANTHJAELP", date(2026, 2, 1), date(2026, 2, 28), "3000.00"),
            payment(p, "KONTANTHJAELP", date(2026, 3, 1), date(2026, 3, 31), "3000.00"),
            payment(p, "SYGEDAGPENGE", date(2026, 3, 1), date(2026, 3, 31), "3000.00"),
        ],
        "incomes": [
            income(p, date(2026, 1, 1), "1000.01"),  # B=500 (two tested lines), I=1000.01
            income(p, date(2026, 2, 1), "1200.00"),  # I=1500.00 over two employers
            income(p, date(2026, 2, 1), "300.00", cvr="87654321"),
            income(p, date(2026, 3, 1), "1000.00"),  # not > 1000.00
        ],
    }


def test_r04_min_of_benefit_and_income() -> None:
    case = run(**r04_data())["R04"]
    assert case == {
        "rule_id": "R04",
        "cpr": "0101801001",
        "anchor_date": date(2026, 1, 1),
        "period_start": date(2026, 1, 1),
        "period_end": date(2026, 2, 28),
        "amount_at_stake_dkk": D("2000.00"),  # min(500, 1000.01) + min(3000, 1500)
        "benefit_codes": ("KONTANTHJAELP", "UDDANNELSESHJAELP"),
    }


def test_r04_threshold_is_configurable_and_strict() -> None:
    cases = run(**r04_data(), rule_parameters={"R04": {"income_threshold_dkk": "1500.00"}})
    assert "R04" not in cases  # 1000.01 and 1500.00 are not above 1500.00
    cases = run(**r04_data(), rule_parameters={"R04": {"income_threshold_dkk": "1499.99"}})
    assert cases["R04"]["amount_at_stake_dkk"] == D("1500.00")
    assert cases["R04"]["anchor_date"] == date(2026, 2, 1)


# --- R05 ----------------------------------------------------------------------------


def test_r05_spouse_or_other_parent_at_the_same_address() -> None:
    p, a, c = "0101801001", "0101801002", "0101151003"
    base = {
        "events": [
            event(p, date(2020, 1, 1), "address", "A1"),
            event(a, date(2020, 1, 1), "address", "A2"),
            event(a, date(2026, 2, 28), "address", "A1"),  # moves in on the last day
            event(a, date(2026, 3, 1), "address", "A2"),
        ],
        "payments": [
            payment(p, "BOERNETILSKUD_ENLIG", date(2026, 1, 1), date(2026, 1, 31), "1.00"),
            payment(p, "BOERNETILSKUD_ENLIG", date(2026, 2, 1), date(2026, 2, 28), "2.00"),
            payment(p, "BOERNETILSKUD_ENLIG", date(2026, 3, 1), date(2026, 3, 31), "4.00"),
            payment(p, "BOLIGSTOTTE", date(2026, 2, 1), date(2026, 2, 28), "8.00"),
        ],
    }
    # no relation: not flagged
    assert "R05" not in run(**base)
    # spouse whose relation holds only on 2026-02-28 of [2026-02-01, 2026-02-28]
    case = run(**base, relations=spouses(p, a, date(2026, 2, 28), date(2026, 3, 1)))["R05"]
    assert (case["anchor_date"], case["amount_at_stake_dkk"]) == (date(2026, 2, 1), D("2.00"))
    # spouse relation ended before the line: not flagged
    assert "R05" not in run(**base, relations=spouses(p, a, date(2020, 1, 1), date(2026, 2, 1)))
    # other parent: validity dates do not matter (reading 13)
    rels = [
        relation(p, c, "child", date(2015, 1, 1), date(2015, 2, 1)),
        relation(a, c, "child", date(2015, 1, 1), date(2015, 2, 1)),
    ]
    case = run(**base, relations=rels)["R05"]
    assert case["benefit_codes"] == ("BOERNETILSKUD_ENLIG",)
    assert (case["period_start"], case["period_end"]) == (date(2026, 2, 1), date(2026, 2, 28))


# --- R06 ----------------------------------------------------------------------------


def test_r06_prorating_rounds_half_up() -> None:
    p = "0101801001"
    data = {
        "payments": [
            # DAGPENGE n=2, FOLKEPENSION n=30, shared day 2026-03-02 (d=1):
            # min(0.05*1/2 = 0.025 -> 0.03 (half-up; half-even would give 0.02),
            #     100.00*1/30 = 3.333.. -> 3.33) = 0.03
            payment(p, "DAGPENGE", date(2026, 3, 1), date(2026, 3, 2), "0.05"),
            payment(p, "FOLKEPENSION", date(2026, 3, 2), date(2026, 3, 31), "100.00"),
            # KONTANTHJAELP Feb (n=28) with SYGEDAGPENGE 16-28 Feb (n=13), d=13:
            # min(1000.00*13/28 = 464.2857.. -> 464.29, 500.00) = 464.29
            payment(p, "KONTANTHJAELP", date(2026, 2, 1), date(2026, 2, 28), "1000.00"),
            payment(p, "SYGEDAGPENGE", date(2026, 2, 16), date(2026, 2, 28), "500.00"),
            # same code never pairs; BOLIGSTOTTE is not income-replacement
            payment(p, "KONTANTHJAELP", date(2026, 2, 10), date(2026, 2, 11), "9.00"),
            payment(p, "BOLIGSTOTTE", date(2026, 2, 1), date(2026, 2, 28), "9.00"),
        ],
    }
    case = run(**data)["R06"]
    # pairs: (KH Feb, SD) 464.29; (KH 10-11, SD) none (no shared day);
    # (DP, FP) 0.03; cases sum = 464.32
    assert case == {
        "rule_id": "R06",
        "cpr": p,
        "anchor_date": date(2026, 2, 16),
        "period_start": date(2026, 2, 1),
        "period_end": date(2026, 3, 31),
        "amount_at_stake_dkk": D("464.32"),
        "benefit_codes": ("DAGPENGE", "FOLKEPENSION", "KONTANTHJAELP", "SYGEDAGPENGE"),
    }


def test_r06_case_rounding_to_zero_is_not_emitted() -> None:
    p = "0101801001"
    data = {
        "payments": [
            # d=1: min(0.01*1/3 -> 0.00, 90.00*1/31 -> 2.90) = 0.00: no case
            payment(p, "DAGPENGE", date(2026, 3, 29), date(2026, 3, 31), "0.01"),
            payment(p, "SYGEDAGPENGE", date(2026, 3, 1), date(2026, 3, 29), "90.00"),
        ]
    }
    assert run(**data) == {}


@pytest.mark.parametrize("ore", [1, 2, 3, 5, 7, 15, 25, 99, 101, 12345, 999999])
def test_prorate_equals_integer_ore_formula(ore: int) -> None:
    """Reading 14: round_half_up(a*d/n) == (2*ore*d + n) // (2*n) øre."""
    for n in range(1, 32):
        for d in range(1, n + 1):
            assert prorate(D(ore) / 100, d, n) == D((2 * ore * d + n) // (2 * n)) / 100


# --- the strategies make every rule fire often ------------------------------------------
