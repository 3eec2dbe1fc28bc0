"""R09: single-parent supplement while on a lease with another adult (CONTRACT.md 4b)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

AS_OF = "2026-06-15"


def _recipient(d) -> str:
    """P draws BOERNETILSKUD_ENLIG for April 2026 and is tenant on lease L-77 since 2025."""
    p = d.person("1985-04-01")
    d.lives(p, "2010-01-01", "A")
    d.lease("L-77", p, "2025-01-01", address="B")
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-04-01", amount="1500.00")
    return p


def test_r09_another_adult_on_the_lease(d) -> None:
    p = _recipient(d)
    a = d.person("1990-06-01")
    d.lease("L-77", a, "2026-04-20", role="co_tenant", address="B")
    d.payment(p, "BOERNE_UNGEYDELSE", "2026-04-01", amount="4000.00")  # out of scope
    case = d.case(AS_OF, "R09")
    assert case["anchor_date"] == date(2026, 4, 1)
    assert (case["period_start"], case["period_end"]) == (date(2026, 4, 1), date(2026, 4, 30))
    assert case["amount_at_stake_dkk"] == Decimal("1500.00")
    assert case["benefit_codes"] == ["BOERNETILSKUD_ENLIG"]
    assert case["evidence_json"]["items"][0]["co_lessees"] == [
        {
            "lease_id": "L-77",
            "address_id": "B",
            "recipient_roles": ["tenant"],
            "cpr": a,
            "roles": ["co_tenant"],
            "birth_date": "1990-06-01",
            "together_from": "2026-04-20",
            "together_to": "2026-04-30",
        }
    ]


@pytest.mark.parametrize(
    ("born", "flagged"),
    [
        ("2008-04-30", True),  # 18 on e
        ("2008-05-01", False),  # 18 on e + 1
        ("2008-03-31", True),  # 18 the day before s
    ],
)
def test_r09_co_tenants_18th_birthday(d, born: str, flagged: bool) -> None:
    _recipient(d)
    a = d.person(born)
    d.lease("L-77", a, "2020-01-01", role="co_tenant")
    found = d.cases(AS_OF, "R09")
    assert len(found) == int(flagged)


def test_r09_together_from_is_the_18th_birthday(d) -> None:
    _recipient(d)
    a = d.person("2008-04-10")
    d.lease("L-77", a, "2020-01-01", role="co_tenant")
    item = d.case(AS_OF, "R09")["evidence_json"]["items"][0]
    assert item["co_lessees"][0]["together_from"] == "2026-04-10"


def test_r09_leap_day_birth_is_adult_on_1_march(d) -> None:
    p = d.person("1985-04-01")
    d.lease("L-1", p, "2025-01-01")
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-02-01", amount="1500.00")  # to 2026-02-28
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-03-01", amount="1500.00")
    a = d.person("2008-02-29")
    d.lease("L-1", a, "2020-01-01", role="co_tenant")
    case = d.case(AS_OF, "R09")
    assert case["period_start"] == date(2026, 3, 1)


def test_r09_other_person_must_be_in_persons(d) -> None:
    _recipient(d)
    d.lease("L-77", "0101900999", "2020-01-01", role="co_tenant")  # not in persons
    assert d.cases(AS_OF, "R09") == []


@pytest.mark.parametrize("direction", ["p_parent_of_a", "a_parent_of_p"])
@pytest.mark.parametrize(
    ("valid_from", "valid_to"),
    [
        ("2000-01-01", None),
        ("1990-01-01", "1995-01-01"),  # ended long ago
        ("2026-06-01", None),
        ("2026-07-01", None),  # dated after as_of: "whatever its dates"
    ],
)
def test_r09_a_child_relation_either_way_whatever_its_dates_rules_out(
    d, direction: str, valid_from: str, valid_to: str | None
) -> None:
    p = _recipient(d)
    a = d.person("1960-01-01" if direction == "a_parent_of_p" else "2000-01-01")
    d.lease("L-77", a, "2020-01-01", role="co_tenant")
    parent, child = (p, a) if direction == "p_parent_of_a" else (a, p)
    d.child(parent, child, valid_from, valid_to)
    assert d.cases(AS_OF, "R09") == []


def test_r09_a_spouse_relation_does_not_rule_out(d) -> None:
    p = _recipient(d)
    a = d.person("1984-01-01")
    d.lease("L-77", a, "2020-01-01", role="co_tenant")
    d.marry(p, a)
    assert len(d.cases(AS_OF, "R09")) == 1


@pytest.mark.parametrize(
    ("a_from", "a_to", "flagged"),
    [
        ("2020-01-01", "2026-04-01", False),  # valid_to = s: holds on no day of [s, e]
        ("2020-01-01", "2026-04-02", True),  # holds on s only
        ("2026-04-30", None, True),  # from e
        ("2026-05-01", None, False),  # from e + 1
    ],
)
def test_r09_rows_must_hold_on_a_common_day_of_the_line(
    d, a_from: str, a_to: str | None, flagged: bool
) -> None:
    _recipient(d)
    a = d.person("1990-01-01")
    d.lease("L-77", a, a_from, a_to, role="co_tenant")
    assert len(d.cases(AS_OF, "R09")) == int(flagged)


def test_r09_both_rows_must_hold_on_the_same_day(d) -> None:
    p = d.person("1985-04-01")
    d.lease("L-77", p, "2020-01-01", "2026-04-10")  # P leaves on the 10th
    a = d.person("1990-01-01")
    d.lease("L-77", a, "2026-04-10", role="co_tenant")  # A arrives on the 10th
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-04-01")
    assert d.cases(AS_OF, "R09") == []


def test_r09_another_lease_at_the_same_address_does_not_count(d) -> None:
    _recipient(d)
    a = d.person("1990-01-01")
    d.lease("L-78", a, "2020-01-01", address="B")
    assert d.cases(AS_OF, "R09") == []


def test_r09_role_and_address_do_not_matter(d) -> None:
    p = d.person("1985-04-01")
    d.lives(p, "2010-01-01", "A")  # registered elsewhere
    d.lease("L-9", p, "2020-01-01", role="co_tenant", address="Z")
    a = d.person("1990-01-01")
    d.lease("L-9", a, "2020-01-01", role="co_tenant", address="Z")
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-04-01")
    assert len(d.cases(AS_OF, "R09")) == 1


def test_r09_lease_rows_after_as_of_do_not_count(d) -> None:
    p = _recipient(d)
    a = d.person("1990-01-01")
    d.lease("L-77", a, "2026-06-16", role="co_tenant")
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-06-01")  # line reaches past as_of
    assert d.cases(AS_OF, "R09") == []
    assert len(d.cases("2026-06-16", "R09")) == 1


def test_r09_not_evaluated_without_tenancies(d) -> None:
    p = d.person("1985-04-01")
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-04-01")
    assert d.cases(AS_OF, "R09") == []
    assert d.items(AS_OF, "R09").height == 0
