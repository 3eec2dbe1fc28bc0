"""The caseworkers' case list: ``cases.html`` and ``cases.xlsx`` from the case queue.

Public API (pure functions of the queue, ``cases.parquet`` as a DataFrame)::

    render_html(queue, run_info) -> str     # static page, inline CSS/JS, no network
    render_xlsx(queue) -> bytes             # workbook, byte-identical for the same queue
    write_xlsx(queue, path) -> None         # render_xlsx written to path
    case_accounts(queue) -> list[CaseAccount]  # the Danish reading of every case

An optional ``status`` column (``new``/``continuing``) is shown as ``ny``/
``fortsat``; without it every case is ``ny``.
"""

from kontrol.caselist.account import CaseAccount, case_account, case_accounts
from kontrol.caselist.page import render_html
from kontrol.caselist.workbook import render_xlsx, write_xlsx

__all__ = [
    "CaseAccount",
    "case_account",
    "case_accounts",
    "render_html",
    "render_xlsx",
    "write_xlsx",
]
