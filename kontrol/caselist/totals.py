"""Totals across cases that count money once (CONTRACT.md v2, section 4b).

One payment line can be flagged by two rules, so a sum of
``amount_at_stake_dkk`` over cases may count the same money twice. Every
summary of the case list that shows such a sum therefore also shows the
*paid amount of the distinct net lines flagged by any rule, each counted once*.

The flagged lines are read from each case's evidence: any JSON object in it
that carries a ``benefit_code`` and an ``amount_dkk`` is a net line (an R01
item, a line of an R04 month, ``line_1``/``line_2`` of an R06 pair, ...),
identified by the person, the benefit and its period, and worth its
``amount_dkk``. Amounts are summed exactly as :class:`~decimal.Decimal`.

Evidence lists at most a fixed number of entries, with the total beside
them (``items_total``, ``lines_total``). Where a list of lines is shortened,
the case's lines are not all known: the distinct total is then a lower bound
and :attr:`CaseListTotals.truncated_cases` says for how many cases.

Memory stays bounded by one person's lines: a person with one case is summed
and forgotten; only persons with several cases keep their line set until
their last case has been read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
from pydantic_core import from_json

#: ``(benefit_code, period_start, period_end)`` of a net line, within one person.
LineKey = tuple[str, str, str]


@dataclass(frozen=True)
class CaseListTotals:
    """The money and head counts a case list shows above its rows."""

    cases: int
    persons: int
    #: Persons with more than one case (from several rules).
    persons_with_several: int
    #: Cases of those persons.
    cases_of_such_persons: int
    #: Sum of ``amount_at_stake_dkk`` over the cases (may count a line twice).
    amount_at_stake: Decimal
    #: Distinct flagged net lines, and the sum of their paid amounts (each once).
    distinct_lines: int
    distinct_paid: Decimal
    #: Cases whose evidence lists only part of their lines: the distinct
    #: figures above are then lower bounds.
    truncated_cases: int
    #: The worklist: the first ``capacity`` cases by priority, and their sum at stake.
    worklist_cases: int
    worklist_amount: Decimal

    @property
    def exact(self) -> bool:
        return self.truncated_cases == 0


def _dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _is_line(node: Mapping[str, Any]) -> bool:
    return "benefit_code" in node and "amount_dkk" in node


def _lines(node: Any, out: dict[LineKey, Decimal]) -> bool:
    """Collect the net lines under ``node`` into ``out``; False if a list of lines is cut short."""
    complete = True
    if isinstance(node, Mapping):
        if _is_line(node):
            amount = _dec(node.get("amount_dkk"))
            if amount is not None:
                key = (
                    str(node.get("benefit_code")),
                    str(node.get("period_start") or ""),
                    str(node.get("period_end") or ""),
                )
                out[key] = amount
            return True
        for name, value in node.items():
            if isinstance(value, list):
                found: dict[LineKey, Decimal] = {}
                ok = _lines(value, found)
                total = node.get(f"{name}_total")
                if found and isinstance(total, int) and total > len(value):
                    ok = False
                out.update(found)
                complete = complete and ok
            elif isinstance(value, Mapping):
                complete = _lines(value, out) and complete
    elif isinstance(node, list):
        for value in node:
            complete = _lines(value, out) and complete
    return complete


def evidence_lines(evidence: str | None) -> tuple[dict[LineKey, Decimal], bool]:
    """The flagged net lines a case's evidence lists, and whether that is all of them."""
    if not evidence:
        return {}, True
    try:
        doc = from_json(evidence)  # pydantic's parser: the same objects as json.loads, faster
    except ValueError:
        return {}, False
    out: dict[LineKey, Decimal] = {}
    if not isinstance(doc, Mapping):
        return out, False
    return out, _lines(
        {"items": doc.get("items") or [], "items_total": doc.get("items_total")}, out
    )


def cases_per_person(queue: pl.DataFrame) -> dict[str, int]:
    """``cpr -> number of cases`` for the persons with more than one case."""
    if queue.is_empty():
        return {}
    several = queue.group_by("cpr").len().filter(pl.col("len") > 1)
    return dict(zip(several["cpr"].to_list(), several["len"].to_list(), strict=True))


def case_list_totals(
    queue: pl.DataFrame, capacity: int = 0, *, several: Mapping[str, int] | None = None
) -> CaseListTotals:
    """Head counts and money of a queue (``cases.parquet`` as a DataFrame)."""
    several = cases_per_person(queue) if several is None else several
    distinct_paid = Decimal("0.00")
    distinct_lines = 0
    truncated = 0
    remaining = dict(several)
    open_persons: dict[str, dict[LineKey, Decimal]] = {}
    rows: Iterable[tuple[Any, ...]] = queue.select("cpr", "evidence").iter_rows()
    for cpr, evidence in rows:
        lines, complete = evidence_lines(evidence)
        truncated += not complete
        if cpr not in remaining:
            distinct_paid += sum(lines.values(), Decimal(0))
            distinct_lines += len(lines)
            continue
        person = open_persons.setdefault(cpr, {})
        person.update(lines)
        remaining[cpr] -= 1
        if remaining[cpr] == 0:
            distinct_paid += sum(person.values(), Decimal(0))
            distinct_lines += len(person)
            del open_persons[cpr], remaining[cpr]
    amounts = queue["amount_at_stake_dkk"] if queue.height else None
    at_stake = Decimal(str(amounts.sum())) if amounts is not None else Decimal("0.00")
    work = queue.filter(pl.col("priority") <= capacity) if capacity else queue.clear()
    work_amount = Decimal(str(work["amount_at_stake_dkk"].sum())) if work.height else Decimal(0)
    return CaseListTotals(
        cases=queue.height,
        persons=queue["cpr"].n_unique() if queue.height else 0,
        persons_with_several=len(several),
        cases_of_such_persons=sum(several.values()),
        amount_at_stake=at_stake.quantize(Decimal("0.01")),
        distinct_lines=distinct_lines,
        distinct_paid=distinct_paid.quantize(Decimal("0.01")),
        truncated_cases=truncated,
        worklist_cases=work.height,
        worklist_amount=work_amount.quantize(Decimal("0.01")),
    )
