"""R04 income while on an income-tested benefit, per calendar month."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import polars as pl
from pydantic import Field

from kontrol.danish import benefit_da, fmt_dkk, fmt_month, join_da, plural
from kontrol.rules.account import AccountParts, CaseFacts, Event, Line
from kontrol.rules.evidence import Evidence, LineFacts, struct_of
from kontrol.rules.items import MAX_LISTED, line_struct
from kontrol.rules.legal import basis
from kontrol.rules.spec import RuleContext, RuleParameters, RuleSpec, Scope
from kontrol.schema import CASE_MONEY


class R04Parameters(RuleParameters):
    """``income_threshold_dkk``: a month is flagged when income is *strictly* above it."""

    income_threshold_dkk: Decimal = Field(default=Decimal("1000.00"), ge=0, decimal_places=2)


class EmployerIncome(Evidence):
    """One employer's gross income for the month (summed over its rows)."""

    employer_cvr: str
    gross_income_dkk: Decimal


class IncomeMonth(Evidence):
    """A flagged month: B (``benefit_total_dkk``) and I (``income_total_dkk``) and their sources.

    ``month`` is ``YYYY-MM``; ``amount_dkk`` = min(B, I); at most MAX_LISTED
    lines and employers are listed, with the totals beside them.
    """

    month: str
    benefit_total_dkk: Decimal
    income_total_dkk: Decimal
    income_threshold_dkk: Decimal
    amount_dkk: Decimal
    lines_total: int
    lines: list[LineFacts]
    employers_total: int
    employers: list[EmployerIncome]


def flag(ctx: RuleContext) -> pl.LazyFrame:
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
    # The income of those months per employer, read once: summed per month for I, and
    # listed per employer in the evidence of the flagged months (cached, so the income
    # extract, 58M rows at 6M persons, is not scanned a second time for the evidence).
    per_employer = (
        ctx.income.join(benefit.select("cpr", "month"), on=["cpr", "month"], how="semi")
        .group_by("cpr", "month", "employer_cvr")
        .agg(pl.col("gross_income_dkk").sum())
        .cache()
    )
    income = per_employer.group_by("cpr", "month").agg(pl.col("gross_income_dkk").sum().alias("i"))
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
        per_employer.join(keys, on=["cpr", "month"], how="semi")
        .with_columns(pl.col("gross_income_dkk").cast(CASE_MONEY))
        .group_by("cpr", "month")
        .agg(
            struct_of(
                EmployerIncome,
                {
                    "employer_cvr": pl.col("employer_cvr"),
                    "gross_income_dkk": pl.col("gross_income_dkk"),
                },
            )
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
    evidence = struct_of(
        IncomeMonth,
        {
            "month": month_text,
            "benefit_total_dkk": b,
            "income_total_dkk": i,
            "income_threshold_dkk": pl.lit(threshold, dtype=CASE_MONEY),
            "amount_dkk": amount,
            "lines_total": pl.col("lines_total"),
            "lines": pl.col("lines"),
            "employers_total": pl.col("employers_total"),
            "employers": pl.col("employers"),
        },
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


def account(case: CaseFacts, items: Sequence[IncomeMonth]) -> AccountParts:
    """The Danish account: in which months income above the threshold met the benefit.

    One account line per flagged month (its benefits, B and I) and one
    timeline entry per month (the income and its employers' CVR numbers).

    Example: "Indkomst over 1.000,00 kr. i 2 måneder med uddannelseshjælp (januar
    2026, maj 2026): 11.258,31 kr. på spil", timeline "Indkomst 24.527,20 kr. i
    januar 2026 (eIndkomst, CVR-nr. 57525389)".
    """
    lines: list[Line] = []
    timeline: list[Event] = []
    for item in items:
        month = date.fromisoformat(f"{item.month}-01")
        codes = sorted({line.benefit_code for line in item.lines})
        employers = ", ".join(e.employer_cvr for e in item.employers) or "ukendt"
        lines.append(
            Line(
                benefit=join_da([benefit_da(c) for c in codes]),
                period_start=min((line.period_start for line in item.lines), default=month),
                period_end=max((line.period_end for line in item.lines), default=None),
                amount=item.amount_dkk,
                note=(
                    f"Ydelse {fmt_dkk(item.benefit_total_dkk)}, "
                    f"indkomst {fmt_dkk(item.income_total_dkk)}; på spil er det mindste af de to"
                ),
            )
        )
        timeline.append(
            Event(
                month,
                f"Indkomst {fmt_dkk(item.income_total_dkk)} i {fmt_month(month)} "
                f"(eIndkomst, CVR-nr. {employers})",
            )
        )
    n = case.items_total
    listed = (
        " (" + ", ".join(fmt_month(ln.period_start) for ln in lines if ln.period_start) + ")"
        if n == len(lines)
        else ""
    )
    summary = (
        f"Indkomst over {fmt_dkk(items[0].income_threshold_dkk)} i "
        f"{plural(n, 'måned', 'måneder')} med {join_da(list(case.benefits))}{listed}"
        f": {fmt_dkk(case.amount)} på spil"
    )
    return AccountParts(summary, timeline, lines)


RULE = RuleSpec(
    rule_id="R04",
    name_da="Indkomst under indkomstafhængig ydelse",
    name_en="Income while on an income-tested benefit",
    description=(
        "In a month where the recipient was paid an income-tested benefit, eIndkomst shows"
        " gross income above the threshold. The amount at stake is the smaller of the"
        " benefit and the income for that month."
    ),
    legal_basis=basis(),
    benefits_in_scope=Scope.where("income_tested"),
    flag=flag,
    evidence=IncomeMonth,
    account=account,
    parameters=R04Parameters,
    item_kind="month",
)
