"""R09: single-parent supplement while on a lease with another adult (CONTRACT.md 4b).

Why: ordinært/ekstra børnetilskud is for a parent who is *enlig*
(børnetilskudsloven § 2 stk. 2). R05 finds the partner through CPR (a spouse
or the other parent at the same address); R09 finds one through the housing
association: a recipient who shares a lease with another adult who is not
their own parent or child is likely in a samlivsforhold, whatever CPR says.
The lease is the fact: neither the role (tenant or co-tenant) nor the
lease's address matters, and P need not be registered at that address.
A child relation between P and A in either direction, whatever its dates,
rules A out: a parent sharing a lease with an adult son is not a couple.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from kontrol.danish import fmt_date, join_da
from kontrol.rules.account import (
    AccountParts,
    CaseFacts,
    Event,
    line_rows,
    months_count,
    paid_tail,
)
from kontrol.rules.evidence import Evidence, LineFacts, struct_of
from kontrol.rules.items import MAX_LISTED, age_on, line_items, period_text
from kontrol.rules.legal import SINGLE, basis
from kontrol.rules.spec import RuleContext, RuleSpec, Scope

READS = ("tenancies",)


class CoLessee(Evidence):
    """Another adult on a lease with the recipient during the line.

    ``recipient_roles``/``roles``: the recipient's and the other adult's roles
    on the lease (``tenant``, ``co_tenant``); ``together_from``/``_to``: the
    first and last day within the line on which both rows hold and the other
    person is 18 or older.
    """

    lease_id: str
    address_id: str
    recipient_roles: list[str]
    cpr: str
    roles: list[str]
    birth_date: date
    together_from: date
    together_to: date


class LeaseLine(LineFacts):
    """A flagged single-parent line and the adults on a lease with the recipient."""

    co_lessees_total: int
    co_lessees: list[CoLessee]


_LINE_KEY = ["cpr", "benefit_code", "period_start", "period_end", "amount_dkk"]


def adult_from(birth_date: pl.Expr) -> pl.Expr:
    """The first day someone born on ``birth_date`` is 18 (reading 8).

    The 18th birthday, except for 29 February births in a common year, who
    turn 18 on 1 March (``offset_by`` gives 28 February, on which
    :func:`~kontrol.rules.items.age_on` is still 17).
    """
    b18 = birth_date.dt.offset_by("18y")
    return pl.when(age_on(b18, birth_date) >= 18).then(b18).otherwise(b18.dt.offset_by("1d"))


def flag(ctx: RuleContext) -> pl.LazyFrame:
    """R09: a BOERNETILSKUD_ENLIG line while P shares a lease with another adult.

    A line [s, e] is flagged when for some lease L and some A != P, a row of L
    for P (``[p_from, p_to)``) and a row of L for A (``[a_from, a_to)``) both
    hold on a common day t of [s, e] on which A is 18 or older. All four are
    intervals, so such a t exists exactly when ``max(s, p_from, a_from,
    adult_from(A)) <= min(e, p_to - 1, a_to - 1)``. A must be in
    ``persons`` (a person with no known birth date is never an adult), and no
    ``child`` relation may link P and A in either direction, whatever its
    dates: every delivered child relation counts, even one with
    ``valid_from`` after ``as_of`` (the contract's words override reading 7
    here; a parent sharing a lease with their own child is never a couple).
    Lease rows count from ``valid_from <= as_of``. Amount: the line's.
    Anchor: s of the earliest flagged line.

    Example: P draws BOERNETILSKUD_ENLIG 1,500.00 for 2026-04 and is tenant
    on lease L-77 at address B since 2025-01-01; A (born 1990-06-01, no
    child relation to P) is co-tenant on L-77 from 2026-04-20 → R09 case
    2026-04-01..2026-04-30, anchor 2026-04-01; evidence: L-77, B, A's cpr,
    roles and the common days 2026-04-20..2026-04-30. Had A been born on
    2008-05-01 (18 on 2026-05-01, after e), the line is not flagged.
    """
    lines = ctx.lines
    recipients = lines.select("cpr").unique()
    leases = ctx.extract("tenancies")
    p_rows = leases.join(recipients, on="cpr", how="semi").select(
        "lease_id",
        "address_id",
        "cpr",
        pl.col("role").alias("p_role"),
        pl.col("valid_from").alias("p_from"),
        pl.col("valid_to").alias("p_to"),
    )
    a_rows = leases.select(
        "lease_id",
        pl.col("cpr").alias("other"),
        pl.col("role").alias("a_role"),
        pl.col("valid_from").alias("a_from"),
        pl.col("valid_to").alias("a_to"),
    )
    births = ctx.persons.select(pl.col("cpr").alias("other"), pl.col("birth_date"))
    # "whatever its dates": every delivered child relation, even one dated after as_of.
    children = ctx.relations_any_date.filter(pl.col("relation") == "child")
    kin = pl.concat(
        [
            children.select("cpr", pl.col("related_cpr").alias("other")),
            children.select(pl.col("related_cpr").alias("cpr"), pl.col("cpr").alias("other")),
        ],
        how="vertical",
    ).unique()
    pairs = (
        p_rows.join(a_rows, on="lease_id", how="inner")
        .filter(pl.col("other") != pl.col("cpr"))
        .join(births, on="other", how="inner")
        .join(kin, on=["cpr", "other"], how="anti")
        .with_columns(adult_from(pl.col("birth_date")).alias("adult_from"))
    )
    one_day = pl.duration(days=1)
    first = pl.max_horizontal("period_start", "p_from", "a_from", "adult_from")
    last = pl.min_horizontal(
        "period_end", pl.col("p_to") - one_day, pl.col("a_to") - one_day
    )  # nulls (still holds) are ignored by min_horizontal
    together = (
        lines.join(pairs, on="cpr", how="inner")
        .with_columns(first.alias("together_from"), last.alias("together_to"))
        .filter(pl.col("together_from") <= pl.col("together_to"))
    )
    per_pair = together.group_by(*_LINE_KEY, "lease_id", "address_id", "other").agg(
        pl.col("p_role").unique().sort().alias("recipient_roles"),
        pl.col("a_role").unique().sort().alias("roles"),
        pl.col("birth_date").first(),
        pl.col("together_from").min(),
        pl.col("together_to").max(),
    )
    order = ("together_from", "lease_id", "other")
    per_line = per_pair.group_by(*_LINE_KEY).agg(
        struct_of(
            CoLessee,
            {
                "lease_id": pl.col("lease_id"),
                "address_id": pl.col("address_id"),
                "recipient_roles": pl.col("recipient_roles"),
                "cpr": pl.col("other"),
                "roles": pl.col("roles"),
                "birth_date": pl.col("birth_date"),
                "together_from": pl.col("together_from"),
                "together_to": pl.col("together_to"),
            },
        )
        .sort_by(*order)
        .head(MAX_LISTED)
        .alias("co_lessees"),
        pl.len().alias("n_co_lessees"),
        pl.col("lease_id").sort_by(*order).first().alias("first_lease"),
        pl.col("address_id").sort_by(*order).first().alias("first_address"),
        pl.col("other").sort_by(*order).first().alias("first_other"),
        pl.col("together_from").min().alias("first_from"),
    )
    summary = pl.format(
        "{} paid for {} while the recipient was on lease {} (address {}) with another adult,"
        " cpr {}, from {}{}",
        pl.col("benefit_code"),
        period_text(),
        pl.col("first_lease"),
        pl.col("first_address"),
        pl.col("first_other"),
        pl.col("first_from").cast(pl.String),
        pl.when(pl.col("n_co_lessees") > 1)
        .then(pl.format(" (and {} more)", pl.col("n_co_lessees") - 1))
        .otherwise(pl.lit("")),
    )
    return line_items(
        per_line,
        evidence=LeaseLine,
        anchor=pl.col("period_start"),
        summary=summary,
        facts={
            "co_lessees_total": pl.col("n_co_lessees"),
            "co_lessees": pl.col("co_lessees"),
        },
    )


_ROLES_DA = {"tenant": "lejer", "co_tenant": "medlejer"}


def account(case: CaseFacts, items: Sequence[LeaseLine]) -> AccountParts:
    """The Danish account: the lease, the other adult and the days on the lease together.

    One timeline entry per (lease, other adult) over all listed lines.

    Example: "På lejekontrakt (L-77) med en anden voksen, der ikke er modtagerens barn
    eller forælder siden 20.04.2026; modtager fortsat ordinært/ekstra børnetilskud til
    enlige forsørgere: 1 måned, 1.500,00 kr.", timeline "På lejekontrakt L-77 (adresse B)
    sammen med en anden voksen (CPR-nr. ..., født 01.06.1990) som medlejer; modtageren
    står som lejer".
    """
    spans: dict[tuple[str, str], tuple[date, date, CoLessee]] = {}
    for item in items:
        for co in item.co_lessees:
            key = (co.lease_id, co.cpr)
            lo, hi, first = spans.get(key, (co.together_from, co.together_to, co))
            spans[key] = (min(lo, co.together_from), max(hi, co.together_to), first)
    timeline = []
    leases: list[str] = []
    for (lease, cpr), (lo, hi, co) in spans.items():
        if lease not in leases:
            leases.append(lease)
        roles = join_da([_ROLES_DA.get(r, r) for r in co.roles])
        own = join_da([_ROLES_DA.get(r, r) for r in co.recipient_roles])
        timeline.append(
            Event(
                lo,
                f"På lejekontrakt {lease} (adresse {co.address_id}) sammen med en anden voksen"
                f" (CPR-nr. {cpr}, født {fmt_date(co.birth_date)}) som {roles}; modtageren"
                f" står som {own}",
                hi,
            )
        )
    since = min(event.when for event in timeline if event.when)
    lines = line_rows(items)
    summary = (
        f"På lejekontrakt ({', '.join(leases)}) med en anden voksen, der ikke er modtagerens"
        f" barn eller forælder siden {fmt_date(since)}; "
        f"{paid_tail(case.benefits, months_count(lines, case.start, case.end), case.amount)}"
    )
    return AccountParts(summary, timeline, lines)


RULE = RuleSpec(
    rule_id="R09",
    name_da="Børnetilskud til enlige trods lejekontrakt med en anden voksen",
    name_en="Single-parent supplement while on a lease with another adult",
    description=(
        "Single-parent child supplement was paid for a period in which the housing"
        " association had the recipient on a lease together with another adult who is"
        " neither the recipient's child nor parent."
    ),
    legal_basis=basis(SINGLE),
    benefits_in_scope=Scope.only("BOERNETILSKUD_ENLIG"),
    flag=flag,
    evidence=LeaseLine,
    account=account,
    reads=READS,
)
