"""Building blocks shared by the flag functions: ages, line facts, the item shape.

Evidence is assembled with ``struct.json_encode`` on structs built by
:func:`~kontrol.rules.evidence.struct_of`, whose fields are those of the
rule's evidence type in its declared order, so the JSON is deterministic
without sorting keys: dates come out as ISO strings and Decimal(14,2) amounts
as strings with two decimals (``"12345.00"``), never as floats.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from kontrol.rules.evidence import LineFacts, line_fields, struct_of
from kontrol.rules.spec import ITEM_SCHEMA
from kontrol.schema import CASE_MONEY

#: At most this many entries of any list are written into evidence; the
#: total is always given beside it, so nothing is silently lost.
MAX_LISTED = 24


def age_on(day: pl.Expr, birth_date: pl.Expr) -> pl.Expr:
    """Whole years completed on ``day`` (docs/contract-readings.md 8).

    ``year difference - 1 if (month, day) of day < (month, day) of birth``:
    someone born 29 February turns a year older on 1 March in common years,
    exactly as the reference implementation's tuple comparison does.
    """

    def month_day(d: pl.Expr) -> pl.Expr:
        return d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)

    before_birthday = (month_day(day) < month_day(birth_date)).cast(pl.Int32)
    return day.dt.year().cast(pl.Int32) - birth_date.dt.year().cast(pl.Int32) - before_birthday


def line_struct(suffix: str = "") -> pl.Expr:
    """The :class:`~kontrol.rules.evidence.LineFacts` of a net line as a struct."""
    return struct_of(LineFacts, line_fields(suffix))


def period_text(start: str = "period_start", end: str = "period_end") -> pl.Expr:
    return pl.format("{} to {}", pl.col(start).cast(pl.String), pl.col(end).cast(pl.String))


def optional_text(template: str, value: pl.Expr) -> pl.Expr:
    """``template`` formatted with ``value``, or ``""`` where the value is null."""
    return pl.when(value.is_not_null()).then(pl.format(template, value)).otherwise(pl.lit(""))


def line_items(
    flagged: pl.LazyFrame,
    *,
    evidence: type[LineFacts],
    anchor: pl.Expr,
    summary: pl.Expr,
    facts: Mapping[str, pl.Expr],
) -> pl.LazyFrame:
    """Flagged net lines (one per row of ``flagged``) in the shared item shape.

    The item is the line itself: it covers ``[s, e]``, is worth the line's
    amount and is ordered by ``s`` (reading 15). Its evidence has the type
    ``evidence``, a :class:`~kontrol.rules.evidence.LineFacts` whose further
    fields are given by ``facts``.
    """
    item = struct_of(evidence, {**line_fields(), **facts}).struct.json_encode()
    return flagged.select(
        "cpr",
        pl.col("period_start").alias("item_start"),
        pl.col("period_end").alias("item_end"),
        pl.col("amount_dkk").cast(CASE_MONEY),
        pl.concat_list(pl.col("benefit_code")).alias("benefit_codes"),
        pl.col("period_start").alias("order_key"),
        anchor.alias("anchor_date"),
        summary.alias("summary"),
        item.alias("evidence"),
    )


def empty_items() -> pl.LazyFrame:
    """No flagged items, in the shared shape."""
    return pl.LazyFrame(schema=ITEM_SCHEMA)


def prorated_amount(amount: pl.Expr, part_days: pl.Expr, line_days: pl.Expr) -> pl.Expr:
    """``amount * part_days / line_days`` rounded half up to 0.01, exactly, as Decimal(14,2).

    Computed in whole øre: ``(2*ore*d + n) // (2*n)`` is ``floor(ore*d/n + 1/2)``
    for ``ore >= 0``, i.e. half-up (never banker's) rounding, and no float
    ever touches the amount (CONTRACT.md section 4b: prorated amounts are
    rounded per line before summing). Example: 0.01 DKK for 1 of 2 days is
    0.005 DKK, which rounds half up to 0.01.
    """
    ore = (amount * 100).cast(pl.Int64)
    prorated = (2 * ore * part_days.cast(pl.Int64) + line_days.cast(pl.Int64)) // (
        2 * line_days.cast(pl.Int64)
    )
    return (prorated.cast(pl.Decimal(38, 2)) / 100).cast(CASE_MONEY)
