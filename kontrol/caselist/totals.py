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

**Parsed once.** The workbook parses every case's evidence with its rule's
type anyway, so :func:`kontrol.caselist.write_xlsx` counts the totals from
those typed objects as it goes (:func:`evidence_lines` takes either: a
model is read as the JSON object it was parsed from, by the fields that
object had) instead of parsing all evidence a second time here. On the
34,173 cases of a 1M-person high-hit queue (301,242 distinct lines) the JSON
parse and walk cost 0.9 of the 1.0 CPU-s of :func:`case_list_totals`; the
walk over the typed objects costs 0.4 (a line's type is looked up once, its
fields read directly, and scalars skipped before any ``isinstance`` check);
on the benchmark's 200,000 cases 1.8-2.0 against 3.7.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
from pydantic import BaseModel
from pydantic_core import from_json

from kontrol.rules.evidence import CaseHead

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


def _fields(node: BaseModel) -> dict[str, Any]:
    """A parsed evidence object as the JSON object it was parsed from: the fields it had."""
    given = node.model_fields_set
    return {name: value for name, value in node.__dict__.items() if name in given}


#: Per evidence type: (whether it is a line, whether every field is required). When
#: every field is, an object has all of them, as its JSON object had all of them.
_KINDS: dict[type, tuple[bool, bool]] = {}


def _kind(kind: type[BaseModel]) -> tuple[bool, bool]:
    fields = kind.model_fields
    line = "benefit_code" in fields and "amount_dkk" in fields
    known = _KINDS[kind] = (line, all(f.is_required() for f in fields.values()))
    return known


def _model_lines(node: BaseModel, out: dict[LineKey, Decimal]) -> bool:
    """:func:`_lines` of a typed evidence object, read directly where its type allows."""
    known = _KINDS.get(type(node)) or _kind(type(node))
    line, whole = known
    if not whole:  # a field may have been absent from the JSON: read what it had
        return _lines(_fields(node), out)
    fields = node.__dict__
    if not line:
        return _lines(fields, out)
    _put_line(fields, out)
    return True


def _put_line(line: Mapping[str, Any], out: dict[LineKey, Decimal]) -> None:
    """A net line's amount under its key, JSON's or a typed object's fields alike."""
    amount = line.get("amount_dkk")
    if type(amount) is not Decimal:
        amount = _dec(amount)
    if amount is not None:
        code = line.get("benefit_code")
        out[(str(code), _text(line.get("period_start")), _text(line.get("period_end")))] = amount


#: ``str`` of the dates met so far (a few hundred distinct: periods start on the 1st).
_ISO: dict[Any, str] = {}


def _text(value: Any) -> str:
    """``str(value or "")``, a date's ISO text kept once computed."""
    text = _ISO.get(value) if type(value) is date else None
    if text is None:
        text = str(value or "")
        if type(value) is date and len(_ISO) < 100_000:
            _ISO[value] = text
    return text


#: Types that hold no line (JSON's scalars, and a typed object's): skipped without the
#: ``isinstance`` checks against ``Mapping`` and ``BaseModel``, abstract classes whose
#: checks cost about 0.3 us each, most of the walk over a typed object's fields.
_LEAVES = frozenset({str, int, float, bool, type(None), Decimal, date})


def _lines(node: Any, out: dict[LineKey, Decimal]) -> bool:
    """Collect the net lines under ``node`` into ``out``; False if a list of lines is cut short.

    ``node`` is parsed JSON (dicts and lists) or typed evidence (models, read
    as the JSON objects they were parsed from): a date is then a
    :class:`~datetime.date`, whose ``str`` is the JSON's ISO text, and an
    amount a Decimal equal to the JSON's.
    """
    complete = True
    if type(node) in _KINDS:  # typed evidence of a type seen before: no ABC checks
        return _model_lines(node, out)
    if isinstance(node, list):
        for value in node:
            complete = _lines(value, out) and complete
    elif isinstance(node, dict | Mapping):
        if _is_line(node):
            _put_line(node, out)
            return True
        for name, value in node.items():
            if type(value) in _LEAVES:
                continue
            if isinstance(value, list):
                found: dict[LineKey, Decimal] = {}
                ok = _lines(value, found)
                total = node.get(f"{name}_total")
                if found and isinstance(total, int) and total > len(value):
                    ok = False
                out.update(found)
                complete = complete and ok
            elif isinstance(value, dict | Mapping | BaseModel):
                complete = _lines(value, out) and complete
    elif isinstance(node, BaseModel):
        return _model_lines(node, out)
    return complete


_TOP = ("items", "items_total")


def evidence_lines(evidence: str | CaseHead | None) -> tuple[dict[LineKey, Decimal], bool]:
    """The flagged net lines a case's evidence lists, and whether that is all of them.

    ``evidence`` is the JSON text, or the evidence already parsed with its
    rule's type (:class:`~kontrol.rules.evidence.CaseEvidence`): the same lines either way.
    """
    if isinstance(evidence, BaseModel):  # the two fields read below, if its JSON had them
        given = evidence.model_fields_set
        doc: Any = {name: getattr(evidence, name) for name in _TOP if name in given}
    elif not evidence:
        return {}, True
    else:
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


class TotalsTally:
    """:class:`CaseListTotals` counted case by case, in the queue's row order.

    ``add`` each case's cpr and :func:`evidence_lines`, then ``totals()``.
    The order matters only where one person's cases list the same line with
    different amounts (the last listed counts); :func:`case_list_totals` and
    the workbook both read the rows in the queue's order.
    """

    def __init__(
        self, queue: pl.DataFrame, capacity: int = 0, several: Mapping[str, int] | None = None
    ) -> None:
        self.queue, self.capacity = queue, capacity
        self.several = cases_per_person(queue) if several is None else several
        self.distinct_paid = Decimal("0.00")
        self.distinct_lines = 0
        self.truncated = 0
        self.remaining = dict(self.several)
        self.open_persons: dict[str, dict[LineKey, Decimal]] = {}

    def add(self, cpr: str, lines: dict[LineKey, Decimal], complete: bool) -> None:
        self.truncated += not complete
        remaining = self.remaining
        if cpr not in remaining:
            self.distinct_paid += sum(lines.values(), Decimal(0))
            self.distinct_lines += len(lines)
            return
        person = self.open_persons.setdefault(cpr, {})
        person.update(lines)
        remaining[cpr] -= 1
        if remaining[cpr] == 0:
            self.distinct_paid += sum(person.values(), Decimal(0))
            self.distinct_lines += len(person)
            del self.open_persons[cpr], remaining[cpr]

    def totals(self) -> CaseListTotals:
        queue, capacity, several = self.queue, self.capacity, self.several
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
            distinct_lines=self.distinct_lines,
            distinct_paid=self.distinct_paid.quantize(Decimal("0.01")),
            truncated_cases=self.truncated,
            worklist_cases=work.height,
            worklist_amount=work_amount.quantize(Decimal("0.01")),
        )


def case_list_totals(
    queue: pl.DataFrame, capacity: int = 0, *, several: Mapping[str, int] | None = None
) -> CaseListTotals:
    """Head counts and money of a queue (``cases.parquet`` as a DataFrame)."""
    tally = TotalsTally(queue, capacity, several)
    rows: Iterable[tuple[Any, ...]] = queue.select("cpr", "evidence").iter_rows()
    for cpr, evidence in rows:
        tally.add(cpr, *evidence_lines(evidence))
    return tally.totals()
