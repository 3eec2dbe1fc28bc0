"""R10: met at work during a company inspection while on a benefit (CONTRACT.md 4b).

Why: the Kontrolgruppe's own company inspections (virksomhedskontroller)
meet people working. A person met working on a day covered by a benefit that
presumes no undeclared work (*work excluded*), whose employer reported no
income for them that month, may be working undeclared. Income the inspected
employer *did* report (even 0.01 DKK) means the work is declared, and R04
is the rule for declared income; income from any other employer is
irrelevant. Only the days met at work are at stake, so the amount is the
line prorated by flagged days: one inspection day in a 31-day line puts
1/31 of the line at stake, not the whole month.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import polars as pl

from kontrol.danish import benefit_da, fmt_dkk, fmt_month, join_da, plural
from kontrol.rules.account import AccountParts, CaseFacts, Event, Line
from kontrol.rules.evidence import Evidence, LineFacts, line_fields, struct_of
from kontrol.rules.items import MAX_LISTED, period_text, prorated_amount
from kontrol.rules.legal import INSPECTION, basis
from kontrol.rules.spec import RuleContext, RuleSpec, Scope
from kontrol.schema import CASE_MONEY

READS = ("inspections", "income")


class InspectionMet(Evidence):
    """An inspection that met the recipient at work, and the income that employer reported.

    ``income_from_employer_dkk`` is the recipient's summed ``gross_income_dkk``
    from ``employer_cvr`` for ``income_month``: ``"0.00"``, or null when there
    is no row at all.
    """

    inspection_id: str
    inspection_date: date
    employer_cvr: str
    income_month: str
    income_from_employer_dkk: Decimal | None


class InspectionLine(LineFacts):
    """A flagged line: k flagged days of n, the prorated amount, the inspections behind them."""

    line_days: int
    flagged_days: int
    prorated_dkk: Decimal
    inspections_total: int
    inspections: list[InspectionMet]


_LINE_KEY = ["cpr", "benefit_code", "period_start", "period_end", "amount_dkk", "days"]


def flag(ctx: RuleContext) -> pl.LazyFrame:
    """R10: a work-excluded line with days on which P was met at work undeclared.

    A day d with s <= d <= e is a *flagged day* of the line when P was met
    at an inspection on d and P's ``gross_income_dkk`` from that
    inspection's ``employer_cvr`` for the month of d, summed, is 0.00 or has
    no row. On a day with several inspections one such inspection suffices.
    k = distinct flagged days, n = the line's days; the item's amount is
    ``round_half_up(a * k / n)`` to 0.01 per line. A line whose amount rounds
    to 0.00 is still an item: it widens the case period and may set the
    anchor. Order key and anchor: the line's earliest flagged day, so the
    case anchor is the earliest flagged day over all flagged lines.
    Inspections count when ``inspection_date <= as_of``; since d lies in a
    line of the window, the month of d is a window month and the run's
    income cut already holds it.

    Example: P draws KONTANTHJAELP 12,400.00 for 2026-03 (n = 31) and was
    met working at CVR 12345678 on 2026-03-10 and 2026-03-24; eIndkomst has
    no March row from 12345678 (P's 9,000.00 from CVR 87654321 does not
    matter) → k = 2, amount 12,400.00 * 2 / 31 = 800.00, R10 case
    2026-03-01..2026-03-31, anchor 2026-03-10. A March row of 0.01 from
    12345678 would make both days unflagged.
    """
    lines = ctx.lines
    inspections = ctx.extract("inspections").join(
        lines.select("cpr").unique(), on="cpr", how="semi"
    )
    income = (
        ctx.income.join(inspections.select("cpr").unique(), on="cpr", how="semi")
        .group_by("cpr", "employer_cvr", "month")
        .agg(pl.col("gross_income_dkk").sum().cast(CASE_MONEY).alias("employer_income_dkk"))
    )
    met = (
        lines.join(inspections, on="cpr", how="inner")
        .filter(
            (pl.col("inspection_date") >= pl.col("period_start"))
            & (pl.col("inspection_date") <= pl.col("period_end"))
        )
        .with_columns(pl.col("inspection_date").dt.truncate("1mo").alias("month"))
        .join(income, on=["cpr", "employer_cvr", "month"], how="left")
        .filter(pl.col("employer_income_dkk").is_null() | (pl.col("employer_income_dkk") == 0))
    )
    order = ("inspection_date", "employer_cvr", "inspection_id")
    per_line = (
        met.group_by(*_LINE_KEY)
        .agg(
            struct_of(
                InspectionMet,
                {
                    "inspection_id": pl.col("inspection_id"),
                    "inspection_date": pl.col("inspection_date"),
                    "employer_cvr": pl.col("employer_cvr"),
                    "income_month": pl.col("month").dt.strftime("%Y-%m"),
                    "income_from_employer_dkk": pl.col("employer_income_dkk"),
                },
            )
            .sort_by(*order)
            .head(MAX_LISTED)
            .alias("inspections"),
            pl.len().alias("n_inspections"),
            pl.col("inspection_date").n_unique().cast(pl.Int32).alias("flagged_days"),
            pl.col("inspection_date").min().alias("first_day"),
            pl.col("employer_cvr").sort_by(*order).first().alias("first_cvr"),
        )
        .with_columns(
            prorated_amount(pl.col("amount_dkk"), pl.col("flagged_days"), pl.col("days")).alias(
                "at_stake"
            )
        )
    )
    summary = pl.format(
        "Recipient met at work at an inspection of CVR {} on {} with no income reported by"
        " that employer for the month; {} paid for {}; {} of {} day(s) flagged, {} DKK at stake",
        pl.col("first_cvr"),
        pl.col("first_day").cast(pl.String),
        pl.col("benefit_code"),
        period_text(),
        pl.col("flagged_days"),
        pl.col("days"),
        pl.col("at_stake").cast(pl.String),
    )
    evidence = struct_of(
        InspectionLine,
        {
            **line_fields(),
            "line_days": pl.col("days"),
            "flagged_days": pl.col("flagged_days"),
            "prorated_dkk": pl.col("at_stake"),
            "inspections_total": pl.col("n_inspections"),
            "inspections": pl.col("inspections"),
        },
    ).struct.json_encode()
    return per_line.select(
        "cpr",
        pl.col("period_start").alias("item_start"),
        pl.col("period_end").alias("item_end"),
        pl.col("at_stake").alias("amount_dkk"),
        pl.concat_list(pl.col("benefit_code")).alias("benefit_codes"),
        pl.col("first_day").alias("order_key"),
        pl.col("first_day").alias("anchor_date"),
        summary.alias("summary"),
        evidence.alias("evidence"),
    )


def account(case: CaseFacts, items: Sequence[InspectionLine]) -> AccountParts:
    """The Danish account: each inspection, the income checked, the days at stake.

    Example: "Truffet i arbejde ved virksomhedskontrol 2 dage uden indberettet løn fra den
    kontrollerede virksomhed, mens kontanthjælp blev udbetalt: 800,00 kr. på spil",
    timeline "Truffet i arbejde ved virksomhedskontrol hos CVR-nr. 12345678; eIndkomst fra
    denne arbejdsgiver for marts 2026: ingen indberetning".
    """
    timeline: list[Event] = []
    lines: list[Line] = []
    seen: set[tuple[date, str]] = set()
    days = 0
    for it in items:
        days += it.flagged_days
        k, n = it.flagged_days, it.line_days
        lines.append(
            Line(
                benefit=benefit_da(it.benefit_code),
                period_start=it.period_start,
                period_end=it.period_end,
                amount=it.prorated_dkk,
                note=(
                    f"Udbetalt {fmt_dkk(it.amount_dkk)} for {n} dage; "
                    f"{plural(k, 'dag', 'dage')} truffet i arbejde uden indberettet løn, "
                    f"på spil {k}/{n} af beløbet"
                ),
            )
        )
        for met in it.inspections:
            if (met.inspection_date, met.employer_cvr) in seen:
                continue
            seen.add((met.inspection_date, met.employer_cvr))
            income = met.income_from_employer_dkk
            reported = "ingen indberetning" if income is None else f"indberettet {fmt_dkk(income)}"
            month = date.fromisoformat(f"{met.income_month}-01")
            timeline.append(
                Event(
                    met.inspection_date,
                    f"Truffet i arbejde ved virksomhedskontrol hos CVR-nr. {met.employer_cvr};"
                    f" eIndkomst fra denne arbejdsgiver for {fmt_month(month)}: {reported}",
                )
            )
    complete = case.items_total == len(items)
    summary = (
        f"Truffet i arbejde ved virksomhedskontrol {'' if complete else 'mindst '}"
        f"{plural(days, 'dag', 'dage')} uden indberettet løn fra den kontrollerede"
        f" virksomhed, mens {join_da(list(case.benefits))} blev udbetalt:"
        f" {fmt_dkk(case.amount)} på spil"
    )
    return AccountParts(summary, timeline, lines)


RULE = RuleSpec(
    rule_id="R10",
    name_da="Truffet i arbejde ved virksomhedskontrol under ydelse",
    name_en="Met at work during a company inspection while on a benefit",
    description=(
        "The recipient of a benefit that presumes no undeclared work was met working at a"
        " company inspection, and that company reported no income for the recipient for"
        " the month. The amount at stake is the line's share for the days met at work."
    ),
    legal_basis=basis(INSPECTION),
    benefits_in_scope=Scope.where("work_excluded"),
    flag=flag,
    evidence=InspectionLine,
    account=account,
    reads=READS,
)
