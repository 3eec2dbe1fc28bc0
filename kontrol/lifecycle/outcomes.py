"""Outcomes exported from the case system: validated whole, then applied all at once.

Columns: ``case_id``, ``outcome`` (founded, unfounded, no_action),
``closed_date``, optional ``repayment_dkk`` and ``future_saving_dkk``
(decimal with at most 2 decimals, >= 0; never read as a float). Every defect
of the file is reported, each naming its row (the spreadsheet row number)
and column, and the defect, never the cell's content (a cpr typed into a
cell must not reach a terminal or a log); a file with any defect imports
nothing.

What a caseworker's spreadsheet saves is accepted as it is (see
:func:`kontrol.io.read_outcome_cells`): CSV in UTF-8 (with or without BOM),
UTF-16 or Windows-1252, separated by comma, semicolon (Danish Excel) or tab;
or XLSX. Dates as ``YYYY-MM-DD`` or the Danish ``DD-MM-YYYY`` /
``DD.MM.YYYY`` (or date cells); in a semicolon-separated file amounts may
use a decimal comma (``1234,50``; ``1.234,50``). Refused: a formula saved
without its value (money would be lost silently), a cell holding an error
value, a ``closed_date`` after today or before the case was raised (its
first month).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

from kontrol.errors import KontrolError
from kontrol.io import OutcomeCells, UnreadableCell
from kontrol.lifecycle.register import OUTCOMES, REGISTER_SCHEMA

REQUIRED = ("case_id", "outcome", "closed_date")
OPTIONAL = ("repayment_dkk", "future_saving_dkk")
MAX_MONEY = Decimal("999999999999.99")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DANISH_DATE = re.compile(r"(\d{1,2})[-.](\d{1,2})[-.](\d{4})")
_DECIMAL_COMMA = re.compile(r"\d+(,\d+)?|\d{1,3}(\.\d{3})+(,\d+)?")
#: A header name safe to show (cannot be a cpr or other personal value).
_SHOWABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z_ ]{0,38}[A-Za-z0-9_]?")


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
    if isinstance(cell, UnreadableCell):
        raise ValueError(cell.defect)
    return "" if cell is None else str(cell).strip()


def _date(cell: object) -> date:
    if isinstance(cell, datetime):
        if cell.time() != datetime.min.time():
            raise ValueError("a date with a time of day")
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = _text(cell)
    if not text:
        raise ValueError("empty")
    iso, danish = _ISO_DATE.fullmatch(text), _DANISH_DATE.fullmatch(text)
    try:
        if iso:
            year, month, day = (int(part) for part in iso.groups())
            return date(year, month, day)
        if danish:
            day, month, year = (int(part) for part in danish.groups())
            return date(year, month, day)
    except ValueError:
        pass
    raise ValueError("not a date (YYYY-MM-DD or DD-MM-YYYY)")


def _money(cell: object, decimal_comma: bool) -> Decimal | None:
    if isinstance(cell, bool):
        raise ValueError("not a decimal number")
    # a float cell (XLSX): its shortest round-tripping text, e.g. 1234.5, never binary noise
    text = repr(cell) if isinstance(cell, float) else _text(cell).replace(" ", "")
    if text == "":
        return None
    if decimal_comma and "," in text and _DECIMAL_COMMA.fullmatch(text):
        text = text.replace(".", "").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a decimal number") from None
    if not value.is_finite():
        raise ValueError("not a decimal number")
    if value < 0:
        raise ValueError("negative amount")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError("more than 2 decimals")
    if value > MAX_MONEY:
        raise ValueError(f"more than {MAX_MONEY}")
    return value.quantize(Decimal("0.01"))


def _column_label(name: str, position: int) -> str:
    return name if _SHOWABLE_NAME.fullmatch(name) else f"column {position}"


def parse_outcomes(
    file: str, cells: OutcomeCells, register: pl.DataFrame, today: date
) -> list[Outcome]:
    """Validate the whole file against ``register``; raise :class:`OutcomesRefused` if bad.

    ``today`` bounds ``closed_date`` from above; a case's first month (the
    month it was raised in) from below.
    """
    problems: list[str] = []
    header = [name.lower() for name in cells.header]
    columns = {name: index for index, name in enumerate(header) if name}
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise OutcomesRefused(
            file,
            [
                f"missing column(s): {', '.join(missing)} (the first row must name the columns "
                f"{', '.join(REQUIRED + OPTIONAL)}, separated by comma, semicolon or tab)"
            ],
        )
    unknown = [
        _column_label(cells.header[index], index + 1)
        for name, index in sorted(columns.items(), key=lambda item: item[1])
        if name not in REQUIRED + OPTIONAL
    ]
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    if not cells.rows:
        problems.append("no rows")
    raised = {
        row["case_id"]: row["first_as_of"]
        for row in register.select("case_id", "first_as_of").iter_rows(named=True)
    }
    decimal_comma = cells.separator == ";"

    def cell(row: list[object], name: str) -> object:
        index = columns.get(name)
        return row[index] if index is not None and index < len(row) else None

    parsed: list[Outcome] = []
    seen: dict[str, int] = {}
    for number, row in cells.rows:
        values: dict[str, Any] = {}
        case = ""
        try:
            case = _text(cell(row, "case_id"))
        except ValueError as error:
            problems.append(f"row {number}, column case_id: {error}")
        else:
            if not case:
                problems.append(f"row {number}, column case_id: empty")
            elif case not in raised:
                problems.append(f"row {number}, column case_id: not a case of this register")
            elif case in seen:
                problems.append(f"row {number}, column case_id: the same case as row {seen[case]}")
            else:
                seen[case] = number
        try:
            outcome = _text(cell(row, "outcome")).lower()
        except ValueError as error:
            problems.append(f"row {number}, column outcome: {error}")
            outcome = ""
        else:
            if outcome not in OUTCOMES:
                problems.append(f"row {number}, column outcome: not one of {', '.join(OUTCOMES)}")
        try:
            closed = _date(cell(row, "closed_date"))
        except ValueError as error:
            problems.append(f"row {number}, column closed_date: {error}")
        else:
            first = raised.get(case)
            if closed > today:
                problems.append(
                    f"row {number}, column closed_date: in the future (after {today.isoformat()})"
                )
            elif first is not None and closed < first:
                problems.append(
                    f"row {number}, column closed_date: before the case was raised "
                    f"(in the run for {first.isoformat()})"
                )
            else:
                values["closed_date"] = closed
        for name in OPTIONAL:
            try:
                values[name] = _money(cell(row, name), decimal_comma)
            except ValueError as error:
                problems.append(f"row {number}, column {name}: {error}")
        if len(values) == 1 + len(OPTIONAL) and outcome in OUTCOMES and case in seen:
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
