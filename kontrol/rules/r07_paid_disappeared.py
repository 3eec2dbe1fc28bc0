"""R07 paid while disappeared: a residence-requiring line, recipient *disappeared* on s."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from kontrol.danish import fmt_date
from kontrol.rules.account import AccountParts, CaseFacts, months_count, paid_tail
from kontrol.rules.items import period_text
from kontrol.rules.legal import RESIDENCE, basis
from kontrol.rules.residence import StateLine, recipient_event, state_items
from kontrol.rules.spec import RuleContext, RuleSpec, Scope
from kontrol.timeline import DISAPPEARED


def flag(ctx: RuleContext) -> pl.LazyFrame:
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
    return state_items(ctx, DISAPPEARED, summary)


def account(case: CaseFacts, items: Sequence[StateLine]) -> AccountParts:
    """The Danish account: since when the recipient is disappeared, and what was paid.

    Example: "Forsvundet (CPR-status 70) siden 12.10.2025; modtager fortsat
    boligstøtte: 12 måneder, 46.032,16 kr.", timeline "Modtageren forsvundet
    (CPR-status 70)".
    """
    when, timeline, lines = recipient_event(items)
    months = months_count(lines, case.start, case.end)
    summary = (
        f"Forsvundet (CPR-status 70) siden {fmt_date(when)}; "
        f"{paid_tail(case.benefits, months, case.amount)}"
    )
    return AccountParts(summary, timeline, lines)


RULE = RuleSpec(
    rule_id="R07",
    name_da="Udbetalt til forsvundet person",
    name_en="Paid while disappeared",
    description=(
        "A benefit that requires residence in Denmark was paid for a period that begins"
        " while the recipient is registered in CPR as disappeared (status 70, whereabouts"
        " unknown)."
    ),
    legal_basis=basis(RESIDENCE),
    benefits_in_scope=Scope.where("residence_required"),
    flag=flag,
    evidence=StateLine,
    account=account,
)
