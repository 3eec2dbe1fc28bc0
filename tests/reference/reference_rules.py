"""Slow, obviously-correct pure-Python reference for rules R01-R07.

This module restates CONTRACT.md sections 1, 3 and 4 and the binding readings
of ``docs/contract-readings.md`` as directly as possible, so that the fast
Polars engine (:func:`kontrol.rules.evaluate_rules`) can be checked against it
by property tests. It is written to be *read*, not to be fast:

* a person's state on a day is found by scanning all of that person's events
  and taking the last one on or before the day;
* "on at least one day of [s, e]" is a loop over every day of [s, e];
* shared days of two lines are counted one day at a time;
* money is :class:`decimal.Decimal` throughout, prorating rounds half-up.

Input: plain lists of dicts, one per row of each extract, with values as
``str``, ``datetime.date``, ``decimal.Decimal``, ``int`` or ``None`` (exactly
what ``polars.DataFrame.rows(named=True)`` gives). Output: a sorted list of
case dicts ``{rule_id, cpr, anchor_date, period_start, period_end,
amount_at_stake_dkk, benefit_codes}``.

No Polars is used by the rules; :func:`rows_from_extracts` at the bottom is the
only adapter from LazyFrames, and it imports Polars lazily.

Choices the contract leaves open are taken from docs/contract-readings.md
(quoted as "reading N" below). Where that document is also silent, the choice
is written next to the code as "REFERENCE CHOICE".
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any

Row = Mapping[str, Any]

CENT = Decimal("0.01")
DEFAULT_R04_THRESHOLD = Decimal("1000.00")

RESIDENT = "resident"
ABROAD = "abroad"
DISAPPEARED = "disappeared"
DEAD = "dead"
UNKNOWN = "unknown"

#: CONTRACT.md section 1: the state an event starts.
STATE_OF_EVENT = {
    "address": RESIDENT,
    "immigrated": RESIDENT,
    "emigrated": ABROAD,
    "disappeared": DISAPPEARED,
    "died": DEAD,
}

CASE_FIELDS = (
    "rule_id",
    "cpr",
    "anchor_date",
    "period_start",
    "period_end",
    "amount_at_stake_dkk",
    "benefit_codes",
)


# --- calendar helpers -------------------------------------------------------------


def every_day(start: date, end: date) -> Iterator[date]:
    """Every day from ``start`` to ``end``, both included ("days are counted inclusively")."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, k: int) -> date:
    """The first day of the month ``k`` months after the month of ``month``."""
    index = month.year * 12 + (month.month - 1) + k
    return date(index // 12, index % 12 + 1, 1)


def window_start(as_of: date, window_months: int) -> date:
    """Reading 5: first day of the month ``window_months - 1`` months before as_of's month."""
    return add_months(first_of_month(as_of), -(window_months - 1))


def age_on(birth: date, day: date) -> int:
    """Reading 8: whole years completed on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def round_half_up(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def prorate(amount: Decimal, shared_days: int, line_days: int) -> Decimal:
    """``amount * shared_days / line_days`` rounded half-up to 0.01 (R06).

    The division is carried out with 60 significant digits, far more than any
    amount in decimal(12,2) times 31 needs, so the only rounding that matters
    is the final half-up one.
    """
    with localcontext() as ctx:
        ctx.prec = 60
        exact = amount * shared_days / line_days
        return round_half_up(exact)


# --- the register -------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A net payment line (CONTRACT.md section 1, "Rules work on net payment lines")."""

    cpr: str
    benefit_code: str
    period_start: date
    period_end: date
    amount: Decimal

    @property
    def days(self) -> list[date]:
        return list(every_day(self.period_start, self.period_end))

    @property
    def order(self) -> tuple[date, date, str]:
        """Reading 15: earliest = smallest period_start, then period_end, then benefit_code."""
        return (self.period_start, self.period_end, self.benefit_code)


class Register:
    """The five extracts as plain rows, with the contract's questions as methods."""

    def __init__(
        self,
        persons: Iterable[Row],
        residence_events: Iterable[Row],
        relations: Iterable[Row],
        payments: Iterable[Row],
        income: Iterable[Row],
        as_of: date,
        config: Any,
    ) -> None:
        self.as_of = as_of
        self.config = config
        self.window_start = window_start(as_of, config.window_months)
        self.persons = [dict(r) for r in persons]
        # Section 3 / reading 7: register events count when event_date <= as_of.
        self.events = [dict(r) for r in residence_events if r["event_date"] <= as_of]
        # Reading 7: relations count only when valid_from <= as_of.
        self.relations = [dict(r) for r in relations if r["valid_from"] <= as_of]
        self.payments = [dict(r) for r in payments]
        self.income = [dict(r) for r in income]
        self.benefits = {b.code: b for b in config.benefits}

    # -- persons --

    def birth_date(self, cpr: str) -> date | None:
        """Reading 9: birth dates come from persons.birth_date; unknown when not there."""
        for person in self.persons:
            if person["cpr"] == cpr:
                return person["birth_date"]
        return None

    def is_minor_on(self, cpr: str, day: date) -> bool:
        """Reading 8/9: under 18 on ``day``; a person with no known age is never a minor."""
        birth = self.birth_date(cpr)
        if birth is None:
            return False
        return age_on(birth, day) < 18

    # -- residence --

    def event_in_force(self, cpr: str, day: date) -> dict[str, Any] | None:
        """The last event of ``cpr`` with event_date <= day (events after as_of already gone)."""
        in_force = None
        for event in sorted(self.events, key=lambda e: e["event_date"]):
            if event["cpr"] == cpr and event["event_date"] <= day:
                in_force = event
        return in_force

    def state_on(self, cpr: str, day: date) -> str:
        event = self.event_in_force(cpr, day)
        if event is None:
            return UNKNOWN
        return STATE_OF_EVENT[event["event_type"]]

    def lives_at(self, cpr: str, day: date) -> str | None:
        """The address_id ``cpr`` lives at on ``day``, or None when not resident."""
        event = self.event_in_force(cpr, day)
        if event is None or STATE_OF_EVENT[event["event_type"]] != RESIDENT:
            return None
        return event["address_id"]

    # -- relations --

    @staticmethod
    def relation_holds(relation: Row, day: date) -> bool:
        """Section 1: valid_from <= t and (valid_to is null or t < valid_to)."""
        return relation["valid_from"] <= day and (
            relation["valid_to"] is None or day < relation["valid_to"]
        )

    def relations_from(self, cpr: str, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.relations if r["cpr"] == cpr and r["relation"] == kind]

    def household_on(self, cpr: str, day: date) -> tuple[set[str], set[str]]:
        """R01 / reading 10: (all members, the minor children) of ``cpr``'s household on ``day``."""
        spouses = {
            r["related_cpr"]
            for r in self.relations_from(cpr, "spouse")
            if self.relation_holds(r, day)
        }
        minor_children = {
            r["related_cpr"]
            for r in self.relations_from(cpr, "child")
            if self.relation_holds(r, day) and self.is_minor_on(r["related_cpr"], day)
        }
        other_parents = {
            r["cpr"]
            for r in self.relations
            if r["relation"] == "child"
            and r["related_cpr"] in minor_children
            and r["cpr"] != cpr
            and self.relation_holds(r, day)
        }
        return spouses | minor_children | other_parents, minor_children

    # -- benefits --

    def flag(self, code: str, name: str) -> bool:
        return bool(getattr(self.benefits[code], name))

    # -- payment lines --

    def net_lines(self) -> list[Line]:
        """Section 1 / reading 6: group all payments by (cpr, code, s, e), sum, drop <= 0."""
        sums: dict[tuple[str, str, date, date], Decimal] = defaultdict(Decimal)
        for p in self.payments:
            key = (p["cpr"], p["benefit_code"], p["period_start"], p["period_end"])
            sums[key] += p["amount_dkk"]
        return [Line(*key, amount) for key, amount in sums.items() if amount > 0]

    def in_window(self, day: date) -> bool:
        """Reading 5: window_start <= day <= as_of."""
        return self.window_start <= day <= self.as_of

    def window_lines(self) -> list[Line]:
        """Net lines whose period_start is in the window."""
        return [line for line in self.net_lines() if self.in_window(line.period_start)]

    def lines_by_person(self) -> dict[str, list[Line]]:
        by_person: dict[str, list[Line]] = defaultdict(list)
        for line in self.window_lines():
            by_person[line.cpr].append(line)
        return by_person

    def window_months(self) -> list[date]:
        """Every month m with window_start <= m <= as_of (reading 12)."""
        months = []
        month = self.window_start
        while month <= self.as_of:
            months.append(month)
            month = add_months(month, 1)
        return months

    def income_in(self, cpr: str, month: date) -> Decimal:
        """I: P's gross income for ``month`` summed over employers (and any repeated rows)."""
        total = Decimal("0")
        for row in self.income:
            if row["cpr"] == cpr and row["month"] == month and self.in_window(row["month"]):
                total += row["gross_income_dkk"]
        return total


# --- cases ------------------------------------------------------------------------------


def make_case(
    rule_id: str,
    cpr: str,
    anchor_date: date,
    periods: Iterable[tuple[date, date]],
    amounts: Iterable[Decimal],
    codes: Iterable[str],
) -> dict[str, Any] | None:
    """Section 4 / reading 16: one case gathering all flagged lines; None when amount <= 0."""
    periods = list(periods)
    amount = sum(amounts, Decimal("0"))
    if amount <= 0:
        return None
    return {
        "rule_id": rule_id,
        "cpr": cpr,
        "anchor_date": anchor_date,
        "period_start": min(s for s, _ in periods),
        "period_end": max(e for _, e in periods),
        "amount_at_stake_dkk": round_half_up(amount),
        "benefit_codes": tuple(sorted(set(codes))),
    }


def line_case(
    rule_id: str, cpr: str, flagged: list[Line], anchor_date: date
) -> dict[str, Any] | None:
    return make_case(
        rule_id,
        cpr,
        anchor_date,
        [(line.period_start, line.period_end) for line in flagged],
        [line.amount for line in flagged],
        [line.benefit_code for line in flagged],
    )


def earliest(lines: list[Line]) -> Line:
    return min(lines, key=lambda line: line.order)


# --- the registry ------------------------------------------------------------------------

RuleFn = Callable[["Register"], list[dict[str, Any]]]

#: rule id -> its reference implementation; filled by :func:`reference`.
REFERENCE: dict[str, RuleFn] = {}


def reference(rule_id: str) -> Callable[[RuleFn], RuleFn]:
    """Register ``fn`` as the reference implementation of ``rule_id``.

    A rule's reference may live in this module or in any sibling module
    ``reference_*.py`` (e.g. ``reference_partner_rules.py``); those are
    imported by :func:`reference_rules`. The registry test
    (tests/rules/test_rules_registry.py) fails, naming the rule, when a rule of
    the catalogue has no reference here.
    """

    def register(fn: RuleFn) -> RuleFn:
        if rule_id in REFERENCE:
            raise ValueError(f"two reference implementations of {rule_id}")
        REFERENCE[rule_id] = fn
        return fn

    return register


def reference_rules() -> dict[str, RuleFn]:
    """Every registered reference rule, by rule id, after importing the sibling modules."""
    for path in sorted(Path(__file__).resolve().parent.glob("reference_*.py")):
        if path.stem != "reference_rules":
            importlib.import_module(path.stem)
    return dict(sorted(REFERENCE.items()))


# --- the rules ---------------------------------------------------------------------------


@reference("R01")
def rule_r01(reg: Register) -> list[dict[str, Any]]:
    """R01 family abroad."""
    cases = []
    for cpr, lines in reg.lines_by_person().items():
        flagged = []
        for line in lines:
            s = line.period_start
            if not reg.flag(line.benefit_code, "residence_required"):
                continue
            if reg.state_on(cpr, s) != RESIDENT:
                continue
            members, minor_children = reg.household_on(cpr, s)
            if not minor_children:
                continue
            if all(reg.state_on(member, s) == ABROAD for member in members):
                flagged.append(line)
        if flagged:
            first = earliest(flagged)
            members, _ = reg.household_on(cpr, first.period_start)
            emigrations = []
            for member in members:
                event = reg.event_in_force(member, first.period_start)
                assert event is not None and event["event_type"] == "emigrated"
                emigrations.append(event["event_date"])
            case = line_case("R01", cpr, flagged, max(emigrations))
            if case:
                cases.append(case)
    return cases


def _state_rule(
    reg: Register, rule_id: str, state: str, residence_required: bool
) -> list[dict[str, Any]]:
    """R02, R03, R07: the line is flagged when P is in ``state`` on s.

    Anchor: the date of the event in force on s of the earliest flagged line
    (reading 11). For R03 ("date of death") this is the `died` event in force
    on s -- REFERENCE CHOICE for the (odd) register with more than one `died`
    event.
    """
    cases = []
    for cpr, lines in reg.lines_by_person().items():
        flagged = [
            line
            for line in lines
            if (not residence_required or reg.flag(line.benefit_code, "residence_required"))
            and reg.state_on(cpr, line.period_start) == state
        ]
        if flagged:
            event = reg.event_in_force(cpr, earliest(flagged).period_start)
            assert event is not None
            case = line_case(rule_id, cpr, flagged, event["event_date"])
            if case:
                cases.append(case)
    return cases


@reference("R02")
def rule_r02(reg: Register) -> list[dict[str, Any]]:
    """R02 paid while abroad."""
    return _state_rule(reg, "R02", ABROAD, residence_required=True)


@reference("R03")
def rule_r03(reg: Register) -> list[dict[str, Any]]:
    """R03 paid after death (any benefit)."""
    return _state_rule(reg, "R03", DEAD, residence_required=False)


@reference("R07")
def rule_r07(reg: Register) -> list[dict[str, Any]]:
    """R07 paid while disappeared."""
    return _state_rule(reg, "R07", DISAPPEARED, residence_required=True)


def r04_threshold(config: Any) -> Decimal:
    params = (config.rule_parameters or {}).get("R04", {})
    return Decimal(str(params.get("income_threshold_dkk", DEFAULT_R04_THRESHOLD)))


@reference("R04")
def rule_r04(reg: Register) -> list[dict[str, Any]]:
    """R04 income while on an income-tested benefit (reading 12)."""
    threshold = r04_threshold(reg.config)
    cases = []
    for cpr, lines in reg.lines_by_person().items():
        tested = [line for line in lines if reg.flag(line.benefit_code, "income_tested")]
        flagged_months = []
        month_amounts = []
        month_lines: list[Line] = []
        for month in reg.window_months():
            in_month = [line for line in tested if first_of_month(line.period_start) == month]
            b = sum((line.amount for line in in_month), Decimal("0"))
            i = reg.income_in(cpr, month)
            if b > 0 and i > threshold:
                flagged_months.append(month)
                month_amounts.append(min(b, i))
                month_lines.extend(in_month)
        if flagged_months:
            case = make_case(
                "R04",
                cpr,
                min(flagged_months),
                [(line.period_start, line.period_end) for line in month_lines],
                month_amounts,
                [line.benefit_code for line in month_lines],
            )
            if case:
                cases.append(case)
    return cases


def r05_partners(reg: Register, cpr: str, s: date, e: date) -> set[str]:
    """Reading 13: spouses (P->A holding on a day of [s, e]) and other parents of P's children."""
    spouses = {
        r["related_cpr"]
        for r in reg.relations_from(cpr, "spouse")
        if any(reg.relation_holds(r, day) for day in every_day(s, e))
    }
    children = {r["related_cpr"] for r in reg.relations_from(cpr, "child")}
    other_parents = {
        r["cpr"] for r in reg.relations if r["relation"] == "child" and r["related_cpr"] in children
    }
    return (spouses | other_parents) - {cpr}


@reference("R05")
def rule_r05(reg: Register) -> list[dict[str, Any]]:
    """R05 single-parent supplement while living with the other parent or a spouse."""
    cases = []
    for cpr, lines in reg.lines_by_person().items():
        flagged = []
        for line in lines:
            if line.benefit_code != "BOERNETILSKUD_ENLIG":
                continue
            partners = r05_partners(reg, cpr, line.period_start, line.period_end)
            shares_address = any(
                reg.lives_at(cpr, day) is not None
                and reg.lives_at(cpr, day) == reg.lives_at(partner, day)
                for partner in partners
                for day in line.days
            )
            if shares_address:
                flagged.append(line)
        if flagged:
            case = line_case("R05", cpr, flagged, earliest(flagged).period_start)
            if case:
                cases.append(case)
    return cases


@reference("R06")
def rule_r06(reg: Register) -> list[dict[str, Any]]:
    """R06 overlapping income-replacement benefits (reading 14)."""
    cases = []
    for cpr, lines in reg.lines_by_person().items():
        replacing = sorted(
            (line for line in lines if reg.flag(line.benefit_code, "income_replacement")),
            key=lambda line: line.order,
        )
        pair_amounts = []
        pair_lines: list[Line] = []
        first_shared_days = []
        for i, one in enumerate(replacing):
            for other in replacing[i + 1 :]:
                if one.benefit_code == other.benefit_code:
                    continue
                shared = [day for day in one.days if day in other.days]
                if not shared:
                    continue
                d = len(shared)
                amount = min(
                    prorate(one.amount, d, len(one.days)),
                    prorate(other.amount, d, len(other.days)),
                )
                pair_amounts.append(amount)
                pair_lines.extend([one, other])
                first_shared_days.append(min(shared))
        if pair_amounts:
            case = make_case(
                "R06",
                cpr,
                min(first_shared_days),
                [(line.period_start, line.period_end) for line in pair_lines],
                pair_amounts,
                [line.benefit_code for line in pair_lines],
            )
            if case:
                cases.append(case)
    return cases


def reference_cases(
    persons: Iterable[Row],
    residence_events: Iterable[Row],
    relations: Iterable[Row],
    payments: Iterable[Row],
    income: Iterable[Row],
    as_of: date,
    config: Any,
    **optional: Iterable[Row] | None,
) -> list[dict[str, Any]]:
    """All cases of every registered reference rule, sorted by (rule_id, cpr).

    ``optional`` holds the partner registers of CONTRACT.md section 1b by
    name; a register that is absent (or None) is not delivered, and the rules
    reading it find nothing (``reference_partner_rules``).
    """
    relations = list(relations)
    reg = Register(persons, residence_events, relations, payments, income, as_of, config)
    reg.optional = dict(optional)
    reg.delivered_relations = [dict(r) for r in relations]
    cases = [case for rule in reference_rules().values() for case in rule(reg)]
    return sorted(cases, key=lambda c: (c["rule_id"], c["cpr"]))


def case_tuple(case: Mapping[str, Any]) -> tuple[Any, ...]:
    """A case as a hashable tuple in CASE_FIELDS order, amount quantized, codes a tuple."""
    return (
        case["rule_id"],
        case["cpr"],
        case["anchor_date"],
        case["period_start"],
        case["period_end"],
        round_half_up(Decimal(case["amount_at_stake_dkk"])),
        tuple(case["benefit_codes"]),
    )


# --- adapter (the only place that touches Polars) ---------------------------------------


def rows_from_extracts(extracts: Any) -> dict[str, list[dict[str, Any]]]:
    """``kontrol.extracts.Extracts`` -> {extract name: list of row dicts}."""
    return {name: frame.collect().rows(named=True) for name, frame in extracts.items()}


def reference_cases_from_extracts(extracts: Any, as_of: date, config: Any) -> list[dict[str, Any]]:
    return reference_cases(**rows_from_extracts(extracts), as_of=as_of, config=config)
