"""A small, direct restatement of rules R01-R07, used to derive the ground truth.

Why the generator has its own oracle: the expected case of an injected
scenario (period, amount, anchor) depends on every line, correction and event
the scenario wrote, and on window clipping. Computing it by hand per scenario
is error-prone; running these rules over the scenario's household (which
shares no address or relation with anybody else) is exact, and the generator
additionally checks that each scenario fires exactly the rule it was meant to
fire (or, for a near miss, that it does not).

It follows CONTRACT.md section 4 and docs/contract-readings.md literally, on
integers: days since 1970-01-01 and money in øre, so there are no floats and
the R06 prorating rounds half-up exactly: ``(2 * ore * d + n) // (2 * n)``.
It is written for clarity and for small inputs (one household, or the
committed 3,000-person fixture in the tests), not for speed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from kontrol.benefits import DEFAULT_BENEFITS, Benefit
from kontrol.synth.calendar import (
    NO_DAY,
    age_on,
    birthday,
    first_of_month,
    month_of,
    month_start_of_month,
)

RESIDENT, ABROAD, DISAPPEARED, DEAD, UNKNOWN = (
    "resident",
    "abroad",
    "disappeared",
    "dead",
    "unknown",
)
STATE_OF = {
    "address": RESIDENT,
    "immigrated": RESIDENT,
    "emigrated": ABROAD,
    "disappeared": DISAPPEARED,
    "died": DEAD,
}
THRESHOLD_ORE = 100_000

Event = tuple[Hashable, int, str, "str | int | None"]
Relation = tuple[Hashable, Hashable, str, int, "int | None"]
Payment = tuple[Hashable, str, int, int, int]
Income = tuple[Hashable, int, int]
Line = tuple[int, int, str, int]  # s, e, code, amount


@dataclass(frozen=True)
class Case:
    rule_id: str
    person: Hashable
    period_start: int
    period_end: int
    amount: int  # øre
    anchor: int


def _month(day: int) -> int:
    return int(first_of_month(np.array([day], dtype=np.int64))[0])


class _Registers:
    def __init__(self, events: Iterable[Event], relations: Iterable[Relation], as_of: int):
        per: dict[Hashable, list[tuple[int, str, object]]] = defaultdict(list)
        for p, d, kind, addr in events:
            if d <= as_of:
                per[p].append((d, kind, addr))
        self.events = {p: sorted(v, key=lambda x: x[0]) for p, v in per.items()}
        self.days = {p: [x[0] for x in v] for p, v in self.events.items()}
        self.spouses: dict[Hashable, list[tuple[Hashable, int, int]]] = defaultdict(list)
        self.children: dict[Hashable, list[tuple[Hashable, int, int]]] = defaultdict(list)
        self.parents: dict[Hashable, list[tuple[Hashable, int, int]]] = defaultdict(list)
        for p, q, rel, vfrom, vto in relations:
            if vfrom > as_of:
                continue
            end = NO_DAY if vto is None else vto
            if rel == "spouse":
                self.spouses[p].append((q, vfrom, end))
            elif rel == "child":
                self.children[p].append((q, vfrom, end))
                self.parents[q].append((p, vfrom, end))

    def in_force(self, p: Hashable, t: int) -> tuple[int, str, object] | None:
        days = self.days.get(p)
        if not days:
            return None
        i = bisect_right(days, t) - 1
        return self.events[p][i] if i >= 0 else None

    def state(self, p: Hashable, t: int) -> str:
        ev = self.in_force(p, t)
        return UNKNOWN if ev is None else STATE_OF.get(ev[1], UNKNOWN)

    def intervals(self, p: Hashable) -> list[tuple[int, int, object]]:
        """(from, to inclusive, address_id) for each resident stretch of p."""
        evs = self.events.get(p, [])
        out = []
        for i, (d, kind, addr) in enumerate(evs):
            if STATE_OF.get(kind) == RESIDENT:
                end = evs[i + 1][0] - 1 if i + 1 < len(evs) else NO_DAY
                out.append((d, end, addr))
        return out

    def co_resident(self, p: Hashable, a: Hashable, s: int, e: int) -> bool:
        for f1, t1, x1 in self.intervals(p):
            lo1, hi1 = max(f1, s), min(t1, e)
            if lo1 > hi1:
                continue
            for f2, t2, x2 in self.intervals(a):
                if x2 == x1 and max(lo1, f2) <= min(hi1, t2):
                    return True
        return False


def _holds(vfrom: int, vto: int, t: int) -> bool:
    return vfrom <= t < vto


def _case(rule: str, p: Hashable, flagged: list[tuple[Line, int]], anchor: int) -> Case | None:
    amount = sum(a for _, a in flagged)
    if amount <= 0:
        return None
    return Case(
        rule,
        p,
        min(line[0] for line, _ in flagged),
        max(line[1] for line, _ in flagged),
        amount,
        anchor,
    )


def _net_lines(
    payments: Iterable[Payment], as_of: int, window_start: int
) -> dict[Hashable, list[Line]]:
    """Positive net lines in the window per person, sorted by (s, e, code)."""
    net: dict[tuple[Hashable, str, int, int], int] = defaultdict(int)
    for p, code, s, e, amount in payments:
        net[(p, code, s, e)] += amount
    lines: dict[Hashable, list[Line]] = defaultdict(list)
    for (p, code, s, e), amount in sorted(net.items(), key=lambda kv: (str(kv[0][0]), kv[0][1:])):
        if amount > 0 and window_start <= s <= as_of:
            lines[p].append((s, e, code, amount))
    return lines


def evaluate(
    births: Mapping[Hashable, int],
    events: Iterable[Event],
    relations: Iterable[Relation],
    payments: Iterable[Payment],
    income: Iterable[Income],
    as_of: int,
    window_start: int,
    benefits: Sequence[Benefit] = DEFAULT_BENEFITS,
    threshold: int = THRESHOLD_ORE,
) -> dict[tuple[str, Hashable], Case]:
    """All cases the contract's rules emit, keyed by (rule_id, person)."""
    reg = _Registers(events, relations, as_of)
    residence = {b.code for b in benefits if b.residence_required}
    replacement = {b.code for b in benefits if b.income_replacement}
    tested = {b.code for b in benefits if b.income_tested}
    lines = _net_lines(payments, as_of, window_start)
    inc: dict[tuple[Hashable, int], int] = defaultdict(int)
    for p, month, amount in income:
        if window_start <= month <= as_of:
            inc[(p, month)] += amount

    cases: dict[tuple[str, Hashable], Case] = {}

    def emit(case: Case | None) -> None:
        if case is not None:
            cases[(case.rule_id, case.person)] = case

    for p, plines in lines.items():
        plines.sort(key=lambda x: (x[0], x[1], x[2]))
        # R01
        flagged: list[tuple[Line, int]] = []
        anchor = 0
        for line in plines:
            s = line[0]
            if line[2] not in residence or reg.state(p, s) != RESIDENT:
                continue
            members: set[Hashable] = set()
            minors = 0
            for q, vf, vt in reg.spouses.get(p, []):
                if _holds(vf, vt, s):
                    members.add(q)
            for c, vf, vt in reg.children.get(p, []):
                if not _holds(vf, vt, s) or c not in births or age_on(births[c], s) >= 18:
                    continue
                minors += 1
                members.add(c)
                for q, qf, qt in reg.parents.get(c, []):
                    if q != p and _holds(qf, qt, s):
                        members.add(q)
            if minors == 0 or any(reg.state(m, s) != ABROAD for m in members):
                continue
            if not flagged:
                anchor = max(ev[0] for m in members if (ev := reg.in_force(m, s)) is not None)
            flagged.append((line, line[3]))
        if flagged:
            emit(_case("R01", p, flagged, anchor))
        # R02, R07, R03
        for rule, state, needs_residence in (
            ("R02", ABROAD, True),
            ("R07", DISAPPEARED, True),
            ("R03", DEAD, False),
        ):
            flagged = []
            anchor = 0
            for line in plines:
                if needs_residence and line[2] not in residence:
                    continue
                if reg.state(p, line[0]) != state:
                    continue
                if not flagged:
                    ev = reg.in_force(p, line[0])
                    assert ev is not None
                    anchor = ev[0]
                flagged.append((line, line[3]))
            if flagged:
                emit(_case(rule, p, flagged, anchor))
        # R04
        by_month: dict[int, list[Line]] = defaultdict(list)
        for line in plines:
            if line[2] in tested:
                by_month[_month(line[0])].append(line)
        flagged = []
        first_month = 0
        for m in sorted(by_month):
            b = sum(x[3] for x in by_month[m])
            i = inc.get((p, m), 0)
            if b > 0 and i > threshold:
                if not flagged:
                    first_month = m
                amount = min(b, i)
                group = by_month[m]
                flagged.append((group[0], amount))
                flagged.extend((x, 0) for x in group[1:])
        if flagged:
            emit(_case("R04", p, flagged, first_month))
        # R05
        flagged = []
        for line in plines:
            s, e, code, amount = line
            if code != "BOERNETILSKUD_ENLIG":
                continue
            others = {q for q, vf, vt in reg.spouses.get(p, []) if vf <= e and vt > s}
            for c, _, _ in reg.children.get(p, []):
                others |= {q for q, _, _ in reg.parents.get(c, []) if q != p}
            if any(reg.co_resident(p, a, s, e) for a in others if a != p):
                flagged.append((line, amount))
        if flagged:
            emit(_case("R05", p, flagged, flagged[0][0][0]))
        # R06
        group = [x for x in plines if x[2] in replacement]
        in_pair: dict[Line, int] = {}
        total = 0
        first_shared = NO_DAY
        for i, l1 in enumerate(group):
            for l2 in group[i + 1 :]:
                if l1[2] == l2[2]:
                    continue
                lo, hi = max(l1[0], l2[0]), min(l1[1], l2[1])
                if lo > hi:
                    continue
                d = hi - lo + 1
                n1, n2 = l1[1] - l1[0] + 1, l2[1] - l2[0] + 1
                total += min((2 * l1[3] * d + n1) // (2 * n1), (2 * l2[3] * d + n2) // (2 * n2))
                in_pair[l1] = in_pair[l2] = 0
                first_shared = min(first_shared, lo)
        if in_pair and total > 0:
            emit(
                Case(
                    "R06",
                    p,
                    min(x[0] for x in in_pair),
                    max(x[1] for x in in_pair),
                    total,
                    first_shared,
                )
            )
    return cases


# --- R08-R11: the partner registers (CONTRACT.md sections 1b and 4b) ----------------

Reading = tuple[Hashable, str, int, int]  # address, utility, month (first day), milli-units
#: lease, address, person, role, valid_from, valid_to (first day it no longer holds)
Tenancy = tuple[Hashable, Hashable, Hashable, str, int, "int | None"]
Inspection = tuple[Hashable, int, Hashable, Hashable]  # inspection id, day, employer cvr, p
Custody = tuple[Hashable, str, int, "int | None"]  # p, type, start, end (inclusive)
EmployerIncome = tuple[Hashable, Hashable, int, int]  # p, cvr, month, øre

MAX_MILLI_KWH = 10_000
MIN_SPELL_DAYS = 14


def _months_back(day: int, k: int) -> int:
    """First day of the month ``k`` months before the month of ``day``."""
    return int(month_start_of_month(month_of(np.array([day], dtype=np.int64)) - k)[0])


def _half_up(ore: int, k: int, n: int) -> int:
    """``ore * k / n`` rounded half up to whole øre (``ore >= 0``), exactly on integers."""
    return (2 * ore * k + n) // (2 * n)


def evaluate_partner(
    births: Mapping[Hashable, int],
    events: Iterable[Event],
    relations: Iterable[Relation],
    payments: Iterable[Payment],
    employer_income: Iterable[EmployerIncome],
    as_of: int,
    window_start: int,
    *,
    readings: Iterable[Reading] | None = None,
    tenancies: Iterable[Tenancy] | None = None,
    inspections: Iterable[Inspection] | None = None,
    custody: Iterable[Custody] | None = None,
    benefits: Sequence[Benefit] = DEFAULT_BENEFITS,
    max_milli_kwh: int = MAX_MILLI_KWH,
    min_spell_days: int = MIN_SPELL_DAYS,
) -> dict[tuple[str, Hashable], Case]:
    """The cases of R08-R11, keyed by (rule_id, person); a rule whose register is None is skipped.

    Register facts count when dated on or before ``as_of`` (a reading by its
    month, a lease row by its valid_from, an inspection by its date, a
    custody spell by its start). Readings are in thousandths (kWh or m³).
    """
    relations = list(relations)
    reg = _Registers(events, relations, as_of)
    lines = _net_lines(payments, as_of, window_start)
    residence = {b.code for b in benefits if b.residence_required}
    work_excluded = {b.code for b in benefits if b.work_excluded}
    stops = {b.code for b in benefits if b.stops_in_custody}
    cases: dict[tuple[str, Hashable], Case] = {}

    def emit(case: Case | None) -> None:
        if case is not None:
            cases[(case.rule_id, case.person)] = case

    if readings is not None:
        electricity = {(a, m): v for a, u, m, v in readings if u == "electricity" and m <= as_of}
        for p, plines in lines.items():
            flagged: list[tuple[Line, int]] = []
            anchor = 0
            for line in plines:
                s = line[0]
                if line[2] not in residence:
                    continue
                m2 = _months_back(s, 2)
                held = reg.in_force(p, m2)
                if held is None or STATE_OF.get(held[1]) != RESIDENT:
                    continue
                address = held[2]
                later = [x for x in reg.events.get(p, []) if m2 < x[0] <= s]
                if any(STATE_OF.get(x[1]) != RESIDENT or x[2] != address for x in later):
                    continue
                months = (m2, _months_back(s, 1), _months_back(s, 0))
                values = [electricity.get((address, m)) for m in months]
                if any(v is None or v > max_milli_kwh for v in values):
                    continue
                if not flagged:
                    anchor = m2
                flagged.append((line, line[3]))
            if flagged:
                emit(_case("R08", p, flagged, anchor))

    if tenancies is not None:
        rows = [t for t in tenancies if t[4] <= as_of]
        by_lease: dict[Hashable, list[Tenancy]] = defaultdict(list)
        for t in rows:
            by_lease[t[0]].append(t)
        leases_of: dict[Hashable, set[Hashable]] = defaultdict(set)
        for t in rows:
            leases_of[t[2]].add(t[0])
        linked = {(p, q) for p, q, rel, _, _ in relations if rel == "child"}
        adult_from = {
            q: int(birthday(np.array([b], dtype=np.int64), 18)[0]) for q, b in births.items()
        }
        for p, plines in lines.items():
            flagged = []
            for line in plines:
                s, e, code, _ = line
                if code != "BOERNETILSKUD_ENLIG":
                    continue
                hit = False
                for lease in leases_of.get(p, ()):
                    mine = [t for t in by_lease[lease] if t[2] == p]
                    for other in by_lease[lease]:
                        a = other[2]
                        if a == p or a not in adult_from or (p, a) in linked or (a, p) in linked:
                            continue
                        for own in mine:
                            lo = max(s, own[4], other[4], adult_from[a])
                            hi = min(
                                e,
                                (NO_DAY if own[5] is None else own[5]) - 1,
                                (NO_DAY if other[5] is None else other[5]) - 1,
                            )
                            hit = hit or lo <= hi
                if hit:
                    flagged.append((line, line[3]))
            if flagged:
                emit(_case("R09", p, flagged, flagged[0][0][0]))

    if inspections is not None:
        income: dict[tuple[Hashable, Hashable, int], int] = defaultdict(int)
        for p, cvr, month, amount in employer_income:
            if month <= as_of:
                income[(p, cvr, month)] += amount
        met: dict[Hashable, list[tuple[int, Hashable]]] = defaultdict(list)
        for _, d, cvr, p in inspections:
            if d <= as_of:
                met[p].append((d, cvr))
        for p, plines in lines.items():
            flagged = []
            first_day = NO_DAY
            for line in plines:
                s, e, code, amount = line
                if code not in work_excluded:
                    continue
                days = {
                    d
                    for d, cvr in met.get(p, ())
                    if s <= d <= e and income.get((p, cvr, _months_back(d, 0)), 0) == 0
                }
                if days:
                    first_day = min(first_day, *days)
                    flagged.append((line, _half_up(amount, len(days), e - s + 1)))
            if flagged:
                emit(_case("R10", p, flagged, first_day))

    if custody is not None:
        spells_of: dict[Hashable, list[tuple[int, int]]] = defaultdict(list)
        for p, _, first, last in custody:
            if first <= as_of:
                spells_of[p].append((first, min(as_of, as_of if last is None else last)))
        for p, plines in lines.items():
            merged: list[list[int]] = []
            for first, last in sorted(spells_of.get(p, ())):
                if merged and first <= merged[-1][1] + 1:
                    merged[-1][1] = max(merged[-1][1], last)
                else:
                    merged.append([first, last])
            long = [(a, b) for a, b in merged if b - a + 1 >= min_spell_days]
            flagged = []
            anchor = 0
            for line in plines:
                s, e, code, amount = line
                if code not in stops:
                    continue
                inside = [(max(a, s), min(b, e), a) for a, b in long if max(a, s) <= min(b, e)]
                if not inside:
                    continue
                if not flagged:
                    anchor = min(inside)[2]
                d = sum(hi - lo + 1 for lo, hi, _ in inside)
                flagged.append((line, _half_up(amount, d, e - s + 1)))
            if flagged:
                emit(_case("R11", p, flagged, anchor))
    return cases
