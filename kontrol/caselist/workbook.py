"""``cases.xlsx``: the case list as a workbook, byte-identical for the same queue.

Sheets: ``Sager`` (one row per case, in priority order), ``Linjer`` (the
flagged lines of every case) and ``Tidslinje`` (the register events). Amounts
are numeric cells formatted as kroner; Excel stores numbers as doubles, which
hold a ``decimal(14,2)`` amount exactly to the øre (15 significant digits).
The exact amount stays in ``cases.parquet`` and in the page.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter

from kontrol.caselist.account import CaseAccount, case_accounts

KR_FORMAT = '#,##0.00 "kr."'
DATE_FORMAT = "dd.mm.yyyy"
#: Workbook creation date when the queue's run id does not start with a date.
FALLBACK_CREATED = datetime(2000, 1, 1)

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


def _created(queue: Any) -> datetime:
    if "run_id" in queue.columns and queue.height:
        run_id = str(queue["run_id"][0] or "")
        try:
            return datetime.combine(date.fromisoformat(run_id[:10]), datetime.min.time())
        except ValueError:
            pass
    return FALLBACK_CREATED


def render_xlsx(queue: Any) -> bytes:
    """The workbook for a queue (a ``cases.parquet`` DataFrame) as bytes."""
    accounts = case_accounts(queue)
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False})
    wb.set_properties(
        {
            "title": "Kontrolsager",
            "subject": "Prioriteret liste over kontrolsager",
            "author": "kontrol",
            "created": _created(queue),
        }
    )
    head = wb.add_format({"bold": True, "bg_color": "#F1F3F5", "bottom": 1, "text_wrap": True})
    kr = wb.add_format({"num_format": KR_FORMAT, "valign": "top"})
    day = wb.add_format({"num_format": DATE_FORMAT, "valign": "top"})
    text = wb.add_format({"valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    score = wb.add_format({"num_format": "0.00", "valign": "top"})

    def put(ws: Any, r: int, c: int, value: Any, fmt: Any = text) -> None:
        if value is None:
            ws.write_blank(r, c, None, fmt)
        elif isinstance(value, date):
            ws.write_datetime(r, c, datetime.combine(value, datetime.min.time()), day)
        elif isinstance(value, bool):
            ws.write_boolean(r, c, value, fmt)
        elif isinstance(value, int | float):
            ws.write_number(r, c, value, fmt)
        else:
            ws.write_string(r, c, str(value), fmt)

    def sheet(name: str, headings: tuple[str, ...], widths: tuple[float, ...]) -> Any:
        ws = wb.add_worksheet(name)
        for c, (h, w) in enumerate(zip(headings, widths, strict=True)):
            ws.write_string(0, c, h, head)
            ws.set_column(c, c, w)
        ws.freeze_panes(1, 0)
        return ws

    cases = sheet("Sager", CASE_HEADINGS, (9, 9, 7, 30, 34, 12, 12, 12, 12, 15, 30, 70, 13, 60))
    lines = sheet("Linjer", LINE_HEADINGS, (9, 34, 12, 7, 36, 12, 12, 15, 70))
    events = sheet("Tidslinje", EVENT_HEADINGS, (9, 34, 12, 7, 12, 12, 90))
    lr = er = 1
    for r, a in enumerate(accounts, start=1):
        row: list[tuple[Any, Any]] = [
            (a.priority, text),
            (a.status, text),
            (a.rule_id, text),
            (a.rule_name, text),
            (a.case_id, text),
            (a.cpr, text),
            (a.anchor_date, day),
            (a.period_start, day),
            (a.period_end, day),
            (_money(a.amount), kr),
            (", ".join(a.benefits), wrap),
            (a.summary, wrap),
            (a.anomaly_score, score),
            (a.legal_basis, wrap),
        ]
        for c, (value, fmt) in enumerate(row):
            put(cases, r, c, value, fmt)
        for ln in a.lines:
            for c, (value, fmt) in enumerate(
                [
                    *_ids(a),
                    (ln.benefit, text),
                    (ln.period_start, day),
                    (ln.period_end, day),
                    (_money(ln.amount), kr),
                    (ln.note, wrap),
                ]
            ):
                put(lines, lr, c, value, fmt)
            lr += 1
        for ev in a.timeline:
            for c, (value, fmt) in enumerate(
                [*_ids(a), (ev.when, day), (ev.until, day), (ev.text, wrap)]
            ):
                put(events, er, c, value, fmt)
            er += 1
    n = len(accounts)
    cases.autofilter(0, 0, max(n, 1), len(CASE_HEADINGS) - 1)
    lines.autofilter(0, 0, max(lr - 1, 1), len(LINE_HEADINGS) - 1)
    events.autofilter(0, 0, max(er - 1, 1), len(EVENT_HEADINGS) - 1)
    wb.close()
    return buf.getvalue()


def _ids(a: CaseAccount) -> list[tuple[Any, Any]]:
    return [(a.priority, None), (a.case_id, None), (a.cpr, None), (a.rule_id, None)]


def _money(amount: Any) -> float | None:
    return None if amount is None else float(amount)


def write_xlsx(queue: Any, path: Path) -> None:
    """Write :func:`render_xlsx` to ``path`` (the caller decides on atomic moves)."""
    path.write_bytes(render_xlsx(queue))
