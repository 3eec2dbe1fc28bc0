"""What the rules on the recipient's own residence state share: R02, R03, R07.

Each asks "what is P's state on s?" for the line's ``period_start`` s. They
join lines to timeline intervals on ``cpr`` and keep the rows whose interval
``[valid_from, valid_to)`` contains s (:func:`kontrol.timeline.state_on`), but
first cut the timeline to the one state they look for: intervals of a person
never overlap, so "the interval containing s is an *abroad* interval" is the
same as "some abroad interval contains s", and abroad/dead/disappeared
intervals are a small fraction of the timeline. A person with no event on or
before s matches no interval, i.e. is *unknown*, which is never abroad, dead
or disappeared (CONTRACT.md section 1).

The three rules differ only in the state they look for and in the sentences a
caseworker reads, so the flagged items, their evidence type
(:class:`StateLine`) and the timeline entry are written here once.

Example: recipient emigrated to FR on 2026-02-19; a BOLIGSTOTTE line for
2026-03 is a :class:`StateLine` with ``recipient_state_on_period_start``
``"abroad"`` and ``event`` ``{"event_type": "emigrated", "event_date":
"2026-02-19", "country_code": "FR"}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from kontrol.danish import event_da
from kontrol.rules.account import Event, Line, line_rows
from kontrol.rules.evidence import Evidence, LineFacts, struct_of
from kontrol.rules.items import line_items
from kontrol.rules.spec import RuleContext
from kontrol.timeline import state_on


class StateEvent(Evidence):
    """The register event in force on s that put the recipient in the state."""

    event_type: str
    event_date: date
    country_code: str | None


class StateLine(LineFacts):
    """A flagged line, the recipient's state on its first day, and the event behind it."""

    recipient_state_on_period_start: str
    event: StateEvent


def lines_in_state(ctx: RuleContext, state: str) -> pl.LazyFrame:
    """Lines in scope whose recipient is in ``state`` on ``period_start``.

    Adds ``valid_from`` (the date of the event in force on s), ``event_type``
    and ``country_code``.
    """
    intervals = ctx.timeline.filter(pl.col("state") == state)
    return state_on(ctx.lines, intervals, "period_start", keep_unknown=False)


def state_items(ctx: RuleContext, state: str, summary: pl.Expr) -> pl.LazyFrame:
    """Flagged items of a rule that fires on the recipient's own state on s.

    The anchor is the date of the event in force on s (reading 11).
    """
    event = struct_of(
        StateEvent,
        {
            "event_type": pl.col("event_type"),
            "event_date": pl.col("valid_from"),
            "country_code": pl.col("country_code"),
        },
    )
    return line_items(
        lines_in_state(ctx, state),
        evidence=StateLine,
        anchor=pl.col("valid_from"),
        summary=summary,
        facts={"recipient_state_on_period_start": pl.lit(state), "event": event},
    )


def recipient_event(
    items: Sequence[StateLine], where: str = ""
) -> tuple[date, list[Event], list[Line]]:
    """The date of the earliest item's event, its timeline entry and the flagged lines.

    ``where`` is appended to the timeline text (R02 names the country).
    """
    event = items[0].event
    text = f"Modtageren {event_da(event.event_type)}{where}"
    return event.event_date, [Event(event.event_date, text)], line_rows(items)
