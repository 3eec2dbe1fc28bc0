"""R01 family abroad: the household on s (reading 10), ages (reading 8)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

AS_OF = "2026-06-15"


def _family(d, *, child_born: str = "2015-05-05", spouse: bool = True) -> tuple[str, str, str]:
    """Mother P resident at A; father F (spouse) and child C; F and C emigrate to SE."""
    p = d.person("1985-04-01")
    f = d.person("1984-01-01")
    c = d.person(child_born)
    for x in (p, f, c):
        d.lives(x, "2010-01-01", "A")
    d.emigrates(f, "2026-02-10", "SE")
    d.emigrates(c, "2026-02-20", "SE")
    if spouse:
        d.marry(p, f)
    d.child(p, c, "2015-05-05").child(f, c, "2015-05-05")
    return p, f, c


def test_r01_whole_household_abroad(d) -> None:
    p, f, c = _family(d)
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="12000.00")
    d.payment(p, "FOLKEPENSION", "2026-03-01", amount="1.00")  # no residence requirement
    case = d.case(AS_OF, "R01")
    assert case["cpr"] == p
    assert case["anchor_date"] == date(2026, 2, 20)  # the latest emigration
    assert case["amount_at_stake_dkk"] == Decimal("12000.00")
    assert case["benefit_codes"] == ["KONTANTHJAELP"]
    evidence = case["evidence_json"]
    item = evidence["items"][0]
    assert item["recipient_address_id"] == "A"
    members = {m["cpr"]: m for m in item["household"]}
    assert set(members) == {f, c}
    assert members[f]["relations"] == ["other_parent", "spouse"]
    assert members[c]["relations"] == ["child"]
    assert members[c]["event_date"] == "2026-02-20" and members[c]["country_code"] == "SE"
    assert "1 spouse" in evidence["summary"] and "1 child(ren) under 18" in evidence["summary"]


def test_r01_one_member_still_resident(d) -> None:
    p, _f, _c = _family(d)
    c2 = d.person("2017-01-01")
    d.lives(c2, "2017-01-01", "A").child(p, c2)
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    assert d.cases(AS_OF, "R01") == []


def test_r01_member_with_unknown_state_is_not_abroad(d) -> None:
    p, _f, _c = _family(d)
    c2 = d.person("2017-01-01")  # in persons but no residence events: unknown
    d.child(p, c2)
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    assert d.cases(AS_OF, "R01") == []


def test_r01_needs_a_minor_child(d) -> None:
    p = d.person("1960-01-01")
    f = d.person("1960-01-01")
    c = d.person("2000-01-01")  # adult
    d.lives(p, "2010-01-01", "A").emigrates(f, "2026-01-01").emigrates(c, "2026-01-01")
    d.marry(p, f).child(p, c)
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    assert d.cases(AS_OF, "R01") == []


def test_r01_child_turns_18_inside_the_window(d) -> None:
    # Only the child links P to the household: without a spouse relation the father
    # is a member only as the minor child's other parent.
    p, _f, _c = _family(d, child_born="2008-04-15", spouse=False)
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="100.00")  # 17 on s: flagged
    d.payment(p, "KONTANTHJAELP", "2026-04-01", "2026-04-14", amount="40.00")  # 17: flagged
    d.payment(p, "BOLIGSTOTTE", "2026-04-15", "2026-04-30", amount="60.00")  # 18th birthday
    d.payment(p, "KONTANTHJAELP", "2026-05-01", amount="100.00")  # 18: not flagged
    case = d.case(AS_OF, "R01")
    assert case["amount_at_stake_dkk"] == Decimal("140.00")
    assert (case["period_start"], case["period_end"]) == (date(2026, 3, 1), date(2026, 4, 14))


def test_r01_leap_day_child_turns_18_on_1_march(d) -> None:
    p, _f, _c = _family(d, child_born="2008-02-29", spouse=False)
    d.emigrates(_f, "2026-01-10").emigrates(_c, "2026-01-10")
    d.payment(p, "KONTANTHJAELP", "2026-02-28", "2026-02-28", amount="1.00")  # still 17
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="2.00")  # 18 in a common year
    case = d.case(AS_OF, "R01")
    assert case["amount_at_stake_dkk"] == Decimal("1.00")


def test_r01_spouse_relation_ending_on_s_does_not_hold(d) -> None:
    p, _f, _c = _family(d, spouse=False)
    s2 = d.person("1980-01-01")  # a later spouse, not a parent, living in Denmark
    d.lives(s2, "2010-01-01", "B")
    d.marry(p, s2, "2024-01-01", "2026-03-01")
    d.payment(p, "KONTANTHJAELP", "2026-02-01", amount="5.00")  # s2 still spouse: not flagged
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="7.00")  # valid_to = s: not a member
    case = d.case(AS_OF, "R01")
    assert case["amount_at_stake_dkk"] == Decimal("7.00")


def test_r01_child_relation_not_holding_or_child_unknown_to_persons(d) -> None:
    p = d.person("1985-04-01")
    f = d.person("1984-01-01")
    d.lives(p, "2010-01-01", "A").emigrates(f, "2026-01-01").marry(p, f)
    ghost = "0101159999"  # a child not in persons: no known age
    d.emigrates(ghost, "2026-01-01").child(p, ghost)
    ended = d.person("2015-01-01")
    d.emigrates(ended, "2026-01-01").child(p, ended, "2015-01-01", "2026-03-01")
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    assert d.cases(AS_OF, "R01") == []


def test_r01_other_parent_counts_only_while_their_child_relation_holds(d) -> None:
    p = d.person("1985-04-01")
    q = d.person("1984-01-01")  # the other parent, living in Denmark
    c = d.person("2015-01-01")
    d.lives(p, "2010-01-01", "A").lives(q, "2010-01-01", "B").emigrates(c, "2026-01-01")
    d.child(p, c).child(q, c, "2015-01-01", "2026-03-01")
    d.payment(p, "KONTANTHJAELP", "2026-02-01", amount="5.00")  # q a member, resident
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="7.00")  # q's relation ended
    case = d.case(AS_OF, "R01")
    assert case["amount_at_stake_dkk"] == Decimal("7.00")
    assert case["anchor_date"] == date(2026, 1, 1)


def test_r01_recipient_must_be_resident(d) -> None:
    p, _f, _c = _family(d)
    d.emigrates(p, "2026-02-25")
    d.payment(p, "KONTANTHJAELP", "2026-03-01")
    unknown = d.person("1985-04-01")  # no events: unknown, not resident
    d.child(unknown, _c)
    d.payment(unknown, "KONTANTHJAELP", "2026-03-01")
    assert d.cases(AS_OF, "R01") == []
    assert [c["cpr"] for c in d.cases(AS_OF, "R02")] == [p]


def test_r01_anchor_uses_emigration_in_force_on_s_of_earliest_line(d) -> None:
    p, _f, c = _family(d)
    # The child returns in April and leaves again in May.
    d.event(c, "2026-04-05", "immigrated", address="A").emigrates(c, "2026-05-10", "DE")
    d.payment(p, "KONTANTHJAELP", "2026-06-01", amount="1.00")  # anchor would be 2026-05-10
    d.payment(p, "KONTANTHJAELP", "2026-04-01", amount="2.00")  # earliest: anchor 2026-02-20
    d.payment(p, "KONTANTHJAELP", "2026-05-01", amount="4.00")  # child resident: not flagged
    case = d.case(AS_OF, "R01")
    assert case["anchor_date"] == date(2026, 2, 20)
    assert case["amount_at_stake_dkk"] == Decimal("3.00")
