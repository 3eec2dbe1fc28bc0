"""The fairness report for auditors: who is selected and who is put first, by group.

**This is the only module in kontrol that reads ``sex`` and ``citizenship``,
and it runs after the queue is final.** It takes the finished queue, the
recipient population and ``persons`` as separate inputs, so nothing it
computes can flow back into a score or a priority; nothing in
:mod:`kontrol.scoring.features` or :mod:`kontrol.scoring.model` imports it.

Per protected attribute (sex; citizenship grouped as DK / EU-EEA / other /
unknown) and group it reports:

* ``recipients``: persons with a positive net line in the window;
* ``selected``: of those, persons with at least one case, and
  ``selection_rate`` = selected / recipients (also relative to the overall
  rate: ``rate_ratio``, 1.0 = selected as often as everyone);
* ``share_of_recipients``, ``share_of_cases``, ``share_of_top``: the group's
  share of recipients, of cases, and of the top ``top_share`` of the queue;
* ``mean_priority_percentile``: mean of ``1 - (priority - 1) / N`` over the
  group's cases (1.0 = first in the queue, near 0 = last).

**Disclosure control.** Groups with fewer than ``min_cell`` recipients are
merged into ``other`` (and ``other``, if still small, into a suppressed
remainder). Any count below ``min_cell`` (but above 0) is suppressed (null,
with ``suppressed`` listing the fields), and so is every figure derived from
it. When exactly one group of an attribute has a suppressed count, the next
smallest count of that field is suppressed too, so the hidden one cannot be
recovered by subtraction from the total. No cpr appears in the output.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from kontrol import pages

#: EU and EEA member states plus Switzerland (free movement), ISO alpha-2;
#: Denmark is its own group.
EU_EEA = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
        "CH",
    ]
)

COUNT_FIELDS = ("recipients", "selected", "cases", "top_cases")


def citizenship_group(column: str = "citizenship") -> pl.Expr:
    """DK / EU-EEA / other / unknown: coarse enough that no small nationality stands out."""
    c = pl.col(column)
    return (
        pl.when(c.is_null())
        .then(pl.lit("unknown"))
        .when(c == "DK")
        .then(pl.lit("DK"))
        .when(c.is_in(sorted(EU_EEA)))
        .then(pl.lit("EU-EEA"))
        .otherwise(pl.lit("other"))
    )


def _groups(persons: pl.LazyFrame) -> pl.LazyFrame:
    return persons.select(
        "cpr",
        pl.col("sex").fill_null("unknown").alias("sex"),
        citizenship_group().alias("citizenship"),
    )


def _rows(
    attribute: str,
    labelled: pl.DataFrame,
    queue: pl.DataFrame,
    top_n: int,
    min_cell: int,
) -> list[dict[str, Any]]:
    n_queue = max(queue.height, 1)
    q = queue.join(labelled.select("cpr", attribute), on="cpr", how="left").with_columns(
        pl.col(attribute).fill_null("unknown"),
        (1.0 - (pl.col("priority") - 1) / n_queue).alias("_pct"),
    )
    per_rec = labelled.group_by(attribute).agg(
        pl.len().alias("recipients"),
        pl.col("cpr").is_in(queue["cpr"].implode()).sum().alias("selected"),
    )
    per_case = q.group_by(attribute).agg(
        pl.len().alias("cases"),
        (pl.col("priority") <= top_n).sum().alias("top_cases"),
        pl.col("_pct").mean().alias("mean_priority_percentile"),
    )
    table = per_rec.join(per_case, on=attribute, how="full", coalesce=True).fill_null(0)
    # merge groups too small to show on their own into "other"
    small = (pl.col("recipients") < min_cell) & (pl.col(attribute) != "other")
    if table.filter(small).height:
        merged_q = q.with_columns(
            pl.when(pl.col(attribute).is_in(table.filter(small)[attribute].implode()))
            .then(pl.lit("other"))
            .otherwise(pl.col(attribute))
            .alias(attribute)
        )
        relabel = labelled.with_columns(
            pl.when(pl.col(attribute).is_in(table.filter(small)[attribute].implode()))
            .then(pl.lit("other"))
            .otherwise(pl.col(attribute))
            .alias(attribute)
        )
        return _rows(attribute, relabel, merged_q.drop("_pct"), top_n, min_cell)
    totals = {f: int(table[f].sum()) for f in COUNT_FIELDS}
    rows: list[dict[str, Any]] = []
    for rec in table.sort(attribute).iter_rows(named=True):
        row: dict[str, Any] = {"group": rec[attribute]}
        for f in COUNT_FIELDS:
            row[f] = int(rec[f])
        row["mean_priority_percentile"] = (
            round(float(rec["mean_priority_percentile"]), 4) if rec["cases"] else None
        )
        rows.append(row)
    _suppress(rows, min_cell)
    overall = totals["selected"] / totals["recipients"] if totals["recipients"] else 0.0
    for row in rows:
        _derive(row, totals, overall)
    return rows


def _suppress(rows: list[dict[str, Any]], min_cell: int) -> None:
    for row in rows:
        row["suppressed"] = [f for f in COUNT_FIELDS if 0 < row[f] < min_cell]
    for f in COUNT_FIELDS:
        hidden = [r for r in rows if f in r["suppressed"]]
        shown = [r for r in rows if f not in r["suppressed"] and r[f] > 0]
        if len(hidden) == 1 and shown:
            min(shown, key=lambda r: (r[f], r["group"]))["suppressed"].append(f)
    for row in rows:
        for f in row["suppressed"]:
            row[f] = None
        if "cases" in row["suppressed"]:
            row["mean_priority_percentile"] = None


def _ratio(a: int | None, b: int) -> float | None:
    return None if a is None or b == 0 else round(a / b, 4)


def _derive(row: dict[str, Any], totals: dict[str, int], overall: float) -> None:
    row["selection_rate"] = (
        None
        if row["selected"] is None or row["recipients"] is None
        else _ratio(row["selected"], row["recipients"])
    )
    rate = row["selection_rate"]
    row["rate_ratio"] = None if rate is None or overall == 0 else round(rate / overall, 3)
    row["share_of_recipients"] = _ratio(row["recipients"], totals["recipients"])
    row["share_of_cases"] = _ratio(row["cases"], totals["cases"])
    row["share_of_top"] = _ratio(row["top_cases"], totals["top_cases"])


def fairness_report(
    queue: pl.DataFrame,
    recipients: pl.DataFrame,
    persons: pl.LazyFrame,
    *,
    top_share: float = 0.10,
    min_cell: int = 10,
) -> dict[str, Any]:
    """The JSON-able report (for the manifest) of ``queue`` against ``recipients``.

    ``queue`` needs ``cpr`` and ``priority``; ``recipients`` needs ``cpr``
    (e.g. the :func:`~kontrol.scoring.person_features` frame); ``persons`` is
    the persons extract. A case whose person is not in ``persons`` counts
    under ``unknown``.
    """
    top_n = max(1, round(queue.height * top_share)) if queue.height else 0
    labelled = (
        recipients.select(pl.col("cpr").unique())
        .join(_groups(persons).collect(), on="cpr", how="left")
        .with_columns(pl.col("sex", "citizenship").fill_null("unknown"))
    )
    cases = queue.select("cpr", "priority")
    return {
        "about": (
            "Selection and queue position by protected attribute. Protected attributes are"
            " used only here, after scoring, never to select or rank. Counts below"
            f" {min_cell} are suppressed."
        ),
        "recipients": labelled.height,
        "cases": cases.height,
        "top_share": top_share,
        "top_cases": top_n,
        "min_cell": min_cell,
        "attributes": {
            attr: _rows(attr, labelled, cases, top_n, min_cell) for attr in ("sex", "citizenship")
        },
    }


_COLUMNS = (
    ("group", "Group"),
    ("recipients", "Recipients"),
    ("selected", "Selected persons"),
    ("selection_rate", "Selection rate"),
    ("rate_ratio", "Rate / overall"),
    ("share_of_recipients", "Share of recipients"),
    ("share_of_cases", "Share of cases"),
    ("share_of_top", "Share of top"),
    ("mean_priority_percentile", "Mean priority percentile"),
)


def render_fairness_html(report: dict[str, Any]) -> str:
    """A static, self-contained HTML page of the report (no scripts, no external assets)."""
    return pages.render("fairness.html.j2", lang="en", report=report, columns=_COLUMNS)
