"""cases.xlsx: Danish headings, priority order, kroner cells, dates, determinism, row limit."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
from openpyxl import Workbook, load_workbook

from kontrol import io as kio
from kontrol.caselist import render_xlsx, write_xlsx
from kontrol.caselist.workbook import KR_FORMAT

#: The headings as a caseworker reads them, spelled out (not taken from the code).
SAGER = [
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
]
LINJER = [
    "Prioritet",
    "Sags-id",
    "CPR-nr.",
    "Regel",
    "Ydelse",
    "Periode fra",
    "Periode til",
    "Beløb (kr.)",
    "Bemærkning",
]
TIDSLINJE = ["Prioritet", "Sags-id", "CPR-nr.", "Regel", "Dato", "Til", "Hændelse"]
OVERBLIK = ["Opgørelse", "Værdi", "Forklaring"]


def _book(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))


def _headings(book: Workbook, sheet: str) -> list[object]:
    return [c.value for c in book[sheet][1]]


def test_headings_are_the_expected_danish_text(fixture_queue: pl.DataFrame) -> None:
    book = _book(render_xlsx(fixture_queue))
    assert book.sheetnames == ["Sager", "Linjer", "Tidslinje", "Overblik"]
    assert _headings(book, "Sager") == SAGER
    assert _headings(book, "Linjer") == LINJER
    assert _headings(book, "Tidslinje") == TIDSLINJE
    assert _headings(book, "Overblik") == OVERBLIK


def test_workbook_lists_the_queue_in_priority_order(fixture_queue: pl.DataFrame) -> None:
    book = _book(render_xlsx(fixture_queue, capacity=5))
    ws = book["Sager"]
    col = {h: i for i, h in enumerate(SAGER)}
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == fixture_queue.height
    assert [r[col["Prioritet"]] for r in rows] == list(range(1, fixture_queue.height + 1))
    queue = fixture_queue.sort("priority")
    for r, q in zip(rows, queue.iter_rows(named=True), strict=True):
        assert r[col["Sags-id"]] == q["case_id"]
        assert r[col["CPR-nr."]] == q["cpr"]  # text: leading zeros kept
        assert r[col["Periode fra"]] == datetime.combine(q["period_start"], datetime.min.time())
        assert Decimal(str(r[col["Beløb (kr.)"]])) == q["amount_at_stake_dkk"]
        assert r[col["Status"]] == "ny"
        assert r[col["Månedens arbejdsliste"]] == ("ja" if q["priority"] <= 5 else None)
    amount = ws.cell(row=2, column=col["Beløb (kr.)"] + 1)
    assert amount.data_type == "n" and isinstance(amount.value, float)
    assert amount.number_format == KR_FORMAT
    assert ws.cell(row=2, column=col["Periode fra"] + 1).number_format == "dd.mm.yyyy"
    assert ws.cell(row=2, column=col["CPR-nr."] + 1).data_type == "s"
    lines = book["Linjer"]
    assert lines.max_row - 1 > fixture_queue.height
    assert lines.cell(row=2, column=8).number_format == KR_FORMAT
    overview = {r[0]: r[1] for r in book["Overblik"].iter_rows(min_row=2, values_only=True)}
    assert overview["Sager"] == fixture_queue.height
    assert overview["Månedens arbejdsliste: sager"] == 5
    total = fixture_queue["amount_at_stake_dkk"].sum()
    assert Decimal(str(overview["Beløb på spil, summen over sagerne (kr.)"])) == total


def test_workbook_is_byte_identical_for_the_same_queue(
    fixture_queue: pl.DataFrame, tmp_path: Path
) -> None:
    first = render_xlsx(fixture_queue)
    kio.write_stream(tmp_path / "cases.xlsx", lambda out: write_xlsx(fixture_queue, out))
    assert (tmp_path / "cases.xlsx").read_bytes() == first == render_xlsx(fixture_queue)
    assert _book(first).properties.created == datetime(2026, 10, 31)


def test_workbook_of_an_empty_queue_and_the_status_column(tiny_queue: pl.DataFrame) -> None:
    empty = _book(render_xlsx(tiny_queue.clear()))["Sager"]
    assert empty.max_row == 1
    with_status = tiny_queue.with_columns(
        pl.Series("status", ["continuing", "new", "new"], dtype=pl.String())
    )
    ws = _book(render_xlsx(with_status))["Sager"]
    assert [ws.cell(row=r, column=2).value for r in (2, 3, 4)] == ["fortsat", "ny", "ny"]
    assert ws.cell(row=3, column=10).value == 1234567.89


def test_a_sheet_over_the_row_limit_continues_on_a_new_sheet(tiny_queue: pl.DataFrame) -> None:
    """Excel's limit, scaled down: every row lands on some sheet, none beyond the limit."""
    buf = io.BytesIO()
    write_xlsx(tiny_queue, buf, max_rows=3)  # heading + 2 data rows per sheet
    book = _book(buf.getvalue())
    cases = [n for n in book.sheetnames if n.startswith("Sager")]
    assert cases == ["Sager", "Sager (2)"]
    lines = [n for n in book.sheetnames if n.startswith("Linjer")]
    assert len(lines) == 13  # 16 + 9 + 1 lines = 26 rows, 2 per sheet
    seen = []
    for name in cases:
        ws = book[name]
        assert ws.max_row <= 3 and _headings(book, name) == SAGER
        seen += [r[0] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert seen == [1, 2, 3]
    n_lines = sum(book[n].max_row - 1 for n in lines)
    assert n_lines == 26
    notes = [r[2] for r in book["Overblik"].iter_rows(min_row=2, values_only=True)]
    assert any(n and "Sager, Sager (2)" in n for n in notes)


def test_detail_sheets_cover_the_first_cases_and_say_so(tiny_queue: pl.DataFrame) -> None:
    book = _book(render_xlsx(tiny_queue, detail_cases=1))
    assert book["Sager"].max_row - 1 == 3  # every case
    assert {r[0] for r in book["Linjer"].iter_rows(min_row=2, values_only=True)} == {1}
    overview = {r[0]: r for r in book["Overblik"].iter_rows(min_row=2, values_only=True)}
    row = overview["Sager med linjer og tidslinje i arkene Linjer og Tidslinje"]
    assert row[1] == 1 and "caselist.xlsx_detail_cases" in row[2]
    full = _book(render_xlsx(tiny_queue, detail_cases=None))
    assert full["Linjer"].max_row - 1 == 26


def _rows_workbook(rows: list[list[object]], *, fast: bool) -> bytes:
    """Two sheets of ``rows`` written cell by cell through xlsxwriter, or row by row (fast)."""
    from datetime import date

    from kontrol.caselist import workbook

    buf = io.BytesIO()
    book = workbook._Book(buf, datetime(2026, 11, 30))
    formats = [book.text, book.day, book.kr, book.wrap, book.score, None]
    for name in ("A", "B"):
        ws = book.wb.add_worksheet(name)
        ws.write_string(0, 0, "Overskrift", book.head)
        for r, values in enumerate(rows, start=1):
            cells = [(v, formats[c % len(formats)]) for c, v in enumerate(values)]
            if fast:
                book.write_row(ws, r, cells)
            else:
                for c, (value, fmt) in enumerate(cells):
                    book.put(ws, r, c, value, fmt)
        ws.autofilter(0, 0, len(rows), 5)
    book.put(book.wb.add_worksheet("C"), 1, 0, date(2026, 1, 2), None)
    book.wb.close()
    return buf.getvalue()


class _Text(str):
    """A ``str`` subclass: written by ``write_row``'s general path, not its exact-type one."""


def test_rows_written_whole_are_the_bytes_xlsxwriter_writes_cell_by_cell() -> None:
    """The workbook's fast row path (``_Book.write_row``) writes exactly xlsxwriter's XML."""
    from datetime import date

    awkward = [
        "almindelig tekst",
        " foranstillet mellemrum",
        "efterstillet mellemrum ",
        "tab\tog linje\nskift",
        "kontrol\x01tegn\x1f og \x0b",
        "allerede _x0041_ kodet",
        "<r>ligner rig tekst</r>",
        "tegn & < > \" ' æøå",
        "\ufffe og \uffff",
        "hårdt\u00a0mellemrum og\u2028linjeskift",  # unprintable, yet nothing to escape
        "_xyz_, _x12_ og x_0041_",  # ``_x`` that is no escape
        "kontrol\x01tegn og _x0041_ begge",
        _Text("en underklasse af str"),  # the general path
        "😀" * 20000,  # beyond Excel's 32,767 UTF-16 units: truncated without splitting a pair
        "x" * 40000,
        "",
    ]
    numbers = [0, -1, 7, 12345678901234567, 0.1, -2.5e-7, 1e300, 0.86274, Decimal("248890.95")]
    days = [date(1900, 1, 15), date(1900, 3, 1), date(2026, 10, 31), datetime(2026, 1, 2, 0, 0)]
    values: list[object] = [*awkward, *numbers, *days, True, False, None]
    rows = [values[i : i + 6] for i in range(0, len(values), 6)]
    rows += [[None] * 6, [1, None, "a", None, Decimal("0.00"), date(2026, 2, 28)]]
    # texts as in the cell above (their XML is reused), after a blank, and in another format
    rows += [["a", "b", "a", "  c", "<d>", "a"], ["a", "b", "a", "  c", "<d>", "a"]]
    rows += [["a", "b", None, _Text("  c"), "<d>", "e"], ["a", "b", "a", "  c", "<d>", 7]]
    assert _rows_workbook(rows, fast=True) == _rows_workbook(rows, fast=False)
    # formats get their indexes in the order first written, dates always in the date format
    first_a_date = [[date(2026, 1, 1), "b", 2, None, 0.5, "c"], *rows]
    assert _rows_workbook(first_a_date, fast=True) == _rows_workbook(first_a_date, fast=False)


def test_rows_written_whole_refuse_what_xlsxwriter_refuses() -> None:
    """NaN and infinity raise on the fast row path as in ``write_number``, whatever their type."""
    from kontrol.caselist import workbook

    book = workbook._Book(io.BytesIO(), datetime(2026, 11, 30))
    ws = book.wb.add_worksheet("A")
    for r, bad in enumerate([float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity")]):
        try:
            book.write_row(ws, r + 1, [("ok", None), (bad, book.kr)])
        except TypeError as exc:
            assert "NAN/INF" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was written")
