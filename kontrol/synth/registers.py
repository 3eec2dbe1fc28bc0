"""The four optional partner registers (CONTRACT.md section 1b) of one chunk, and R08-R11 cases.

The registers are added to a chunk *after* its five required extracts are
final, from random streams of their own, and (but for a few income rows of
0.00 DKK, which no v1 rule and no score reads) without touching those five:
``--registers v1`` therefore writes exactly the delivery the generator wrote
before version 2, and a version 2 delivery without its optional files gives
exactly the version 1 cases.

The background is realistic and clean for R08-R11 by construction:

* **utility_readings**: monthly electricity (92 % of occupied dwellings),
  water (40 %) and heat (30 %) totals from the month a dwelling is first
  occupied, with winter peaks and about 1 % of months missing. Electricity
  is never below 15 kWh, so no background dwelling looks empty (R08); water
  is mostly below 10 m³, so a rule that ignored the utility would fire.
* **tenancies**: about 22 % of households rent from a housing association:
  the first adult is the tenant, a partner and adult children co-tenants
  (each row ends when the person's registration at the address does); a
  single parent's former partner is on the lease until the day he or she
  moved out, which is before the first single-parent supplement (R09); a
  few single adults and pensioners have a lodger from another household.
  Nobody on a lease with a single-parent supplement recipient is an adult
  who is not the recipient's child while the supplement is paid.
* **inspections**: company inspections that meet workers who have eIndkomst
  income from the inspected employer for that month (R10 needs none).
* **custody**: short remand spells of 1-13 days (one per person, so they
  never merge to 14), and long sentences, some after a touching remand, only
  for persons with no benefit that stops in custody (R11).

Injected scenarios (positives and near misses for every edge of section 4b)
take over background persons whose required rows already make the case
possible (a residence-requiring benefit at one address, a single parent's
supplement, a benefit that excludes work or stops in custody) and add only
register rows. Each scenario's expected cases are computed by
:func:`kontrol.synth.oracle.evaluate_partner` over every person the added
rows can affect; a candidate for which the intended rule does not fire (a
positive) or fires (a near miss) is passed over for the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from kontrol.benefits import DEFAULT_BENEFITS
from kontrol.synth.calendar import NO_DAY, Calendar, IntArray, birthday, month_of
from kontrol.synth.model import BENEFIT_CODES, BTE, REGULAR, RESIDENCE_REQUIRED
from kontrol.synth.oracle import (
    Case,
    Custody,
    Inspection,
    Reading,
    Tenancy,
    evaluate_partner,
)
from kontrol.synth.population import (
    ABSENT,
    ADULT1,
    ADULT2,
    CHILD_ROLE,
    FAMILY,
    SINGLE_ADULT,
    SINGLE_PARENT,
    SINGLE_PENSIONER,
    SINGLE_YOUNG,
    Population,
)

UTILITIES = ("electricity", "water", "heat")
ELEC, WATER, HEAT = range(3)
ROLES = ("tenant", "co_tenant")
TENANT, CO_TENANT = range(2)
CUSTODY_TYPES = ("remand", "sentence")
REMAND, SENTENCE = range(2)

WORK_EXCLUDED = np.array([b.work_excluded for b in DEFAULT_BENEFITS], dtype=bool)
STOPS = np.array([b.stops_in_custody for b in DEFAULT_BENEFITS], dtype=bool)
RESIDENT_TYPES = (0, 2)  # address, immigrated (kontrol.synth.model EV order)

READING_COLS = ("addr", "util", "month", "milli")
TENANCY_COLS = ("lease", "addr", "pidx", "role", "vfrom", "vto")
INSPECTION_COLS = ("insp", "day", "cvr", "pidx")
CUSTODY_COLS = ("pidx", "ctype", "start", "end")

#: Injected partner-register scenarios per person (chunk 0 always gets the whole catalogue).
INJECT_RATE = 0.003
POS, NM = "positive", "near_miss"


@dataclass
class Registers:
    """The chunk's four registers (column-wise), extra income rows and ground truth.

    ``tenancies.pidx`` < 0 is an outsider (not in ``persons``): ``-1 - pidx``
    indexes :attr:`outsiders`, their cpr numbers.
    """

    readings: dict[str, IntArray]
    tenancies: dict[str, IntArray]
    inspections: dict[str, IntArray]
    custody: dict[str, IntArray]
    zero_income: dict[str, IntArray]
    outsiders: list[str]
    truth: list[tuple[str, int, str, str, Case | None]]


def _ranges(sorted_ids: IntArray, n: int) -> tuple[IntArray, IntArray]:
    ids = np.arange(n)
    return np.searchsorted(sorted_ids, ids, "left"), np.searchsorted(sorted_ids, ids, "right")


def _cols(rows: Sequence[tuple[int, ...]], cols: tuple[str, ...]) -> dict[str, IntArray]:
    arr = np.array(rows, dtype=np.int64).reshape(len(rows), len(cols))
    return {c: arr[:, i].copy() for i, c in enumerate(cols)}


def _cat(a: dict[str, IntArray], b: dict[str, IntArray]) -> dict[str, IntArray]:
    return {c: np.concatenate([a[c], np.asarray(b[c], dtype=np.int64)]) for c in a}


# --- background ------------------------------------------------------------------------


def _readings(
    rng: np.random.Generator, cal: Calendar, ev: dict[str, IntArray]
) -> dict[str, IntArray]:
    n_addr = int(ev["addr"].max()) + 1 if len(ev["addr"]) else 0
    occupied = np.full(n_addr, NO_DAY, dtype=np.int64)
    has = ev["addr"] >= 0
    np.minimum.at(occupied, ev["addr"][has], ev["day"][has])
    m = cal.months
    first = np.clip(cal.index_of(np.minimum(occupied, cal.as_of)), 0, m - 1)
    calendar_month = month_of(cal.month_start) % 12  # 0 = January
    season = np.cos(2 * np.pi * calendar_month / 12)
    parts = []
    specs = (
        (ELEC, 0.92, 170.0, 0.5, 1.0 + 0.2 * season, 0.08, 15.0),
        (WATER, 0.40, 4.5, 0.5, np.ones(m), 0.10, 0.3),
        (HEAT, 0.30, 700.0, 0.4, np.maximum(0.08, 1.0 + 0.9 * season), 0.10, 20.0),
    )
    for util, share, median, sigma, seasonal, noise, floor in specs:
        covered = np.nonzero((occupied < NO_DAY) & (rng.random(n_addr) < share))[0]
        count = m - first[covered]
        addr = np.repeat(covered, count)
        offsets = np.cumsum(count) - count
        month = first[addr] + (np.arange(len(addr)) - np.repeat(offsets, count))
        base = np.exp(rng.normal(np.log(median), sigma, n_addr))[addr]
        value = base * seasonal[month] * rng.normal(1.0, noise, len(addr))
        milli = np.round(np.maximum(value, floor) * 1000).astype(np.int64)
        keep = rng.random(len(addr)) >= 0.01  # a missing month now and then
        parts.append(
            {
                "addr": addr[keep],
                "util": np.full(int(keep.sum()), util, dtype=np.int64),
                "month": month[keep],
                "milli": milli[keep],
            }
        )
    out = {c: np.concatenate([p[c] for p in parts]) for c in READING_COLS}
    order = np.lexsort((out["month"], out["util"], out["addr"]))
    return {c: v[order] for c, v in out.items()}


@dataclass
class Facts:
    """Per-person views of the chunk's final required rows, for candidate selection."""

    cal: Calendar
    pop: Population
    keep: np.ndarray
    ev: dict[str, IntArray]
    pay: dict[str, IntArray]
    inc: dict[str, IntArray]
    rel: dict[str, IntArray]
    ev_lo: IntArray = field(init=False)
    ev_hi: IntArray = field(init=False)
    pay_lo: IntArray = field(init=False)
    pay_hi: IntArray = field(init=False)
    inc_lo: IntArray = field(init=False)
    inc_hi: IntArray = field(init=False)
    rel_by_r: IntArray = field(init=False)
    in_window: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = self.pop.n
        self.ev_lo, self.ev_hi = _ranges(self.ev["pidx"], n)
        self.pay_lo, self.pay_hi = _ranges(self.pay["pidx"], n)
        self.inc_lo, self.inc_hi = _ranges(self.inc["pidx"], n)
        self.rel_by_r = np.argsort(self.rel["ridx"], kind="stable")
        pay = self.pay
        self.in_window = (
            (pay["ptype"] == REGULAR)
            & (pay["s"] >= self.cal.window_start)
            & (pay["s"] <= self.cal.as_of)
        )

    def has_line(self, flags: np.ndarray) -> np.ndarray:
        """Per person: a regular line in the window of a benefit with ``flags[code]``."""
        sel = self.in_window & flags[self.pay["code"]]
        out = np.zeros(self.pop.n, dtype=bool)
        out[self.pay["pidx"][sel]] = True
        return out

    def lines(self, p: int, flags: np.ndarray) -> list[tuple[int, int, int]]:
        """(s, e, code) of p's regular window lines of the flagged benefits, by s."""
        sl = slice(int(self.pay_lo[p]), int(self.pay_hi[p]))
        pay = {c: v[sl] for c, v in self.pay.items()}
        sel = self.in_window[sl] & flags[pay["code"]]
        return sorted(
            zip(
                pay["s"][sel].tolist(),
                pay["e"][sel].tolist(),
                pay["code"][sel].tolist(),
                strict=True,
            )
        )

    def events(self, p: int) -> list[tuple[int, int, int]]:
        sl = slice(int(self.ev_lo[p]), int(self.ev_hi[p]))
        return list(
            zip(
                self.ev["day"][sl].tolist(),
                self.ev["etype"][sl].tolist(),
                self.ev["addr"][sl].tolist(),
                strict=True,
            )
        )

    def income(self, p: int) -> list[tuple[int, int, int]]:
        """(cvr, month, øre) of p."""
        sl = slice(int(self.inc_lo[p]), int(self.inc_hi[p]))
        return list(
            zip(
                self.inc["cvr"][sl].tolist(),
                self.inc["month"][sl].tolist(),
                self.inc["amount"][sl].tolist(),
                strict=True,
            )
        )


def _tenancies(rng: np.random.Generator, f: Facts) -> tuple[dict[str, IntArray], np.ndarray]:
    """Background leases; returns the rows and, per household, whether it has a lease."""
    pop, cal = f.pop, f.cal
    h = pop.n_households
    first = pop.hh_first
    keep_hh = f.keep[first]
    has_ev = f.ev_hi[first] > f.ev_lo[first]
    lease_hh = keep_hh & has_ev & (rng.random(h) < 0.22)
    lease_of = np.full(h, -1, dtype=np.int64)
    lease_of[lease_hh] = np.arange(int(lease_hh.sum()))
    addr0 = np.where(has_ev, f.ev["addr"][np.minimum(f.ev_lo[first], len(f.ev["addr"]) - 1)], -1)
    d0 = np.where(has_ev, f.ev["day"][np.minimum(f.ev_lo[first], len(f.ev["day"]) - 1)], NO_DAY)

    p = np.arange(pop.n)
    hh = pop.hh
    n_ev = f.ev_hi - f.ev_lo
    safe = np.minimum(f.ev_lo, len(f.ev["day"]) - 1)
    my_first_day = np.where(n_ev > 0, f.ev["day"][safe], NO_DAY)
    my_first_addr = np.where(n_ev > 0, f.ev["addr"][safe], -1)
    nxt = np.minimum(f.ev_lo + 1, len(f.ev["day"]) - 1)
    next_day = np.where(n_ev > 1, f.ev["day"][nxt], NO_DAY)
    b18 = birthday(pop.birth, 18)
    role = pop.role
    adult_member = (role == ADULT1) | (role == ADULT2) | (role == ABSENT)
    vfrom = np.where(adult_member, d0[hh], np.maximum(d0[hh], b18))
    on_lease = (
        lease_hh[hh]
        & (my_first_addr == addr0[hh])
        & (my_first_day <= vfrom)
        & (vfrom <= cal.as_of)
        & (next_day > vfrom)
        & (adult_member | ((role == CHILD_ROLE) & (b18 <= cal.as_of)))
    )
    vto = np.where(next_day <= cal.as_of, next_day, NO_DAY)
    sel = p[on_lease]
    rows = {
        "lease": lease_of[hh[sel]],
        "addr": addr0[hh[sel]],
        "pidx": sel,
        "role": np.where(role[sel] == ADULT1, TENANT, CO_TENANT),
        "vfrom": vfrom[sel],
        "vto": vto[sel],
    }
    # lodgers: a single adult or pensioner sublets to a young single of another household
    t = pop.hh_type
    hosts = np.nonzero(lease_hh & ((t == SINGLE_ADULT) | (t == SINGLE_PENSIONER)))[0]
    hosts = hosts[rng.random(len(hosts)) < 0.06]
    young = first[np.nonzero(keep_hh & (t == SINGLE_YOUNG) & has_ev)[0]]
    young = young[b18[young] < cal.span_start]
    k = min(len(hosts), len(young))
    if k:
        lodgers = rng.choice(young, size=k, replace=False)
        hosts = hosts[:k]
        lo = np.maximum(d0[hosts], cal.span_start - 400)
        vf = lo + np.floor(rng.random(k) * (cal.as_of - lo + 1)).astype(np.int64)
        rows = _cat(
            rows,
            {
                "lease": lease_of[hosts],
                "addr": addr0[hosts],
                "pidx": lodgers,
                "role": np.full(k, CO_TENANT),
                "vfrom": vf,
                "vto": np.full(k, NO_DAY),
            },
        )
    return rows, lease_hh


def _inspections(rng: np.random.Generator, f: Facts) -> dict[str, IntArray]:
    """Inspections meeting declared workers: each met person has income there that month."""
    inc, cal = f.inc, f.cal
    ok = np.nonzero(f.keep[inc["pidx"]] & (inc["month"] <= cal.as_of) & (inc["amount"] > 0))[0]
    k = min(len(ok), max(1, f.pop.n // 150))
    if k == 0:
        return {c: np.zeros(0, dtype=np.int64) for c in INSPECTION_COLS}
    pick = np.sort(rng.choice(ok, size=k, replace=False))
    cvr, month, pidx = inc["cvr"][pick], inc["month"][pick], inc["pidx"][pick]
    groups, insp = np.unique(np.stack([cvr, month]), axis=1, return_inverse=True)
    insp = insp.ravel()
    span = np.array([cal.dim(int(i)) for i in cal.index_of(groups[1])], dtype=np.int64)
    g_day = np.minimum(
        groups[1] + np.floor(rng.random(groups.shape[1]) * span).astype(np.int64), cal.as_of
    )
    pairs = np.unique(np.stack([insp, pidx]), axis=1)
    return {
        "insp": pairs[0],
        "day": g_day[pairs[0]],
        "cvr": groups[0][pairs[0]],
        "pidx": pairs[1],
    }


def _custody(rng: np.random.Generator, f: Facts) -> dict[str, IntArray]:
    pop, cal = f.pop, f.cal
    n = pop.n
    age = (cal.as_of - pop.birth) / 365.25
    adult = f.keep & (age >= 18.5) & (age < 70) & (f.ev_hi > f.ev_lo)
    u = rng.random(n)
    short = np.nonzero(adult & (u < 0.004))[0]
    length = rng.integers(1, 14, len(short))
    start = cal.span_start + np.floor(
        rng.random(len(short)) * (cal.as_of - 13 - cal.span_start)
    ).astype(np.int64)
    parts = [
        {
            "pidx": short,
            "ctype": np.full(len(short), REMAND),
            "start": start,
            "end": start + length - 1,
        }
    ]
    no_stop = ~f.has_line(STOPS)
    sentenced = np.nonzero(adult & no_stop & (u >= 0.004) & (u < 0.0055))[0]
    k = len(sentenced)
    s_start = (
        cal.span_start
        - 200
        + np.floor(rng.random(k) * (cal.as_of - 20 - cal.span_start + 200)).astype(np.int64)
    )
    s_end = s_start + rng.integers(30, 500, k)
    s_end = np.where((s_end > cal.as_of) & (rng.random(k) < 0.5), NO_DAY, s_end)
    parts.append({"pidx": sentenced, "ctype": np.full(k, SENTENCE), "start": s_start, "end": s_end})
    before = rng.random(k) < 0.3
    r = rng.integers(3, 41, k)
    parts.append(
        {
            "pidx": sentenced[before],
            "ctype": np.full(int(before.sum()), REMAND),
            "start": (s_start - r)[before],
            "end": (s_start - 1)[before],
        }
    )
    out = {
        c: np.concatenate([np.asarray(p[c], dtype=np.int64) for p in parts]) for c in CUSTODY_COLS
    }
    order = np.lexsort((out["start"], out["pidx"]))
    return {c: v[order] for c, v in out.items()}


# --- injected scenarios ---------------------------------------------------------------


@dataclass
class Draft:
    """The register rows one scenario adds, and whom they can affect."""

    touched: set[int] = field(default_factory=set)
    readings: dict[tuple[int, int, int], int | None] = field(default_factory=dict)
    tenancies: list[tuple[int, ...]] = field(default_factory=list)
    inspections: list[tuple[int, ...]] = field(default_factory=list)
    custody: list[tuple[int, ...]] = field(default_factory=list)
    zero_income: list[tuple[int, ...]] = field(default_factory=list)
    outsiders: list[str] = field(default_factory=list)
    others: set[int] = field(default_factory=set)  # persons involved but not evaluated


@dataclass
class Ctx:
    """What a scenario builder may read and draw from."""

    f: Facts
    rng: np.random.Generator
    readings: dict[str, IntArray]
    reading_lo: IntArray
    reading_hi: IntArray
    taken: np.ndarray  # per household
    lease_hh: np.ndarray
    has_custody: np.ndarray
    next_lease: list[int]
    next_insp: list[int]
    young: IntArray  # adults of single households: lodgers
    minors: IntArray  # children of two-parent families: young co-tenants

    @property
    def cal(self) -> Calendar:
        return self.f.cal

    def free(self, p: int) -> bool:
        return bool(self.f.keep[p]) and not bool(self.taken[self.f.pop.hh[p]])

    def lease_id(self) -> int:
        self.next_lease[0] += 1
        return self.next_lease[0] - 1

    def insp_id(self) -> int:
        self.next_insp[0] += 1
        return self.next_insp[0] - 1

    def cvr(self) -> int:
        return int(self.rng.integers(10_000_000, 100_000_000))

    def day_in(self, lo: int, hi: int) -> int:
        """A day in [lo, hi], avoiding the 1st of a month where possible."""
        for _ in range(8):
            d = int(self.rng.integers(lo, hi + 1))
            if int(month_of(np.array([d]))[0]) == int(month_of(np.array([d - 1]))[0]):
                return d
        return int(self.rng.integers(lo, hi + 1))

    def low_kwh(self, count: int) -> list[int]:
        """Electricity totals of an empty dwelling, 0-10 kWh (sometimes exactly 10.000)."""
        values = [int(self.rng.integers(0, 10_001)) for _ in range(count)]
        if self.rng.random() < 0.4:
            values[int(self.rng.integers(0, count))] = 10_000
        return values


Build = Callable[[Ctx, int], "Draft | None"]


@dataclass(frozen=True)
class PartnerScenario:
    rule_id: str
    kind: str
    pool: str
    description: str
    build: Build


def _month_index(cal: Calendar, d: int) -> int:
    return int(cal.index_of(np.array([d], dtype=np.int64))[0])


def _residents(ctx: Ctx, addr: int) -> set[int]:
    ev = ctx.f.ev
    return {int(p) for p in ev["pidx"][ev["addr"] == addr]}


def _set_low(ctx: Ctx, d: Draft, addr: int, first: int, last: int) -> None:
    for i, value in zip(range(first, last + 1), ctx.low_kwh(last - first + 1), strict=True):
        d.readings[(addr, ELEC, i)] = value


# R08 -------------------------------------------------------------------------------


def _r08_setup(ctx: Ctx, p: int, span: int) -> tuple[Draft, int, int] | None:
    """P lives at one address A throughout; choose a month i with a residence line."""
    cal = ctx.cal
    (day0, _, addr), *_ = ctx.f.events(p)
    months = sorted(
        {
            _month_index(cal, s)
            for s, _, _ in ctx.f.lines(p, RESIDENCE_REQUIRED)
            if _month_index(cal, s) >= 2 and _month_index(cal, s) + span - 1 < cal.months
        }
    )
    if not months or day0 > cal.ms(months[0] - 2):
        return None
    i = int(ctx.rng.choice(months))
    d = Draft(touched=_residents(ctx, addr))
    return d, addr, i


def r08_pos_three(ctx: Ctx, p: int) -> Draft | None:
    got = _r08_setup(ctx, p, 1)
    if got is None:
        return None
    d, addr, i = got
    _set_low(ctx, d, addr, i - 2, i)
    return d


def r08_pos_five(ctx: Ctx, p: int) -> Draft | None:
    got = _r08_setup(ctx, p, 3)
    if got is None:
        return None
    d, addr, i = got
    _set_low(ctx, d, addr, i - 2, i + 2)
    return d


def r08_nm_missing(ctx: Ctx, p: int) -> Draft | None:
    got = _r08_setup(ctx, p, 1)
    if got is None:
        return None
    d, addr, i = got
    _set_low(ctx, d, addr, i - 2, i)
    d.readings[(addr, ELEC, i - 1 - int(ctx.rng.integers(0, 2)))] = None
    return d


def r08_nm_just_above(ctx: Ctx, p: int) -> Draft | None:
    got = _r08_setup(ctx, p, 1)
    if got is None:
        return None
    d, addr, i = got
    _set_low(ctx, d, addr, i - 2, i)
    d.readings[(addr, ELEC, i - int(ctx.rng.integers(0, 3)))] = 10_001
    return d


def r08_nm_moved(ctx: Ctx, p: int) -> Draft | None:
    """P moved to B mid-month g; B's readings are low from the month before g to the month after."""
    cal = ctx.cal
    evs = ctx.f.events(p)
    if len(evs) != 2 or evs[1][1] not in RESIDENT_TYPES:
        return None
    g, _, addr = evs[1]
    mg = _month_index(cal, g)
    if mg < 1 or mg + 1 >= cal.months or g == cal.ms(mg):
        return None
    if not any(_month_index(cal, s) == mg + 1 for s, _, _ in ctx.f.lines(p, RESIDENCE_REQUIRED)):
        return None
    d = Draft(touched=_residents(ctx, addr))
    _set_low(ctx, d, addr, mg - 1, mg + 1)
    return d


# R09 -------------------------------------------------------------------------------


def _r09_base(ctx: Ctx, p: int) -> tuple[Draft, int, int, list[tuple[int, int, int]]] | None:
    """P (single parent, no lease yet) on a new lease at her address from her first day."""
    hh = int(ctx.f.pop.hh[p])
    if ctx.lease_hh[hh]:
        return None
    evs = ctx.f.events(p)
    bte = [x for x in ctx.f.lines(p, _only(BTE))]
    if len(evs) != 1 or not bte:
        return None
    day0, _, addr = evs[0]
    lease = ctx.lease_id()
    d = Draft(touched={p})
    return d, lease, addr, [(day0, 0, 0), *bte]


def _only(code: int) -> np.ndarray:
    flags = np.zeros(len(BENEFIT_CODES), dtype=bool)
    flags[code] = True
    return flags


def _row(d: Draft, lease: int, addr: int, q: int, role: int, vfrom: int, vto: int = NO_DAY) -> None:
    d.tenancies.append((lease, addr, q, role, vfrom, vto))
    if q >= 0 and q not in d.touched:
        d.others.add(q)


def _pick(ctx: Ctx, pool: IntArray, ok: Callable[[int], bool]) -> int | None:
    for _ in range(40):
        if not len(pool):
            return None
        q = int(pool[int(ctx.rng.integers(0, len(pool)))])
        if ctx.free(q) and ok(q):
            return q
    return None


def _absent_parent(ctx: Ctx, p: int) -> int | None:
    pop = ctx.f.pop
    hh = int(pop.hh[p])
    first = int(pop.hh_first[hh])
    for q in range(first, first + int(pop.hh_size[hh])):
        if pop.role[q] == ABSENT:
            return q
    return None


def r09_pos_other_parent(ctx: Ctx, p: int) -> Draft | None:
    base = _r09_base(ctx, p)
    q = _absent_parent(ctx, p)
    if base is None or q is None:
        return None
    d, lease, addr, ((day0, _, _), *_) = base
    _row(d, lease, addr, p, TENANT, day0)
    _row(d, lease, addr, q, CO_TENANT, day0)
    return d


def r09_pos_lodger(ctx: Ctx, p: int) -> Draft | None:
    base = _r09_base(ctx, p)
    a = _pick(ctx, ctx.young, lambda q: True)
    if base is None or a is None:
        return None
    d, lease, addr, ((day0, _, _), *bte) = base
    s, e, _ = bte[int(ctx.rng.integers(0, len(bte)))]
    _row(d, lease, addr, p, TENANT, day0)
    _row(d, lease, addr, a, CO_TENANT, ctx.day_in(s, e))
    return d


def r09_pos_turns_18(ctx: Ctx, p: int) -> Draft | None:
    base = _r09_base(ctx, p)
    if base is None:
        return None
    d, lease, addr, ((day0, _, _), *bte) = base
    lo, hi = bte[0][0] + 1, min(bte[-1][1], ctx.cal.as_of)
    b18 = birthday(ctx.f.pop.birth, 18)
    a = _pick(ctx, ctx.minors, lambda q: lo < int(b18[q]) <= hi)
    if a is None:
        return None
    _row(d, lease, addr, p, TENANT, day0)
    _row(d, lease, addr, a, CO_TENANT, max(day0, int(b18[a]) - 200))
    return d


def r09_nm_turns_18_after(ctx: Ctx, p: int) -> Draft | None:
    base = _r09_base(ctx, p)
    if base is None:
        return None
    d, lease, addr, ((day0, _, _), *_) = base
    b18 = birthday(ctx.f.pop.birth, 18)
    a = _pick(ctx, ctx.minors, lambda q: ctx.cal.as_of < int(b18[q]) <= ctx.cal.as_of + 300)
    if a is None:
        return None
    _row(d, lease, addr, p, TENANT, day0)
    _row(d, lease, addr, a, CO_TENANT, max(day0, ctx.cal.window_start - 30))
    return d


def r09_nm_child(ctx: Ctx, p: int) -> Draft | None:
    """P's own child turns 18 while the supplement is paid and joins the lease."""
    base = _r09_base(ctx, p)
    if base is None:
        return None
    d, lease, addr, ((day0, _, _), *bte) = base
    pop = ctx.f.pop
    hh = int(pop.hh[p])
    first = int(pop.hh_first[hh])
    b18 = birthday(pop.birth, 18)
    kids = [
        k
        for k in range(first, first + int(pop.hh_size[hh]))
        if pop.role[k] == CHILD_ROLE
        and any(s < int(b18[k]) <= e for s, e, _ in bte)
        and int(b18[k]) <= ctx.cal.as_of
    ]
    if not kids:
        return None
    _row(d, lease, addr, p, TENANT, day0)
    _row(d, lease, addr, kids[0], CO_TENANT, int(b18[kids[0]]))
    return d


def r09_nm_no_common_day(ctx: Ctx, p: int) -> Draft | None:
    base = _r09_base(ctx, p)
    a = _pick(ctx, ctx.young, lambda q: True)
    if base is None or a is None:
        return None
    d, lease, addr, ((day0, _, _), *bte) = base
    s, e, _ = bte[int(ctx.rng.integers(0, len(bte)))]
    x = ctx.day_in(s, e)
    _row(d, lease, addr, p, TENANT, day0, x)
    _row(d, lease, addr, a, CO_TENANT, x)
    return d


def r09_nm_not_in_persons(ctx: Ctx, p: int) -> Draft | None:
    base = _r09_base(ctx, p)
    if base is None:
        return None
    d, lease, addr, ((day0, _, _), *_) = base
    # 30 February: no person of any delivery is born on it, so this cpr is nobody's in persons
    serial = int(ctx.rng.integers(0, 10_000))
    yy = int(ctx.rng.integers(60, 100))
    d.outsiders.append(f"3002{yy:02d}{serial:04d}")
    _row(d, lease, addr, p, TENANT, day0)
    _row(d, lease, addr, -1, CO_TENANT, max(day0, ctx.cal.window_start - 60))
    return d


# R10 -------------------------------------------------------------------------------


def _r10_line(ctx: Ctx, p: int, flags: np.ndarray = WORK_EXCLUDED) -> tuple[int, int] | None:
    lines = [(s, min(e, ctx.cal.as_of)) for s, e, _ in ctx.f.lines(p, flags)]
    if not lines:
        return None
    return lines[int(ctx.rng.integers(0, len(lines)))]


def _meet(ctx: Ctx, d: Draft, p: int, day: int, cvr: int) -> None:
    d.inspections.append((ctx.insp_id(), day, cvr, p))


def r10_pos_no_income(ctx: Ctx, p: int) -> Draft | None:
    line = _r10_line(ctx, p)
    if line is None:
        return None
    d = Draft(touched={p})
    _meet(ctx, d, p, ctx.day_in(*line), ctx.cvr())
    return d


def r10_pos_two_days(ctx: Ctx, p: int) -> Draft | None:
    line = _r10_line(ctx, p)
    if line is None or line[1] - line[0] < 3:
        return None
    d = Draft(touched={p})
    d1 = int(ctx.rng.integers(line[0], line[1]))
    d2 = int(ctx.rng.integers(d1 + 1, line[1] + 1))
    cvr = ctx.cvr()
    _meet(ctx, d, p, d1, cvr)
    _meet(ctx, d, p, d1, ctx.cvr())  # a second inspection the same day: still one day
    _meet(ctx, d, p, d2, cvr)
    return d


def r10_pos_zero_income(ctx: Ctx, p: int) -> Draft | None:
    line = _r10_line(ctx, p)
    if line is None:
        return None
    d = Draft(touched={p})
    day, cvr = ctx.day_in(*line), ctx.cvr()
    _meet(ctx, d, p, day, cvr)
    d.zero_income.append((p, cvr, ctx.cal.ms(_month_index(ctx.cal, day)), 0))
    return d


def _with_income(ctx: Ctx, p: int, same_month: bool) -> tuple[int, int] | None:
    """(day, cvr): a work-excluded line's day, and an employer with income in the month before
    (``same_month=False``, but none in the day's month) or in the day's month itself."""
    cal = ctx.cal
    income = ctx.f.income(p)
    paid = {(cvr, month) for cvr, month, amount in income if amount > 0}
    for s, e, _ in ctx.f.lines(p, WORK_EXCLUDED):
        i = _month_index(cal, s)
        month = cal.ms(i)
        previous = cal.ms(i - 1) if i >= 1 else -1
        for cvr, m in sorted(paid):
            if same_month and m == month:
                return ctx.day_in(s, min(e, cal.as_of)), cvr
            if not same_month and m == previous and (cvr, month) not in paid:
                return ctx.day_in(s, min(e, cal.as_of)), cvr
    return None


def r10_pos_former_employer(ctx: Ctx, p: int) -> Draft | None:
    got = _with_income(ctx, p, same_month=False)
    if got is None:
        return None
    d = Draft(touched={p})
    _meet(ctx, d, p, *got)
    return d


def r10_nm_declared(ctx: Ctx, p: int) -> Draft | None:
    got = _with_income(ctx, p, same_month=True)
    if got is None:
        return None
    d = Draft(touched={p})
    _meet(ctx, d, p, *got)
    return d


def r10_nm_outside_line(ctx: Ctx, p: int) -> Draft | None:
    cal = ctx.cal
    lines = ctx.f.lines(p, WORK_EXCLUDED)
    if not lines:
        return None
    covered = [(s, e) for s, e, _ in lines]
    for day in (lines[-1][1] + 1, lines[0][0] - 1):
        if cal.window_start <= day <= cal.as_of and not any(s <= day <= e for s, e in covered):
            d = Draft(touched={p})
            _meet(ctx, d, p, day, ctx.cvr())
            return d
    return None


def r10_nm_not_excluded(ctx: Ctx, p: int) -> Draft | None:
    if ctx.f.lines(p, WORK_EXCLUDED):
        return None
    line = _r10_line(ctx, p, ~WORK_EXCLUDED)
    if line is None:
        return None
    d = Draft(touched={p})
    _meet(ctx, d, p, ctx.day_in(*line), ctx.cvr())
    return d


# R11 -------------------------------------------------------------------------------


def _r11_day(ctx: Ctx, p: int, room: int) -> int | None:
    """A day of a stopping line from which ``room`` days still lie on or before as_of."""
    cal = ctx.cal
    days = [
        (s, min(e, cal.as_of - room + 1))
        for s, e, _ in ctx.f.lines(p, STOPS)
        if s <= cal.as_of - room + 1
    ]
    days = [(s, e) for s, e in days if s <= e]
    if not days or ctx.has_custody[p]:
        return None
    s, e = days[int(ctx.rng.integers(0, len(days)))]
    return int(ctx.rng.integers(s, e + 1))


def _spell(d: Draft, p: int, ctype: int, start: int, end: int) -> None:
    d.custody.append((p, ctype, start, end))


def r11_pos_touching(ctx: Ctx, p: int) -> Draft | None:
    a = _r11_day(ctx, p, 14)
    if a is None:
        return None
    d = Draft(touched={p})
    _spell(d, p, REMAND, a, a + 5)
    _spell(d, p, SENTENCE, a + 6, a + 13)
    return d


def r11_pos_overlapping(ctx: Ctx, p: int) -> Draft | None:
    a = _r11_day(ctx, p, 40)
    if a is None:
        return None
    d = Draft(touched={p})
    _spell(d, p, REMAND, a, a + 9)
    _spell(d, p, SENTENCE, a + 5, min(a + 5 + int(ctx.rng.integers(30, 90)), ctx.cal.as_of))
    return d


def r11_pos_open(ctx: Ctx, p: int) -> Draft | None:
    as_of = ctx.cal.as_of
    r = int(ctx.rng.integers(14, 61))
    if not any(e >= as_of - r + 1 for _, e, _ in ctx.f.lines(p, STOPS)) or ctx.has_custody[p]:
        return None
    d = Draft(touched={p})
    _spell(d, p, REMAND, as_of - r + 1, NO_DAY)
    return d


def r11_pos_ends_after_as_of(ctx: Ctx, p: int) -> Draft | None:
    as_of = ctx.cal.as_of
    r = int(ctx.rng.integers(14, 41))
    if not any(e >= as_of - r + 1 for _, e, _ in ctx.f.lines(p, STOPS)) or ctx.has_custody[p]:
        return None
    d = Draft(touched={p})
    _spell(d, p, SENTENCE, as_of - r + 1, as_of + int(ctx.rng.integers(1, 200)))
    return d


def r11_nm_thirteen(ctx: Ctx, p: int) -> Draft | None:
    a = _r11_day(ctx, p, 13)
    if a is None:
        return None
    d = Draft(touched={p})
    _spell(d, p, REMAND, a, a + 12)
    return d


def r11_nm_gap(ctx: Ctx, p: int) -> Draft | None:
    a = _r11_day(ctx, p, 15)
    if a is None:
        return None
    d = Draft(touched={p})
    _spell(d, p, REMAND, a, a + 6)
    _spell(d, p, SENTENCE, a + 8, a + 14)
    return d


def r11_nm_open_short(ctx: Ctx, p: int) -> Draft | None:
    as_of = ctx.cal.as_of
    if not any(e >= as_of - 12 for _, e, _ in ctx.f.lines(p, STOPS)) or ctx.has_custody[p]:
        return None
    d = Draft(touched={p})
    _spell(d, p, REMAND, as_of - 12, NO_DAY)
    return d


PARTNER_CATALOGUE: tuple[PartnerScenario, ...] = (
    PartnerScenario(
        "R08",
        POS,
        "resident",
        "three months of at most 10 kWh at the registered address",
        r08_pos_three,
    ),
    PartnerScenario(
        "R08",
        POS,
        "resident",
        "five months of at most 10 kWh: three lines' months flagged",
        r08_pos_five,
    ),
    PartnerScenario(
        "R08",
        NM,
        "resident",
        "two low months and one month without a reading",
        r08_nm_missing,
    ),
    PartnerScenario(
        "R08",
        NM,
        "resident",
        "three low months, one of them 10.001 kWh",
        r08_nm_just_above,
    ),
    PartnerScenario(
        "R08",
        NM,
        "mover",
        "low readings, but the recipient moved in within the three months",
        r08_nm_moved,
    ),
    PartnerScenario(
        "R09",
        POS,
        "single_parent",
        "the other parent moved out but is still on the lease",
        r09_pos_other_parent,
    ),
    PartnerScenario(
        "R09",
        POS,
        "single_parent",
        "an adult lodger joins the lease mid-month",
        r09_pos_lodger,
    ),
    PartnerScenario(
        "R09",
        POS,
        "single_parent",
        "a young co-tenant turns 18 while the supplement is paid",
        r09_pos_turns_18,
    ),
    PartnerScenario(
        "R09",
        NM,
        "single_parent",
        "a co-tenant who turns 18 only after as_of",
        r09_nm_turns_18_after,
    ),
    PartnerScenario(
        "R09",
        NM,
        "single_parent",
        "the recipient's own child turns 18 and joins the lease",
        r09_nm_child,
    ),
    PartnerScenario(
        "R09",
        NM,
        "single_parent",
        "the recipient's lease row ends the day the lodger's begins",
        r09_nm_no_common_day,
    ),
    PartnerScenario(
        "R09",
        NM,
        "single_parent",
        "an adult co-tenant who is not in persons",
        r09_nm_not_in_persons,
    ),
    PartnerScenario(
        "R10",
        POS,
        "work_excluded",
        "met at work, no income from that employer",
        r10_pos_no_income,
    ),
    PartnerScenario(
        "R10",
        POS,
        "work_excluded",
        "met on two days of one line (twice on the first day)",
        r10_pos_two_days,
    ),
    PartnerScenario(
        "R10",
        POS,
        "work_excluded",
        "met at work, income 0.00 from that employer that month",
        r10_pos_zero_income,
    ),
    PartnerScenario(
        "R10",
        POS,
        "work_excluded",
        "met at a former employer: income the month before only",
        r10_pos_former_employer,
    ),
    PartnerScenario(
        "R10",
        NM,
        "work_excluded",
        "met at an employer that declared income that month",
        r10_nm_declared,
    ),
    PartnerScenario(
        "R10",
        NM,
        "work_excluded",
        "met on a day no work-excluded line covers",
        r10_nm_outside_line,
    ),
    PartnerScenario(
        "R10",
        NM,
        "not_excluded",
        "met at work while on a benefit that is not work-excluded",
        r10_nm_not_excluded,
    ),
    PartnerScenario(
        "R11",
        POS,
        "stops",
        "remand of 6 days touching a sentence of 8 days: one 14-day spell",
        r11_pos_touching,
    ),
    PartnerScenario(
        "R11",
        POS,
        "stops",
        "overlapping remand and sentence across months",
        r11_pos_overlapping,
    ),
    PartnerScenario(
        "R11",
        POS,
        "stops",
        "open remand, at least 14 days up to as_of",
        r11_pos_open,
    ),
    PartnerScenario(
        "R11",
        POS,
        "stops",
        "sentence ending after as_of, counted to as_of",
        r11_pos_ends_after_as_of,
    ),
    PartnerScenario("R11", NM, "stops", "a 13-day spell", r11_nm_thirteen),
    PartnerScenario(
        "R11",
        NM,
        "stops",
        "two 7-day spells with a gap of one day",
        r11_nm_gap,
    ),
    PartnerScenario(
        "R11",
        NM,
        "stops",
        "open remand of 13 days up to as_of",
        r11_nm_open_short,
    ),
)


def _pools(f: Facts, has_custody: np.ndarray) -> dict[str, IntArray]:
    pop = f.pop
    n_ev = f.ev_hi - f.ev_lo
    idx = np.arange(pop.n)
    first_type = f.ev["etype"][np.minimum(f.ev_lo, len(f.ev["etype"]) - 1)]
    resident_first = (n_ev > 0) & np.isin(first_type, RESIDENT_TYPES)
    second_type = f.ev["etype"][np.minimum(f.ev_lo + 1, len(f.ev["etype"]) - 1)]
    res = f.has_line(RESIDENCE_REQUIRED)
    work = f.has_line(WORK_EXCLUDED)
    is_sp_head = (pop.hh_type[pop.hh] == SINGLE_PARENT) & (idx == pop.hh_first[pop.hh])
    adult = (f.cal.as_of - pop.birth) >= 18 * 366
    return {
        "resident": idx[f.keep & resident_first & (n_ev == 1) & res],
        "mover": idx[
            f.keep & resident_first & (n_ev == 2) & np.isin(second_type, RESIDENT_TYPES) & res
        ],
        "single_parent": idx[f.keep & is_sp_head & f.has_line(_only(BTE)) & (n_ev == 1)],
        "work_excluded": idx[f.keep & work],
        "not_excluded": idx[f.keep & adult & ~work & f.has_line(~WORK_EXCLUDED)],
        "stops": idx[f.keep & f.has_line(STOPS) & ~has_custody],
    }


def _oracle_inputs(
    ctx: Ctx,
    d: Draft,
    rule: str,
    bg_insp: dict[str, IntArray],
    insp_lo: IntArray,
    insp_hi: IntArray,
) -> dict[str, object]:
    f, cal = ctx.f, ctx.cal
    people = sorted(d.touched)
    involved = set(people) | {q for q in d.others if q >= 0}
    births = {q: int(f.pop.birth[q]) for q in involved}
    events, payments, income = [], [], []
    for q in people:
        for day, etype, addr in f.events(q):
            events.append(
                (q, day, ("address", "emigrated", "immigrated", "disappeared", "died")[etype], addr)
            )
        sl = slice(int(f.pay_lo[q]), int(f.pay_hi[q]))
        for code, s, e, amount in zip(
            f.pay["code"][sl].tolist(),
            f.pay["s"][sl].tolist(),
            f.pay["e"][sl].tolist(),
            f.pay["amount"][sl].tolist(),
            strict=True,
        ):
            payments.append((q, BENEFIT_CODES[code], s, e, amount))
        income += [(q, cvr, month, amount) for cvr, month, amount in f.income(q)]
    income += [(q, cvr, month, amount) for q, cvr, month, amount in d.zero_income]
    relations = []
    rel = f.rel
    for q in involved:
        lo, hi = np.searchsorted(rel["pidx"], [q, q + 1])
        rows = list(range(int(lo), int(hi)))
        lo, hi = np.searchsorted(rel["ridx"][f.rel_by_r], [q, q + 1])
        rows += [int(i) for i in f.rel_by_r[int(lo) : int(hi)]]
        for i in sorted(set(rows)):
            vto = int(rel["vto"][i])
            relations.append(
                (
                    int(rel["pidx"][i]),
                    int(rel["ridx"][i]),
                    "child" if rel["rel"][i] == 0 else "spouse",
                    int(rel["vfrom"][i]),
                    None if vto >= NO_DAY else vto,
                )
            )
    out: dict[str, object] = {
        "births": births,
        "events": events,
        "relations": relations,
        "payments": payments,
        "employer_income": income,
        "as_of": cal.as_of,
        "window_start": cal.window_start,
    }
    if rule == "R08":
        addresses = {addr for _, _, _, addr in events if isinstance(addr, int) and addr >= 0}
        values: dict[tuple[int, int, int], int | None] = {}
        r = ctx.readings
        for a in addresses:
            sl = (
                slice(int(ctx.reading_lo[a]), int(ctx.reading_hi[a]))
                if a < len(ctx.reading_lo)
                else slice(0, 0)
            )
            for u, m, v in zip(
                r["util"][sl].tolist(),
                r["month"][sl].tolist(),
                r["milli"][sl].tolist(),
                strict=True,
            ):
                values[(a, u, m)] = v
        values.update(d.readings)
        out["readings"] = [
            cast(Reading, (a, UTILITIES[u], cal.ms(m), v))
            for (a, u, m), v in values.items()
            if v is not None
        ]
    elif rule == "R09":
        out["tenancies"] = [
            cast(
                Tenancy,
                (
                    lease,
                    addr,
                    q if q >= 0 else f"outsider{q}",
                    ROLES[role],
                    vf,
                    None if vt >= NO_DAY else vt,
                ),
            )
            for lease, addr, q, role, vf, vt in d.tenancies
        ]
    elif rule == "R10":
        met: list[Inspection] = []
        for q in people:
            for i in range(int(insp_lo[q]), int(insp_hi[q])):
                met.append(
                    (int(bg_insp["insp"][i]), int(bg_insp["day"][i]), int(bg_insp["cvr"][i]), q)
                )
        met += [cast(Inspection, tuple(row)) for row in d.inspections]
        out["inspections"] = met
    else:
        out["custody"] = [
            cast(Custody, (q, CUSTODY_TYPES[t], a, None if b >= NO_DAY else b))
            for q, t, a, b in d.custody
        ]
    return out


def _apply_readings(
    readings: dict[str, IntArray], overrides: dict[tuple[int, int, int], int | None], months: int
) -> dict[str, IntArray]:
    if not overrides:
        return readings
    key = (readings["addr"] * 3 + readings["util"]) * months + readings["month"]
    drop = np.isin(key, [(a * 3 + u) * months + m for (a, u, m) in overrides])
    kept = {c: v[~drop] for c, v in readings.items()}
    added = [(a, u, m, v) for (a, u, m), v in sorted(overrides.items()) if v is not None]
    out = _cat(kept, _cols(added, READING_COLS)) if added else kept
    order = np.lexsort((out["month"], out["util"], out["addr"]))
    return {c: v[order] for c, v in out.items()}


def build_registers(
    seed: int,
    chunk: int,
    cal: Calendar,
    pop: Population,
    keep: np.ndarray,
    ev: dict[str, IntArray],
    pay: dict[str, IntArray],
    inc: dict[str, IntArray],
    rel: dict[str, IntArray],
    count: int,
    offset: int,
) -> Registers:
    """The chunk's optional registers: a clean background plus ``count`` injected scenarios.

    ``keep`` marks the persons of background households (the v1 scenarios'
    households are left alone). Scenarios cycle through
    :data:`PARTNER_CATALOGUE` from ``offset``.
    """
    rng = np.random.default_rng([seed, chunk, 10])
    f = Facts(cal, pop, keep, ev, pay, inc, rel)
    readings = _readings(rng, cal, ev)
    tenancies, lease_hh = _tenancies(rng, f)
    inspections = _inspections(rng, f)
    custody = _custody(rng, f)

    has_custody = np.zeros(pop.n, dtype=bool)
    has_custody[custody["pidx"]] = True
    n_addr = int(readings["addr"].max()) + 1 if len(readings["addr"]) else 0
    reading_lo, reading_hi = _ranges(readings["addr"], n_addr)
    order = np.argsort(inspections["pidx"], kind="stable")
    bg_insp = {c: v[order] for c, v in inspections.items()}
    insp_lo, insp_hi = _ranges(bg_insp["pidx"], pop.n)
    t = pop.hh_type
    first = pop.hh_first
    young = first[np.nonzero(keep[first] & (t == SINGLE_YOUNG))[0]]
    young = young[birthday(pop.birth[young], 18) < cal.span_start]
    minors = np.nonzero(keep & (pop.role == CHILD_ROLE) & (t[pop.hh] == FAMILY))[0]
    srng = np.random.default_rng([seed, chunk, 11])
    ctx = Ctx(
        f=f,
        rng=srng,
        readings=readings,
        reading_lo=reading_lo,
        reading_hi=reading_hi,
        taken=np.zeros(pop.n_households, dtype=bool),
        lease_hh=lease_hh.copy(),
        has_custody=has_custody,
        next_lease=[int(tenancies["lease"].max()) + 1 if len(tenancies["lease"]) else 0],
        next_insp=[int(inspections["insp"].max()) + 1 if len(inspections["insp"]) else 0],
        young=young,
        minors=minors,
    )
    pools = {name: srng.permutation(ids) for name, ids in _pools(f, has_custody).items()}
    cursor = dict.fromkeys(pools, 0)
    overrides: dict[tuple[int, int, int], int | None] = {}
    new_ten: list[tuple[int, ...]] = []
    new_insp: list[tuple[int, ...]] = []
    new_cust: list[tuple[int, ...]] = []
    zero: list[tuple[int, ...]] = []
    outsiders: list[str] = []
    truth: list[tuple[str, int, str, str, Case | None]] = []
    for i in range(count):
        scenario = PARTNER_CATALOGUE[(offset + i) % len(PARTNER_CATALOGUE)]
        pool = pools[scenario.pool]
        for _ in range(60):  # candidates tried before the scenario is skipped
            if cursor[scenario.pool] >= len(pool):
                break
            p = int(pool[cursor[scenario.pool]])
            cursor[scenario.pool] += 1
            if not ctx.free(p):
                continue
            draft = scenario.build(ctx, p)
            if draft is None or not all(
                ctx.free(q) for q in draft.touched | draft.others if q >= 0
            ):
                continue
            if any(key in overrides for key in draft.readings):
                continue
            if draft.outsiders:
                # outsiders are numbered over the chunk: -1 - index into ``outsiders``
                draft.tenancies = [
                    (*row[:2], -1 - len(outsiders) if row[2] < 0 else row[2], *row[3:])
                    for row in draft.tenancies
                ]
            inputs = _oracle_inputs(ctx, draft, scenario.rule_id, bg_insp, insp_lo, insp_hi)
            cases = {
                key: case
                for key, case in evaluate_partner(**inputs).items()  # type: ignore[arg-type]
                if key[0] == scenario.rule_id
            }
            fired = (scenario.rule_id, p) in cases
            if fired != (scenario.kind == POS):
                continue
            if scenario.kind == NM:
                truth.append((scenario.rule_id, p, NM, scenario.description, None))
            for (rule, person), case in sorted(cases.items(), key=lambda kv: str(kv[0][1])):
                text = (
                    scenario.description
                    if person == p
                    else f"side effect of: {scenario.description}"
                )
                truth.append((rule, cast(int, person), POS, text, case))
            for q in draft.touched | draft.others:
                if q >= 0:
                    ctx.taken[pop.hh[q]] = True
            ctx.lease_hh[pop.hh[p]] = ctx.lease_hh[pop.hh[p]] or bool(draft.tenancies)
            overrides.update(draft.readings)
            new_ten += draft.tenancies
            new_insp += draft.inspections
            new_cust += draft.custody
            zero += draft.zero_income
            outsiders += draft.outsiders
            break

    if new_ten:
        tenancies = _cat(tenancies, _cols(new_ten, TENANCY_COLS))
    if new_insp:
        inspections = _cat(inspections, _cols(new_insp, INSPECTION_COLS))
    if new_cust:
        custody = _cat(custody, _cols(new_cust, CUSTODY_COLS))
    t_order = np.lexsort((tenancies["vfrom"], tenancies["pidx"], tenancies["lease"]))
    i_order = np.lexsort((inspections["pidx"], inspections["insp"]))
    c_order = np.lexsort((custody["start"], custody["pidx"]))
    return Registers(
        readings=_apply_readings(readings, overrides, cal.months),
        tenancies={c: v[t_order] for c, v in tenancies.items()},
        inspections={c: v[i_order] for c, v in inspections.items()},
        custody={c: v[c_order] for c, v in custody.items()},
        zero_income=_cols(zero, ("pidx", "cvr", "month", "amount")),
        outsiders=outsiders,
        truth=truth,
    )
