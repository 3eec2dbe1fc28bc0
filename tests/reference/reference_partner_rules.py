"""Slow, obviously-correct pure-Python reference for rules R08-R11 (CONTRACT.md 4b).

The same spirit as ``reference_rules.py``: restate the contract as directly
as possible and let the property test compare the Polars engine against it.

* "resident at one and the same address on every day" is a loop over every
  day, asking :meth:`Register.lives_at`;
* custody spells are built as a *set of days*: every day of every clipped row
  goes in, and a spell is a maximal run of consecutive days, so "overlap or
  touch" merging needs no interval arithmetic at all;
* a co-tenant's age is checked on every common day;
* prorating uses :func:`reference_rules.prorate` (Decimal, half up).

Choices are the binding readings in docs/contract-readings.md (24-28).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from reference_rules import (
    Line,
    Register,
    add_months,
    age_on,
    earliest,
    every_day,
    first_of_month,
    line_case,
    make_case,
    prorate,
    reference,
)

Row = Mapping[str, Any]

DEFAULT_MAX_MONTHLY_KWH = Decimal("10")
DEFAULT_MIN_SPELL_DAYS = 14

#: The optional extracts each rule reads (CONTRACT.md 4b); a rule runs only
#: when all of them are delivered.
READS = {
    "R08": ("utility_readings",),
    "R09": ("tenancies",),
    "R10": ("inspections",),
    "R11": ("custody",),
}


def parameter(config: Any, rule_id: str, name: str, default: Any) -> Any:
    return (config.rule_parameters or {}).get(rule_id, {}).get(name, default)


class Partners:
    """The delivered optional registers, each cut to facts dated on or before as_of."""

    @classmethod
    def of(cls, reg: Register) -> Partners:
        """The registers :func:`reference_rules.reference_cases` attached to ``reg``."""
        return cls(reg, getattr(reg, "optional", {}))

    def __init__(self, reg: Register, optional: Mapping[str, Iterable[Row] | None]) -> None:
        as_of = reg.as_of
        self.delivered = {name for name, rows in optional.items() if rows is not None}

        def rows(name: str) -> list[dict[str, Any]]:
            return [dict(r) for r in optional.get(name) or []]

        self.readings = [r for r in rows("utility_readings") if r["month"] <= as_of]
        self.tenancies = [r for r in rows("tenancies") if r["valid_from"] <= as_of]
        self.inspections = [r for r in rows("inspections") if r["inspection_date"] <= as_of]
        self.custody = [r for r in rows("custody") if r["start_date"] <= as_of]

    def reads(self, rule_id: str) -> bool:
        """Every register ``rule_id`` reads is delivered (CONTRACT.md 1b)."""
        return all(name in self.delivered for name in READS[rule_id])


# --- R08 ----------------------------------------------------------------------------


@reference("R08")
def rule_r08(reg: Register) -> list[dict[str, Any]]:
    """R08 no electricity used at the registered address."""
    partners = Partners.of(reg)
    if not partners.reads("R08"):
        return []
    limit = Decimal(str(parameter(reg.config, "R08", "max_monthly_kwh", DEFAULT_MAX_MONTHLY_KWH)))
    cases = []
    for cpr, lines in reg.lines_by_person().items():
        flagged = []
        for line in lines:
            if not reg.flag(line.benefit_code, "residence_required"):
                continue
            m = first_of_month(line.period_start)
            m2 = add_months(m, -2)
            address = reg.lives_at(cpr, m2)
            if address is None:
                continue
            if any(reg.lives_at(cpr, day) != address for day in every_day(m2, line.period_start)):
                continue
            low_every_month = True
            for month in (m2, add_months(m, -1), m):
                rows = [
                    r
                    for r in partners.readings
                    if r["address_id"] == address
                    and r["utility"] == "electricity"
                    and r["month"] == month
                ]
                # No reading is not zero use: a missing month keeps the line unflagged.
                if not rows or any(r["consumption"] > limit for r in rows):
                    low_every_month = False
            if low_every_month:
                flagged.append(line)
        if flagged:
            anchor = add_months(first_of_month(earliest(flagged).period_start), -2)
            case = line_case("R08", cpr, flagged, anchor)
            if case:
                cases.append(case)
    return cases


# --- R09 ----------------------------------------------------------------------------


def holds(row: Row, day: date) -> bool:
    return row["valid_from"] <= day and (row["valid_to"] is None or day < row["valid_to"])


def child_linked(reg: Register, a: str, b: str) -> bool:
    """A child relation from a to b or from b to a, whatever its dates.

    "Whatever its dates" includes a ``valid_from`` after ``as_of``: the
    delivered relations are read, not the register's as_of cut (reading 26).
    """
    return any(
        r["relation"] == "child" and {r["cpr"], r["related_cpr"]} == {a, b}
        for r in reg.delivered_relations
    )


@reference("R09")
def rule_r09(reg: Register) -> list[dict[str, Any]]:
    """R09 single-parent supplement while on a lease with another adult."""
    partners = Partners.of(reg)
    if not partners.reads("R09"):
        return []
    cases = []
    for cpr, lines in reg.lines_by_person().items():
        flagged = []
        for line in lines:
            if line.benefit_code != "BOERNETILSKUD_ENLIG":
                continue
            if any(
                _co_lessee_on(reg, cpr, mine, theirs, day)
                for mine in partners.tenancies
                if mine["cpr"] == cpr
                for theirs in partners.tenancies
                if theirs["lease_id"] == mine["lease_id"] and theirs["cpr"] != cpr
                for day in line.days
            ):
                flagged.append(line)
        if flagged:
            case = line_case("R09", cpr, flagged, earliest(flagged).period_start)
            if case:
                cases.append(case)
    return cases


def _co_lessee_on(reg: Register, cpr: str, mine: Row, theirs: Row, day: date) -> bool:
    if not (holds(mine, day) and holds(theirs, day)):
        return False
    birth = reg.birth_date(theirs["cpr"])
    if birth is None or age_on(birth, day) < 18:  # no known birth date: never an adult
        return False
    return not child_linked(reg, cpr, theirs["cpr"])


# --- R10 ----------------------------------------------------------------------------


def employer_income(reg: Register, cpr: str, cvr: str, month: date) -> Decimal | None:
    """P's income from one employer for a month, summed; None when there is no row."""
    rows = [
        r["gross_income_dkk"]
        for r in reg.income
        if r["cpr"] == cpr and r["employer_cvr"] == cvr and r["month"] == month
    ]
    return sum(rows, Decimal("0")) if rows else None


def r10_flagged_days(reg: Register, partners: Partners, cpr: str, line: Line) -> set[date]:
    days = set()
    for insp in partners.inspections:
        d = insp["inspection_date"]
        if insp["cpr"] != cpr or not line.period_start <= d <= line.period_end:
            continue
        income = employer_income(reg, cpr, insp["employer_cvr"], first_of_month(d))
        if income is None or income == 0:
            days.add(d)
    return days


@reference("R10")
def rule_r10(reg: Register) -> list[dict[str, Any]]:
    """R10 met at work during a company inspection while on a benefit."""
    partners = Partners.of(reg)
    if not partners.reads("R10"):
        return []
    cases = []
    for cpr, lines in reg.lines_by_person().items():
        flagged: list[Line] = []
        amounts = []
        days: set[date] = set()
        for line in lines:
            if not reg.flag(line.benefit_code, "work_excluded"):
                continue
            hit = r10_flagged_days(reg, partners, cpr, line)
            if hit:
                flagged.append(line)
                amounts.append(prorate(line.amount, len(hit), len(line.days)))
                days |= hit
        if flagged:
            case = make_case(
                "R10",
                cpr,
                min(days),
                [(line.period_start, line.period_end) for line in flagged],
                amounts,
                [line.benefit_code for line in flagged],
            )
            if case:
                cases.append(case)
    return cases


# --- R11 ----------------------------------------------------------------------------


def custody_spells(reg: Register, partners: Partners, cpr: str) -> list[tuple[date, date]]:
    """P's spells as (first day, last day): maximal runs of consecutive days in custody."""
    held: set[date] = set()
    for row in partners.custody:
        if row["cpr"] != cpr:
            continue
        end = row["end_date"] if row["end_date"] is not None else reg.as_of
        held.update(every_day(row["start_date"], min(end, reg.as_of)))
    spells = []
    for day in sorted(held):
        if day - timedelta(days=1) not in held:
            last = day
            while last + timedelta(days=1) in held:
                last += timedelta(days=1)
            spells.append((day, last))
    return spells


@reference("R11")
def rule_r11(reg: Register) -> list[dict[str, Any]]:
    """R11 paid while deprived of liberty."""
    partners = Partners.of(reg)
    if not partners.reads("R11"):
        return []
    minimum = int(parameter(reg.config, "R11", "min_spell_days", DEFAULT_MIN_SPELL_DAYS))
    cases = []
    for cpr, lines in reg.lines_by_person().items():
        spells = [
            (first, last)
            for first, last in custody_spells(reg, partners, cpr)
            if len(list(every_day(first, last))) >= minimum
        ]
        flagged: list[Line] = []
        amounts = []
        for line in lines:
            if not reg.flag(line.benefit_code, "stops_in_custody"):
                continue
            inside = [day for day in line.days if any(a <= day <= b for a, b in spells)]
            if inside:
                flagged.append(line)
                amounts.append(prorate(line.amount, len(inside), len(line.days)))
        if flagged:
            first_line = earliest(flagged)
            first_day = min(d for d in first_line.days if any(a <= d <= b for a, b in spells))
            anchor = next(a for a, b in spells if a <= first_day <= b)
            case = make_case(
                "R11",
                cpr,
                anchor,
                [(line.period_start, line.period_end) for line in flagged],
                amounts,
                [line.benefit_code for line in flagged],
            )
            if case:
                cases.append(case)
    return cases
