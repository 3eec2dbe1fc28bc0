"""R05: single-parent supplement while living with the other parent or a spouse."""

from __future__ import annotations

import polars as pl

from kontrol.rules.items import MAX_LISTED, line_items, period_text
from kontrol.rules.spec import RuleContext
from kontrol.timeline import residence_spells

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


def flag_r05(ctx: RuleContext) -> pl.LazyFrame:
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
        pl.struct(
            pl.col("other").alias("cpr"),
            "relations",
            "common_children",
            "address_id",
            pl.col("common_from").alias("lived_together_from"),
            pl.col("common_to").alias("lived_together_to"),
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
        anchor=pl.col("period_start"),
        summary=summary,
        facts={
            "co_residents_total": pl.col("n_co_residents"),
            "co_residents": pl.col("co_residents"),
        },
    )
