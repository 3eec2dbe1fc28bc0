"""cases.xlsx: Danish headings, priority order, kroner cells, dates, determinism."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
from openpyxl import Workbook, load_workbook

from kontrol.caselist import render_xlsx, write_xlsx
from kontrol.caselist.workbook import CASE_HEADINGS, KR_FORMAT


def _book(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))


def test_workbook_lists_the_queue_in_priority_order(fixture_queue: pl.DataFrame) -> None:
    book = _book(render_xlsx(fixture_queue))
    assert book.sheetnames == ["Sager", "Linjer", "Tidslinje"]
    ws = book["Sager"]
    headings = [c.value for c in ws[1]]
    assert headings == list(CASE_HEADINGS)
    for needed in (
        "Prioritet",
        "Regel",
        "Sags-id",
        "CPR-nr.",
        "Periode fra",
        "Periode til",
        "Beløb (kr.)",
        "Ydelser",
        "Resumé",
        "Hjemmel",
        "Anomali-score",
        "Status",
    ):
        assert needed in headings
    col = {h: i for i, h in enumerate(headings)}
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
    amount = ws.cell(row=2, column=col["Beløb (kr.)"] + 1)
    assert amount.data_type == "n" and isinstance(amount.value, float)
    assert amount.number_format == KR_FORMAT
    assert ws.cell(row=2, column=col["Periode fra"] + 1).number_format == "dd.mm.yyyy"
    assert ws.cell(row=2, column=col["CPR-nr."] + 1).data_type == "s"
    lines = book["Linjer"]
    assert [c.value for c in lines[1]][:3] == ["Prioritet", "Sags-id", "CPR-nr."]
    assert lines.max_row - 1 > fixture_queue.height
    assert lines.cell(row=2, column=8).number_format == KR_FORMAT


def test_workbook_is_byte_identical_for_the_same_queue(
    fixture_queue: pl.DataFrame, tmp_path: Path
) -> None:
    first = render_xlsx(fixture_queue)
    write_xlsx(fixture_queue, tmp_path / "cases.xlsx")
    assert (tmp_path / "cases.xlsx").read_bytes() == first
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
