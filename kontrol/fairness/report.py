"""The fairness report for auditors: who is selected and who is put first, by group.

**This package is the only place in kontrol that reads ``sex``,
``citizenship`` and age (from ``birth_date``), and it runs after the queue is
final.** It takes the finished queue, the recipient population and
``persons`` as separate inputs, so nothing it computes can flow back into a
rule, a score or a priority.

Per protected attribute (sex; citizenship grouped as DK / EU-EEA / other /
unknown; age band at the as-of date: under 30, 30-49, 50-66, over 66) and
group it reports, overall:

* ``recipients``: persons with a positive net line in the window;
* ``selected``: of those, persons with at least one case, and
  ``selection_rate`` = selected / recipients (also relative to the overall
  rate: ``rate_ratio``, 1.0 = selected as often as everyone);
* ``share_of_recipients``, ``share_of_cases``, ``share_of_top``: the group's
  share of recipients, of cases, and of the top ``top_share`` of the queue;
* ``mean_priority_percentile``: mean of ``1 - (priority - 1) / N`` over the
  group's cases (1.0 = first in the queue, near 0 = last);
* ``rate_ci``: the exact (Clopper-Pearson) 95 % interval of the selection
  rate, ``ratio_ci`` the 95 % interval of ``rate_ratio`` (log method,
  :mod:`kontrol.fairness.stats`), and ``flagged``: the ratio lies outside
  0.8-1.25 *and* its interval excludes 1.

and the same selection figures **per rule** (every rule of the catalogue that
was evaluated, with the registers it reads and the benefits it looks at):
``selected`` is then the persons with a case of that rule. The differences
are the rules' effects, which registers and benefits they read, not a
scoring bias: the score reads no protected attribute and decides nothing.

**Disclosure control.** Groups with fewer than ``min_cell`` recipients are
merged into ``other`` (and ``other``, if still small, into a suppressed
remainder). Any count below ``min_cell`` (but above 0) is suppressed (null,
with ``suppressed`` listing the fields), and so is every figure derived from
it. When exactly one group of an attribute has a suppressed count, the next
smallest count of that field is suppressed too, so the hidden one cannot be
recovered by subtraction from the total. No cpr appears in the output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import polars as pl

from kontrol import pages
from kontrol.fairness.stats import rate_ci, ratio_ci
from kontrol.rules.items import age_on

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
RULE_COUNT_FIELDS = ("recipients", "selected")
ATTRIBUTES = ("sex", "citizenship", "age")
AGE_BANDS = ("under 30", "30-49", "50-66", "over 66")
#: Display order of the groups; "other" and "unknown" come last.
GROUP_ORDER: dict[str, tuple[str, ...]] = {
    "sex": ("K", "M"),
    "citizenship": ("DK", "EU-EEA"),
    "age": AGE_BANDS,
}
#: A rate ratio outside [FLAG_LOW, FLAG_HIGH] (the four-fifths rule and its
#: inverse) whose 95 % interval excludes 1 is flagged.
FLAG_LOW = 0.8
FLAG_HIGH = 1.25

ABOUT = (
    "Selection and queue position by protected attribute. Protected attributes are"
    " used only here, after the queue is final, never to select or rank."
)
READING = (
    "These figures show the effects of the rules: which registers they read and which"
    " benefits they look at decide who can be selected (inspections follow industries,"
    " custody follows policing, residence rules follow those who move abroad). They are"
    " not a scoring bias: the anomaly score never reads sex, citizenship, age or country"
    " codes, and it decides nothing; it only orders the cases the rules found."
)
METHOD = (
    "Selection rate = persons with a case / recipients in the group. rate_ci: exact"
    " binomial (Clopper-Pearson) 95 % interval. rate_ratio = group rate / overall rate;"
    " ratio_ci: 95 % interval by the log (Katz) method with a delta-method variance"
    " that accounts for the group being part of the whole (0.5 added to a zero or full"
    f" count). Flagged: ratio below {FLAG_LOW} or above {FLAG_HIGH} and interval"
    " excluding 1."
)


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


def age_band(as_of: date, column: str = "birth_date") -> pl.Expr:
    """Age in whole years at ``as_of``: under 30, 30-49, 50-66, over 66 (67 and up), unknown."""
    age = age_on(pl.lit(as_of), pl.col(column))
    return (
        pl.when(pl.col(column).is_null())
        .then(pl.lit("unknown"))
        .when(age < 30)
        .then(pl.lit(AGE_BANDS[0]))
        .when(age < 50)
        .then(pl.lit(AGE_BANDS[1]))
        .when(age < 67)
        .then(pl.lit(AGE_BANDS[2]))
        .otherwise(pl.lit(AGE_BANDS[3]))
    )


def _groups(persons: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    return persons.select(
        "cpr",
        pl.col("sex").fill_null("unknown").alias("sex"),
        citizenship_group().alias("citizenship"),
        age_band(as_of).alias("age"),
    )


def _order(attribute: str, group: str) -> tuple[int, str]:
    known = GROUP_ORDER.get(attribute, ())
    if group in known:
        return known.index(group), group
    return len(known) + (2 if group == "unknown" else 1 if group == "other" else 0), group


def _merge_small(labelled: pl.DataFrame, attribute: str, min_cell: int) -> pl.DataFrame:
    """Groups with fewer than ``min_cell`` recipients go into "other" (which may stay small)."""
    sizes = labelled.group_by(attribute).len()
    small = sizes.filter((pl.col("len") < min_cell) & (pl.col(attribute) != "other"))[attribute]
    if small.is_empty():
        return labelled
    return labelled.with_columns(
        pl.when(pl.col(attribute).is_in(small.implode()))
        .then(pl.lit("other"))
        .otherwise(pl.col(attribute))
        .alias(attribute)
    )


def _rows(
    attribute: str,
    labelled: pl.DataFrame,
    queue: pl.DataFrame,
    top_n: int,
    min_cell: int,
) -> list[dict[str, Any]]:
    """The overall table of one attribute (``labelled`` already merged)."""
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
    totals = {f: int(table[f].sum()) for f in COUNT_FIELDS}
    rows: list[dict[str, Any]] = []
    for rec in table.iter_rows(named=True):
        row: dict[str, Any] = {"group": rec[attribute]}
        for f in COUNT_FIELDS:
            row[f] = int(rec[f])
        row["mean_priority_percentile"] = (
            round(float(rec["mean_priority_percentile"]), 4) if rec["cases"] else None
        )
        rows.append(row)
    rows.sort(key=lambda r: _order(attribute, r["group"]))
    _suppress(rows, min_cell, COUNT_FIELDS)
    for row in rows:
        _derive(row, totals)
        row["share_of_cases"] = _ratio(row["cases"], totals["cases"])
        row["share_of_top"] = _ratio(row["top_cases"], totals["top_cases"])
    return rows


def _rule_rows(
    attribute: str, labelled: pl.DataFrame, selected: pl.Series, min_cell: int
) -> list[dict[str, Any]]:
    """The table of one attribute for one rule: ``selected`` are the cprs with its cases."""
    table = labelled.group_by(attribute).agg(
        pl.len().alias("recipients"),
        pl.col("cpr").is_in(selected.implode()).sum().alias("selected"),
    )
    totals = {f: int(table[f].sum()) for f in RULE_COUNT_FIELDS}
    rows: list[dict[str, Any]] = [
        {"group": g, "recipients": int(n), "selected": int(s)} for g, n, s in table.iter_rows()
    ]
    rows.sort(key=lambda r: _order(attribute, r["group"]))
    _suppress(rows, min_cell, RULE_COUNT_FIELDS)
    for row in rows:
        _derive(row, totals)
    return rows


def _suppress(rows: list[dict[str, Any]], min_cell: int, fields: Sequence[str]) -> None:
    for row in rows:
        row["suppressed"] = [f for f in fields if 0 < row[f] < min_cell]
    for f in fields:
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


def _pair(ci: tuple[float, float] | None, digits: int) -> list[float] | None:
    return None if ci is None else [round(ci[0], digits), round(ci[1], digits)]


def is_flagged(rate_ratio: float | None, ci: Sequence[float] | None) -> bool | None:
    """Outside [FLAG_LOW, FLAG_HIGH] and the interval excludes 1; None when not computable."""
    if rate_ratio is None or ci is None:
        return None
    outside = rate_ratio < FLAG_LOW or rate_ratio > FLAG_HIGH
    return outside and (ci[1] < 1.0 or ci[0] > 1.0)


def _derive(row: dict[str, Any], totals: dict[str, int]) -> None:
    """Rate, its interval, ratio to the overall rate, its interval, flag, share of recipients."""
    sel, rec = row["selected"], row["recipients"]
    known = sel is not None and rec is not None
    overall = totals["selected"] / totals["recipients"] if totals["recipients"] else 0.0
    row["selection_rate"] = _ratio(sel, rec) if known else None
    row["rate_ci"] = _pair(rate_ci(sel, rec), 4) if known else None
    rate = row["selection_rate"]
    row["rate_ratio"] = None if rate is None or overall == 0 else round((sel / rec) / overall, 3)
    row["ratio_ci"] = (
        _pair(ratio_ci(sel, rec, totals["selected"], totals["recipients"]), 3)
        if known and overall
        else None
    )
    row["flagged"] = is_flagged(row["rate_ratio"], row["ratio_ci"])
    row["share_of_recipients"] = _ratio(rec, totals["recipients"])


def fairness_report(
    queue: pl.DataFrame,
    recipients: pl.DataFrame,
    persons: pl.LazyFrame,
    *,
    as_of: date,
    rules: Mapping[str, Mapping[str, Any]] | None = None,
    top_share: float = 0.10,
    min_cell: int = 10,
) -> dict[str, Any]:
    """The JSON-able report (for the manifest) of ``queue`` against ``recipients``.

    ``queue`` needs ``cpr`` and ``priority`` (and ``rule_id`` for the per-rule
    tables); ``recipients`` needs ``cpr`` (e.g. the
    :func:`~kontrol.scoring.person_features` frame); ``persons`` is the
    persons extract. ``rules`` maps each evaluated rule id of the catalogue
    to what it reads (e.g. ``{"name": ..., "reads": [...], "benefits": [...]}``),
    in catalogue order; without it, the rule ids of the queue are used. A
    case whose person is not in ``persons`` counts under ``unknown``.
    """
    top_n = max(1, round(queue.height * top_share)) if queue.height else 0
    labelled = (
        recipients.select(pl.col("cpr").unique())
        .join(_groups(persons, as_of).collect(), on="cpr", how="left")
        .with_columns(pl.col(*ATTRIBUTES).fill_null("unknown"))
    )
    merged = {
        attr: _merge_small(labelled.select("cpr", attr), attr, min_cell) for attr in ATTRIBUTES
    }
    cases = queue.select("cpr", "priority")
    if rules is None:
        ids = sorted(queue["rule_id"].unique()) if "rule_id" in queue.columns else []
        rules = {rule_id: {} for rule_id in ids}
    per_rule: dict[str, Any] = {}
    for rule_id, info in rules.items():
        selected = (
            queue.filter(pl.col("rule_id") == rule_id)["cpr"].unique()
            if "rule_id" in queue.columns
            else pl.Series("cpr", [], dtype=pl.String)
        )
        n_selected = int(labelled["cpr"].is_in(selected.implode()).sum())
        per_rule[rule_id] = {
            "name": info.get("name"),
            "reads": list(info.get("reads", ())),
            "benefits": list(info.get("benefits", ())),
            "selected": None if 0 < n_selected < min_cell else n_selected,
            "attributes": {
                attr: _rule_rows(attr, merged[attr], selected, min_cell) for attr in ATTRIBUTES
            },
        }
    overall = {attr: _rows(attr, merged[attr], cases, top_n, min_cell) for attr in ATTRIBUTES}
    flags = [
        {"rule": None, "attribute": attr, "group": r["group"], "rate_ratio": r["rate_ratio"]}
        for attr, rows in overall.items()
        for r in rows
        if r["flagged"]
    ] + [
        {"rule": rule_id, "attribute": attr, "group": r["group"], "rate_ratio": r["rate_ratio"]}
        for rule_id, entry in per_rule.items()
        for attr, rows in entry["attributes"].items()
        for r in rows
        if r["flagged"]
    ]
    return {
        "about": f"{ABOUT} Counts below {min_cell} are suppressed.",
        "reading": READING,
        "method": METHOD,
        "as_of": as_of.isoformat(),
        "recipients": labelled.height,
        "selected": int(labelled["cpr"].is_in(cases["cpr"].implode()).sum()),
        "cases": cases.height,
        "top_share": top_share,
        "top_cases": top_n,
        "min_cell": min_cell,
        "attributes": overall,
        "rules": per_rule,
        "flags": flags,
    }


_COLUMNS = (
    ("group", "Group"),
    ("recipients", "Recipients"),
    ("selected", "Selected persons"),
    ("selection_rate", "Selection rate"),
    ("rate_ci", "95 % interval"),
    ("share_of_recipients", "Share of recipients"),
    ("rate_ratio", "Rate / overall"),
    ("ratio_ci", "95 % interval of ratio"),
    ("flagged", "Flagged"),
    ("share_of_cases", "Share of cases"),
    ("share_of_top", "Share of top"),
    ("mean_priority_percentile", "Mean priority percentile"),
)
_RULE_COLUMNS = _COLUMNS[:9]


def render_fairness_html(report: dict[str, Any]) -> str:
    """A static, self-contained HTML page of the report (no scripts, no external assets)."""
    return pages.render(
        "fairness.html.j2",
        lang="en",
        report=report,
        columns=_COLUMNS,
        rule_columns=_RULE_COLUMNS,
    )
