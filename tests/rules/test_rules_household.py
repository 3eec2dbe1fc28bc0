"""R05: single-parent supplement while living with the other parent or a spouse (reading 13)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

AS_OF = "2026-06-15"


def _parents(d) -> tuple[str, str, str]:
    """Mother P at address A draws BOERNETILSKUD_ENLIG; F is the father of her child C."""
    p = d.person("1985-04-01")
    f = d.person("1984-01-01")
    c = d.person("2015-05-05")
    d.lives(p, "2010-01-01", "A").lives(c, "2015-05-05", "A").lives(f, "2010-01-01", "B")
    d.child(p, c, "2015-05-05").child(f, c, "2015-05-05")
    return p, f, c


def test_r05_other_parent_moves_in(d) -> None:
    p, f, c = _parents(d)
    d.lives(f, "2026-03-10", "A")
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-02-01", amount="1000.00")  # apart
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-03-01", amount="1500.00")
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-04-01", amount="1500.00")
    d.payment(p, "BOERNE_UNGEYDELSE", "2026-04-01", amount="4000.00")  # out of scope
    case = d.case(AS_OF, "R05")
    assert case["anchor_date"] == date(2026, 3, 1)
    assert (case["period_start"], case["period_end"]) == (date(2026, 3, 1), date(2026, 4, 30))
    assert case["amount_at_stake_dkk"] == Decimal("3000.00")
    assert case["benefit_codes"] == ["BOERNETILSKUD_ENLIG"]
    first = case["evidence_json"]["items"][0]["co_residents"][0]
    assert first == {
        "cpr": f,
        "relations": ["other_parent"],
        "common_children": [c],
        "address_id": "A",
        "lived_together_from": "2026-03-10",
        "lived_together_to": "2026-03-31",
    }


@pytest.mark.parametrize(("moved_out", "flagged"), [("2026-03-01", False), ("2026-03-02", True)])
def test_r05_co_residence_ending_the_day_before_s_does_not_flag(
    d, moved_out: str, flagged: bool
) -> None:
    p, f, _c = _parents(d)
    d.lives(f, "2025-01-01", "A").lives(f, moved_out, "B")
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-03-01")
    assert len(d.cases(AS_OF, "R05")) == int(flagged)


def test_r05_co_residence_starting_on_e_flags(d) -> None:
    p, f, _c = _parents(d)
    d.lives(f, "2026-03-31", "A")
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-03-01")
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-02-01")
    case = d.case(AS_OF, "R05")
    assert case["period_start"] == date(2026, 3, 1)


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "flagged"),
    [
        ("2020-01-01", "2026-03-01", False),  # valid_to = s: holds on no day of [s, e]
        ("2020-01-01", "2026-03-02", True),  # holds on s only
        ("2026-03-31", None, True),  # from e
        ("2026-04-01", None, False),  # from e + 1
    ],
)
def test_r05_spouse_relation_must_hold_on_a_day_of_the_period(
    d, valid_from: str, valid_to: str | None, flagged: bool
) -> None:
    p, _f, _c = _parents(d)
    s = d.person("1980-01-01")  # not a parent of P's child
    d.lives(s, "2020-01-01", "A")
    d.marry(p, s, valid_from, valid_to)
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-03-01")
    assert len(d.cases(AS_OF, "R05")) == int(flagged)


def test_r05_other_parent_regardless_of_relation_dates(d) -> None:
    p = d.person("1985-04-01")
    f = d.person("1984-01-01")
    c = d.person("2000-05-05")
    d.lives(p, "2010-01-01", "A").lives(f, "2010-01-01", "A")
    d.child(p, c, "2000-05-05", "2018-05-05").child(f, c, "2000-05-05", "2018-05-05")
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-03-01")
    assert len(d.cases(AS_OF, "R05")) == 1


def test_r05_same_address_required(d) -> None:
    p, _f, _c = _parents(d)
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-03-01")
    assert d.cases(AS_OF, "R05") == []


def test_r05_register_facts_after_as_of_are_ignored(d) -> None:
    p, f, _c = _parents(d)
    d.lives(f, "2026-06-20", "A")  # within [s, e] but after as_of
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-06-01")
    s = d.person("1980-01-01")
    d.lives(s, "2020-01-01", "A").marry(p, s, "2026-06-16")  # relation from after as_of
    assert d.cases(AS_OF, "R05") == []


def test_r05_spell_open_at_as_of_continues_to_the_end_of_the_line(d) -> None:
    p, f, _c = _parents(d)
    d.lives(f, "2026-06-10", "A")
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-06-01")
    case = d.case(AS_OF, "R05")
    together = case["evidence_json"]["items"][0]["co_residents"][0]
    assert (together["lived_together_from"], together["lived_together_to"]) == (
        "2026-06-10",
        "2026-06-30",
    )
