"""Outcomes exported from the case system: validated whole, then applied all at once.

Columns: ``case_id``, ``outcome`` (founded, unfounded, no_action),
``closed_date`` (YYYY-MM-DD), optional ``repayment_dkk`` and
``future_saving_dkk`` (decimal with at most 2 decimals, >= 0; never read as a
float). Every defect of the file is reported, each naming its row (the
spreadsheet row number, the header being row 1) and column; a file with any
defect imports nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

from kontrol.errors import KontrolError
from kontrol.lifecycle.register import OUTCOMES, REGISTER_SCHEMA

REQUIRED = ("case_id", "outcome", "closed_date")
OPTIONAL = ("repayment_dkk", "future_saving_dkk")
MAX_MONEY = Decimal("999999999999.99")


class OutcomesRefused(KontrolError):
    """The outcomes file has defects; nothing was imported."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{file}: {len(problems)} problem(s), nothing imported:\n{shown}{more}")


@dataclass(frozen=True)
class Outcome:
    case_id: str
    outcome: str
    closed_date: date
    repayment_dkk: Decimal | None
    future_saving_dkk: Decimal | None


def _text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


def _date(cell: object) -> date:
    if isinstance(cell, datetime):
        if cell.time() != datetime.min.time():
            raise ValueError("has a time of day")
        return cell.date()
    if isinstance(cell, date):
        return cell
    return date.fromisoformat(_text(cell))


def _money(cell: object) -> Decimal | None:
    # a float cell (XLSX): its shortest round-tripping text, e.g. 1234.5, never binary noise
    text = repr(cell) if isinstance(cell, float) else _text(cell).replace(" ", "")
    if text == "":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(f"not a decimal number: {text!r}") from error
    if not value.is_finite():
        raise ValueError(f"not a decimal number: {text!r}")
    if value < 0:
        raise ValueError(f"negative amount {text}")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"more than 2 decimals: {text}")
    if value > MAX_MONEY:
        raise ValueError(f"too large: {text}")
    return value.quantize(Decimal("0.01"))


def parse_outcomes(
    file: str, header: list[str], rows: list[list[object]], known_case_ids: set[str]
) -> list[Outcome]:
    """Validate the whole file; raise :class:`OutcomesRefused` listing every defect."""
    problems: list[str] = []
    columns = {name: index for index, name in enumerate(header) if name}
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise OutcomesRefused(file, [f"missing column(s): {', '.join(missing)}"])
    unknown = sorted(set(columns) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    if not rows:
        problems.append("no rows")

    def cell(row: list[object], name: str) -> object:
        index = columns.get(name)
        return row[index] if index is not None and index < len(row) else None

    parsed: list[Outcome] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=2):
        values: dict[str, Any] = {}
        case = _text(cell(row, "case_id"))
        if not case:
            problems.append(f"row {number}, column case_id: empty")
        elif case not in known_case_ids:
            problems.append(f"row {number}, column case_id: unknown case id {case!r}")
        elif case in seen:
            problems.append(
                f"row {number}, column case_id: {case!r} already given in row {seen[case]}"
            )
        else:
            seen[case] = number
        outcome = _text(cell(row, "outcome"))
        if outcome not in OUTCOMES:
            problems.append(
                f"row {number}, column outcome: {outcome!r} is not one of {', '.join(OUTCOMES)}"
            )
        try:
            values["closed_date"] = _date(cell(row, "closed_date"))
        except ValueError as error:
            problems.append(
                f"row {number}, column closed_date: not a date YYYY-MM-DD "
                f"({_text(cell(row, 'closed_date'))!r}: {error})"
            )
        for name in OPTIONAL:
            try:
                values[name] = _money(cell(row, name))
            except ValueError as error:
                problems.append(f"row {number}, column {name}: {error}")
        if len(values) == 1 + len(OPTIONAL):
            parsed.append(
                Outcome(case, outcome, values["closed_date"], *(values[n] for n in OPTIONAL))
            )
    if problems:
        raise OutcomesRefused(file, problems)
    return parsed


def apply_outcomes(register: pl.DataFrame, outcomes: list[Outcome]) -> pl.DataFrame:
    """The register with the outcomes set (a later import corrects an earlier one)."""
    by_id = {o.case_id: o for o in outcomes}
    rows = register.to_dicts()
    for row in rows:
        found = by_id.get(row["case_id"])
        if found is not None:
            row.update(
                outcome=found.outcome,
                closed_date=found.closed_date,
                repayment_dkk=found.repayment_dkk,
                future_saving_dkk=found.future_saving_dkk,
            )
    return pl.DataFrame(rows, schema=REGISTER_SCHEMA)
