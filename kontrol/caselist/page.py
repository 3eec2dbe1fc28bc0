"""``cases.html``: the case list as one static page (no server, no external assets).

Rendered from ``kontrol/pages/templates/caselist.html.j2`` (the page, its
CSS and its inline script) and ``caselist_rows.html.j2`` (one case). Every
value is escaped by the template engine; the inline script only sorts,
filters and toggles rows, and never parses evidence, so the page carries no
data in script.

**At volume.** A team opens a few hundred cases a month, while a bad month
can raise tens of thousands. The page therefore holds, in display order:

1. a full account (summary, timeline, lines, ranking, legal basis) for the
   first ``max_accounts`` cases (``caselist.max_accounts``, default 1,000);
2. a compact, filterable table, one short row per case, for the next cases;
3. for whatever does not fit, a summary (count and money) that says where
   the cases are: ``cases.xlsx`` and ``cases.parquet`` hold every case.

The page is kept under :data:`PAGE_LIMIT_BYTES` at any volume: accounts stop
at :data:`ACCOUNTS_BUDGET_BYTES` and compact rows at
:data:`PAGE_BUDGET_BYTES` (the rest of the page is small and bounded).

**Persons.** Display order is priority, except that a person's cases stand
together at the place of the person's first case, each marked
"samme person: N sager". **Worklist.** The first ``capacity`` cases by
priority (``queue.capacity``) are marked as this month's worklist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
from markupsafe import Markup

from kontrol import pages
from kontrol.caselist.account import DEFAULT_STATUS, STATUS_DA, case_account
from kontrol.caselist.totals import CaseListTotals, case_list_totals, cases_per_person
from kontrol.rules import CATALOGUE

#: The page is always smaller than this (the issue's bound: under 10 MB).
PAGE_LIMIT_BYTES = 10_000_000
#: Full accounts stop here, whatever ``max_accounts`` says.
ACCOUNTS_BUDGET_BYTES = 7_000_000
#: Compact rows stop here; header, filters, style and script stay far below
#: the remaining margin (:data:`CHROME_MAX_BYTES`).
PAGE_BUDGET_BYTES = 9_500_000
CHROME_MAX_BYTES = 400_000

DEFAULT_MAX_ACCOUNTS = 1000
DEFAULT_MAX_COMPACT_ROWS = 50_000
#: Compact rows per ``<div class="chunk"><ol>``: the browser skips style and layout
#: of a chunk off screen (``content-visibility:auto``), so filtering tens of
#: thousands of rows only lays out the few chunks in view.
COMPACT_CHUNK_ROWS = 250

#: (data key, heading, css class, sort type, first direction); None = not sortable.
COLUMNS: tuple[tuple[str | None, str, str, str, str], ...] = (
    ("priority", "Prioritet", "num", "num", "asc"),
    ("status", "Status", "", "text", "asc"),
    ("rule", "Regel", "", "text", "asc"),
    ("cpr", "CPR-nr.", "", "text", "asc"),
    ("start", "Periode", "", "text", "asc"),
    ("amount", "Beløb", "num", "num", "desc"),
    (None, "Ydelser", "", "", ""),
    ("score", "Anomali-score", "num", "num", "desc"),
    (None, "", "", "", ""),
)

RUN_INFO_LABELS = {"run_id": "Kørsel", "as_of": "Opgjort pr.", "catalogue_version": "Regelkatalog"}


@dataclass(frozen=True)
class _CaseContext:
    order: int
    ore: str
    score: str
    work: bool
    person_cases: int
    follows: bool
    siblings: tuple[int, ...]
    columns: int = len(COLUMNS)


def _ore(amount: Decimal | None) -> str:
    return "" if amount is None else str(int((amount * 100).to_integral_value()))


def _status(raw: Any) -> str:
    return STATUS_DA.get(str(raw), str(raw)) if raw else DEFAULT_STATUS


#: The columns of a compact row (and of the display order's frame).
NARROW_COLUMNS = (
    "priority",
    "status",
    "rule_id",
    "cpr",
    "period_start",
    "period_end",
    "amount_at_stake_dkk",
)


def display_order(queue: pl.DataFrame) -> pl.DataFrame:
    """The shown columns in display order, with ``_row`` (the queue's row),
    ``_order``, ``_first`` and ``_person_cases``.

    Priority order, except that each person's cases follow the person's
    first (best-priority) case: sorted by (the person's first priority, priority).
    """
    if "status" not in queue.columns:
        queue = queue.with_columns(pl.lit(None, pl.String).alias("status"))
    # narrow first: the sort never copies the evidence, only the columns shown
    return (
        queue.select(*NARROW_COLUMNS)
        .with_row_index("_row")
        .with_columns(
            pl.col("priority").min().over("cpr").alias("_first"),
            pl.len().over("cpr").cast(pl.Int64).alias("_person_cases"),
        )
        .sort("_first", "priority")
        .with_row_index("_order", offset=1)
    )


def render_html(
    queue: pl.DataFrame,
    run_info: Mapping[str, str | None],
    *,
    capacity: int = 0,
    max_accounts: int = DEFAULT_MAX_ACCOUNTS,
    max_compact_rows: int = DEFAULT_MAX_COMPACT_ROWS,
    totals: CaseListTotals | None = None,
) -> str:
    """The whole page for a queue (a ``cases.parquet`` DataFrame), as a string.

    ``run_info`` is shown in the header (e.g. ``run_id``, ``as_of``). The
    output depends only on the arguments. ``totals`` may be passed in when
    the caller has computed them already (they are the same for the workbook).
    """
    several = cases_per_person(queue)
    if totals is None:
        totals = case_list_totals(queue, capacity, several=several)
    ordered = display_order(queue)
    rows = pages.template("caselist_rows.html.j2").module
    n = queue.height

    siblings: dict[str, list[int]] = {}
    if several:
        for cpr, priority in (
            ordered.filter(pl.col("_person_cases") > 1).select("cpr", "priority").iter_rows()
        ):
            siblings.setdefault(cpr, []).append(int(priority))

    full: list[Markup] = []
    used = 0
    head = ordered.head(max(max_accounts, 0))
    source = queue[head["_row"]]  # the full rows (with evidence) of these cases only
    for order, row in zip(head.iter_rows(named=True), source.iter_rows(named=True), strict=True):
        account = case_account(row)
        ctx = _CaseContext(
            order=order["_order"],
            ore=_ore(account.amount),
            score="" if account.anomaly_score is None else repr(account.anomaly_score),
            work=bool(capacity) and account.priority <= capacity,
            person_cases=order["_person_cases"],
            follows=order["_person_cases"] > 1 and order["priority"] != order["_first"],
            siblings=tuple(siblings.get(account.cpr, ())),
        )
        html = rows.case(account, n, ctx)  # type: ignore[attr-defined]
        size = len(html.encode("utf-8"))
        if used + size > ACCOUNTS_BUDGET_BYTES:
            break
        full.append(html)
        used += size

    compact: list[Markup] = []
    tail = ordered.slice(len(full), max(max_compact_rows, 0)).select(
        *NARROW_COLUMNS, "_person_cases"
    )
    for priority, status, rule_id, cpr, start, end, amount, person_cases in tail.iter_rows():
        html = rows.compact(  # type: ignore[attr-defined]
            {
                "priority": priority,
                "status": _status(status),
                "rule_id": rule_id,
                "cpr": cpr,
                "period_start": start,
                "period_end": end,
                "amount": amount,
                "ore": _ore(amount),
                "work": bool(capacity) and priority <= capacity,
                "person_cases": person_cases,
            }
        )
        size = len(html.encode("utf-8"))
        if used + size > PAGE_BUDGET_BYTES:
            break
        compact.append(html)
        used += size

    listed = len(full) + len(compact)
    rest = None
    if listed < n:
        left = ordered.slice(listed)
        rest = {
            "count": left.height,
            "amount": Decimal(str(left["amount_at_stake_dkk"].sum())),
            "first_priority": int(left["priority"].min()),  # type: ignore[arg-type]
        }
    rules = sorted({(r, f"{r} {name}") for r, name in _rule_names(ordered).items()})
    statuses = sorted({_status(s) for s in ordered["status"].unique().to_list()} | {"ny"})
    meta = [(RUN_INFO_LABELS.get(k, k), v) for k, v in run_info.items() if v is not None]
    page = pages.render(
        "caselist.html.j2",
        script=True,
        totals=totals,
        meta=meta,
        capacity=capacity,
        rules=rules,
        statuses=statuses,
        columns=COLUMNS,
        full=full,
        full_count=len(full),
        compact_rows=compact,
        chunk_rows=COMPACT_CHUNK_ROWS,
        listed=listed,
        rest=rest,
    )
    return page


def _rule_names(ordered: pl.DataFrame) -> dict[str, str]:
    names = {spec.rule_id: spec.name_da for spec in CATALOGUE}
    return {str(r): names.get(str(r), str(r)) for r in ordered["rule_id"].unique()}
