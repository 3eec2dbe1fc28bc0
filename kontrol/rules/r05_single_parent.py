"""R05: single-parent supplement while living with the other parent or a spouse."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from kontrol.danish import fmt_date, join_da, relation_da
from kontrol.rules.account import AccountParts, CaseFacts, Event, line_rows, months_count, paid_tail
from kontrol.rules.evidence import Evidence, LineFacts, struct_of
from kontrol.rules.items import MAX_LISTED, line_items, period_text
from kontrol.rules.legal import SINGLE, basis
from kontrol.rules.spec import RuleContext, RuleSpec, Scope
from kontrol.timeline import residence_spells


class CoResident(Evidence):
    """A spouse or other parent who lived at the recipient's address during the line.

    ``lived_together_from``/``_to`` are the first and last common days within
    the line; ``common_children`` are the children the two share (empty for a
    spouse without common children).
    """

    cpr: str
    relations: list[str]
    common_children: list[str]
    address_id: str
    lived_together_from: date
    lived_together_to: date


class CohabitationLine(LineFacts):
    """A flagged single-parent line and who lived with the recipient (at most MAX_LISTED)."""

    co_residents_total: int
    co_residents: list[CoResident]


_LINE_KEY = ["cpr", "benefit_code", "period_start", "period_end"]


def _companions(ctx: RuleContext, recipients: pl.LazyFrame) -> pl.LazyFrame:
    """Persons A != P who could make P not single (reading 13).

    One row per ``(cpr, other, relation, rel_from, rel_to)`` with the
    ``common_children``: spouses carry their relation's validity (checked per
    line later); other parents carry none, because the contract defines the
    other parent without reference to dates: any Q != P with a ``child``
    relation to a child of P.
    """
    rel = ctx.relations.join(recipients, on="cpr", how="semi")
    spouses = rel.filter(
        (pl.col("relation") == "spouse") & (pl.col("related_cpr") != pl.col("cpr"))
    ).select(
        "cpr",
        pl.col("related_cpr").alias("other"),
        pl.lit("spouse").alias("relation"),
        pl.col("valid_from").alias("rel_from"),
        pl.col("valid_to").alias("rel_to"),
        pl.lit(None, dtype=pl.String).alias("child"),
    )
    children = rel.filter(pl.col("relation") == "child").select(
        "cpr", pl.col("related_cpr").alias("child")
    )
    parents_of = ctx.relations.filter(pl.col("relation") == "child").select(
        pl.col("cpr").alias("other"), pl.col("related_cpr").alias("child")
    )
    other_parents = (
        children.join(parents_of, on="child", how="inner")
        .filter(pl.col("other") != pl.col("cpr"))
        .select(
            "cpr",
            "other",
            pl.lit("other_parent").alias("relation"),
            pl.lit(None, dtype=pl.Date).alias("rel_from"),
            pl.lit(None, dtype=pl.Date).alias("rel_to"),
            "child",
        )
    )
    return (
        pl.concat([spouses, other_parents], how="vertical")
        .group_by("cpr", "other", "relation", "rel_from", "rel_to")
        .agg(pl.col("child").drop_nulls().unique().sort().alias("common_children"))
    )


def flag(ctx: RuleContext) -> pl.LazyFrame:
    """R05: a BOERNETILSKUD_ENLIG line while P lives at the same address as a partner.

    A line ``[s, e]`` is flagged when some A != P, a spouse of P (a spouse
    relation P→A holding on at least one day of [s, e]) or the other parent
    of one of P's children (regardless of relation dates, reading 13), lives
    at the same ``address_id`` as P on at least one common day within
    [s, e]. "Lives at" is the resident interval from the event that puts
    someone at the address to the day before their next event, so a
    co-residence that ends on s - 1 does not flag the line and one that
    starts on e does. Only events on or before ``as_of`` count, so a spell
    open at ``as_of`` is taken to continue to the line's end. Anchor: s of
    the earliest flagged line.

    Example: mother draws BOERNETILSKUD_ENLIG for 2026-03; the father of her
    child registers at her address A on 2026-03-10 → R05 case
    2026-03-01..2026-03-31, anchor 2026-03-01, evidence names the father,
    address A and the common days 2026-03-10..2026-03-31.
    """
    lines = ctx.lines
    companions = _companions(ctx, lines.select("cpr").unique())
    spells = residence_spells(ctx.timeline)
    p_spells = spells.select(
        "cpr", "address_id", pl.col("valid_from").alias("p_from"), pl.col("valid_to").alias("p_to")
    )
    a_spells = spells.select(
        pl.col("cpr").alias("other"),
        "address_id",
        pl.col("valid_from").alias("a_from"),
        pl.col("valid_to").alias("a_to"),
    )
    s, e = pl.col("period_start"), pl.col("period_end")
    spouse_holds = (pl.col("rel_from") <= e) & (pl.col("rel_to").is_null() | (pl.col("rel_to") > s))
    one_day = pl.duration(days=1)
    first_common = pl.max_horizontal("p_from", "a_from", "period_start")
    last_common = pl.min_horizontal(
        pl.col("p_to") - one_day, pl.col("a_to") - one_day, pl.col("period_end")
    )
    together = (
        lines.join(companions, on="cpr", how="inner")
        .filter((pl.col("relation") == "other_parent") | spouse_holds)
        .join(p_spells, on="cpr", how="inner")
        .filter((pl.col("p_from") <= e) & (pl.col("p_to").is_null() | (pl.col("p_to") > s)))
        .join(a_spells, on=["other", "address_id"], how="inner")
        .with_columns(first_common.alias("common_from"), last_common.alias("common_to"))
        .filter(pl.col("common_from") <= pl.col("common_to"))
    )
    per_companion = together.group_by(*_LINE_KEY, "amount_dkk", "other", "address_id").agg(
        pl.col("relation").unique().sort().alias("relations"),
        pl.col("common_children")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .unique()
        .sort()
        .alias("common_children"),
        pl.col("common_from").min(),
        pl.col("common_to").max(),
    )
    per_line = per_companion.group_by(*_LINE_KEY, "amount_dkk").agg(
        struct_of(
            CoResident,
            {
                "cpr": pl.col("other"),
                "relations": pl.col("relations"),
                "common_children": pl.col("common_children"),
                "address_id": pl.col("address_id"),
                "lived_together_from": pl.col("common_from"),
                "lived_together_to": pl.col("common_to"),
            },
        )
        .sort_by("common_from", "other", "address_id")
        .head(MAX_LISTED)
        .alias("co_residents"),
        pl.len().alias("n_co_residents"),
        pl.col("other").sort_by("common_from", "other", "address_id").first().alias("first_other"),
        pl.col("relations")
        .sort_by("common_from", "other", "address_id")
        .first()
        .list.join(" and ")
        .alias("first_relations"),
        pl.col("address_id").sort_by("common_from", "other", "address_id").first().alias("addr"),
        pl.col("common_from").min().alias("first_from"),
    )
    summary = pl.format(
        "{} paid for {} while the recipient lived at address {} with {} (cpr {}) from {}{}",
        pl.col("benefit_code"),
        period_text(),
        pl.col("addr"),
        pl.col("first_relations").str.replace_all("_", " "),
        pl.col("first_other"),
        pl.col("first_from").cast(pl.String),
        pl.when(pl.col("n_co_residents") > 1)
        .then(pl.format(" (and {} more)", pl.col("n_co_residents") - 1))
        .otherwise(pl.lit("")),
    )
    return line_items(
        per_line,
        evidence=CohabitationLine,
        anchor=pl.col("period_start"),
        summary=summary,
        facts={
            "co_residents_total": pl.col("n_co_residents"),
            "co_residents": pl.col("co_residents"),
        },
    )


def account(case: CaseFacts, items: Sequence[CohabitationLine]) -> AccountParts:
    """The Danish account: with whom, where and since when the recipient lived.

    One timeline entry per (co-resident, address) over all listed lines, from
    the first to the last common day.

    Example: "Bor på samme adresse som barnets anden forælder siden 01.11.2025;
    modtager fortsat børnetilskud til enlige forsørgere: 12 måneder, 19.296,00 kr.",
    timeline "Bor på samme adresse (A) som barnets anden forælder (CPR-nr. ...);
    fælles børn: ...".
    """
    spans: dict[tuple[str, str], tuple[date, date, CoResident]] = {}
    for item in items:
        for co in item.co_residents:
            key = (co.cpr, co.address_id)
            lo, hi, first = spans.get(key, (co.lived_together_from, co.lived_together_to, co))
            spans[key] = (min(lo, co.lived_together_from), max(hi, co.lived_together_to), first)
    words: list[str] = []
    timeline = []
    for (cpr, address), (lo, hi, co) in spans.items():
        word = relation_da("spouse" if "spouse" in co.relations else "other_parent")
        if word not in words:
            words.append(word)
        kids = f"; fælles børn: {', '.join(co.common_children)}" if co.common_children else ""
        timeline.append(
            Event(lo, f"Bor på samme adresse ({address}) som {word} (CPR-nr. {cpr}){kids}", hi)
        )
    since = min(event.when for event in timeline if event.when)
    lines = line_rows(items)
    summary = (
        f"Bor på samme adresse som {join_da(words)} siden {fmt_date(since)}; "
        f"{paid_tail(case.benefits, months_count(lines, case.start, case.end), case.amount)}"
    )
    return AccountParts(summary, timeline, lines)


RULE = RuleSpec(
    rule_id="R05",
    name_da="Børnetilskud til enlige trods samliv",
    name_en="Single-parent supplement while living with the other parent or a spouse",
    description=(
        "Single-parent child supplement was paid for a period in which the recipient"
        " lived at the same address as a spouse or as the other parent of one of the"
        " recipient's children."
    ),
    legal_basis=basis(SINGLE),
    benefits_in_scope=Scope.only("BOERNETILSKUD_ENLIG"),
    flag=flag,
    evidence=CohabitationLine,
    account=account,
)
