"""R02 paid while abroad: a residence-requiring line whose recipient is *abroad* on s."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from kontrol.danish import country_da, fmt_date
from kontrol.rules.account import AccountParts, CaseFacts, months_count, paid_tail
from kontrol.rules.items import optional_text, period_text
from kontrol.rules.legal import EMIGRATION, RESIDENCE, basis
from kontrol.rules.residence import StateLine, recipient_event, state_items
from kontrol.rules.spec import RuleContext, RuleSpec, Scope
from kontrol.timeline import ABROAD


def flag(ctx: RuleContext) -> pl.LazyFrame:
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
    return state_items(ctx, ABROAD, summary)


def account(case: CaseFacts, items: Sequence[StateLine]) -> AccountParts:
    """The Danish account: when and where to the recipient emigrated, and what was paid.

    Example: "Udrejst 19.02.2026 til FR; modtager fortsat boligstøtte: 8 måneder,
    84.034,16 kr.", timeline "Modtageren udrejst til Frankrig (FR)".
    """
    event = items[0].event
    when, timeline, lines = recipient_event(items, f" til {country_da(event.country_code)}")
    where = f" til {event.country_code or 'ukendt land'}"
    months = months_count(lines, case.start, case.end)
    summary = f"Udrejst {fmt_date(when)}{where}; {paid_tail(case.benefits, months, case.amount)}"
    return AccountParts(summary, timeline, lines)


RULE = RuleSpec(
    rule_id="R02",
    name_da="Udbetalt under ophold i udlandet",
    name_en="Paid while abroad",
    description=(
        "A benefit that requires residence in Denmark was paid for a period that begins"
        " while the recipient is registered as emigrated."
    ),
    legal_basis=basis(RESIDENCE, EMIGRATION),
    benefits_in_scope=Scope.where("residence_required"),
    flag=flag,
    evidence=StateLine,
    account=account,
)
