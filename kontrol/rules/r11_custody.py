"""R11: paid while deprived of liberty (CONTRACT.md section 4b).

Why: benefits that replace income for someone available to the labour
market (kontanthjælp, dagpenge, ...) are not paid while the recipient is held
on remand (varetægt) or serves a sentence (afsoning). A short arrest is not
what the rule is about, so only a *spell* of at least ``min_spell_days``
days counts (default 14, inclusive). A spell is measured after merging: the
police's remand and the prison service's sentence are separate rows for one
continuous deprivation of liberty, so rows that overlap or touch (one ends
on d, the next starts on d + 1) are one spell. A spell still running at
``as_of`` (open, or ending later) is measured, and counted, up to ``as_of``.
Only the days of a line inside such spells are at stake: a line of 31 days
with 10 days in custody puts 10/31 of it at stake.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import polars as pl
from pydantic import Field

from kontrol.danish import benefit_da, fmt_date, fmt_dkk, join_da, plural
from kontrol.rules.account import AccountParts, CaseFacts, Event, Line
from kontrol.rules.evidence import Evidence, LineFacts, line_fields, struct_of
from kontrol.rules.items import MAX_LISTED, period_text, prorated_amount
from kontrol.rules.legal import CUSTODY, basis
from kontrol.rules.spec import RuleContext, RuleParameters, RuleSpec, Scope

READS = ("custody",)

_LINE_KEY = ["cpr", "benefit_code", "period_start", "period_end", "amount_dkk", "days"]


class R11Parameters(RuleParameters):
    """``min_spell_days``: a merged spell counts when it lasts at least this many days."""

    min_spell_days: int = Field(default=14, ge=1)


class CustodyRecord(Evidence):
    """One row of ``custody.parquet`` as delivered (``end_date`` null = still held)."""

    custody_type: str
    start_date: date
    end_date: date | None


class Spell(Evidence):
    """A merged, clipped spell: first and last day, length, and the rows behind it.

    ``held_at_as_of``: a row of the spell was open or ended after ``as_of``,
    so the spell was measured up to ``as_of``.
    """

    spell_from: date
    spell_to: date
    spell_days: int
    held_at_as_of: bool
    records_total: int
    records: list[CustodyRecord]


class CustodyLine(LineFacts):
    """A flagged line: d days in custody of n, the prorated amount, the spells it overlaps."""

    line_days: int
    days_in_custody: int
    prorated_dkk: Decimal
    min_spell_days: int
    spells: list[Spell]


def custody_spells(custody: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Each person's merged spells of deprivation of liberty, clipped at ``as_of``.

    ``custody`` must already hold only rows with ``start_date <= as_of``. An
    open row (``end_date`` null) or one ending after ``as_of`` ends on
    ``as_of``. Rows of one person that overlap or touch are merged: sorted
    by start, a row opens a new spell when it starts after the latest end so
    far + 1 day. Columns ``cpr, spell_from, spell_to`` (inclusive),
    ``spell_days``, ``held_at_as_of`` (the spell was cut at ``as_of``) and
    ``records`` (the rows behind it, as delivered).
    """
    clipped = custody.with_columns(
        pl.min_horizontal(pl.col("end_date").fill_null(as_of), pl.lit(as_of)).alias("_end")
    ).sort("cpr", "start_date")
    latest_end_before = pl.col("_end").cum_max().shift(1).over("cpr")
    new_spell = latest_end_before.is_null() | (
        pl.col("start_date") > latest_end_before + pl.duration(days=1)
    )
    return (
        clipped.with_columns(new_spell.cum_sum().alias("_spell"))
        .group_by("cpr", "_spell")
        .agg(
            pl.col("start_date").min().alias("spell_from"),
            pl.col("_end").max().alias("spell_to"),
            (pl.col("end_date").is_null() | (pl.col("end_date") > as_of))
            .any()
            .alias("held_at_as_of"),
            struct_of(
                CustodyRecord,
                {
                    "custody_type": pl.col("custody_type"),
                    "start_date": pl.col("start_date"),
                    "end_date": pl.col("end_date"),
                },
            )
            .sort_by("start_date")
            .head(MAX_LISTED)
            .alias("records"),
            pl.len().alias("records_total"),
        )
        .drop("_spell")
        .with_columns(
            ((pl.col("spell_to") - pl.col("spell_from")).dt.total_days() + 1)
            .cast(pl.Int32)
            .alias("spell_days")
        )
    )


def flag(ctx: RuleContext) -> pl.LazyFrame:
    """R11: a stops-in-custody line with days inside a spell of >= min_spell_days days.

    d = the days of [s, e] inside merged, clipped spells of P that last at
    least ``min_spell_days`` days (:func:`custody_spells`); the line is
    flagged when d >= 1 and its amount is ``round_half_up(a * d / n)`` to
    0.01 per line (a line whose share rounds to 0.00 still widens the case
    period). Order key: s (reading 15). Anchor: the first day of the spell
    holding the line's earliest day in custody, i.e. of the earliest
    qualifying spell overlapping the line (merged spells never overlap).
    Custody rows count when ``start_date <= as_of``.

    Example: as_of 2026-06-15; P draws DAGPENGE 18,600.00 for 2026-03
    (n = 31); remand 2026-02-20..2026-03-05 and a sentence from 2026-03-06,
    open, merge into one spell 2026-02-20..2026-06-15 (116 days >= 14): d =
    31, so the March line is at stake in full, as are April and May; the
    June line 2026-06-01..2026-06-30 has d = 15 of n = 30 → half its amount.
    Anchor 2026-02-20. A lone remand of 13 days flags nothing; of 14 days it
    does.
    """
    params = ctx.params_as(R11Parameters)
    spells = custody_spells(
        ctx.extract("custody").join(ctx.lines.select("cpr").unique(), on="cpr", how="semi"),
        ctx.as_of,
    ).filter(pl.col("spell_days") >= params.min_spell_days)
    inside_from = pl.max_horizontal("period_start", "spell_from")
    inside_to = pl.min_horizontal("period_end", "spell_to")
    overlaps = (
        ctx.lines.join(spells, on="cpr", how="inner")
        .with_columns(
            ((inside_to - inside_from).dt.total_days() + 1).cast(pl.Int32).alias("inside_days")
        )
        .filter(pl.col("inside_days") >= 1)
    )
    per_line = (
        overlaps.group_by(*_LINE_KEY)
        .agg(
            pl.col("inside_days").sum().alias("days_in_custody"),
            pl.col("spell_from").min().alias("first_spell_from"),
            struct_of(Spell, {name: pl.col(name) for name in Spell.model_fields})
            .sort_by("spell_from")
            .head(MAX_LISTED)
            .alias("spells"),
        )
        .with_columns(
            prorated_amount(pl.col("amount_dkk"), pl.col("days_in_custody"), pl.col("days")).alias(
                "at_stake"
            )
        )
    )
    summary = pl.format(
        "Recipient deprived of liberty from {} ({} spell(s) of at least {} days); {} paid for {};"
        " {} of {} day(s) in custody, {} DKK at stake",
        pl.col("first_spell_from").cast(pl.String),
        pl.col("spells").list.len(),
        pl.lit(params.min_spell_days),
        pl.col("benefit_code"),
        period_text(),
        pl.col("days_in_custody"),
        pl.col("days"),
        pl.col("at_stake").cast(pl.String),
    )
    evidence = struct_of(
        CustodyLine,
        {
            **line_fields(),
            "line_days": pl.col("days"),
            "days_in_custody": pl.col("days_in_custody"),
            "prorated_dkk": pl.col("at_stake"),
            "min_spell_days": pl.lit(params.min_spell_days),
            "spells": pl.col("spells"),
        },
    ).struct.json_encode()
    return per_line.select(
        "cpr",
        pl.col("period_start").alias("item_start"),
        pl.col("period_end").alias("item_end"),
        pl.col("at_stake").alias("amount_dkk"),
        pl.concat_list(pl.col("benefit_code")).alias("benefit_codes"),
        pl.col("period_start").alias("order_key"),
        pl.col("first_spell_from").alias("anchor_date"),
        summary.alias("summary"),
        evidence.alias("evidence"),
    )


_CUSTODY_DA = {"remand": "varetægt", "sentence": "afsoning"}


def account(case: CaseFacts, items: Sequence[CustodyLine]) -> AccountParts:
    """The Danish account: the spells (with the rows behind them) and the days at stake.

    Example: "Frihedsberøvet fra 20.02.2026; arbejdsløshedsdagpenge udbetalt for 31 dage
    under frihedsberøvelsen: 3.100,00 kr.", timeline "Frihedsberøvet i 116 dage
    (afsoning og varetægt) (fortsat frihedsberøvet på opgørelsesdagen)" from 20.02.2026
    to 15.06.2026.
    """
    timeline: list[Event] = []
    lines: list[Line] = []
    seen: set[date] = set()
    days = 0
    for it in items:
        d, n = it.days_in_custody, it.line_days
        days += d
        lines.append(
            Line(
                benefit=benefit_da(it.benefit_code),
                period_start=it.period_start,
                period_end=it.period_end,
                amount=it.prorated_dkk,
                note=(
                    f"Udbetalt {fmt_dkk(it.amount_dkk)} for {n} dage; "
                    f"{plural(d, 'dag', 'dage')} frihedsberøvet, på spil {d}/{n} af beløbet"
                ),
            )
        )
        for spell in it.spells:
            if spell.spell_from in seen:
                continue
            seen.add(spell.spell_from)
            kinds = join_da(
                sorted({_CUSTODY_DA.get(r.custody_type, r.custody_type) for r in spell.records})
            )
            still = " (fortsat frihedsberøvet på opgørelsesdagen)" if spell.held_at_as_of else ""
            timeline.append(
                Event(
                    spell.spell_from,
                    f"Frihedsberøvet i {spell.spell_days} dage ({kinds}){still}",
                    spell.spell_to,
                )
            )
    complete = case.items_total == len(items)
    first = min(event.when for event in timeline if event.when)
    summary = (
        f"Frihedsberøvet fra {fmt_date(first)}; {join_da(list(case.benefits))} udbetalt for"
        f" {'' if complete else 'mindst '}{plural(days, 'dag', 'dage')} under"
        f" frihedsberøvelsen: {fmt_dkk(case.amount)}"
    )
    return AccountParts(summary, timeline, lines)


RULE = RuleSpec(
    rule_id="R11",
    name_da="Udbetalt under frihedsberøvelse",
    name_en="Paid while deprived of liberty",
    description=(
        "A benefit that is not paid during deprivation of liberty was paid for days on"
        " which the recipient was on remand or serving a sentence, in a spell of at least"
        " min_spell_days days. The amount at stake is the line's share for those days."
    ),
    legal_basis=basis(CUSTODY),
    benefits_in_scope=Scope.where("stops_in_custody"),
    flag=flag,
    evidence=CustodyLine,
    account=account,
    parameters=R11Parameters,
    reads=READS,
)
