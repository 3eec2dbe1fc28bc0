"""R03 paid after death: a line of any benefit whose recipient is *dead* on s."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from kontrol.danish import fmt_date, fmt_dkk, join_da, plural
from kontrol.rules.account import AccountParts, CaseFacts, months_count
from kontrol.rules.items import period_text
from kontrol.rules.legal import basis
from kontrol.rules.residence import StateLine, recipient_event, state_items
from kontrol.rules.spec import RuleContext, RuleSpec, Scope
from kontrol.timeline import DEAD


def flag(ctx: RuleContext) -> pl.LazyFrame:
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
    return state_items(ctx, DEAD, summary)


def account(case: CaseFacts, items: Sequence[StateLine]) -> AccountParts:
    """The Danish account: the date of death and what was paid after it.

    Example: "Død 12.10.2025; udbetalt folkepension for 11 måneder efter
    dødsfaldet: 145.354,31 kr.", timeline "Modtageren død".
    """
    when, timeline, lines = recipient_event(items)
    months = months_count(lines, case.start, case.end)
    summary = (
        f"Død {fmt_date(when)}; udbetalt {join_da(list(case.benefits))} for "
        f"{plural(months, 'måned', 'måneder')} efter dødsfaldet: {fmt_dkk(case.amount)}"
    )
    return AccountParts(summary, timeline, lines)


RULE = RuleSpec(
    rule_id="R03",
    name_da="Udbetalt efter dødsfald",
    name_en="Paid after death",
    description=(
        "A benefit was paid for a period that begins after the recipient is registered as dead."
    ),
    legal_basis=basis(),
    benefits_in_scope=Scope.every(),
    flag=flag,
    evidence=StateLine,
    account=account,
)
