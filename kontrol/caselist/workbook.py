"""``cases.xlsx``: every case as a workbook, streamed, byte-identical for the same queue.

Sheets: ``Sager`` (one row per case, in priority order), ``Linjer`` (the
flagged lines of every case), ``Tidslinje`` (the register events) and
``Overblik`` (the totals, with money counted once: CONTRACT.md v2 section 4b).
Amounts are numeric cells formatted as kroner; Excel stores numbers as
doubles, which hold a ``decimal(14,2)`` amount exactly to the øre (15
significant digits). The exact amount stays in ``cases.parquet`` and in the page.

**Streaming.** The workbook is written with xlsxwriter's ``constant_memory``
mode: each row goes to disk as soon as it is written (xlsxwriter's own
temporary files), and cases are read from the queue one at a time, so memory
does not grow with the number of cases. The finished workbook is streamed
into the binary writer the caller gives (see :func:`kontrol.io.write_stream`).

**Detail sheets at volume.** ``Sager`` holds every case. ``Linjer`` and
``Tidslinje`` hold the lines and events of the first ``detail_cases`` cases
by priority (``caselist.xlsx_detail_cases``, default 10,000): they are about
nine tenths of the cells, and writing a cell costs the same whoever reads
it. ``Overblik`` states the cut; every case's lines stay in ``cases.parquet``.

**Excel's row limit.** A sheet holds at most 1,048,576 rows. A sheet that
would hold more continues on a new sheet of the same kind (``Sager (2)``,
``Linjer (2)``, ...), each with its headings; nothing is cut and no sheet is
overfilled. ``Overblik`` says how the sheets are split.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from math import isinf, isnan
from typing import IO, Any

import polars as pl
import xlsxwriter

from kontrol.caselist.account import CaseAccount, case_account, parse_evidence
from kontrol.caselist.totals import (
    CaseListTotals,
    TotalsTally,
    case_list_totals,
    cases_per_person,
    evidence_lines,
)

KR_FORMAT = '#,##0.00 "kr."'
DATE_FORMAT = "dd.mm.yyyy"
#: Workbook creation date when the queue's run id does not start with a date.
FALLBACK_CREATED = datetime(2000, 1, 1)
#: Excel's limit, headings included.
EXCEL_MAX_ROWS = 1_048_576
DEFAULT_DETAIL_CASES = 10_000

CASE_HEADINGS = (
    "Prioritet",
    "Status",
    "Regel",
    "Regelnavn",
    "Sags-id",
    "CPR-nr.",
    "Skæringsdato",
    "Periode fra",
    "Periode til",
    "Beløb (kr.)",
    "Ydelser",
    "Resumé",
    "Anomali-score",
    "Hjemmel",
    "Månedens arbejdsliste",
    "Samme person: sager",
)
LINE_HEADINGS = (
    "Prioritet",
    "Sags-id",
    "CPR-nr.",
    "Regel",
    "Ydelse",
    "Periode fra",
    "Periode til",
    "Beløb (kr.)",
    "Bemærkning",
)
EVENT_HEADINGS = ("Prioritet", "Sags-id", "CPR-nr.", "Regel", "Dato", "Til", "Hændelse")
OVERVIEW_HEADINGS = ("Opgørelse", "Værdi", "Forklaring")

CASE_WIDTHS = (9, 9, 7, 30, 34, 12, 12, 12, 12, 15, 30, 70, 13, 60, 12, 12)
LINE_WIDTHS = (9, 34, 12, 7, 36, 12, 12, 15, 70)
EVENT_WIDTHS = (9, 34, 12, 7, 12, 12, 90)


def _created(queue: pl.DataFrame) -> datetime:
    if "run_id" in queue.columns and queue.height:
        run_id = str(queue["run_id"][0] or "")
        try:
            return datetime.combine(date.fromisoformat(run_id[:10]), datetime.min.time())
        except ValueError:
            pass
    return FALLBACK_CREATED


class _Sheets:
    """One kind of sheet (``Sager``, ``Linjer``, ...), continued on a new sheet at the row limit."""

    def __init__(
        self,
        book: _Book,
        name: str,
        headings: tuple[str, ...],
        widths: tuple[float, ...],
        max_rows: int,
    ) -> None:
        self.book, self.name, self.headings, self.widths = book, name, headings, widths
        self.max_rows = max_rows
        self.sheets: list[tuple[Any, int]] = []  # (worksheet, data rows)
        self._new()

    def _new(self) -> None:
        if self.sheets:
            self._close_last()
        n = len(self.sheets) + 1
        ws = self.book.wb.add_worksheet(self.name if n == 1 else f"{self.name} ({n})")
        for c, (h, w) in enumerate(zip(self.headings, self.widths, strict=True)):
            ws.write_string(0, c, h, self.book.head)
            ws.set_column(c, c, w)
        ws.freeze_panes(1, 0)
        self.sheets.append((ws, 0))

    def _close_last(self) -> None:
        ws, rows = self.sheets[-1]
        ws.autofilter(0, 0, max(rows, 1), len(self.headings) - 1)

    def append(self, cells: list[tuple[Any, Any]]) -> None:
        ws, rows = self.sheets[-1]
        if rows + 1 >= self.max_rows:
            self._new()
            ws, rows = self.sheets[-1]
        rows += 1
        self.book.write_row(ws, rows, cells)
        self.sheets[-1] = (ws, rows)

    def close(self) -> None:
        self._close_last()

    @property
    def names(self) -> list[str]:
        return [ws.get_name() for ws, _ in self.sheets]


class _Book:
    def __init__(self, out: IO[bytes], created: datetime) -> None:
        self.wb = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_numbers": False})
        self.wb.set_properties(
            {
                "title": "Kontrolsager",
                "subject": "Prioriteret liste over kontrolsager",
                "author": "kontrol",
                "created": created,
            }
        )
        wb = self.wb
        self.head = wb.add_format(
            {"bold": True, "bg_color": "#F1F3F5", "bottom": 1, "text_wrap": True}
        )
        self.kr = wb.add_format({"num_format": KR_FORMAT, "valign": "top"})
        self.day = wb.add_format({"num_format": DATE_FORMAT, "valign": "top"})
        self.text = wb.add_format({"valign": "top"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.score = wb.add_format({"num_format": "0.00", "valign": "top"})
        self._serials: dict[date, str] = {}
        #: Each format's index as text, by format (None: ``text``), once it has one.
        self._xfs: dict[Any, str] = {}
        #: Per column, the last text written there and its XML: the text of the cell
        #: above, more often than not on Linjer and Tidslinje (a case's ids on each of
        #: its lines), and in Sager's status, rule and legal-basis columns.
        self._texts: list[tuple[str | None, str]] = [(None, "")] * len(_COLUMN_NAMES)

    def put(self, ws: Any, r: int, c: int, value: Any, fmt: Any) -> None:
        fmt = fmt or self.text
        if value is None:
            ws.write_blank(r, c, None, fmt)
        elif isinstance(value, date):
            ws.write_datetime(r, c, datetime.combine(value, datetime.min.time()), self.day)
        elif isinstance(value, bool):
            ws.write_boolean(r, c, value, fmt)
        elif isinstance(value, int | float):
            ws.write_number(r, c, value, fmt)
        elif isinstance(value, Decimal):
            ws.write_number(r, c, float(value), fmt)
        else:
            ws.write_string(r, c, str(value), fmt)

    def write_row(self, ws: Any, r: int, cells: list[tuple[Any, Any]]) -> None:
        """Row ``r`` of ``ws``: the same XML as :meth:`put` cell by cell, at a tenth of the cost.

        xlsxwriter spends about 15 us on a cell (its ``constant_memory`` path builds
        each element through several generic helpers), which made the workbook the
        longest step of a run at volume. This writes the row's ``<row>`` element in
        one string into the worksheet's own row file, exactly as xlsxwriter's
        ``_write_single_row`` would (cell types, formats, escapes, the 32,767-unit
        string limit), and keeps its dimension and row bookkeeping up to date; a
        test compares the workbook's bytes with the cell-by-cell path.

        The types a case row holds (``str``, ``int``, ``float``, ``Decimal``,
        ``date``, None) take a path chosen by exact type, with each format's
        index kept as text; anything else (a ``datetime``, a ``bool``, a ``str``
        subclass) goes through :meth:`_cell`, the general path. A text equal to
        the last one written in its column reuses that one's XML. On the 34,173
        cases of a 1M-person high-hit queue (2.0 million cells, three quarters
        of them on ``Linjer``) the workbook's rows took 4.4-5.9 CPU seconds
        before, 1.9-2.1 after (accounts and zip excluded; 2.6-2.8 without
        reusing the text above).
        """
        if ws.table:  # the headings (or any row written through xlsxwriter): out first
            ws._write_single_row(r)
        ws._check_dimensions(r, 0)
        ws._check_dimensions(r, len(cells) - 1)
        ws.previous_row = r
        row = r + 1
        at = f'{row}" s="'  # a cell is _CELL_OPEN[c] + at + its format's index + the rest
        xfs, texts = self._xfs, self._texts
        parts = [f'<row r="{row}">']
        append = parts.append
        for c, (value, fmt) in enumerate(cells):
            kind = type(value)
            if kind is str:
                xf = xfs.get(fmt) or self._xf(fmt)
                above = texts[c]
                if above[0] != value:
                    above = texts[c] = (value, _inline_body(value))
                append(_CELL_OPEN[c] + at + xf + above[1])
            elif value is None:
                xf = xfs.get(fmt) or self._xf(fmt)
                append(_CELL_OPEN[c] + at + xf + '"/>')
            elif kind is int or kind is Decimal or kind is float:
                xf = xfs.get(fmt) or self._xf(fmt)
                number = value if kind is int else float(value)
                if kind is not int and (isnan(number) or isinf(number)):
                    raise TypeError("NAN/INF not supported in write_number()")
                append(f'{_CELL_OPEN[c]}{at}{xf}"><v>{number:.16G}</v></c>')
            elif kind is date:  # always the date format, as put() writes it
                day = xfs.get(self.day) or self._xf(self.day)
                append(f'{_CELL_OPEN[c]}{at}{day}"><v>{self._serial(value)}</v></c>')
            else:
                append(self._cell(f"{_COLUMN_NAMES[c]}{row}", value, fmt))
        append("</row>")
        ws.fh.write("".join(parts))

    def _cell(self, ref: str, value: Any, fmt: Any) -> str:
        """One cell's XML, any value :meth:`put` takes (the general path of :meth:`write_row`)."""
        if isinstance(value, date):  # always the date format, as put() writes it
            day = self._xfs.get(self.day) or self._xf(self.day)
            return f'<c r="{ref}" s="{day}"><v>{self._serial(value)}</v></c>'
        xf = self._xfs.get(fmt) or self._xf(fmt)
        if value is None:
            return f'<c r="{ref}" s="{xf}"/>'
        if isinstance(value, bool):
            return f'<c r="{ref}" s="{xf}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, int | float | Decimal):
            number = float(value) if isinstance(value, Decimal) else value
            if isnan(number) or isinf(number):
                raise TypeError("NAN/INF not supported in write_number()")
            return f'<c r="{ref}" s="{xf}"><v>{number:.16G}</v></c>'
        return _inline_string(ref, xf, str(value))

    def _xf(self, fmt: Any) -> str:
        """A format's index as text, assigned when first written (as in xlsxwriter), then kept."""
        text = self._xfs[fmt] = str((fmt or self.text)._get_xf_index())
        return text

    def _serial(self, value: date) -> str:
        """A date's Excel serial number as xlsxwriter writes it (cached: dates repeat)."""
        text = self._serials.get(value)
        if text is None:
            ws = self.wb.worksheets()[0]
            day = datetime.combine(value, datetime.min.time())
            text = self._serials[value] = f"{ws._convert_date_time(day):.16G}"
        return text


#: Column letters of the sheets' columns (at most 26 here).
_COLUMN_NAMES = tuple(chr(ord("A") + c) for c in range(26))
#: The start of a cell's element in each column, up to its row number.
_CELL_OPEN = tuple(f'<c r="{name}' for name in _COLUMN_NAMES)
#: Excel's string limit in UTF-16 units (xlsxwriter truncates to it).
_XLS_STRMAX = 32767
#: What needs xlsxwriter's control-character escape (``_xHHHH_``), or its escape of such a text.
_NEEDS_ESCAPE = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_ESCAPED_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")


def _inline_string(ref: str, xf: str, text: str) -> str:
    """A string cell as xlsxwriter writes it in ``constant_memory`` mode (an inline string)."""
    return f'<c r="{ref}" s="{xf}{_inline_body(text)}'


def _inline_body(text: str) -> str:
    """A string cell's XML after its format's index: ``" t="inlineStr"><is>...</is></c>``.

    Whether the text needs xlsxwriter's escapes is asked of ``str.isprintable``
    and ``in`` first: every character the escape is for (C0 controls but tab and
    newline, U+FFFE, U+FFFF) is unprintable, and ``_xHHHH_`` holds ``_x``. That
    costs about 0.5 us for a 120-character Danish summary, the regular
    expression 3.6 us, and nearly every text passes; the rest is then searched
    as before.
    """
    if len(text) > _XLS_STRMAX // 2 and len(text.encode("utf-16-le", "surrogatepass")) // 2 > (
        _XLS_STRMAX
    ):
        units = 0
        for index, char in enumerate(text):
            units += 2 if ord(char) > 0xFFFF else 1
            if units > _XLS_STRMAX:
                text = text[:index]
                break
    if (not text.isprintable() or "_x" in text) and _NEEDS_ESCAPE.search(text):
        text = _ESCAPED_ESCAPE.sub(r"_x005F\1", text)
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    if text.startswith("<r>") and text.endswith("</r>"):  # xlsxwriter's rich-string shortcut
        return f'" t="inlineStr"><is>{text}</is></c>'
    # xlsxwriter's ``^\s`` / ``\s$`` tests: the same (str.isspace is what ``\s`` matches, and
    # ``$`` before a final newline still means the last character is whitespace)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _in_priority_order(queue: pl.DataFrame) -> bool:
    return not queue.height or queue["priority"].is_sorted()


def _accounts(queue: pl.DataFrame) -> Iterator[dict[str, Any]]:
    """Rows in priority order, one at a time (the queue is normally sorted already)."""
    if not _in_priority_order(queue):
        queue = queue.sort("priority")
    yield from queue.iter_rows(named=True)


def write_xlsx(
    queue: pl.DataFrame,
    out: IO[bytes],
    *,
    capacity: int = 0,
    totals: CaseListTotals | None = None,
    detail_cases: int | None = DEFAULT_DETAIL_CASES,
    max_rows: int = EXCEL_MAX_ROWS,
) -> CaseListTotals:
    """Stream the workbook of a queue (``cases.parquet`` as a DataFrame) into ``out``.

    ``out`` is a seekable binary writer (a file opened by :mod:`kontrol.io`,
    or a ``BytesIO``). ``detail_cases`` caps the cases on the detail sheets
    (None: every case). ``max_rows`` is Excel's sheet limit; tests lower it.

    Returns the totals shown on ``Overblik``: ``totals`` if given; otherwise
    counted from the evidence this pass parses for the accounts anyway (see
    :mod:`kontrol.caselist.totals`), the same as :func:`case_list_totals`, so
    the page can be rendered with them afterwards without parsing every
    case's evidence again. (A queue not in priority order, which the workbook
    reads re-sorted, has them counted by :func:`case_list_totals` first.)
    """
    several = cases_per_person(queue)
    tally: TotalsTally | None = None
    if totals is None and _in_priority_order(queue):
        tally = TotalsTally(queue, capacity, several)
    elif totals is None:
        totals = case_list_totals(queue, capacity, several=several)
    book = _Book(out, _created(queue))
    text, day, kr, wrap = book.text, book.day, book.kr, book.wrap
    cases = _Sheets(book, "Sager", CASE_HEADINGS, CASE_WIDTHS, max_rows)
    lines = _Sheets(book, "Linjer", LINE_HEADINGS, LINE_WIDTHS, max_rows)
    events = _Sheets(book, "Tidslinje", EVENT_HEADINGS, EVENT_WIDTHS, max_rows)
    detailed = 0
    for row in _accounts(queue):
        evidence = parse_evidence(row)
        if tally is not None:
            tally.add(row["cpr"], *evidence_lines(evidence))
        # the workbook shows no score reasons
        a = case_account(row, reasons=False, evidence=evidence)
        cases.append(
            [
                (a.priority, text),
                (a.status, text),
                (a.rule_id, text),
                (a.rule_name, text),
                (a.case_id, text),
                (a.cpr, text),
                (a.anchor_date, day),
                (a.period_start, day),
                (a.period_end, day),
                (a.amount, kr),
                (", ".join(a.benefits), wrap),
                (a.summary, wrap),
                (a.anomaly_score, book.score),
                (a.legal_basis, wrap),
                ("ja" if capacity and a.priority <= capacity else None, text),
                (several.get(a.cpr), text),
            ]
        )
        if detail_cases is not None and detailed >= detail_cases:
            continue
        detailed += 1
        for ln in a.lines:
            lines.append(
                [
                    *_ids(a),
                    (ln.benefit, text),
                    (ln.period_start, day),
                    (ln.period_end, day),
                    (ln.amount, kr),
                    (ln.note, wrap),
                ]
            )
        for ev in a.timeline:
            events.append([*_ids(a), (ev.when, day), (ev.until, day), (ev.text, wrap)])
    for kind in (cases, lines, events):
        kind.close()
    if tally is not None:
        totals = tally.totals()
    assert totals is not None
    _overview(book, totals, capacity, (cases, lines, events), detailed)
    book.wb.close()
    return totals


def _overview(
    book: _Book, t: CaseListTotals, capacity: int, kinds: tuple[_Sheets, ...], detailed: int
) -> None:
    ws = book.wb.add_worksheet("Overblik")
    for c, (h, w) in enumerate(zip(OVERVIEW_HEADINGS, (52, 18, 100), strict=True)):
        ws.write_string(0, c, h, book.head)
        ws.set_column(c, c, w)
    lower = "" if t.exact else " (mindst: evidensen viser kun en del af linjerne for nogle sager)"
    rows: list[tuple[str, Any, Any, str]] = [
        ("Sager", t.cases, book.text, "Alle sager i køen, én række hver på arket Sager."),
        ("Personer", t.persons, book.text, ""),
        (
            "Personer med flere sager",
            t.persons_with_several,
            book.text,
            f"{t.cases_of_such_persons} sager i alt;"
            " kolonnen »Samme person: sager« på arket Sager.",
        ),
        (
            "Beløb på spil, summen over sagerne (kr.)",
            t.amount_at_stake,
            book.kr,
            "En udbetalingslinje, som flere regler markerer, tælles med i hver sag.",
        ),
        (
            "Udbetalt på de markerede linjer, hver linje én gang (kr.)",
            t.distinct_paid,
            book.kr,
            f"{t.distinct_lines} forskellige udbetalingslinjer{lower}.",
        ),
        ("Sager med afkortet evidens", t.truncated_cases, book.text, ""),
        (
            "Månedens arbejdsliste: sager",
            t.worklist_cases,
            book.text,
            f"De første {capacity} sager efter prioritet (queue.capacity)."
            if capacity
            else "Ingen kapacitet sat (queue.capacity = 0).",
        ),
        ("Månedens arbejdsliste: beløb på spil (kr.)", t.worklist_amount, book.kr, ""),
        (
            "Sager med linjer og tidslinje i arkene Linjer og Tidslinje",
            detailed,
            book.text,
            "Alle sager."
            if detailed == t.cases
            else f"De første {detailed} sager efter prioritet (caselist.xlsx_detail_cases);"
            " de øvrige sagers linjer står i evidensen i cases.parquet, og deres resumé på"
            " arket Sager.",
        ),
    ]
    for kind in kinds:
        if len(kind.sheets) > 1:
            rows.append(
                (
                    f"Ark for {kind.name}",
                    len(kind.sheets),
                    book.text,
                    "Fortsat over flere ark (Excel rummer 1.048.576 rækker pr. ark): "
                    + ", ".join(kind.names),
                )
            )
    for r, (label, value, fmt, note) in enumerate(rows, start=1):
        book.put(ws, r, 0, label, book.text)
        book.put(ws, r, 1, value, fmt)
        book.put(ws, r, 2, note or None, book.wrap)


def render_xlsx(
    queue: pl.DataFrame,
    *,
    capacity: int = 0,
    totals: CaseListTotals | None = None,
    detail_cases: int | None = DEFAULT_DETAIL_CASES,
) -> bytes:
    """The workbook for a queue as bytes (the same bytes :func:`write_xlsx` streams)."""
    buf = io.BytesIO()
    write_xlsx(queue, buf, capacity=capacity, totals=totals, detail_cases=detail_cases)
    return buf.getvalue()


def _ids(a: CaseAccount) -> list[tuple[Any, Any]]:
    return [(a.priority, None), (a.case_id, None), (a.cpr, None), (a.rule_id, None)]
