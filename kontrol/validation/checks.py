"""The Polars half of validation: names, derived check columns, facts and samples.

Nothing here imports Great Expectations; it turns the declarations of
:mod:`kontrol.schema` into (a) the names that the generated suites and the
frames fed to GX share, and (b) the frames themselves:

* :func:`derived_columns`: constraints that GX cannot express natively
  (same month, ``RequiredWhen``, conditional ``AtLeast``, ``FirstOfMonth``,
  column-pair predicates) are evaluated with the constraint's own
  ``.valid()`` and handed to GX as a boolean column ``valid__<slug>``, which
  the suite expects to be ``True``. The check is thereby still declared once
  (in :mod:`kontrol.schema`); GX only sees its outcome per row.
* :func:`delivery_facts`: one row of whole-extract measurements computed in a
  single streaming Polars pass per extract (failed rows per constraint on the
  *clean* staged file, key nulls/duplicates, rows referring to unknown
  persons, rows dated after ``as_of``) plus the delivery-level numbers of the
  load stage (reject share, volumes). GX validates this one-row frame.
* :func:`gx_sample`: the frame GX validates value by value: the whole clean
  extract when it is small, otherwise a deterministic, evenly spread sample.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl

from kontrol.schema import (
    CASE_MONEY,
    AtLeast,
    Constraint,
    ExtractSpec,
    InSet,
    MatchesRegex,
    NotNull,
)
from kontrol.window import Window

#: Extracts whose ``cpr`` must be a person of ``persons`` (referential integrity).
#: ``relations.related_cpr`` is deliberately *not* checked: a child's other
#: parent or a spouse may live in another municipality and so be absent from
#: ``persons`` legitimately; checking it would raise a warning every month.
#: Of the optional registers (CONTRACT.md section 1b) only ``custody`` is
#: checked: a lease may name a co-tenant who is not in ``persons`` (R09 reads
#: exactly that case), and an inspection meets workers living anywhere.
REFERRING_EXTRACTS = ("residence_events", "relations", "payments", "income", "custody")

#: The date column of each extract that must not lie after ``as_of``: an event
#: in the future means the extract was cut later than the run believes.
AS_OF_COLUMNS: Mapping[str, str] = {
    "residence_events": "event_date",
    "relations": "valid_from",
    "payments": "paid_date",
    "income": "month",
    "utility_readings": "month",
    "tenancies": "valid_from",
    "inspections": "inspection_date",
    "custody": "start_date",
}

DERIVED_PREFIX = "valid__"

#: Money columns whose sums the rules take per person (net lines, case amounts,
#: monthly income). A person whose lines sum, in absolute value, to more than
#: :data:`CASE_MONEY_MAX` could overflow the queue's decimal(14,2); such a
#: delivery is implausible (no one receives a trillion kroner) and fails.
SUMMED_MONEY: Mapping[str, str] = {"payments": "amount_dkk", "income": "gross_income_dkk"}
CASE_MONEY_MAX = Decimal("999999999999.99")
assert (CASE_MONEY.precision, CASE_MONEY.scale) == (14, 2), "CASE_MONEY_MAX is decimal(14,2)'s"

#: Delivery facts the report and the error message explain in words (no values).
FACT_EMPTY = "empty"
FACT_PERSONS_OVER_CASE_MONEY = "persons_over_case_money"
FACT_LINES_IN_WINDOW = "lines_in_window"
FACT_STOPS_BEFORE_AS_OF_MONTH = "stops_before_as_of_month"
#: Context of the window facts: not validated, only quoted in messages.
FACT_LATEST_PERIOD_START = "latest_period_start"
FACT_LATEST_PERIOD_END = "latest_period_end"


def slug(text: str) -> str:
    """A column-name-safe, stable identifier for a human sentence."""
    return re.sub(r"_+", "_", re.sub(r"[^0-9a-z]+", "_", text.lower())).strip("_")


def check_name(constraint: Constraint) -> str:
    """The loader's reject reason for this constraint: one name in rejects, suites and report."""
    return f"{constraint.column}: {constraint.reason}"


def is_native(constraint: Constraint) -> bool:
    """Whether GX has an expectation with the same meaning (nulls pass, as in ``.valid()``)."""
    if isinstance(constraint, NotNull | MatchesRegex | InSet):
        return True
    if isinstance(constraint, AtLeast):
        return constraint.when is None and isinstance(constraint.minimum, int | float)
    return False


def derived_column(constraint: Constraint) -> str:
    return DERIVED_PREFIX + slug(check_name(constraint))


def derived_columns(spec: ExtractSpec) -> dict[str, pl.Expr]:
    """The boolean columns GX checks for the constraints it cannot express itself."""
    return {
        derived_column(c): c.valid().alias(derived_column(c))
        for c in spec.all_constraints()
        if not is_native(c)
    }


# --- facts: whole-extract measurements in Polars ------------------------------


def fact_column(extract: str, metric: str) -> str:
    return f"{extract}__{metric}"


def failed_metric(constraint: Constraint) -> str:
    return "clean_rows_failing__" + slug(check_name(constraint))


@dataclass(frozen=True)
class ExtractCounts:
    """What the load stage reported for one extract (see ``pipeline.ExtractLoad``)."""

    rows_delivered: int
    rows_rejected: int
    rows_loaded: int


def _key_expr(key: Sequence[str]) -> pl.Expr:
    return pl.col(key[0]) if len(key) == 1 else pl.struct(list(key))


def _extract_aggregates(
    spec: ExtractSpec, as_of: date, person_hashes: pl.Series | None
) -> list[pl.Expr]:
    """Every whole-file measurement of one extract, as aggregates of a single pass."""
    name = spec.name
    exprs: list[pl.Expr] = [pl.len().cast(pl.Int64).alias(fact_column(name, "staged_rows"))]
    for constraint in spec.all_constraints():
        exprs.append(
            (~constraint.valid())
            .sum()
            .cast(pl.Int64)
            .alias(fact_column(name, failed_metric(constraint)))
        )
    if spec.key:
        exprs.append(
            pl.any_horizontal([pl.col(k).is_null() for k in spec.key])
            .sum()
            .cast(pl.Int64)
            .alias(fact_column(name, "key_null_rows"))
        )
        # Counting distinct 64-bit hashes instead of distinct strings is 3x
        # faster on 60M payment ids. Equal keys have equal hashes, so a
        # collision can only *over*-report duplicates, never hide one: zero
        # is proof; anything else is recounted exactly (:func:`_exact_duplicates`).
        exprs.append(
            (pl.len() - _key_expr(spec.key).hash().n_unique())
            .cast(pl.Int64)
            .alias(fact_column(name, "key_duplicate_rows"))
        )
    if name in AS_OF_COLUMNS:
        exprs.append(
            (pl.col(AS_OF_COLUMNS[name]) > as_of)
            .sum()
            .cast(pl.Int64)
            .alias(fact_column(name, "rows_after_as_of"))
        )
    if person_hashes is not None:
        # Hash membership rather than an anti-join: one pass instead of two.
        # A collision could make an unknown cpr look known (probability about
        # 1e-7 for a national delivery); acceptable for a warning-level check.
        exprs.append(
            (~pl.col("cpr").hash().is_in(person_hashes.implode()))
            .sum()
            .cast(pl.Int64)
            .alias(fact_column(name, "rows_unknown_person"))
        )
    return exprs


def _exact_duplicates(frame: pl.LazyFrame, key: Sequence[str]) -> int:
    counted = frame.select((pl.len() - _key_expr(key).n_unique()).cast(pl.Int64))
    return int(counted.collect(engine="streaming").item())


def _persons_over_case_money(frame: pl.LazyFrame, column: str) -> pl.DataFrame:
    """One fact: persons whose ``column`` sums beyond :data:`CASE_MONEY_MAX` in absolute value.

    The whole-file absolute sum is a bound for every person's: when it fits,
    no person can overflow and the (costly, per-person) group-by is skipped.
    """
    wide = pl.Decimal(38, CASE_MONEY.scale or 0)
    magnitude = pl.col(column).cast(wide).abs()
    total = frame.select(magnitude.sum()).collect(engine="streaming").item()
    over = 0
    if total is not None and total > CASE_MONEY_MAX:
        over = (
            frame.group_by("cpr")
            .agg(magnitude.sum().alias("total"))
            .filter(pl.col("total") > CASE_MONEY_MAX)
            .select(pl.len())
            .collect(engine="streaming")
            .item()
        )
    return pl.DataFrame({"over": [int(over)]}, schema={"over": pl.Int64})


def _payment_window_facts(frame: pl.LazyFrame, window: Window) -> pl.DataFrame:
    """Lines in the window, whether payments stop before the as-of month, the latest period."""
    as_of_month = window.as_of.replace(day=1)
    return (
        frame.select(
            window.contains("period_start").sum().cast(pl.Int64).alias(FACT_LINES_IN_WINDOW),
            pl.col("period_start").max().alias(FACT_LATEST_PERIOD_START),
            pl.col("period_end").max().alias(FACT_LATEST_PERIOD_END),
        )
        .collect(engine="streaming")
        .with_columns(
            (pl.col(FACT_LATEST_PERIOD_END) < as_of_month)
            .fill_null(False)
            .cast(pl.Int64)
            .alias(FACT_STOPS_BEFORE_AS_OF_MONTH)
        )
    )


def plausibility_facts(
    clean: Mapping[str, pl.LazyFrame],
    specs: Mapping[str, ExtractSpec],
    counts: Mapping[str, ExtractCounts],
    window: Window,
) -> pl.DataFrame:
    """One row: empty extracts, sums beyond decimal(14,2), payments in and up to the window."""
    columns: dict[str, pl.Series] = {}
    for name, count in counts.items():
        columns[fact_column(name, FACT_EMPTY)] = pl.Series([int(count.rows_delivered == 0)])
    for name, column in SUMMED_MONEY.items():
        if name in specs:
            over = _persons_over_case_money(clean[name], column)
            columns[fact_column(name, FACT_PERSONS_OVER_CASE_MONEY)] = over["over"]
    if "payments" in specs:
        facts = _payment_window_facts(clean["payments"], window)
        for fact in facts.columns:
            columns[fact_column("payments", fact)] = facts[fact]
    return pl.DataFrame(columns)


def delivery_facts(
    clean: Mapping[str, pl.LazyFrame],
    specs: Mapping[str, ExtractSpec],
    counts: Mapping[str, ExtractCounts],
    as_of: date,
    previous_rows: Mapping[str, int] | None,
    *,
    window: Window,
) -> pl.DataFrame:
    """One row of measurements over the whole delivery; the frame the ``delivery`` suite checks.

    Each clean extract is scanned once: all constraint counts, the key
    checks, the date check and referential integrity (membership of the
    ``cpr`` hash in the set of ``persons.cpr`` hashes) are aggregates of the
    same streaming pass; the extracts one after the other, so that only one
    extract's key hashes are held at a time.
    """
    person_hashes = (
        clean["persons"]
        .select(pl.col("cpr").hash().unique())
        .collect(engine="streaming")
        .to_series()
    )
    # One extract at a time: each query's key hash set is as big as its extract, and
    # collect_all held them all at once (6M persons: a 10.9 GB peak).
    measured = pl.concat(
        [
            clean[name]
            .select(
                _extract_aggregates(
                    spec, as_of, person_hashes if name in REFERRING_EXTRACTS else None
                )
            )
            .collect(engine="streaming")
            for name, spec in specs.items()
        ],
        how="horizontal",
    )
    for name, spec in specs.items():
        column = fact_column(name, "key_duplicate_rows")
        if spec.key and measured[column][0]:
            exact = _exact_duplicates(clean[name], spec.key)
            measured = measured.with_columns(pl.lit(exact, dtype=pl.Int64).alias(column))

    load_facts: dict[str, pl.Series] = {}
    for name, count in counts.items():
        share = count.rows_rejected / count.rows_delivered if count.rows_delivered else 0.0
        previous = (previous_rows or {}).get(name)
        ratio = count.rows_delivered / previous if previous else None
        load_facts[fact_column(name, "rows_delivered")] = pl.Series([count.rows_delivered])
        load_facts[fact_column(name, "reject_share")] = pl.Series([share], dtype=pl.Float64)
        load_facts[fact_column(name, "rows_vs_previous")] = pl.Series([ratio], dtype=pl.Float64)
        staged = measured[fact_column(name, "staged_rows")][0]
        load_facts[fact_column(name, "staged_rows_mismatch")] = pl.Series(
            [abs(int(staged) - count.rows_loaded)]
        )
    plausibility = plausibility_facts(clean, specs, counts, window)
    return pl.concat([pl.DataFrame(load_facts), measured, plausibility], how="horizontal")


# --- the frame GX validates value by value ------------------------------------


@dataclass(frozen=True)
class Sample:
    frame: pl.DataFrame
    rows_total: int
    every: int

    @property
    def is_sample(self) -> bool:
        return self.every > 1


def gx_sample(frame: pl.LazyFrame, spec: ExtractSpec, max_rows: int) -> Sample:
    """Every ``k``-th row of a staged extract (all of it when it has at most ``max_rows``).

    Deterministic (the same file gives the same rows), spread over the whole
    file rather than its head, so a defect confined to one part of a delivery
    still has a fair chance to be seen; the exact, whole-file counts of the
    same checks are in the ``delivery`` suite.
    """
    rows_total = int(frame.select(pl.len()).collect().item())  # a Parquet scan: its metadata
    every = max(1, math.ceil(rows_total / max_rows)) if max_rows > 0 else 1
    if every > 1:
        frame = frame.gather_every(every)
    derived = derived_columns(spec)
    frame = frame.with_columns(list(derived.values())) if derived else frame
    return Sample(frame.collect(engine="streaming"), rows_total, every)
