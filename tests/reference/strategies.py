"""Hypothesis strategies: small, schema-valid registers that hit the rules' edges.

A generated :class:`Scenario` holds the rows of the five extracts (plain
dicts, as the reference takes them), an ``as_of`` date and a window length.
Everything is drawn from small pools so that coincidences the rules care
about happen often:

* dates come from a small per-example *grid*: 1-3 key days with the day
  before and after each, plus up to 6 days from the full grid around the
  window (the first/second/middle/last days of the months around
  ``window_start`` and ``as_of``, the day before ``window_start``,
  ``as_of - 1``, ``as_of``, ``as_of + 1``) and a day long before; lines often
  start or end on a key day, so events, relations and 18th birthdays land
  exactly on period starts, the day before or after, inside the window and
  after ``as_of``;
* 3-6 persons with cprs whose DDMMYY is their birth date, some children whose
  18th birthday is a grid day (or a day either side), one born 29 February;
  now and then a related person is left out of ``persons`` (no known age);
* spouse relations in both directions, child relations from one or both
  parents, each sometimes ending (``valid_to``) or starting after ``as_of``;
* residence events of every type on grid days, from a 3-address pool, plus
  "family moves" (a family's members all emigrate on one day while the payee
  stays) and "cohabitation" (two persons at the same address);
* payments in months just before, at, inside and after the window, for full
  months, halves, spans between days 1, 2, 15, 16, last-1 and last (so that
  a*d/n lands exactly on half an øre) and random spans, of every benefit
  code (often from one group: income-replacement, income-tested,
  single-parent), with amounts such as 0.01, 0.05,
  odd øre and round numbers, and corrections that fully, partly or more than
  fully reverse a line, or add to it;
* income rows of 0, 1000.00, 1000.01, 1500.00, 1500.01 and more, from one or
  two employers.

Random registers alone rarely line up what some rules need (a paid recipient
who has died, a whole household abroad while the recipient stays), so each
example also tells some *stories* on purpose (:data:`STORIES`): the hero's
family emigrates, the hero moves in with a partner, a paid stranger
emigrates, dies or disappears, income falls in months of income-tested help,
several income-replacement benefits are paid at once. Their days come from
the same grid, so they land on the same edges. With them every rule fires in
at least 10 % of the examples the property test checks (it asserts so:
test_reference_properties.py::test_engine_matches_reference: R01 30, R02 99,
R03 54, R04 23, R05 29, R06 50, R07 42 of 150; before the stories R03 fired in
1 of 150 and R07 in 6, and with "family abroad" told 3 times in 4 instead of 7
in 8, R01 in 14).

Rows are valid per kontrol.schema (no row defects; unique keys persons.cpr,
(residence_events.cpr, event_date) and payments.payment_id) because the
property under test is the rules' semantics, not the loader's.

The strategies are built once, not inside each draw (see :func:`either`):
Hypothesis validates every new strategy object and works out its properties
the first time it is drawn from, and building ``st.sampled_from([...])`` and
``a | b`` anew for each of some 1,000 draws per example was about a third of
the property tests' time. The strategies and the order of their branches are
those the draws built before, so the examples are the same, draw for draw.
"""

from __future__ import annotations

import calendar
import functools
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from reference_rules import add_months, first_of_month, window_start

from kontrol.benefits import DEFAULT_BENEFITS

AS_OF_CHOICES = (
    date(2026, 3, 31),  # month end
    date(2026, 3, 15),  # mid-month
    date(2026, 2, 28),  # month end, February of a common year
    date(2026, 12, 31),  # year end
    date(2027, 1, 10),  # early in a month, the window crosses a year
)
WINDOW_MONTHS = (1, 2, 3, 12)

BENEFIT_CODES = tuple(b.code for b in DEFAULT_BENEFITS)
INCOME_REPLACEMENT_CODES = tuple(b.code for b in DEFAULT_BENEFITS if b.income_replacement)
INCOME_TESTED_CODES = tuple(b.code for b in DEFAULT_BENEFITS if b.income_tested)

ADDRESSES = ("addr-0001", "addr-0002", "addr-0003")
COUNTRIES = ("SE", "DE", "PL")
EMPLOYERS = ("12345678", "87654321")
LONG_AGO = date(2000, 1, 1)

AMOUNTS = tuple(
    Decimal(a)
    for a in (
        "0.01",
        "0.05",
        "0.10",
        "1.00",
        "3.33",
        "100.00",
        "999.99",
        "1000.01",
        "1234.57",
        "4999.99",
        "12345.67",
    )
)
INCOMES = tuple(
    Decimal(a)
    for a in (
        "0.00",
        "0.01",
        "500.00",
        "999.99",
        "1000.00",
        "1000.01",
        "1500.00",
        "1500.01",
        "2000.00",
        "25000.00",
    )
)


#: The stories an example may tell on purpose, beside its random parts: each
#: is told independently (with probability 1/2, "family abroad" 7/8) and makes a rule likely to
#: fire (test_reference_properties.py checks that every rule fires in at least
#: 10 % of examples; without them R03 fired in 1 of 150 and R07 in 6).
#: "family abroad" and "partners at home" are about the *hero* (a paid parent);
#: the three fates befall other persons where there are any, who are then paid.
STORIES = (
    "family abroad",  # the hero's household emigrates, the hero stays (R01)
    "partners at home",  # the hero moves in with a spouse or co-parent (R05)
    "emigrated",  # someone paid emigrates and stays abroad (R02)
    "died",  # someone paid dies (R03)
    "disappeared",  # someone paid disappears (R07)
    "earnings",  # the hero has income-tested benefits and income in their months (R04)
    "two benefits",  # the hero draws several income-replacement benefits (R06)
)
FATES = ("emigrated", "died", "disappeared")
RESIDENCE_CODES = tuple(b.code for b in DEFAULT_BENEFITS if b.residence_required)
STORY_CODES = {
    "family abroad": RESIDENCE_CODES,
    "partners at home": ("BOERNETILSKUD_ENLIG",),
    "earnings": INCOME_TESTED_CODES,
    "two benefits": INCOME_REPLACEMENT_CODES,
}


@functools.lru_cache(maxsize=4096)
def _either(*parts: tuple[Any, ...] | st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # a fresh st.sampled_from per pool: a one_of drops a branch that is the very
    # object of an earlier one, so either(p, p) must not share one (as before)
    branches = [p if isinstance(p, st.SearchStrategy) else st.sampled_from(p) for p in parts]
    return functools.reduce(operator.or_, branches)


def either(*parts: Iterable[Any] | st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``st.sampled_from(a) | st.sampled_from(b) | s | ...``, built once and kept.

    Each part is a pool of values to sample from or a strategy (used as it is,
    so pass one that is itself kept, such as a module constant). The strategy is
    kept per parts (up to 4,096 of them): the pools are keys, so they must hold
    values that are equal only when they are the same, as dates, ints and strs
    are (not ``True`` beside ``1``, nor ``Decimal("1.0")`` beside
    ``Decimal("1")``); constant pools are module constants instead.
    """
    return _either(*(p if isinstance(p, st.SearchStrategy) else tuple(p) for p in parts))


def sampled(pool: Iterable[Any]) -> st.SearchStrategy[Any]:
    """``st.sampled_from(pool)``, built once per pool (see :func:`either`)."""
    return either(pool)


@functools.lru_cache(maxsize=4096)
def unique_lists(
    elements: st.SearchStrategy[Any], min_size: int = 0, max_size: int | None = None
) -> st.SearchStrategy[list[Any]]:
    """``st.lists(elements, ..., unique=True)``, built once per kept ``elements``."""
    return st.lists(elements, min_size=min_size, max_size=max_size, unique=True)


@functools.cache
def person_index(n: int) -> st.SearchStrategy[int]:
    """One of n persons, by index."""
    return st.integers(0, n - 1)


@functools.cache
def cohabitants(n: int) -> st.SearchStrategy[tuple[int, int]]:
    """Two of n persons, often the parents."""
    return st.sampled_from([(0, 1), (1, 0)]) | st.tuples(person_index(n), person_index(n))


# The strategies that do not depend on the example, each built once.
NONE = st.none()
AS_OF = st.sampled_from(AS_OF_CHOICES)
WINDOW = st.sampled_from(WINDOW_MONTHS)
IN_PERSONS = st.booleans() | st.just(True) | st.just(True)
SEX = st.sampled_from(["M", "K"])
CITIZENSHIP = st.sampled_from(["DK", "DK", "SE"])
MOSTLY = st.sampled_from([True, True, True, False])
TWICE_IN_THREE = st.sampled_from([True, True, False])
COUNTRY = st.sampled_from((*COUNTRIES, None))
ADDRESS = st.sampled_from(ADDRESSES)
FATE = st.sampled_from(FATES)
PARENTS = st.sampled_from([[0], [1], [0, 1], [0, 1]])  # a child's parents (lists only read)
EVENT_TYPE = st.sampled_from(
    ["address", "address", "address", "emigrated", "emigrated", "immigrated", "disappeared", "died"]
)
FAMILY_MOVES = {True: st.sampled_from([1, 1, 2]), False: st.sampled_from([0, 0, 1])}
MOVE_SHIFT = st.sampled_from([0, 0, 0, -1, 1])
COHABITATIONS = st.sampled_from([0, 1, 1, 2])
AT_HOME = st.sampled_from([0, 0, 0, 1])
PAID_DELAY = st.sampled_from([-20, 1, 40])
SHAPE = st.sampled_from(
    ["full", "full", "first-half", "second-half", "edges", "edges", "days", "key", "key"]
)
AMOUNT = st.sampled_from(AMOUNTS) | st.decimals(
    min_value=Decimal("0.01"),
    max_value=Decimal("99999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
CORRECTION = st.sampled_from(["none", "none", "none", "full", "part", "over", "plus", "split"])
EMPLOYER_LISTS = st.lists(st.sampled_from(EMPLOYERS), min_size=1, max_size=2, unique=True)
NOTHING = st.nothing()
HIGH_INCOME = st.sampled_from(INCOMES[INCOMES.index(Decimal("1000.01")) :])
INCOME = {True: st.sampled_from(INCOMES) | HIGH_INCOME, False: st.sampled_from(INCOMES) | NOTHING}
SINGLE_PARENT = [
    ("BOERNETILSKUD_ENLIG",),
    ("BOERNETILSKUD_ENLIG", "BOERNE_UNGEYDELSE", "KONTANTHJAELP"),
]
SINGLE_PARENT_CODES = st.sampled_from(SINGLE_PARENT)
ANY_CODES = st.sampled_from(
    [BENEFIT_CODES, INCOME_REPLACEMENT_CODES, INCOME_TESTED_CODES, *SINGLE_PARENT]
)


@dataclass(frozen=True)
class Scenario:
    as_of: date
    window_months: int
    persons: list[dict[str, Any]]
    residence_events: list[dict[str, Any]]
    relations: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    income: list[dict[str, Any]]
    stories: tuple[str, ...] = ()

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "persons": self.persons,
            "residence_events": self.residence_events,
            "relations": self.relations,
            "payments": self.payments,
            "income": self.income,
        }


def last_of_month(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


@functools.cache
def candidate_months(as_of: date, window_months: int) -> tuple[date, ...]:
    """Months around the window's edges: before, first, second, ..., as_of's, after."""
    start = window_start(as_of, window_months)
    here = first_of_month(as_of)
    months = {
        add_months(start, -1),
        start,
        add_months(start, 1),
        add_months(here, -1),
        here,
        add_months(here, 1),
    }
    return tuple(sorted(months))


@functools.cache
def date_grid(as_of: date, window_months: int) -> tuple[date, ...]:
    days = {LONG_AGO, as_of - timedelta(days=1), as_of, as_of + timedelta(days=1)}
    start = window_start(as_of, window_months)
    days.add(start - timedelta(days=1))
    for month in candidate_months(as_of, window_months):
        last = last_of_month(month)
        days.update(
            {
                month,
                month + timedelta(days=1),
                month.replace(day=15),
                month.replace(day=16),
                last - timedelta(days=1),
                last,
            }
        )
    return tuple(sorted(days))


def cpr_for(birth: date, serial: int) -> str:
    """DDMMYY of the birth date plus a 4-digit serial (modulus 11 is not required)."""
    return f"{birth:%d%m%y}{serial:04d}"


def eighteen_years_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 18)
    except ValueError:  # 29 February
        return date(day.year - 18, 3, 1)


BIRTH_KINDS = {
    "adult": st.sampled_from(["adult", "adult", "adult", "turns18"]),
    "young": st.sampled_from(["young", "young", "turns18", "leap"]),
    "child": st.sampled_from(["adult", "turns18", "turns18", "young", "young", "young", "leap"]),
}
ADULT_BIRTHS = st.sampled_from(
    [date(1960, 5, 17), date(1975, 1, 1), date(1988, 12, 31), date(1996, 7, 4)]
)
YOUNG_BIRTHS = st.sampled_from([date(2015, 6, 10), date(2019, 1, 31), date(2024, 2, 29)])
BIRTHDAY_SHIFT = st.sampled_from([-1, 0, 0, 1])


@st.composite
def _birth_dates(draw: st.DrawFn, grid: tuple[date, ...], adult: bool, young: bool) -> date:
    kind = draw(BIRTH_KINDS["adult" if adult else "young" if young else "child"])
    if kind == "adult":
        return draw(ADULT_BIRTHS)
    if kind == "young":
        return draw(YOUNG_BIRTHS)
    if kind == "leap":
        return date(2008, 2, 29)  # 18 on 1 March 2026 (reading 8)
    birthday = draw(sampled(d for d in grid if d != LONG_AGO))
    shift = draw(BIRTHDAY_SHIFT)
    return eighteen_years_before(birthday) + timedelta(days=shift)


@functools.lru_cache(maxsize=4096)
def _kept_birth_dates(grid: tuple[date, ...], adult: bool, young: bool) -> st.SearchStrategy[date]:
    return _birth_dates(grid, adult, young)


def birth_dates(grid: Iterable[date], adult: bool, young: bool = False) -> st.SearchStrategy[date]:
    """An adult's, or a child's birth date; ``young`` makes most children minors."""
    return _kept_birth_dates(tuple(grid), adult, young)


def spans(
    draw: st.DrawFn, grid: list[date], keys: list[date], earliest: date, early: bool = False
) -> tuple[date, date | None]:
    """A (valid_from, valid_to) with valid_to > valid_from or null (reading 4).

    Ends fall on key days (where lines start) as often as on other grid days.
    With ``early`` the relation usually starts on ``earliest`` (a child's birth).
    """
    starts = [d for d in grid if d >= earliest] or [earliest]
    from_birth = early and draw(TWICE_IN_THREE)
    valid_from = earliest if from_birth else draw(sampled(starts))
    ends = [d for d in grid if d > valid_from]
    key_ends = [d for d in keys if d > valid_from] or ends
    if not ends:
        return valid_from, None
    return valid_from, draw(either(NONE, key_ends, ends))


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    as_of = draw(AS_OF)
    window_months = draw(WINDOW)
    months = candidate_months(as_of, window_months)
    # A few *key days* (and the days either side) shared by relations, events,
    # birthdays and line starts make "exactly on s" coincidences common.
    full_grid = date_grid(as_of, window_months)
    key_days = draw(unique_lists(sampled(full_grid[1:]), min_size=1, max_size=3))
    near_key = sorted({k + timedelta(days=delta) for k in key_days for delta in (-1, 0, 1)})
    grid = sorted({LONG_AGO, *near_key, *draw(unique_lists(sampled(full_grid), max_size=6))})

    # "family abroad" is told more often (7 in 8): it needs the most to come together
    tells = tuple(
        story for story in STORIES if draw(st.integers(0, 7 if story == "family abroad" else 1))
    )

    # --- persons: indices 0 and 1 are the parents of a family, the rest its children ---
    n = draw(st.integers(3, 6))
    births = [
        draw(birth_dates(grid, adult=i < 2, young="family abroad" in tells)) for i in range(n)
    ]
    cprs = [cpr_for(birth, 1001 + i) for i, birth in enumerate(births)]
    in_persons = [draw(IN_PERSONS) for _ in range(n)]
    persons = [
        {
            "cpr": cpr,
            "birth_date": birth,
            "sex": draw(SEX),
            "citizenship": draw(CITIZENSHIP),
            "municipality_code": 461,
        }
        for cpr, birth, present in zip(cprs, births, in_persons, strict=True)
        if present
    ]
    person = person_index(n)
    parent = either([0, 0, 1], person)

    # --- relations ---
    relations: list[dict[str, Any]] = []
    spouse_pairs = [(0, 1)] if draw(st.booleans()) else []
    spouse_pairs += [(draw(person), draw(person)) for _ in range(draw(st.integers(0, 1)))]
    for a, b in spouse_pairs:
        if a == b:
            continue
        valid_from, valid_to = spans(draw, grid, near_key, LONG_AGO)
        for x, y in ((a, b), (b, a)):  # "both directions are present"
            relations.append(
                {
                    "cpr": cprs[x],
                    "related_cpr": cprs[y],
                    "relation": "spouse",
                    "valid_from": valid_from,
                    "valid_to": valid_to,
                }
            )
    child_links = [(c, draw(PARENTS)) for c in range(2, n) if draw(st.integers(0, 3)) > 0]
    child_links += [
        (draw(person), draw(unique_lists(person, min_size=1, max_size=2)))
        for _ in range(draw(st.integers(0, 1)))
    ]
    for child, parents in child_links:
        same_span = draw(st.booleans())
        span = spans(draw, grid, near_key, births[child], early=True)
        for p in parents:
            if p == child:
                continue
            valid_from, valid_to = (
                span if same_span else spans(draw, grid, near_key, births[child], early=True)
            )
            relations.append(
                {
                    "cpr": cprs[p],
                    "related_cpr": cprs[child],
                    "relation": "child",
                    "valid_from": valid_from,
                    "valid_to": valid_to,
                }
            )

    # The payees are drawn first so that the family moves, fates and cohabitations
    # below often concern someone who is paid (otherwise most of them are idle).
    payees = sorted({draw(parent) for _ in range(draw(st.integers(1, 3)))})
    payee_or_anyone = either(payees, payees, person)
    cohabiting_payees: set[int] = set()

    # the hero of the stories: a paid parent with children when there is one
    def has_children(i: int) -> bool:
        return any(r["cpr"] == cprs[i] and r["relation"] == "child" for r in relations)

    parents = [p for p in payees if has_children(p)]
    if not parents and "family abroad" in tells:  # a parent becomes the hero and is paid
        parents = [i for i in range(n) if has_children(i)]
    hero = draw(sampled(parents or payees))
    # each told fate befalls a paid stranger to the family (so that it does not
    # spoil the hero's stories): a new adult who has lived here since long ago
    fated: dict[str, int] = {}
    for fate in FATES:
        if fate in tells:
            fated[fate] = len(cprs)
            birth = draw(birth_dates(grid, adult=True))
            cprs.append(cpr_for(birth, 1001 + len(cprs)))
            persons.append(
                {
                    "cpr": cprs[-1],
                    "birth_date": birth,
                    "sex": draw(SEX),
                    "citizenship": draw(CITIZENSHIP),
                    "municipality_code": 461,
                }
            )
    payees = sorted({*payees, hero, *fated.values()})
    if "family abroad" in tells:
        # the hero's child relations often last (a minor child is in the household)
        for r in relations:
            if r["cpr"] == cprs[hero] and r["relation"] == "child" and draw(st.integers(0, 3)):
                r["valid_from"] = births[cprs.index(r["related_cpr"])]
                r["valid_to"] = None

    def household_of(i: int) -> set[str]:
        """The cprs related to person i: spouses, children and the children's other parents."""
        related = {r["related_cpr"] for r in relations if r["cpr"] == cprs[i]}
        children = {
            r["related_cpr"] for r in relations if r["cpr"] == cprs[i] and r["relation"] == "child"
        }
        related |= {
            r["cpr"] for r in relations if r["relation"] == "child" and r["related_cpr"] in children
        }
        related.discard(cprs[i])
        return related

    def partners_of(i: int) -> set[str]:
        """Person i's spouses and the other parents of i's children (R05's partners)."""
        spouses = {
            r["related_cpr"] for r in relations if r["cpr"] == cprs[i] and r["relation"] == "spouse"
        }
        children = {
            r["related_cpr"] for r in relations if r["cpr"] == cprs[i] and r["relation"] == "child"
        }
        parents = {
            r["cpr"] for r in relations if r["relation"] == "child" and r["related_cpr"] in children
        }
        return (spouses | parents) - {cprs[i]}

    # --- residence events: {cpr: {event_date: event}} keeps (cpr, event_date) unique ---
    events: dict[str, dict[date, dict[str, Any]]] = {cpr: {} for cpr in cprs}

    def put(i: int, day: date, event_type: str, address: str | None = None) -> None:
        country = None
        if event_type in ("emigrated", "immigrated"):
            country = draw(COUNTRY)
        if event_type in ("address", "immigrated") and address is None:
            address = draw(ADDRESS)
        events[cprs[i]][day] = {
            "cpr": cprs[i],
            "event_date": day,
            "event_type": event_type,
            "address_id": address,
            "country_code": country,
        }

    for i in range(n):
        if draw(st.integers(0, 3)) > 0:  # most persons have lived here since long ago
            put(i, LONG_AGO, "address")
        for day in draw(unique_lists(sampled(grid), max_size=4)):
            put(i, day, draw(EVENT_TYPE))
    # family moves: the members related to a payee emigrate on one day, the payee stays
    abroad = "family abroad" in tells
    for k in range(draw(FAMILY_MOVES[abroad])):
        payee = hero if abroad and k == 0 else draw(payee_or_anyone)
        start = window_start(as_of, window_months)
        day = draw(either([d for d in grid if d <= start], [d for d in grid if d <= as_of]))
        related = household_of(payee)
        stay_abroad = draw(MOSTLY)
        for member in sorted(related):
            moved = day + timedelta(days=draw(MOVE_SHIFT))
            if stay_abroad:  # drop the member's later events: they have not come back
                by_day = events[member]
                for later in [d for d in by_day if d > moved]:
                    del by_day[later]
            put(cprs.index(member), moved, "emigrated")
        if draw(MOSTLY):  # the payee stays here
            put(payee, LONG_AGO, "address")
            if abroad and draw(MOSTLY):
                for later in [d for d in events[cprs[payee]] if d > LONG_AGO]:
                    del events[cprs[payee]][later]
    # cohabitation: two persons (often the parents) move to the same address on grid days
    for _ in range(draw(COHABITATIONS)):
        a, b = draw(cohabitants(n))
        address = draw(ADDRESS)
        day_a = draw(sampled(grid))
        day_b = draw(either([day_a, day_a + timedelta(days=1)], grid))
        put(a, day_a, "address", address)
        put(b, day_b, "address", address)
    # partners at home: a payee and a spouse or co-parent move to one address
    at_home = "partners at home" in tells
    for _ in range(1 if at_home else draw(AT_HOME)):
        payee = hero if at_home else draw(payee_or_anyone)
        partners = sorted(partners_of(payee))
        if not partners:
            continue
        partner = cprs.index(draw(sampled(partners)))
        address = draw(ADDRESS)
        early = [d for d in grid if d <= window_start(as_of, window_months)]
        day = draw(either(early, near_key, grid))
        moved = draw(sampled([day, day + timedelta(days=1)]))
        if at_home and draw(st.booleans()):  # neither has moved out since
            for i, since in ((payee, day), (partner, moved)):
                for later in [d for d in events[cprs[i]] if d > since]:
                    del events[cprs[i]][later]
        put(payee, day, "address", address)
        put(partner, moved, "address", address)
        cohabiting_payees.add(payee)
    # fates: someone emigrates, disappears or dies and (usually) stays so, often
    # before the window starts; a told fate befalls a payee, an untold one anyone
    untold = [] if draw(st.integers(0, 3)) else [(draw(FATE), draw(person))]
    for who in fated.values():
        put(who, LONG_AGO, "address")
    for fate, who in [*fated.items(), *untold]:
        early = [d for d in grid if d <= window_start(as_of, window_months)]
        day = draw(either(early, [d for d in grid if d <= as_of], near_key))
        if draw(MOSTLY):
            for later in [d for d in events[cprs[who]] if d > day]:
                del events[cprs[who]][later]
        put(who, day, fate)
    residence_events = [e for by_day in events.values() for e in by_day.values()]

    # --- payments ---
    payments: list[dict[str, Any]] = []
    in_window = [m for m in months if window_start(as_of, window_months) <= m <= as_of]

    def pay(cpr: str, code: str, s: date, e: date, amount: Decimal, kind: str) -> None:
        payments.append(
            {
                "payment_id": f"PAY{len(payments) + 1:05d}",
                "cpr": cpr,
                "benefit_code": code,
                "period_start": s,
                "period_end": e,
                "amount_dkk": amount,
                "payment_type": kind,
                "paid_date": e + timedelta(days=draw(PAID_DELAY)),
            }
        )

    for payee in payees:
        if payee in cohabiting_payees and draw(TWICE_IN_THREE):
            codes = ("BOERNETILSKUD_ENLIG",) if at_home else draw(SINGLE_PARENT_CODES)
        elif payee == hero and any(story in STORY_CODES for story in tells):
            codes = tuple(sorted({c for story in tells for c in STORY_CODES.get(story, ())}))
        elif payee in fated.values() and draw(st.booleans()):
            codes = RESIDENCE_CODES
        else:
            codes = draw(ANY_CODES)
        for _ in range(draw(st.integers(3 if payee == hero and tells else 1, 8))):
            code = draw(sampled(codes))
            shape = draw(SHAPE)
            key = draw(sampled(near_key))
            month = first_of_month(key) if shape == "key" else draw(either(in_window, months))
            last = last_of_month(month)
            if shape == "key":  # starts or ends on a key day
                s, e = draw(sampled([(key, last), (key, key), (month, key)]))
            elif shape == "full":
                s, e = month, last
            elif shape == "first-half":
                s, e = month, month.replace(day=15)
            elif shape == "second-half":
                s, e = month.replace(day=16), last
            elif shape == "edges":  # s, e on days 1, 2, 15, 16, last-1, last: n = 1, 2, ...
                edges = sorted({1, 2, 15, 16, last.day - 1, last.day})
                s = month.replace(day=draw(sampled(edges)))
                e = month.replace(day=draw(sampled(d for d in edges if d >= s.day)))
            else:
                s = month + timedelta(days=draw(st.integers(0, last.day - 1)))
                e = s + timedelta(days=draw(st.integers(0, (last - s).days)))
            amount = draw(AMOUNT)
            correction = draw(CORRECTION)
            if correction == "split":  # two regular payments for the same line
                first = (amount / 3).quantize(Decimal("0.01"))
                pay(cprs[payee], code, s, e, first, "regular")
                pay(cprs[payee], code, s, e, amount - first, "regular")
                continue
            pay(cprs[payee], code, s, e, amount, "regular")
            if correction == "full":
                pay(cprs[payee], code, s, e, -amount, "correction")
            elif correction == "part":
                pay(cprs[payee], code, s, e, -(amount / 2).quantize(Decimal("0.01")), "correction")
            elif correction == "over":
                pay(cprs[payee], code, s, e, -amount - Decimal("0.01"), "correction")
            elif correction == "plus":
                pay(cprs[payee], code, s, e, Decimal("0.05"), "correction")

    # --- income ---
    income = []
    for payee in payees:
        # income often falls in a month with an income-tested line of the payee
        tested = sorted(
            {
                first_of_month(p["period_start"])
                for p in payments
                if p["cpr"] == cprs[payee] and p["benefit_code"] in INCOME_TESTED_CODES
            }
        )
        pool = either(months, tested) if tested else either(months, NOTHING)
        earnings = payee == hero and "earnings" in tells and bool(tested)
        if earnings:
            pool = sampled(tested)
        for month in draw(unique_lists(pool, min_size=int(earnings), max_size=3)):
            for employer in draw(EMPLOYER_LISTS):
                income.append(
                    {
                        "cpr": cprs[payee],
                        "employer_cvr": employer,
                        "month": month,
                        # in the "earnings" story, income is often above the default threshold
                        "gross_income_dkk": draw(INCOME[earnings]),
                    }
                )

    return Scenario(
        as_of, window_months, persons, residence_events, relations, payments, income, tells
    )
