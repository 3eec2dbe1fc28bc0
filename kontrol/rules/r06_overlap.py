"""R06: overlapping income-replacement benefits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import polars as pl

from kontrol.danish import benefit_da, fmt_dkk, plural
from kontrol.rules.account import AccountParts, CaseFacts, Line
from kontrol.rules.evidence import Evidence, LineFacts, line_fields, struct_of
from kontrol.rules.legal import basis
from kontrol.rules.spec import RuleContext, RuleSpec, Scope
from kontrol.schema import CASE_MONEY


class PairLine(LineFacts):
    """One line of an overlapping pair: its days n and its share for the shared days."""

    days: int
    prorated_dkk: Decimal


class OverlapPair(Evidence):
    """Two lines of different income-replacement benefits sharing ``shared_days`` days.

    ``amount_dkk`` is the smaller of the two prorated shares.
    """

    line_1: PairLine
    line_2: PairLine
    shared_from: date
    shared_to: date
    shared_days: int
    amount_dkk: Decimal


def _prorated_ore(ore: pl.Expr, shared: pl.Expr, days: pl.Expr) -> pl.Expr:
    """``round_half_up(ore * shared / days)`` in whole øre, exactly, for ore >= 0.

    ``(2*ore*d + n) // (2*n)`` is ``floor(ore*d/n + 1/2)``: half-up, not
    banker's rounding, and no float ever touches the amount.
    """
    return (2 * ore * shared + days) // (2 * days)


def flag(ctx: RuleContext) -> pl.LazyFrame:
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
    # A pair needs two codes, so only a person paid two or more codes in scope can have
    # one: the lines are cut to those persons first, a pure pruning (the conditions below
    # are still checked in full). At 6M persons it leaves 0.7M of 17M lines, and the
    # self-join's hash table shrinks with them (3.4 GB -> 1.5 GB for the rule).
    code = pl.col("benefit_code").cast(pl.Enum(ctx.benefit_codes)).to_physical()
    several = (
        ctx.lines.select("cpr", code.alias("code"))
        .group_by("cpr")
        .agg((pl.col("code").min() != pl.col("code").max()).alias("several"))
        .filter("several")
        .select("cpr")
    )
    lines = ctx.lines.join(several, on="cpr", how="semi").with_columns(
        month, (pl.col("amount_dkk") * 100).cast(pl.Int64).alias("ore")
    )
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
        return struct_of(
            PairLine,
            {
                **line_fields(f"_{k}"),
                "days": pl.col(f"days_{k}"),
                "prorated_dkk": dkk(f"p_{k}"),
            },
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
    evidence = struct_of(
        OverlapPair,
        {
            "line_1": line(1),
            "line_2": line(2),
            "shared_from": pl.col("shared_from"),
            "shared_to": pl.col("shared_to"),
            "shared_days": pl.col("shared_days"),
            "amount_dkk": dkk("p"),
        },
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


def account(case: CaseFacts, items: Sequence[OverlapPair]) -> AccountParts:
    """The Danish account: which benefits overlapped, for how many days, and the amount.

    One account line per pair, over its shared days; no timeline (the facts
    are the payments themselves). When not every pair is listed, the days
    are "at least" the listed ones.

    Example: "Overlappende førtidspension og uddannelseshjælp i 365 dage:
    72.241,31 kr.", line note "Førtidspension 20.127,84 kr. (30 dage),
    uddannelseshjælp 6.182,10 kr. (30 dage); 30 fælles dage, på spil er den
    mindste andel".
    """
    lines = []
    pairs: list[str] = []
    days = 0
    for item in items:
        a, b = item.line_1, item.line_2
        na, nb = benefit_da(a.benefit_code), benefit_da(b.benefit_code)
        if f"{na} og {nb}" not in pairs:
            pairs.append(f"{na} og {nb}")
        days += item.shared_days
        lines.append(
            Line(
                benefit=f"{na} + {nb}",
                period_start=item.shared_from,
                period_end=item.shared_to,
                amount=item.amount_dkk,
                note=(
                    f"{na.capitalize()} {fmt_dkk(a.amount_dkk)} ({a.days} dage), "
                    f"{nb} {fmt_dkk(b.amount_dkk)} ({b.days} dage); "
                    f"{item.shared_days} fælles dage, på spil er den mindste andel"
                ),
            )
        )
    at_least = "" if case.items_total == len(items) else "mindst "
    summary = (
        f"Overlappende {'; '.join(pairs)} i {at_least}{plural(days, 'dag', 'dage')}: "
        f"{fmt_dkk(case.amount)}"
    )
    return AccountParts(summary, [], lines)


RULE = RuleSpec(
    rule_id="R06",
    name_da="Overlappende indkomsterstattende ydelser",
    name_en="Overlapping income-replacement benefits",
    description=(
        "Two different income-replacement benefits were paid to the same person for"
        " overlapping days. The amount at stake is, per overlapping pair, the smaller of"
        " the two benefits' shares for the shared days."
    ),
    legal_basis=basis(),
    benefits_in_scope=Scope.where("income_replacement"),
    flag=flag,
    evidence=OverlapPair,
    account=account,
    item_kind="pair",
)
