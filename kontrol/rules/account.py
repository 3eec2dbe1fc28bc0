"""What a rule's Danish account of its case is made of, and helpers several rules share.

Each rule module ends with ``account(case, items) -> AccountParts``: from the
queue row's facts (:class:`CaseFacts`) and the rule's own typed items it
writes the one-sentence Danish summary, the timeline of register events and
the flagged lines a caseworker reads in ``cases.html``/``cases.xlsx``. The
case list (:mod:`kontrol.caselist.account`) adds what every case has (rule
name, status, score reasons) and never looks inside a rule's items itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from kontrol.danish import benefit_da, fmt_dkk, join_da, plural
from kontrol.rules.evidence import LineFacts


@dataclass(frozen=True)
class Event:
    """One register fact on the case's timeline."""

    when: date | None
    text: str
    until: date | None = None


@dataclass(frozen=True)
class Line:
    """One flagged line (or month, or overlapping pair) with the amount it puts at stake."""

    benefit: str
    period_start: date | None
    period_end: date | None
    amount: Decimal | None
    note: str = ""


@dataclass(frozen=True)
class CaseFacts:
    """The queue row's facts an account may use; ``benefits`` are Danish names."""

    benefits: tuple[str, ...]
    amount: Decimal
    start: date
    end: date
    anchor: date
    items_total: int


@dataclass(frozen=True)
class AccountParts:
    """A rule's account: the Danish summary, the timeline and the flagged lines."""

    summary: str
    timeline: list[Event] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


def months_count(lines: Iterable[Line], start: date, end: date) -> int:
    """Distinct months of the listed lines; the case period's months when none is listed."""
    months = {(ln.period_start.year, ln.period_start.month) for ln in lines if ln.period_start}
    if months:
        return len(months)
    return (end.year - start.year) * 12 + end.month - start.month + 1


def paid_tail(benefits: Sequence[str], months: int, amount: Decimal) -> str:
    """``modtager fortsat kontanthjælp: 3 måneder, 36.000,00 kr.``"""
    return (
        f"modtager fortsat {join_da(list(benefits))}: "
        f"{plural(months, 'måned', 'måneder')}, {fmt_dkk(amount)}"
    )


def line_rows(items: Sequence[LineFacts]) -> list[Line]:
    """Flagged net lines as account lines, amount as flagged."""
    return [
        Line(
            benefit=benefit_da(it.benefit_code),
            period_start=it.period_start,
            period_end=it.period_end,
            amount=it.amount_dkk,
        )
        for it in items
    ]
