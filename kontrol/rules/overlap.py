"""R06: overlapping income-replacement benefits."""

from __future__ import annotations

import polars as pl

from kontrol.rules.items import line_fields
from kontrol.rules.spec import RuleContext
from kontrol.schema import CASE_MONEY


def _prorated_ore(ore: pl.Expr, shared: pl.Expr, days: pl.Expr) -> pl.Expr:
    """``round_half_up(ore * shared / days)`` in whole øre, exactly, for ore >= 0.

    ``(2*ore*d + n) // (2*n)`` is ``floor(ore*d/n + 1/2)``: half-up, not
    banker's rounding, and no float ever touches the amount.
    """
    return (2 * ore * shared + days) // (2 * days)


def flag_r06(ctx: RuleContext) -> pl.LazyFrame:
    """R06: two lines to P of different income-replacement benefits share >= 1 day.

    Every unordered pair of positive net lines in the window with different
    codes (reading 14) is one item. d = shared days, n = a line's days (both
    inclusive); the pair's amount is min(a1*d/n1, a2*d/n2), each rounded
    half-up to 0.01 in integer øre. Item period: the pair's earliest s to
    latest e; order and anchor: the first shared day, so the case anchor is
    the earliest first shared day over all pairs.

    Lines never cross a month (CONTRACT.md section 1), so two lines can only
    share a day within the same month: pairs are found with an equi-join on
    (cpr, month) instead of a per-person cross join.

    Example: SYGEDAGPENGE 9,000.00 for 2026-03-01..2026-03-31 (n = 31) and
    KONTANTHJAELP 5,000.00 for 2026-03-22..2026-03-31 (n = 10) share d = 10
    days: min(9000*10/31 = 2903.23, 5000*10/10 = 5000.00) = 2,903.23 → R06
    case anchor 2026-03-22.
    """
    month = pl.col("period_start").dt.truncate("1mo").alias("month")
    lines = ctx.lines.with_columns(month, (pl.col("amount_dkk") * 100).cast(pl.Int64).alias("ore"))
    cols = ["benefit_code", "period_start", "period_end", "amount_dkk", "days", "ore"]
    first = lines.select("cpr", "month", *[pl.col(c).alias(f"{c}_1") for c in cols])
    second = lines.select("cpr", "month", *[pl.col(c).alias(f"{c}_2") for c in cols])
    shared_from = pl.max_horizontal("period_start_1", "period_start_2")
    shared_to = pl.min_horizontal("period_end_1", "period_end_2")
    pairs = (
        first.join(second, on=["cpr", "month"], how="inner")
        .filter((pl.col("benefit_code_1") < pl.col("benefit_code_2")) & (shared_from <= shared_to))
        .with_columns(
            shared_from.alias("shared_from"),
            shared_to.alias("shared_to"),
            ((shared_to - shared_from).dt.total_days() + 1).alias("shared_days"),
        )
        .with_columns(
            _prorated_ore(pl.col("ore_1"), pl.col("shared_days"), pl.col("days_1")).alias("p_1"),
            _prorated_ore(pl.col("ore_2"), pl.col("shared_days"), pl.col("days_2")).alias("p_2"),
        )
        .with_columns(pl.min_horizontal("p_1", "p_2").alias("p"))
    )

    def dkk(ore: str) -> pl.Expr:
        return (pl.col(ore).cast(pl.Decimal(38, 2)) / 100).cast(CASE_MONEY)

    def line(k: int) -> pl.Expr:
        return pl.struct(
            *line_fields(f"_{k}"),
            pl.col(f"days_{k}").alias("days"),
            dkk(f"p_{k}").alias("prorated_dkk"),
        )

    summary = pl.format(
        "{} and {} both paid for {} to {} ({} shared day(s)); overlap amount min({}, {}) = {} DKK",
        pl.col("benefit_code_1"),
        pl.col("benefit_code_2"),
        pl.col("shared_from").cast(pl.String),
        pl.col("shared_to").cast(pl.String),
        pl.col("shared_days"),
        dkk("p_1").cast(pl.String),
        dkk("p_2").cast(pl.String),
        dkk("p").cast(pl.String),
    )
    evidence = pl.struct(
        line(1).alias("line_1"),
        line(2).alias("line_2"),
        "shared_from",
        "shared_to",
        "shared_days",
        dkk("p").alias("amount_dkk"),
    ).struct.json_encode()
    return pairs.select(
        "cpr",
        pl.min_horizontal("period_start_1", "period_start_2").alias("item_start"),
        pl.max_horizontal("period_end_1", "period_end_2").alias("item_end"),
        dkk("p").alias("amount_dkk"),
        pl.concat_list("benefit_code_1", "benefit_code_2").alias("benefit_codes"),
        pl.col("shared_from").alias("order_key"),
        pl.col("shared_from").alias("anchor_date"),
        summary.alias("summary"),
        evidence.alias("evidence"),
    )
