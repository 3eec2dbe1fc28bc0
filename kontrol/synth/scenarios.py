"""Injected cases: known positives and near misses for every rule R01-R07.

Each scenario takes over one whole household of the chunk (chosen at random
among households of a suitable *type and age structure*, never by sex or
citizenship, so the fraud is independent of the protected attributes by
construction) and writes all of that household's rows itself. The household
keeps its persons, with their cpr, birth date, sex and citizenship.

Scenario dates are placed relative to the span and the 12-month window
(``W`` = index of the window's first month, ``M`` = number of months), so the
same catalogue works for any ``as_of``. The expected case of every positive is
then computed by :mod:`kontrol.synth.oracle` from exactly the rows written, and
each scenario is checked to fire its intended rule (positives) or not
(near misses), and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from kontrol.synth.calendar import NO_DAY, Calendar, IntArray, birthday
from kontrol.synth.model import (
    ADDRESS,
    BENEFIT_CODES,
    BOLIG,
    BTE,
    BU,
    CHILD,
    CORRECTION,
    COUNTRY,
    DAGP,
    DESTINATIONS,
    DIED,
    DISAPPEARED,
    EMIGRATED,
    EVENT_COLS,
    FOERTID,
    FOLK,
    IMMIGRATED,
    INCOME_COLS,
    KONTANT,
    PAYMENT_COLS,
    RELATION_COLS,
    SPOUSE,
    SYG,
    UDD,
    explode,
)
from kontrol.synth.oracle import Case, evaluate
from kontrol.synth.population import (
    FAMILY,
    SINGLE_ADULT,
    SINGLE_PENSIONER,
    SINGLE_YOUNG,
    Population,
)

EVENT_NAMES = ("address", "emigrated", "immigrated", "disappeared", "died")


@dataclass
class Builder:
    """Collects the rows of one injected household (person indices, integer days, øre)."""

    cal: Calendar
    rng: np.random.Generator
    pop: Population
    next_addr: Callable[[], int]
    first_day: dict[int, int] = field(default_factory=dict)
    home_addr: int = -1
    ev: list[tuple[int, ...]] = field(default_factory=list)
    rel: list[tuple[int, ...]] = field(default_factory=list)
    pay: list[tuple[int, ...]] = field(default_factory=list)
    inc: list[tuple[int, ...]] = field(default_factory=list)

    # -- register facts --
    def event(self, p: int, d: int, etype: int, addr: int = -1, country: int = -1) -> None:
        assert d <= self.cal.as_of, "no event after as_of"
        self.ev.append((p, d, etype, addr, country))

    def home(self, members: list[int], f: int) -> int:
        """Everyone lives at a new address X from f (or from birth)."""
        x = self.next_addr()
        self.home_addr = x
        for p in members:
            d = max(f, int(self.pop.birth[p]))
            self.first_day[p] = d
            self.event(p, d, ADDRESS, x)
        return x

    def move(self, p: int, d: int, addr: int | None = None) -> int:
        a = self.next_addr() if addr is None else addr
        self.event(p, d, ADDRESS, a)
        return a

    def emigrate(self, p: int, d: int) -> None:
        self.event(p, d, EMIGRATED, -1, COUNTRY[DESTINATIONS[int(self.rng.integers(0, 10))]])

    def relation(self, p: int, q: int, rel: int, vfrom: int, vto: int = NO_DAY) -> None:
        self.rel.append((p, q, rel, vfrom, vto))

    def family(self, adults: list[int], kids: list[int], married: bool, f: int) -> None:
        for a in adults:
            for c in kids:
                self.relation(a, c, CHILD, int(self.pop.birth[c]))
        if married:
            self.relation(adults[0], adults[1], SPOUSE, f)
            self.relation(adults[1], adults[0], SPOUSE, f)

    # -- money --
    def spell(self, p: int, code: int, start: int, end: int, monthly: int) -> list[int]:
        """Regular monthly lines for [start, end]; returns their row numbers."""
        start = max(start, self.first_day.get(p, start))
        one = np.array([1], dtype=np.int64)
        lines = explode(self.cal, one * p, one * code, one * start, one * end, one * monthly)
        rows = []
        for i in range(len(lines["s"])):
            rows.append(len(self.pay))
            self.pay.append(tuple(int(lines[c][i]) for c in PAYMENT_COLS))
        return rows

    def line_in(self, rows: list[int], month: int) -> int:
        """The row of ``rows`` whose period starts in span month ``month``."""
        for r in rows:
            if self.cal.ms(month) <= self.pay[r][2] <= self.cal.me(month):
                return r
        raise KeyError(month)

    def correct(self, row: int, amount: int) -> None:
        """A correction line for the same period, paid later (but not after as_of)."""
        p, code, s, e, _, _, _ = self.pay[row]
        paid = min(e + int(self.rng.integers(15, 60)), self.cal.as_of)
        self.pay.append((p, code, s, e, amount, CORRECTION, paid))

    def reverse(self, row: int) -> None:
        self.correct(row, -self.pay[row][4])

    def salary(self, p: int, months: range, lo: float = 18000, hi: float = 45000) -> None:
        cvr = int(self.rng.integers(10_000_000, 100_000_000))
        base = float(self.rng.uniform(lo, hi))
        for m in months:
            amount = round(base * float(self.rng.uniform(0.97, 1.03)) * 100)
            self.inc.append((p, cvr, self.cal.ms(m), amount))

    def earn(self, p: int, month: int, ore: int, cvr: int | None = None) -> None:
        c = int(self.rng.integers(10_000_000, 100_000_000)) if cvr is None else cvr
        self.inc.append((p, c, self.cal.ms(month), ore))

    # -- helpers for dates --
    def mid(self, month: int) -> int:
        """A day in the middle of span month ``month`` (never the 1st)."""
        return self.cal.ms(month) + int(self.rng.integers(4, 25))

    def month(self, lo: int, hi: int) -> int:
        """A span month index in [lo, hi] (clamped to the span)."""
        lo = max(0, min(lo, self.cal.months - 1))
        hi = max(lo, min(hi, self.cal.months - 1))
        return int(self.rng.integers(lo, hi + 1))

    def kr(self, lo: float, hi: float) -> int:
        return int(self.rng.integers(int(lo * 100), int(hi * 100) + 1))

    def tested(self, p: int) -> tuple[int, int]:
        """The income-tested benefit for p's age (uddannelseshjælp under 30) and an amount."""
        if self.cal.span_start < int(birthday(self.pop.birth[p : p + 1], 30)[0]):
            return UDD, self.kr(6000, 12500)
        return KONTANT, self.kr(11500, 17000)

    def bu_amount(self, kids: list[int]) -> int:
        return sum(self.kr(950, 1600) for _ in kids)


@dataclass(frozen=True)
class Household:
    adults: list[int]
    kids: list[int]


@dataclass(frozen=True)
class Scenario:
    rule_id: str
    kind: str  # positive | near_miss
    pool: str
    description: str
    build: Callable[[Builder, Household, int], None]


# --- households and pools ----------------------------------------------------------


def pools(pop: Population, cal: Calendar) -> dict[str, IntArray]:
    """Household ids per scenario pool; eligibility uses type and ages only."""
    h = pop.n_households
    t = pop.hh_type
    kid = pop.role == 2
    youngest = np.full(h, -(10**7), dtype=np.int64)
    np.maximum.at(youngest, pop.hh[kid], pop.birth[kid])
    b18 = birthday(pop.birth, 18)
    adult18 = np.full(h, -(10**7), dtype=np.int64)
    np.maximum.at(adult18, pop.hh[~kid], b18[~kid])
    youngest18 = np.full(h, -(10**7), dtype=np.int64)
    np.maximum.at(youngest18, pop.hh[kid], b18[kid])
    first = pop.hh_first
    b67 = birthday(pop.birth[first], 67)
    span0 = cal.span_start
    grown = adult18 < span0 - 400
    ids = np.arange(h)
    return {
        "family_minor": ids[(t == FAMILY) & grown & (youngest < span0) & (youngest18 > cal.as_of)],
        "family_adult": ids[(t == FAMILY) & grown & (youngest18 < cal.window_start)],
        "single": ids[((t == SINGLE_YOUNG) | (t == SINGLE_ADULT)) & grown & (b67 > cal.as_of + 31)],
        "single_pensioner": ids[(t == SINGLE_PENSIONER) & (b67 < span0 - 62)],
    }


def _setup(b: Builder, hh: Household, married: bool = True) -> int:
    """Household at one address since years before the span; returns the move-in day."""
    f = b.cal.span_start - int(b.rng.integers(400, 4000))
    adult18 = max(int(birthday(b.pop.birth[a : a + 1], 18)[0]) for a in hh.adults)
    f = max(f, adult18)
    b.home(hh.adults + hh.kids, f)
    if len(hh.adults) == 2:
        b.family(hh.adults, hh.kids, married, f)
    return f


def _other(hh: Household, p: int) -> int:
    return hh.adults[1] if hh.adults[0] == p else hh.adults[0]


# --- R01 ---------------------------------------------------------------------------


def r01_pos_together(b: Builder, hh: Household, p: int) -> None:
    _setup(b, hh, married=True)
    c = b.cal
    q = _other(hh, p)
    code, amt = b.tested(p)
    d = b.mid(b.month(c.window_index + 1, c.months - 3))
    b.spell(p, code, c.span_start - 200, NO_DAY, amt)
    b.spell(p, BU, c.span_start - 200, NO_DAY, b.bu_amount(hh.kids))
    for m in [q, *hh.kids]:
        b.emigrate(m, d)
    b.salary(q, range(int(c.index_of(np.array([d]))[0]) + 1))


def r01_pos_before_window(b: Builder, hh: Household, p: int) -> None:
    _setup(b, hh, married=True)
    c = b.cal
    q = _other(hh, p)
    code, amt = b.tested(p)
    w = c.window_index
    d = b.mid(b.month(0, w - 1))
    rows = b.spell(p, code, c.span_start - 200, NO_DAY, amt)
    rows_bu = b.spell(p, BU, c.span_start - 200, NO_DAY, b.bu_amount(hh.kids))
    for m in [q, *hh.kids]:
        b.emigrate(m, d)
    b.reverse(b.line_in(rows, w))
    b.reverse(b.line_in(rows_bu, w))
    r = b.line_in(rows, w + 2)
    b.correct(r, -(b.pay[r][4] * 3 // 10))


def r01_pos_staggered(b: Builder, hh: Household, p: int) -> None:
    _setup(b, hh, married=False)
    c = b.cal
    q = _other(hh, p)
    code, amt = b.tested(p)
    i = b.month(c.window_index, c.months - 4)
    b.spell(p, code, c.span_start - 200, NO_DAY, amt)
    b.spell(p, BU, c.span_start - 200, NO_DAY, b.bu_amount(hh.kids))
    b.emigrate(q, b.mid(i))
    for k in hh.kids:
        b.emigrate(k, b.mid(i + 2))


def r01_nm_child_stays(b: Builder, hh: Household, p: int) -> None:
    _setup(b, hh, married=True)
    c = b.cal
    q = _other(hh, p)
    code, amt = b.tested(p)
    d = b.mid(b.month(c.window_index + 1, c.months - 3))
    b.spell(p, code, c.span_start - 200, NO_DAY, amt)
    b.spell(p, BU, c.span_start - 200, NO_DAY, b.bu_amount(hh.kids))
    youngest = max(hh.kids, key=lambda k: int(b.pop.birth[k]))
    for m in [q, *hh.kids]:
        if m != youngest:
            b.emigrate(m, d)


def r01_nm_adult_children(b: Builder, hh: Household, p: int) -> None:
    _setup(b, hh, married=True)
    c = b.cal
    q = _other(hh, p)
    code, amt = b.tested(p)
    d = b.mid(b.month(c.window_index, c.months - 3))
    b.spell(p, code, c.span_start - 200, NO_DAY, amt)
    for m in [q, *hh.kids]:
        b.emigrate(m, d)


def r01_nm_other_parent_home(b: Builder, hh: Household, p: int) -> None:
    _setup(b, hh, married=False)
    c = b.cal
    q = _other(hh, p)
    code, amt = b.tested(p)
    d = b.mid(b.month(c.window_index + 1, c.months - 3))
    b.spell(p, code, c.span_start - 200, NO_DAY, amt)
    b.spell(p, BU, c.span_start - 200, NO_DAY, b.bu_amount(hh.kids))
    for k in hh.kids:
        b.emigrate(k, d)
    b.salary(q, range(c.months))


# --- R02 ---------------------------------------------------------------------------


def _single(b: Builder, hh: Household) -> int:
    return _setup(b, hh)


def r02_pos_emigrated(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    code, amt = b.tested(p)
    b.spell(p, code, c.span_start - 100, NO_DAY, amt)
    b.spell(p, BOLIG, c.span_start - 100, NO_DAY, b.kr(900, 4000))
    b.emigrate(p, b.mid(b.month(c.window_index + 1, c.months - 3)))


def r02_pos_before_window(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    w = c.window_index
    code, amt = b.tested(p)
    rows = b.spell(p, code, c.span_start - 100, NO_DAY, amt)
    b.emigrate(p, b.mid(b.month(0, w - 1)))
    b.reverse(b.line_in(rows, w))
    r = b.line_in(rows, w + 2)
    b.correct(r, -b.kr(500, 3000))


def r02_pos_returned(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    code, amt = b.tested(p)
    i = b.month(c.window_index, c.months - 6)
    b.spell(p, code, c.span_start - 100, NO_DAY, amt)
    b.emigrate(p, b.mid(i))
    d2 = b.mid(i + 3)
    b.event(p, d2, IMMIGRATED, b.next_addr(), COUNTRY["DE"])


def r02_nm_next_day(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    code, amt = b.tested(p)
    i = b.month(c.window_index, c.months - 2)
    b.spell(p, code, c.span_start - 100, c.me(i), amt)
    b.emigrate(p, c.ms(i) + 1)


def r02_nm_returned_first(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    code, amt = b.tested(p)
    i = b.month(c.window_index, c.months - 5)
    d1 = b.mid(i)
    b.spell(p, code, c.span_start - 100, d1 - 1, amt)
    b.emigrate(p, d1)
    back = c.ms(i + 2)
    b.event(p, back, IMMIGRATED, b.next_addr(), COUNTRY["SE"])
    b.spell(p, code, back, NO_DAY, amt)


def r02_nm_pension_abroad(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    d = b.mid(b.month(c.window_index, c.months - 3))
    b.spell(p, FOLK, c.span_start - 100, NO_DAY, b.kr(7000, 20000))
    b.spell(p, BOLIG, c.span_start - 100, d - 1, b.kr(900, 4000))
    b.emigrate(p, d)


# --- R03 ---------------------------------------------------------------------------


def r03_pos_died(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    d = b.mid(b.month(c.window_index, c.months - 3))
    b.spell(p, FOLK, c.span_start - 100, NO_DAY, b.kr(7000, 20000))
    b.spell(p, BOLIG, c.span_start - 100, NO_DAY, b.kr(900, 4000))
    b.event(p, d, DIED)


def r03_pos_before_window(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    w = c.window_index
    rows = b.spell(p, FOLK, c.span_start - 100, NO_DAY, b.kr(7000, 20000))
    b.event(p, b.mid(b.month(0, w - 1)), DIED)
    r = b.line_in(rows, w)
    b.correct(r, -(b.pay[r][4] * 4 // 10))
    b.reverse(b.line_in(rows, c.months - 2))


def r03_pos_first_of_month(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    i = b.month(c.window_index + 1, c.months - 3)
    rows = b.spell(p, FOLK, c.span_start - 100, c.me(i + 1), b.kr(7000, 20000))
    b.event(p, c.ms(i), DIED)
    b.correct(b.line_in(rows, i + 1), b.kr(200, 900))


def r03_nm_month_before(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    i = b.month(c.window_index + 1, c.months - 1)
    b.spell(p, FOLK, c.span_start - 100, c.ms(i) - 1, b.kr(7000, 20000))
    b.event(p, c.ms(i), DIED)


def r03_nm_reversed(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    i = b.month(c.window_index, c.months - 4)
    rows = b.spell(p, FOLK, c.span_start - 100, c.me(i + 2), b.kr(7000, 20000))
    b.event(p, b.mid(i), DIED)
    b.reverse(b.line_in(rows, i + 1))
    b.reverse(b.line_in(rows, i + 2))


# --- R04 ---------------------------------------------------------------------------


def _tested_whole(b: Builder, p: int) -> list[int]:
    code, amt = b.tested(p)
    return b.spell(p, code, b.cal.span_start - 100, NO_DAY, amt)


def _two_months(b: Builder) -> tuple[int, int]:
    c = b.cal
    picks = b.rng.choice(np.arange(c.window_index, c.months - 1), size=2, replace=False)
    return int(picks[0]), int(picks[1])


def r04_pos_job(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    _tested_whole(b, p)
    cvr = int(b.rng.integers(10_000_000, 100_000_000))
    for m in _two_months(b):
        b.earn(p, m, b.kr(3000, 9000), cvr)


def r04_pos_two_employers(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    _tested_whole(b, p)
    m = b.month(b.cal.window_index, b.cal.months - 2)
    b.earn(p, m, b.kr(600, 900))
    b.earn(p, m, b.kr(600, 900))


def r04_pos_edge(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    rows = _tested_whole(b, p)
    c = b.cal
    b.earn(p, c.window_index - 1, b.kr(4000, 6000))
    m1, m2 = _two_months(b)
    b.earn(p, m1, b.kr(22000, 30000))
    b.earn(p, m2, b.kr(3000, 5000))
    b.correct(b.line_in(rows, m2), -b.kr(1000, 2500))


def r04_nm_exactly_threshold(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    _tested_whole(b, p)
    m1, m2 = _two_months(b)
    b.earn(p, m1, 100_000)
    b.earn(p, m2, 99_999)


def r04_nm_after_spell(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    code, amt = b.tested(p)
    k = b.month(c.window_index + 1, c.months - 3)
    b.spell(p, code, c.span_start - 100, c.me(k), amt)
    b.salary(p, range(k + 1, c.months), 15000, 30000)


def r04_nm_reversed(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    rows = _tested_whole(b, p)
    m = b.month(b.cal.window_index, b.cal.months - 2)
    b.reverse(b.line_in(rows, m))
    b.earn(p, m, b.kr(6000, 10000))


# --- R05 ---------------------------------------------------------------------------


def _bte(b: Builder, p: int, kids: list[int], start: int) -> list[int]:
    b.spell(p, BU, b.cal.span_start - 200, NO_DAY, b.bu_amount(kids))
    return b.spell(p, BTE, start, NO_DAY, 51400 * len(kids) + 58000)


def r05_pos_cohabiting(b: Builder, hh: Household, p: int) -> None:
    _setup(b, hh, married=False)
    q = _other(hh, p)
    _bte(b, p, hh.kids, b.cal.span_start - 200)
    b.salary(q, range(b.cal.months))


def r05_pos_moved_back(b: Builder, hh: Household, p: int) -> None:
    _setup(b, hh, married=False)
    c = b.cal
    q = _other(hh, p)
    x = b.home_addr
    i1 = b.month(0, c.window_index - 2)
    b.move(q, b.mid(i1))
    _bte(b, p, hh.kids, c.ms(i1 + 1))
    b.move(q, b.mid(b.month(c.window_index + 1, c.months - 3)), x)


def r05_pos_married(b: Builder, hh: Household, p: int) -> None:
    _setup(b, hh, married=True)
    c = b.cal
    k = b.month(c.window_index + 1, c.months - 4)
    rows = _bte(b, p, hh.kids, c.ms(k))
    b.reverse(b.line_in(rows, k))
    r = b.line_in(rows, k + 1)
    b.correct(r, -(b.pay[r][4] // 2))


def r05_nm_moved_out_on_start(b: Builder, hh: Household, p: int) -> None:
    _setup(b, hh, married=False)
    c = b.cal
    q = _other(hh, p)
    k = b.month(c.window_index, c.months - 2)
    b.move(q, c.ms(k))
    _bte(b, p, hh.kids, c.ms(k))


def r05_nm_separated_spouse(b: Builder, hh: Household, p: int) -> None:
    _setup(b, hh, married=True)
    c = b.cal
    q = _other(hh, p)
    i = b.month(c.window_index - 1, c.months - 3)
    d = b.mid(i)
    b.move(q, d)
    _bte(b, p, hh.kids, c.ms(i + 1))


# --- R06 ---------------------------------------------------------------------------


def r06_pos_double(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    code, amt = b.tested(p)
    j = b.month(c.window_index, c.months - 3)
    b.spell(p, DAGP, c.span_start - 100, NO_DAY, b.kr(12000, 19728))
    b.spell(p, code, c.ms(j), c.me(j + 1), amt)


def r06_pos_partial_overlap(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    k = b.month(c.window_index + 1, c.months - 2)
    b.spell(p, SYG, c.span_start - 100, c.ms(k) + 19, b.kr(12000, 19728))
    b.spell(p, DAGP, c.ms(k) + 9, NO_DAY, b.kr(12000, 19728))


def r06_pos_pension_and_help(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    code, amt = b.tested(p)
    b.spell(p, FOERTID, c.span_start - 100, NO_DAY, b.kr(14000, 21000))
    rows = b.spell(p, code, c.span_start - 100, NO_DAY, amt)
    r = b.line_in(rows, c.window_index + 2)
    b.correct(r, -b.kr(500, 4000))


def r06_nm_same_benefit(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    j = b.month(c.window_index, c.months - 2)
    b.spell(p, DAGP, c.span_start - 100, NO_DAY, b.kr(12000, 19728))
    b.spell(p, DAGP, c.ms(j), c.ms(j) + 14, b.kr(3000, 8000))


def r06_nm_not_in_group(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    b.spell(p, DAGP, c.span_start - 100, NO_DAY, b.kr(12000, 19728))
    b.spell(p, BOLIG, c.span_start - 100, NO_DAY, b.kr(900, 4000))


def r06_nm_adjacent(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    code, amt = b.tested(p)
    k = b.month(c.window_index, c.months - 2)
    b.spell(p, DAGP, c.span_start - 100, c.ms(k) + 13, b.kr(12000, 19728))
    b.spell(p, code, c.ms(k) + 14, NO_DAY, amt)


# --- R07 ---------------------------------------------------------------------------


def r07_pos_disappeared(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    _tested_whole(b, p)
    b.spell(p, BOLIG, c.span_start - 100, NO_DAY, b.kr(900, 4000))
    b.event(p, b.mid(b.month(c.window_index, c.months - 3)), DISAPPEARED)


def r07_pos_before_window(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    w = c.window_index
    d = b.mid(b.month(0, w - 1))
    code, amt = b.tested(p)
    b.spell(p, code, c.span_start - 100, d - 1, amt)
    rows = b.spell(p, BOLIG, c.span_start - 100, NO_DAY, b.kr(900, 4000))
    b.event(p, d, DISAPPEARED)
    r = b.line_in(rows, w + 1)
    b.correct(r, -(b.pay[r][4] // 4))


def r07_nm_next_day(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    code, amt = b.tested(p)
    i = b.month(c.window_index, c.months - 2)
    b.spell(p, code, c.span_start - 100, c.me(i), amt)
    b.event(p, c.ms(i) + 1, DISAPPEARED)


def r07_nm_pension(b: Builder, hh: Household, p: int) -> None:
    _single(b, hh)
    c = b.cal
    b.spell(p, FOERTID, c.span_start - 100, NO_DAY, b.kr(14000, 21000))
    b.event(p, b.mid(b.month(c.window_index, c.months - 3)), DISAPPEARED)


POS, NM = "positive", "near_miss"

CATALOGUE: tuple[Scenario, ...] = (
    Scenario(
        "R01",
        POS,
        "family_minor",
        "spouse and all children emigrated; P keeps help and child benefit",
        r01_pos_together,
    ),
    Scenario(
        "R01",
        POS,
        "family_minor",
        "family emigrated before the window; P still paid (window start clipped, "
        "first window month fully reversed, a later line partly corrected)",
        r01_pos_before_window,
    ),
    Scenario(
        "R01",
        POS,
        "family_minor",
        "unmarried other parent emigrated, children followed two months later; "
        "anchor is the later emigration",
        r01_pos_staggered,
    ),
    Scenario(
        "R01",
        NM,
        "family_minor",
        "spouse and older children emigrated but the youngest child stays resident",
        r01_nm_child_stays,
    ),
    Scenario(
        "R01",
        NM,
        "family_adult",
        "spouse and children emigrated but all children are 18 or older",
        r01_nm_adult_children,
    ),
    Scenario(
        "R01",
        NM,
        "family_minor",
        "children emigrated but their other parent (cohabiting, not married) stays",
        r01_nm_other_parent_home,
    ),
    Scenario(
        "R02",
        POS,
        "single",
        "emigrated mid-month; help and boligstøtte continue",
        r02_pos_emigrated,
    ),
    Scenario(
        "R02",
        POS,
        "single",
        "emigrated before the window; first window month fully reversed, "
        "a later month partly corrected",
        r02_pos_before_window,
    ),
    Scenario(
        "R02",
        POS,
        "single",
        "emigrated and returned three months later; paid throughout",
        r02_pos_returned,
    ),
    Scenario(
        "R02",
        NM,
        "single",
        "emigration takes effect the day after the last line's period start",
        r02_nm_next_day,
    ),
    Scenario(
        "R02",
        NM,
        "single",
        "returned (immigrated) on the first day of the resumed payments",
        r02_nm_returned_first,
    ),
    Scenario(
        "R02",
        NM,
        "single_pensioner",
        "folkepension kept abroad (no residence requirement)",
        r02_nm_pension_abroad,
    ),
    Scenario(
        "R03",
        POS,
        "single_pensioner",
        "died mid-month; folkepension and boligstøtte continue",
        r03_pos_died,
    ),
    Scenario(
        "R03",
        POS,
        "single_pensioner",
        "died before the window; pension continues, one window line partly corrected, "
        "one fully reversed",
        r03_pos_before_window,
    ),
    Scenario(
        "R03",
        POS,
        "single_pensioner",
        "died on the 1st of a month; that month and the next paid, plus a top-up",
        r03_pos_first_of_month,
    ),
    Scenario(
        "R03",
        NM,
        "single_pensioner",
        "died on the 1st; last payment for the month before death",
        r03_nm_month_before,
    ),
    Scenario(
        "R03",
        NM,
        "single_pensioner",
        "payments after death fully reversed by corrections",
        r03_nm_reversed,
    ),
    Scenario("R04", POS, "single", "job income in two months while on help", r04_pos_job),
    Scenario(
        "R04",
        POS,
        "single",
        "two employers, each under 1,000 but together over it, in one month",
        r04_pos_two_employers,
    ),
    Scenario(
        "R04",
        POS,
        "single",
        "income before the window (ignored), a month with income above the help, "
        "and a month whose help line is partly corrected",
        r04_pos_edge,
    ),
    Scenario(
        "R04",
        NM,
        "single",
        "income exactly 1,000.00 and 999.99 while on help",
        r04_nm_exactly_threshold,
    ),
    Scenario("R04", NM, "single", "income only in months after the help ended", r04_nm_after_spell),
    Scenario(
        "R04", NM, "single", "income in a month whose help line was fully reversed", r04_nm_reversed
    ),
    Scenario(
        "R05",
        POS,
        "family_minor",
        "single-parent supplement while the other parent lives at the same address",
        r05_pos_cohabiting,
    ),
    Scenario(
        "R05",
        POS,
        "family_minor",
        "other parent moved out before the window and moved back in mid-window",
        r05_pos_moved_back,
    ),
    Scenario(
        "R05",
        POS,
        "family_minor",
        "married and living together; first supplement line fully reversed, second partly",
        r05_pos_married,
    ),
    Scenario(
        "R05",
        NM,
        "family_minor",
        "other parent moved out on the first day of the supplement (co-residence "
        "ends the day before)",
        r05_nm_moved_out_on_start,
    ),
    Scenario(
        "R05",
        NM,
        "family_minor",
        "spouse still married but moved to another address before the supplement",
        r05_nm_separated_spouse,
    ),
    Scenario(
        "R06", POS, "single", "dagpenge and help both paid for two whole months", r06_pos_double
    ),
    Scenario(
        "R06",
        POS,
        "single",
        "sygedagpenge to the 20th and dagpenge from the 10th of the same month",
        r06_pos_partial_overlap,
    ),
    Scenario(
        "R06",
        POS,
        "single",
        "førtidspension and help throughout, from before the window; one line partly corrected",
        r06_pos_pension_and_help,
    ),
    Scenario(
        "R06",
        NM,
        "single",
        "two overlapping lines of the same benefit (dagpenge)",
        r06_nm_same_benefit,
    ),
    Scenario(
        "R06",
        NM,
        "single",
        "dagpenge with boligstøtte (not income-replacement)",
        r06_nm_not_in_group,
    ),
    Scenario(
        "R06", NM, "single", "dagpenge to the 14th, help from the 15th (adjacent)", r06_nm_adjacent
    ),
    Scenario(
        "R07",
        POS,
        "single",
        "disappeared (CPR status 70); help and boligstøtte continue",
        r07_pos_disappeared,
    ),
    Scenario(
        "R07",
        POS,
        "single",
        "disappeared before the window; boligstøtte continues, one line partly corrected",
        r07_pos_before_window,
    ),
    Scenario(
        "R07",
        NM,
        "single",
        "disappeared the day after the last line's period start; payments stop",
        r07_nm_next_day,
    ),
    Scenario(
        "R07",
        NM,
        "single",
        "førtidspension continues after disappearance (no residence requirement)",
        r07_nm_pension,
    ),
)


@dataclass(frozen=True)
class TruthRow:
    rule_id: str
    pidx: int
    kind: str
    scenario: str
    case: Case | None


@dataclass
class Injected:
    households: IntArray
    events: dict[str, IntArray]
    relations: dict[str, IntArray]
    payments: dict[str, IntArray]
    income: dict[str, IntArray]
    truth: list[TruthRow]
    next_addr: int


def _columns(rows: list[tuple[int, ...]], cols: tuple[str, ...]) -> dict[str, IntArray]:
    arr = np.array(rows, dtype=np.int64).reshape(len(rows), len(cols))
    return {c: arr[:, i].copy() for i, c in enumerate(cols)}


def _check(b: Builder, scenario: Scenario, p: int, members: list[int]) -> list[TruthRow]:
    """Run the oracle on the household and turn its verdict into ground-truth rows."""
    cal = b.cal
    cases = evaluate(
        {m: int(b.pop.birth[m]) for m in members},
        [(r[0], r[1], EVENT_NAMES[r[2]], r[3]) for r in b.ev],
        [
            (
                r[0],
                r[1],
                "child" if r[2] == CHILD else "spouse",
                r[3],
                None if r[4] >= NO_DAY else r[4],
            )
            for r in b.rel
        ],
        [(r[0], BENEFIT_CODES[r[1]], r[2], r[3], r[4]) for r in b.pay],
        [(r[0], r[2], r[3]) for r in b.inc],
        cal.as_of,
        cal.window_start,
    )
    key = (scenario.rule_id, p)
    if scenario.kind == POS and key not in cases:
        raise AssertionError(f"scenario did not fire: {scenario.description}")
    if scenario.kind == NM and key in cases:
        raise AssertionError(f"near miss fired: {scenario.description}")
    rows = []
    if scenario.kind == NM:
        rows.append(TruthRow(scenario.rule_id, p, NM, scenario.description, None))
    for (rule, person), case in sorted(cases.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        text = (
            scenario.description
            if (rule, person) == key
            else (f"side effect of: {scenario.description}")
        )
        rows.append(TruthRow(rule, cast(int, person), POS, text, case))
    return rows


def inject(
    rng: np.random.Generator,
    cal: Calendar,
    pop: Population,
    count: int,
    offset: int,
    first_addr: int,
    catalogue: tuple[Scenario, ...] = CATALOGUE,
    exclude: IntArray | None = None,
) -> Injected:
    """Inject ``count`` scenarios, cycling through ``catalogue`` from ``offset``.

    ``exclude``: household ids already taken (by an earlier injection into
    the same chunk); only the opt-in unfounded cases of
    :mod:`kontrol.synth.benign` pass it, so the default path draws exactly
    the same random numbers as before.
    """
    if cal.window_index < 1:
        raise ValueError("the generator needs months >= window + 1 (13 for a 12-month window)")
    candidates = pools(pop, cal)
    if exclude is not None:
        candidates = {k: v[~np.isin(v, exclude)] for k, v in candidates.items()}
    available = {name: rng.permutation(ids) for name, ids in candidates.items()}
    cursor = dict.fromkeys(available, 0)
    addr = [first_addr]

    def next_addr() -> int:
        addr[0] += 1
        return addr[0] - 1

    used: list[int] = []
    ev: list[tuple[int, ...]] = []
    rel: list[tuple[int, ...]] = []
    pay: list[tuple[int, ...]] = []
    inc: list[tuple[int, ...]] = []
    truth: list[TruthRow] = []
    for i in range(count):
        scenario = catalogue[(offset + i) % len(catalogue)]
        ids = available[scenario.pool]
        if cursor[scenario.pool] >= len(ids):
            continue  # a tiny town may run out of suitable households
        hid = int(ids[cursor[scenario.pool]])
        cursor[scenario.pool] += 1
        start = int(pop.hh_first[hid])
        members = list(range(start, start + int(pop.hh_size[hid])))
        kids = [m for m in members if pop.role[m] == 2]
        adults = [m for m in members if pop.role[m] != 2]
        p = adults[int(rng.integers(0, len(adults)))]
        b = Builder(cal, rng, pop, next_addr)
        scenario.build(b, Household(adults, kids), p)
        truth.extend(_check(b, scenario, p, members))
        used.append(hid)
        ev.extend(b.ev)
        rel.extend(b.rel)
        pay.extend(b.pay)
        inc.extend(b.inc)
    return Injected(
        households=np.array(sorted(used), dtype=np.int64),
        events=_columns(ev, EVENT_COLS),
        relations=_columns(rel, RELATION_COLS),
        payments=_columns(pay, PAYMENT_COLS),
        income=_columns(inc, INCOME_COLS),
        truth=truth,
        next_addr=addr[0],
    )
