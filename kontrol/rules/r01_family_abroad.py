"""R01 family abroad: the recipient is resident, the whole household is abroad.

The rule behind the README's first example: a family where the father and
the children are registered as emigrated while the mother stays registered
and keeps drawing benefits that require residence in Denmark.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from kontrol.danish import country_da, event_da, fmt_date, join_da, plural, relation_da
from kontrol.rules.account import AccountParts, CaseFacts, Event, line_rows, months_count, paid_tail
from kontrol.rules.evidence import Evidence, LineFacts, struct_of
from kontrol.rules.items import MAX_LISTED, age_on, line_items, optional_text, period_text
from kontrol.rules.legal import EMIGRATION, RESIDENCE, basis
from kontrol.rules.spec import RuleContext, RuleSpec, Scope
from kontrol.timeline import ABROAD, RESIDENT, holds_on, state_on


class HouseholdMember(Evidence):
    """A member of the recipient's household on s, abroad on s since ``event_date``.

    ``relations`` are the member's relations to the recipient, sorted (a
    spouse who is also the children's other parent has both).
    """

    cpr: str
    relations: list[str]
    state_on_period_start: str
    event_type: str
    event_date: date
    country_code: str | None


class HouseholdLine(LineFacts):
    """A flagged line, where the recipient lived on s, and the household abroad on s.

    ``household`` lists at most MAX_LISTED members (spouses first, then
    children, then other parents); ``household_size`` counts them all.
    """

    recipient_state_on_period_start: str
    recipient_address_id: str | None
    household_size: int
    household: list[HouseholdMember]


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


def flag(ctx: RuleContext) -> pl.LazyFrame:
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
            struct_of(
                HouseholdMember,
                {
                    "cpr": pl.col("member"),
                    "relations": pl.col("relations"),
                    "state_on_period_start": pl.lit(ABROAD),
                    "event_type": pl.lit("emigrated"),
                    "event_date": pl.col("emigrated_on"),
                    "country_code": pl.col("country_code"),
                },
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
        evidence=HouseholdLine,
        anchor=pl.col("anchor"),
        summary=summary,
        facts={
            "recipient_state_on_period_start": pl.lit(RESIDENT),
            "recipient_address_id": pl.col("recipient_address_id"),
            "household_size": pl.col("n_members"),
            "household": pl.col("household"),
        },
    )


def account(case: CaseFacts, items: Sequence[HouseholdLine]) -> AccountParts:
    """The Danish account: who of the household left and when, and what is still paid.

    Members are gathered over all listed lines (a member appears once). The
    timeline has each member's emigration, adults first, and the recipient's
    continued residence on the first flagged line's start.

    Example: "Ægtefælle og 3 børn udrejst 22.09.2025; modtager fortsat børne- og
    ungeydelse og kontanthjælp: 11 måneder, 207.703,74 kr.", timeline
    "Ægtefælle (CPR-nr. ...) udrejst til Tyskland (DE)", ..., "Modtageren er
    fortsat registreret som bosat i Danmark (adresse ...)".
    """
    members: dict[str, HouseholdMember] = {}
    for item in items:
        for member in item.household:
            members.setdefault(member.cpr, member)
    adults = []
    children = 0
    for member in members.values():
        if "spouse" in member.relations:
            adults.append(relation_da("spouse"))
        elif "other_parent" in member.relations:
            adults.append(relation_da("other_parent"))
        elif "child" in member.relations:
            children += 1
        else:
            adults.append("husstandsmedlem")
    who = adults + ([plural(children, "barn", "børn")] if children else [])
    dates = sorted(member.event_date for member in members.values())
    verb = join_da([event_da(k) for k in sorted({m.event_type for m in members.values()})])
    when = (
        fmt_date(dates[0])
        if dates and dates[0] == dates[-1]
        else (f"{fmt_date(dates[0])}–{fmt_date(dates[-1])}" if dates else "")
    )
    lines = line_rows(items)
    subject = join_da(who) or "Husstanden"
    summary = (
        f"{subject[0].upper()}{subject[1:]} {verb or event_da('emigrated')} {when}; "
        f"{paid_tail(case.benefits, months_count(lines, case.start, case.end), case.amount)}"
    )
    timeline = []
    for cpr, member in sorted(members.items(), key=lambda kv: "child" in kv[1].relations):
        relation = join_da([relation_da(r) for r in member.relations]) or "medlem"
        where = (
            f" til {country_da(member.country_code)}" if member.event_type == "emigrated" else ""
        )
        timeline.append(
            Event(
                member.event_date,
                f"{relation.capitalize()} (CPR-nr. {cpr}) {event_da(member.event_type)}{where}",
            )
        )
    first = items[0]
    address = f" (adresse {first.recipient_address_id})" if first.recipient_address_id else ""
    timeline.append(
        Event(
            first.period_start,
            f"Modtageren er fortsat registreret som bosat i Danmark{address}",
        )
    )
    return AccountParts(summary, timeline, lines)


RULE = RuleSpec(
    rule_id="R01",
    name_da="Familie i udlandet",
    name_en="Family abroad",
    description=(
        "The recipient is registered as living in Denmark and draws a benefit that requires"
        " residence, but the whole household (spouse, children under 18 and the children's"
        " other parent) is registered as emigrated on the first day of the paid period."
        " The recipient may in fact live abroad with the family."
    ),
    legal_basis=basis(RESIDENCE, EMIGRATION),
    benefits_in_scope=Scope.where("residence_required"),
    flag=flag,
    evidence=HouseholdLine,
    account=account,
)
