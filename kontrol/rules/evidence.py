"""Typed evidence: the declared shape of the JSON a rule writes into ``evidence``.

Why types: the case list reads each case's evidence to write its Danish
account. Without a declared shape it read keys no type named and guessed on
failure. Now every rule declares the type of one flagged item (a pydantic
model per rule kind, e.g. :class:`LineFacts` plus the rule's own facts), and
that type is used on both sides:

* the flag function builds the item's JSON with :func:`struct_of`, which
  refuses a field the type does not declare (or a declared one it lacks) and
  orders the keys as the type declares them, so the JSON key order *is* the
  type's field order;
* the case list parses ``evidence`` with :class:`CaseEvidence` parametrised
  by the rule's item type, so the rule's account gets typed items (dates as
  :class:`~datetime.date`, money as :class:`~decimal.Decimal`) and an
  evidence object that does not fit its type is an error, not a guess.

Example: R02's item type is ``StateLine`` (``benefit_code, period_start,
period_end, amount_dkk, recipient_state_on_period_start, event``); its JSON
is ``{"benefit_code":"BOLIGSTOTTE","period_start":"2026-03-01",...,
"event":{"event_type":"emigrated","event_date":"2026-02-19",
"country_code":"FR"}}`` and parsing and re-serialising it with the type
gives the same bytes (tests/rules/test_rules_registry.py checks this).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Generic, TypeVar

import polars as pl
from pydantic import BaseModel, ConfigDict

from kontrol.schema import CASE_MONEY


class Evidence(BaseModel):
    """Base of every evidence type: frozen, and keys no type declares are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


E = TypeVar("E", bound=Evidence)


def struct_of(kind: type[Evidence], fields: Mapping[str, pl.Expr]) -> pl.Expr:
    """A struct with exactly the fields of ``kind``, in the order ``kind`` declares them.

    Raises :class:`TypeError` when planned (not when run) if ``fields`` names a
    field ``kind`` lacks or misses one it declares: the producer of the JSON
    cannot drift from its type.
    """
    declared = list(kind.model_fields)
    extra = sorted(set(fields) - set(declared))
    missing = [name for name in declared if name not in fields]
    if extra or missing:
        raise TypeError(
            f"{kind.__name__}: evidence fields not declared {extra}, declared but not built"
            f" {missing}"
        )
    return pl.struct(*(fields[name].alias(name) for name in declared))


class LineFacts(Evidence):
    """A net payment line as a caseworker reads it."""

    benefit_code: str
    period_start: date
    period_end: date
    amount_dkk: Decimal


def line_fields(suffix: str = "") -> dict[str, pl.Expr]:
    """The :class:`LineFacts` of a net line (columns named with ``suffix``)."""
    return {
        "benefit_code": pl.col(f"benefit_code{suffix}"),
        "period_start": pl.col(f"period_start{suffix}"),
        "period_end": pl.col(f"period_end{suffix}"),
        "amount_dkk": pl.col(f"amount_dkk{suffix}").cast(CASE_MONEY),
    }


class ScoreReason(Evidence):
    """One feature that makes the recipient unusual (added by :mod:`kontrol.scoring`)."""

    feature: str
    value: float
    typical: float
    robust_z: float
    text: str


class CaseHead(Evidence):
    """The case-level keys of ``evidence``, written by :func:`kontrol.rules.compile_cases`."""

    rule_id: str
    rule_name: str
    summary: str
    anchor_date: date
    period_start: date
    period_end: date
    amount_at_stake_dkk: Decimal
    benefit_codes: list[str]
    items_total: int
    items_listed: int


class CaseEvidence(CaseHead, Generic[E]):
    """A whole ``evidence`` object: the head, the listed items of type ``E``, the score's reasons.

    ``score_explanation`` is absent before scoring and present in the queue.
    """

    items: list[E]
    score_explanation: list[ScoreReason] = []


def case_evidence(item: type[E]) -> type[CaseEvidence[E]]:
    """``CaseEvidence[item]``: the type of a whole evidence object whose items are ``item``."""
    return CaseEvidence[item]  # type: ignore[valid-type]
