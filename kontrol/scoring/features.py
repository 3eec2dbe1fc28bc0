"""The scoring features, declared once, and their computation per person.

Why a declaration as data: an auditor must be able to read, in one place,
every fact about a person that can move them up the queue, and why it is
there. Every feature is a behaviour or a register *event* over the run's
window (payments, corrections, moves, household changes, income months);
none is a property of who the person is.

**Protected columns are never read.** ``sex``, ``citizenship``,
``birth_date`` (and so age), the cpr digits and ``country_code`` are not
features and are not inputs to any feature: :func:`person_features` does not
read ``persons`` at all, and every other extract is first narrowed to the
columns listed in :data:`SOURCE_COLUMNS` (which a test checks against
:data:`PROTECTED_COLUMNS`). ``cpr`` is only ever used as a join key, never
parsed. The country a person emigrated to is deliberately left out: the
*fact* of a residence-status change is behaviour in the registers, the
destination is a proxy for origin.

Each source is grouped by ``cpr`` once, lazily, so the whole computation is a
handful of streaming group-bys and joins (no Python row loops) and scales
with the extracts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from kontrol.extracts import Extracts
from kontrol.timeline import RESIDENT
from kontrol.window import Window, net_lines, window_for

#: Columns that must never influence a score (CONTRACT.md section 1 marks
#: sex and citizenship as protected; birth date gives age; the cpr's first
#: six digits are the birth date; country codes point at origin).
PROTECTED_COLUMNS = frozenset(
    {"sex", "citizenship", "birth_date", "country_code", "age", "municipality_code"}
)

#: The only columns each source reads from its extract. ``persons`` is absent
#: on purpose: no feature needs anything from it.
SOURCE_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lines": ("payments", ("cpr", "benefit_code", "period_start", "period_end", "amount_dkk")),
    "payments": ("payments", ("cpr", "period_start", "payment_type")),
    "events": ("residence_events", ("cpr", "event_date", "event_type")),
    "address": ("residence_events", ("cpr", "event_date", "event_type", "address_id")),
    "relations": ("relations", ("cpr", "valid_from", "valid_to")),
    "income": ("income", ("cpr", "month", "gross_income_dkk")),
}

ExprFor = Callable[[Window], pl.Expr]


@dataclass(frozen=True)
class Feature:
    """One declared feature.

    * ``source``: the per-person frame it aggregates (a key of :data:`SOURCE_COLUMNS`);
    * ``expr``: the aggregation over that person's rows, given the window;
    * ``reason``: one line on why this behaviour is worth a caseworker's attention;
    * ``template``: the caseworker-readable sentence for an explanation, with
      ``{value}`` and ``{typical}`` placeholders;
    * ``kind``: how values are printed (``count``, ``dkk``, ``share``, ``change``);
    * ``log``: whether the detector sees ``log1p(value)`` (skewed, non-negative
      amounts and counts, so a few large values do not swamp every split).
    """

    name: str
    reason: str
    source: str
    expr: ExprFor
    template: str
    kind: str = "count"
    log: bool = True


def _mid(window: Window) -> date:
    """First day of the second half of the window (by months)."""
    months = window.month_starts()
    return months[len(months) // 2]


def _amount() -> pl.Expr:
    return pl.col("amount_dkk").cast(pl.Float64)


def _change(w: Window) -> pl.Expr:
    """(second half - first half) / total, in [-1, 1]: 0 = steady, 1 = all in the second half."""
    late = _amount().filter(pl.col("period_start") >= _mid(w)).sum()
    early = _amount().filter(pl.col("period_start") < _mid(w)).sum()
    total = _amount().sum()
    return pl.when(total > 0).then((late - early) / total).otherwise(0.0)


def _month_words(day: str, window: Window) -> list[pl.Expr]:
    """The window month of ``day`` as one set bit: bit ``i % 64`` of word ``i // 64``.

    ``i`` is the month's place in the window (0 = its first month). OR-ed over a
    person's rows, the words are the set of months the person has rows in, and
    counting the set bits counts them: a distinct count that needs no hash set
    per person (at 6M persons ``n_unique`` per person took 2.6 GB, the bits 0.4 GB).
    """
    first = window.start.year * 12 + window.start.month - 1
    index = (
        pl.col(day).dt.year().cast(pl.Int64) * 12 + pl.col(day).dt.month().cast(pl.Int64) - 1
    ) - first
    words = []
    for word in range((window.months + 63) // 64):
        low = 64 * word
        inside = (index >= low) & (index < low + 64)
        bit = pl.lit(2, dtype=pl.UInt64).pow((index - low).cast(pl.UInt64))
        words.append(pl.when(inside).then(bit).otherwise(pl.lit(0, dtype=pl.UInt64)))
    return words


def _months_paid(w: Window) -> pl.Expr:
    """Distinct window months of the person's lines' ``period_start``."""
    return pl.sum_horizontal(
        word.bitwise_or().bitwise_count_ones() for word in _month_words("period_start", w)
    )


#: The columns (one per 64 window months) of a recipient's benefit months as bits,
#: which person_features joins to the income rows.
_BENEFIT_MONTHS = "_benefit_months_"


def _income_months_on_benefit(w: Window) -> pl.Expr:
    """Distinct months with income that are also months of a benefit line (the bits in both)."""
    return pl.sum_horizontal(
        (word.bitwise_or() & pl.col(f"{_BENEFIT_MONTHS}{i}").first()).bitwise_count_ones()
        for i, word in enumerate(_month_words("month", w))
    )


def _events_of(*types: str) -> ExprFor:
    return lambda w: pl.col("event_type").is_in(list(types)).sum()


def _in_window(column: str) -> Callable[[Window], pl.Expr]:
    return lambda w: pl.col(column).is_not_null() & w.contains(column)


FEATURES: tuple[Feature, ...] = (
    Feature(
        "distinct_benefits",
        "Several benefits at once is where overlaps and double payments occur.",
        "lines",
        # categorical: counting distinct codes per person without a string hash set
        lambda w: pl.col("benefit_code").cast(pl.Categorical).n_unique(),
        "{value} different benefits paid in the window (typical: {typical})",
    ),
    Feature(
        "total_amount_dkk",
        "The more is paid out, the more is at stake if a condition no longer holds.",
        "lines",
        lambda w: _amount().sum(),
        "{value} paid in the window (typical: {typical})",
        kind="dkk",
    ),
    Feature(
        "amount_change",
        "A sharp rise or fall between the window's halves marks a change of circumstances.",
        "lines",
        _change,
        "payments {value} between the first and second half of the window (typical: {typical})",
        kind="change",
        log=False,
    ),
    Feature(
        "months_paid",
        "Long, uninterrupted payment makes a stale entitlement more costly.",
        "lines",
        _months_paid,
        "paid in {value} months of the window (typical: {typical})",
    ),
    Feature(
        "corrections",
        "Frequent corrections mean the payments were repeatedly found to be wrong.",
        "payments",
        lambda w: (pl.col("payment_type") == "correction").sum(),
        "{value} corrections to payments in the window (typical: {typical})",
    ),
    Feature(
        "correction_share",
        "The share of corrected payment rows, independent of how many rows a person has.",
        "payments",
        lambda w: (pl.col("payment_type") == "correction").mean(),
        "{value} of payment rows in the window are corrections (typical: {typical})",
        kind="share",
        log=False,
    ),
    Feature(
        "address_moves",
        "Frequent moves make the registered address, and entitlements tied to it, uncertain.",
        "events",
        _events_of("address"),
        "{value} address changes registered in the window (typical: {typical})",
    ),
    Feature(
        "residence_status_changes",
        "Emigration, return, disappearance or death registered in the window.",
        "events",
        _events_of("emigrated", "immigrated", "disappeared", "died"),
        "{value} emigrations, returns, disappearances or deaths registered in the window"
        " (typical: {typical})",
    ),
    Feature(
        "residents_at_address",
        "Many persons registered at one address is a known sign of a registration"
        " that does not match who lives there.",
        "address",
        lambda w: pl.col("residents_at_address").first(),
        "{value} persons registered at the recipient's address on the as-of date"
        " (typical: {typical})",
    ),
    Feature(
        "household_changes",
        "Relations (spouse, child) starting or ending change what a household is entitled to.",
        "relations",
        lambda w: (
            _in_window("valid_from")(w).cast(pl.Int64) + _in_window("valid_to")(w).cast(pl.Int64)
        ).sum(),
        "{value} spouse or child relations started or ended in the window (typical: {typical})",
    ),
    Feature(
        "income_months_on_benefit",
        "Income in months that are also paid a benefit may not have been offset.",
        "income",
        _income_months_on_benefit,
        "income reported in {value} months that were also paid a benefit (typical: {typical})",
    ),
)

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)


def _source(extracts: Extracts, name: str) -> pl.LazyFrame:
    """The extract behind ``name``, narrowed to its declared columns before anything else."""
    extract, columns = SOURCE_COLUMNS[name]
    frame: pl.LazyFrame = getattr(extracts, extract)
    return frame.select(columns)


def _sources(
    extracts: Extracts,
    window: Window,
    lines: pl.LazyFrame | None = None,
    timeline: pl.LazyFrame | None = None,
) -> dict[str, pl.LazyFrame]:
    """Per-person rows of each source, cut to the window (register events up to ``as_of``).

    ``lines`` and ``timeline`` are the rule stage's staged net lines and
    person-state timeline, when the caller has them: the same facts, already
    computed, so the payments are not netted and the residence events not
    grouped by person a second time.
    """
    as_of = window.as_of
    if lines is None:
        lines = net_lines(_source(extracts, "lines"), window)
    else:  # the same lines, computed once by the rule stage: narrowed to the declared columns
        lines = lines.select(SOURCE_COLUMNS["lines"][1])
    if timeline is None:
        last = (
            _source(extracts, "address")
            .filter(pl.col("event_date") <= as_of)
            .group_by("cpr")
            .agg(
                pl.col("event_type").sort_by("event_date").last(),
                pl.col("address_id").sort_by("event_date").last(),
            )
            .filter(pl.col("event_type").is_in(["address", "immigrated"]))
            .select("cpr", "address_id")
        )
    else:  # a person's last event on or before as_of is the interval still open at as_of
        last = timeline.filter(pl.col("valid_to").is_null() & (pl.col("state") == RESIDENT)).select(
            "cpr", "address_id"
        )
    residents = last.group_by("address_id").agg(pl.len().alias("residents_at_address"))
    # the months with income; the months with a benefit line are joined to them per
    # person by person_features, from the lines' aggregate (see _BENEFIT_MONTHS)
    income_months = (
        _source(extracts, "income")
        .filter(window.contains("month") & (pl.col("gross_income_dkk") > 0))
        .select("cpr", "month")
    )
    return {
        "lines": lines,
        "payments": _source(extracts, "payments").filter(window.contains("period_start")),
        "events": _source(extracts, "events").filter(window.contains("event_date")),
        "address": last.join(residents, on="address_id").select("cpr", "residents_at_address"),
        "relations": _source(extracts, "relations").filter(pl.col("valid_from") <= as_of),
        "income": income_months,
    }


def person_features(
    extracts: Extracts,
    as_of: date,
    window_months: int,
    *,
    lines: pl.LazyFrame | None = None,
    timeline: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """``cpr`` plus one Float64 column per :data:`FEATURES`, for every benefit recipient.

    A recipient is anyone with a positive net payment line in the window: the
    population the detector learns what is *usual* from, flagged or not. A
    person with no rows in a source gets 0 for its features (no moves, no
    corrections, ...). Values are rounded to 6 decimals so that summation
    order inside the engine cannot change a score. Sorted by cpr so the
    frame is the same on every run.
    """
    window = window_for(as_of, window_months)
    sources = _sources(extracts, window, lines, timeline)
    months = [
        word.bitwise_or().alias(f"{_BENEFIT_MONTHS}{i}")
        for i, word in enumerate(_month_words("period_start", window))
    ]
    # The lines' aggregate is the recipients themselves, one row each: the other sources
    # join it. It also carries each recipient's benefit months, which the income rows
    # are joined to (one pass over the lines serves both; cached, so it is computed once).
    frame = (
        sources["lines"]
        .group_by("cpr")
        .agg(*(f.expr(window).alias(f.name) for f in FEATURES if f.source == "lines"), *months)
        .cache()
    )
    sources["income"] = sources["income"].join(
        frame.select("cpr", pl.col(f"^{_BENEFIT_MONTHS}.*$")), on="cpr", how="inner"
    )
    for name in SOURCE_COLUMNS:
        mine = [f for f in FEATURES if f.source == name]
        if mine and name != "lines":
            agg = sources[name].group_by("cpr").agg(f.expr(window).alias(f.name) for f in mine)
            frame = frame.join(agg, on="cpr", how="left")
    return frame.select(
        "cpr",
        *(pl.col(f.name).cast(pl.Float64).fill_null(0.0).round(6) for f in FEATURES),
    ).sort("cpr")
