"""Rules on the recipient's (or household's) residence state: R01, R02, R03, R07.

All four ask "what is X's state on s?" for the line's ``period_start`` s. They
join lines to timeline intervals on ``cpr`` and keep the rows whose interval
``[valid_from, valid_to)`` contains s (:func:`kontrol.timeline.state_on`), but
first cut the timeline to the one state they look for: intervals of a person
never overlap, so "the interval containing s is an *abroad* interval" is the
same as "some abroad interval contains s", and abroad/dead/disappeared
intervals are a small fraction of the timeline. A person with no event on or
before s matches no interval, i.e. is *unknown*, which is never abroad, dead
or disappeared (CONTRACT.md section 1).
"""

from __future__ import annotations

import polars as pl

from kontrol.rules.items import MAX_LISTED, age_on, line_items, optional_text, period_text
from kontrol.rules.spec import RuleContext
from kontrol.timeline import ABROAD, DEAD, DISAPPEARED, RESIDENT, holds_on, state_on


def _lines_in_state(ctx: RuleContext, state: str) -> pl.LazyFrame:
    """Lines in scope whose recipient is in ``state`` on ``period_start``.

    Adds ``valid_from`` (the date of the event in force on s), ``event_type``
    and ``country_code``.
    """
    intervals = ctx.timeline.filter(pl.col("state") == state)
    return state_on(ctx.lines, intervals, "period_start", keep_unknown=False)


def _state_items(ctx: RuleContext, state: str, summary: pl.Expr) -> pl.LazyFrame:
    """Flagged items of a rule that fires on the recipient's own state on s.

    R02, R03 and R07 differ only in the state they look for and the sentence
    a caseworker reads; the anchor is the date of the event in force on s.
    """
    return line_items(
        _lines_in_state(ctx, state),
        anchor=pl.col("valid_from"),
        summary=summary,
        facts={"recipient_state_on_period_start": pl.lit(state), "event": _event_fact()},
    )


def _event_fact() -> pl.Expr:
    return pl.struct(
        pl.col("event_type"),
        pl.col("valid_from").alias("event_date"),
        pl.col("country_code"),
    )


def flag_r02(ctx: RuleContext) -> pl.LazyFrame:
    """R02 paid while abroad: a residence-requiring line whose recipient is *abroad* on s.

    The state on s is set by the last event on or before s, so an emigration
    on s itself makes the recipient abroad on s, and an immigration on or
    before s ends it. Anchor: the date of the ``emigrated`` event in force on
    s of the earliest flagged line (reading 11).

    Example: recipient emigrated to DE on 2026-02-20 and still draws
    BOLIGSTOTTE for 2026-03 and 2026-04; FOLKEPENSION (no residence
    requirement) is not flagged → R02 case 2026-03-01..2026-04-30, anchor
    2026-02-20.
    """
    summary = pl.format(
        "Recipient registered as emigrated{} on {} and not returned by {}; {} paid for {}"
        " although the benefit requires residence in Denmark",
        optional_text(" to {}", pl.col("country_code")),
        pl.col("valid_from").cast(pl.String),
        pl.col("period_start").cast(pl.String),
        pl.col("benefit_code"),
        period_text(),
    )
    return _state_items(ctx, ABROAD, summary)


def flag_r03(ctx: RuleContext) -> pl.LazyFrame:
    """R03 paid after death: a line of any benefit whose recipient is *dead* on s.

    A death registered on s counts (the event takes effect that day). Anchor:
    the date of death, i.e. of the ``died`` event in force on s (reading 11).

    Example: recipient died 2026-01-14; FOLKEPENSION paid for 2026-02 and
    2026-03 → R03 case 2026-02-01..2026-03-31, anchor 2026-01-14. The
    January line (s = 2026-01-01, before the death) is not flagged.
    """
    summary = pl.format(
        "Recipient registered as dead on {}; {} paid for {}",
        pl.col("valid_from").cast(pl.String),
        pl.col("benefit_code"),
        period_text(),
    )
    return _state_items(ctx, DEAD, summary)


def flag_r07(ctx: RuleContext) -> pl.LazyFrame:
    """R07 paid while disappeared: a residence-requiring line, recipient *disappeared* on s.

    *Disappeared* is CPR status 70 (whereabouts unknown). Anchor: the date of
    the ``disappeared`` event in force on s of the earliest flagged line.

    Example: recipient registered as disappeared on 2026-03-05; KONTANTHJAELP
    paid for 2026-04 → R07 case 2026-04-01..2026-04-30, anchor 2026-03-05
    (the March line, s = 2026-03-01, is before the event and not flagged).
    """
    summary = pl.format(
        "Recipient registered as disappeared (CPR status 70, whereabouts unknown) on {}; {}"
        " paid for {} although the benefit requires residence in Denmark",
        pl.col("valid_from").cast(pl.String),
        pl.col("benefit_code"),
        period_text(),
    )
    return _state_items(ctx, DISAPPEARED, summary)


# --- R01 ----------------------------------------------------------------------------

_ROLE_ORDER = {"spouse": 0, "child": 1, "other_parent": 2}


def _household_members(ctx: RuleContext, points: pl.LazyFrame) -> pl.LazyFrame:
    """P's household on ``day`` for each point ``(cpr, day)`` (reading 10).

    One row per ``(cpr, day, member)`` with the member's ``relations``
    (sorted, e.g. ``["other_parent", "spouse"]``): spouses whose relation from
    P holds on day; children whose relation from P holds on day and who are
    under 18 on day (a child absent from persons has no known age and is not
    counted); other parents Q != P of those children whose own ``child``
    relation holds on day.
    """
    held = points.join(ctx.relations, on="cpr", how="inner").filter(holds_on(pl.col("day"))).cache()
    spouses = held.filter(pl.col("relation") == "spouse").select(
        "cpr", "day", pl.col("related_cpr").alias("member"), pl.lit("spouse").alias("role")
    )
    births = ctx.persons.select(pl.col("cpr").alias("related_cpr"), "birth_date")
    minors = (
        held.filter(pl.col("relation") == "child")
        .join(births, on="related_cpr", how="inner")
        .filter(age_on(pl.col("day"), pl.col("birth_date")) < 18)
        .select("cpr", "day", pl.col("related_cpr").alias("member"), pl.lit("child").alias("role"))
    )
    parents_of = ctx.relations.filter(pl.col("relation") == "child").select(
        pl.col("cpr").alias("other"),
        pl.col("related_cpr").alias("member"),
        "valid_from",
        "valid_to",
    )
    other_parents = (
        minors.join(parents_of, on="member", how="inner")
        .filter((pl.col("other") != pl.col("cpr")) & holds_on(pl.col("day")))
        .select("cpr", "day", pl.col("other").alias("member"), pl.lit("other_parent").alias("role"))
    )
    return (
        pl.concat([spouses, minors, other_parents], how="vertical")
        .group_by("cpr", "day", "member")
        .agg(pl.col("role").unique().sort().alias("relations"))
    )


def flag_r01(ctx: RuleContext) -> pl.LazyFrame:
    """R01 family abroad: recipient resident on s, the whole household on s abroad.

    For a residence-requiring line: P is *resident* on s, P's household on s
    (spouses, minor children, the children's other parents; reading 10) has
    at least one child under 18, and every member is *abroad* on s. A member
    with no event on or before s is *unknown*, hence not abroad, and keeps the
    line from being flagged. Anchor: for the earliest flagged line, the
    latest ``emigrated`` date among the members' events in force on s.

    The household depends only on (P, s), so it is built once per distinct
    (P, s). And since a flagged household has a minor child who is abroad on
    s, only parents with a child who has *some* ``emigrated`` event can be
    flagged: the plan is cut to those parents first, a pure pruning (the
    conditions below are still checked in full) that shrinks the work from
    every parent in the country to the few whose child ever emigrated.

    Example: mother resident at address A draws KONTANTHJAELP for 2026-03;
    father and both children (7 and 11) emigrated to SE on 2026-02-20 → R01
    case, anchor 2026-02-20.
    """
    emigrants = (
        ctx.timeline.filter(pl.col("event_type") == "emigrated")
        .select(pl.col("cpr").alias("related_cpr"))
        .unique()
    )
    parents = (
        ctx.relations.filter(pl.col("relation") == "child")
        .join(emigrants, on="related_cpr", how="semi")
        .select("cpr")
        .unique()
    )
    lines = ctx.lines.join(parents, on="cpr", how="semi")
    points = lines.select("cpr", pl.col("period_start").alias("day")).unique()
    # The intermediate frames below are each read by several branches; predicate
    # pushdown makes those branches differ, so the optimiser cannot share them
    # by itself. ``cache()`` computes each once per collect (they are per
    # (P, s) or per member, far smaller than the lines).
    resident = (
        state_on(
            points, ctx.timeline.filter(pl.col("state") == RESIDENT), "day", keep_unknown=False
        )
        .select("cpr", "day", pl.col("address_id").alias("recipient_address_id"))
        .cache()
    )
    members = _household_members(ctx, resident.select("cpr", "day")).cache()
    abroad = (
        state_on(
            members.select(pl.col("cpr").alias("recipient"), "day", pl.col("member").alias("cpr")),
            ctx.timeline.filter(pl.col("state") == ABROAD),
            "day",
            keep_unknown=False,
        )
        .select(
            pl.col("recipient").alias("cpr"),
            "day",
            pl.col("cpr").alias("member"),
            pl.col("valid_from").alias("emigrated_on"),
            "country_code",
        )
        .cache()
    )
    household = members.group_by("cpr", "day").agg(
        pl.len().alias("n_members"),
        pl.col("relations").list.contains("child").sum().alias("n_children"),
    )
    abroad_count = abroad.group_by("cpr", "day").agg(
        pl.len().alias("n_abroad"), pl.col("emigrated_on").max().alias("anchor")
    )
    flagged_points = (
        household.join(abroad_count, on=["cpr", "day"], how="inner")
        .filter((pl.col("n_children") >= 1) & (pl.col("n_abroad") == pl.col("n_members")))
        .join(resident, on=["cpr", "day"], how="inner")
        .cache()
    )

    # Evidence, only for the flagged points: who the members are and when they left.
    primary = (
        pl.when(pl.col("relations").list.contains("child"))
        .then(pl.lit("child"))
        .when(pl.col("relations").list.contains("spouse"))
        .then(pl.lit("spouse"))
        .otherwise(pl.lit("other_parent"))
    )
    member_facts = (
        members.join(flagged_points.select("cpr", "day"), on=["cpr", "day"], how="semi")
        .join(abroad, on=["cpr", "day", "member"], how="inner")
        .with_columns(
            primary.alias("primary"),
            primary.replace_strict(_ROLE_ORDER, return_dtype=pl.Int8).alias("_rank"),
        )
        .group_by("cpr", "day")
        .agg(
            pl.struct(
                pl.col("member").alias("cpr"),
                "relations",
                pl.lit(ABROAD).alias("state_on_period_start"),
                pl.lit("emigrated").alias("event_type"),
                pl.col("emigrated_on").alias("event_date"),
                "country_code",
            )
            .sort_by("_rank", "member")
            .head(MAX_LISTED)
            .alias("household"),
            (pl.col("primary") == "spouse").sum().alias("n_spouse"),
            (pl.col("primary") == "child").sum().alias("n_child"),
            (pl.col("primary") == "other_parent").sum().alias("n_other_parent"),
        )
    )
    parts = pl.concat_list(
        pl.when(pl.col("n_spouse") > 0).then(pl.format("{} spouse", pl.col("n_spouse"))),
        pl.when(pl.col("n_child") > 0).then(pl.format("{} child(ren) under 18", pl.col("n_child"))),
        pl.when(pl.col("n_other_parent") > 0).then(
            pl.format("{} other parent(s)", pl.col("n_other_parent"))
        ),
    ).list.drop_nulls()
    summary = pl.format(
        "{} household member(s) ({}) registered as emigrated, the latest on {}; recipient still"
        " resident{} on {} and paid {} for {}",
        pl.col("n_members"),
        parts.list.join(", "),
        pl.col("anchor").cast(pl.String),
        optional_text(" at address {}", pl.col("recipient_address_id")),
        pl.col("period_start").cast(pl.String),
        pl.col("benefit_code"),
        period_text(),
    )
    flagged = lines.join(
        flagged_points.join(member_facts, on=["cpr", "day"], how="inner"),
        left_on=["cpr", "period_start"],
        right_on=["cpr", "day"],
        how="inner",
    )
    return line_items(
        flagged,
        anchor=pl.col("anchor"),
        summary=summary,
        facts={
            "recipient_state_on_period_start": pl.lit(RESIDENT),
            "recipient_address_id": pl.col("recipient_address_id"),
            "household_size": pl.col("n_members"),
            "household": pl.col("household"),
        },
    )
