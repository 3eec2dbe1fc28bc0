"""R04: income while on an income-tested benefit."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from pydantic import Field

from kontrol.rules.items import MAX_LISTED, line_struct
from kontrol.rules.spec import RuleContext, RuleParameters
from kontrol.schema import CASE_MONEY


class R04Parameters(RuleParameters):
    """``income_threshold_dkk``: a month is flagged when income is *strictly* above it."""

    income_threshold_dkk: Decimal = Field(default=Decimal("1000.00"), ge=0, decimal_places=2)


def flag_r04(ctx: RuleContext) -> pl.LazyFrame:
    """R04: per calendar month m, B = income-tested lines with s in m, I = income for m.

    The month is flagged when B > 0 and I > threshold (strictly; default
    1000.00 DKK, ``rule_parameters.R04.income_threshold_dkk``). The month's
    amount is min(B, I). The item spans the income-tested lines of the month
    (earliest s, latest e) and carries their codes; it is ordered, and
    anchored, by the first day of the month (reading 12). Income is summed
    over employers after the window cut (``window.start <= month <= as_of``).

    Example: KONTANTHJAELP 12,000.00 for 2026-03 and eIndkomst shows
    8,500.00 from one employer and 1,200.00 from another for 2026-03 →
    I = 9,700.00 > 1,000.00, month amount min(12,000.00, 9,700.00) =
    9,700.00 → R04 case anchor 2026-03-01. Income of exactly 1,000.00 would
    not flag the month; 1,000.01 would.
    """
    threshold = ctx.params_as(R04Parameters).income_threshold_dkk
    month = pl.col("period_start").dt.truncate("1mo").alias("month")
    # Cached: read by B and again by the evidence of flagged months (see R01 on why).
    lines = ctx.lines.with_columns(month).cache()
    benefit = lines.group_by("cpr", "month").agg(
        pl.col("amount_dkk").sum().alias("b"),
        pl.col("period_start").min().alias("item_start"),
        pl.col("period_end").max().alias("item_end"),
        pl.col("benefit_code").unique().sort().alias("benefit_codes"),
    )
    income = (
        ctx.income.join(benefit.select("cpr", "month"), on=["cpr", "month"], how="semi")
        .group_by("cpr", "month")
        .agg(pl.col("gross_income_dkk").sum().alias("i"))
    )
    flagged = (
        benefit.join(income, on=["cpr", "month"], how="inner")
        .filter((pl.col("b") > 0) & (pl.col("i") > threshold))
        .cache()
    )

    # Evidence, only for flagged months: the lines and the employers behind B and I.
    keys = flagged.select("cpr", "month")
    month_lines = (
        lines.join(keys, on=["cpr", "month"], how="semi")
        .group_by("cpr", "month")
        .agg(
            line_struct()
            .sort_by("period_start", "period_end", "benefit_code")
            .head(MAX_LISTED)
            .alias("lines"),
            pl.len().alias("lines_total"),
        )
    )
    employers = (
        ctx.income.join(keys, on=["cpr", "month"], how="semi")
        .group_by("cpr", "month", "employer_cvr")
        .agg(pl.col("gross_income_dkk").sum().cast(CASE_MONEY))
        .group_by("cpr", "month")
        .agg(
            pl.struct("employer_cvr", "gross_income_dkk")
            .sort_by("employer_cvr")
            .head(MAX_LISTED)
            .alias("employers"),
            pl.len().alias("employers_total"),
        )
    )
    amount = (pl.when(pl.col("b") <= pl.col("i")).then(pl.col("b")).otherwise(pl.col("i"))).cast(
        CASE_MONEY
    )
    b = pl.col("b").cast(CASE_MONEY)
    i = pl.col("i").cast(CASE_MONEY)
    month_text = pl.col("month").dt.strftime("%Y-%m")
    summary = pl.format(
        "In {} the recipient was paid {} DKK of income-tested benefits ({}) and had {} DKK"
        " gross income from {} employer(s), above the threshold of {} DKK; amount at stake"
        " min(benefit, income) = {} DKK",
        month_text,
        b.cast(pl.String),
        pl.col("benefit_codes").list.join(", "),
        i.cast(pl.String),
        pl.col("employers_total"),
        pl.lit(str(threshold)),
        amount.cast(pl.String),
    )
    evidence = pl.struct(
        month_text.alias("month"),
        b.alias("benefit_total_dkk"),
        i.alias("income_total_dkk"),
        pl.lit(threshold, dtype=CASE_MONEY).alias("income_threshold_dkk"),
        amount.alias("amount_dkk"),
        "lines_total",
        "lines",
        "employers_total",
        "employers",
    ).struct.json_encode()
    return (
        flagged.join(month_lines, on=["cpr", "month"], how="inner")
        .join(employers, on=["cpr", "month"], how="inner")
        .select(
            "cpr",
            "item_start",
            "item_end",
            amount.alias("amount_dkk"),
            "benefit_codes",
            pl.col("month").alias("order_key"),
            pl.col("month").alias("anchor_date"),
            summary.alias("summary"),
            evidence.alias("evidence"),
        )
    )
