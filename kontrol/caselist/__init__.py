"""The caseworkers' case list: ``cases.html`` and ``cases.xlsx`` from the case queue.

Public API (pure functions of the queue, ``cases.parquet`` as a DataFrame)::

    render_html(queue, run_info, *, capacity, max_accounts, ...) -> str
        # static page from templates, inline CSS/JS, no network, under 10 MB
    write_xlsx(queue, out, *, capacity) -> CaseListTotals  # every case, streamed into
        # ``out``; returns the totals it shows, counted in the same pass
    render_xlsx(queue, *, capacity) -> bytes      # the same workbook as bytes
    case_list_totals(queue, capacity) -> CaseListTotals  # money counted once
    case_accounts(queue) -> list[CaseAccount]     # the Danish reading of every case

An optional ``status`` column (``new``/``continuing``) is shown as ``ny``/
``fortsat``; without it every case is ``ny``.
"""

from kontrol.caselist.account import CaseAccount, case_account, case_accounts
from kontrol.caselist.page import render_html
from kontrol.caselist.totals import CaseListTotals, case_list_totals
from kontrol.caselist.workbook import render_xlsx, write_xlsx

__all__ = [
    "CaseAccount",
    "CaseListTotals",
    "case_account",
    "case_accounts",
    "case_list_totals",
    "render_html",
    "render_xlsx",
    "write_xlsx",
]
