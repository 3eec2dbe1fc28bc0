"""A case's evidence as a caseworker reads it, in Danish: what every case shares.

Everything here is derived from one queue row: its columns and its
``evidence`` JSON (CONTRACT.md section 5). The evidence is parsed with the
rule's declared type (:class:`kontrol.rules.evidence.CaseEvidence` of
``RuleSpec.evidence``), and the rule's own ``account`` (in its module
``kontrol/rules/rNN_*.py``) writes the summary, timeline and lines. This
module adds what every case has: the rule's Danish name and weight, the
status and the score's reasons. There is no fallback: a row whose rule is not
in the catalogue, or whose evidence does not fit its rule's type, raises,
because the case list must never show a case it cannot explain.

Formatting helpers (``fmt_dkk`` and friends) live in :mod:`kontrol.danish`
and are re-exported here for the page and the workbook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from kontrol.danish import (
    benefit_da,
    fmt_date,
    fmt_dkk,
    fmt_month,
    fmt_number,
    fmt_period,
    fmt_score,
    join_da,
)
from kontrol.rules import CATALOGUE, RULES_BY_ID
from kontrol.rules.account import CaseFacts, Event, Line
from kontrol.rules.evidence import CaseEvidence, ScoreReason, case_evidence

__all__ = [
    "CaseAccount",
    "Event",
    "Line",
    "Reason",
    "case_account",
    "case_accounts",
    "fmt_date",
    "fmt_dkk",
    "fmt_month",
    "fmt_number",
    "fmt_period",
    "fmt_score",
    "join_da",
    "parse_evidence",
]

#: ``status`` as published by the queue, in Danish; a queue without the
#: column is treated as all new.
STATUS_DA: dict[str, str] = {"new": "ny", "continuing": "fortsat"}
DEFAULT_STATUS = "ny"

#: Per rule, the type its whole evidence object parses as.
_EVIDENCE: dict[str, type[CaseEvidence[Any]]] = {
    spec.rule_id: case_evidence(spec.evidence) for spec in CATALOGUE
}

#: The scoring features' explanation texts in Danish; ``{v}``/``{t}`` are the
#: person's and the typical value. Unknown features keep the English text.
FEATURES_DA: dict[str, tuple[str, str]] = {
    "distinct_benefits": ("count", "{v} forskellige ydelser udbetalt i perioden (typisk: {t})"),
    "total_amount_dkk": ("dkk", "{v} udbetalt i alt i perioden (typisk: {t})"),
    "amount_change": ("change", "udbetalingerne {v} mellem periodens to halvdele (typisk: {t})"),
    "months_paid": ("count", "{v} måneder med udbetaling i perioden (typisk: {t})"),
    "corrections": ("count", "{v} korrektioner af udbetalinger i perioden (typisk: {t})"),
    "correction_share": (
        "share",
        "{v} af udbetalingsrækkerne i perioden er korrektioner (typisk: {t})",
    ),
    "address_moves": ("count", "{v} adresseændringer i perioden (typisk: {t})"),
    "residence_status_changes": (
        "count",
        "{v} udrejser, indrejser, forsvindinger eller dødsfald registreret (typisk: {t})",
    ),
    "residents_at_address": (
        "count",
        "{v} personer registreret på modtagerens adresse på opgørelsesdagen (typisk: {t})",
    ),
    "household_changes": (
        "count",
        "{v} ændringer i relationer (ægtefælle, barn) i perioden (typisk: {t})",
    ),
    "income_months_on_benefit": (
        "count",
        "{v} måneder med både indkomst og ydelse (typisk: {t})",
    ),
}


FEATURES_SINGULAR_DA: dict[str, str] = {
    "distinct_benefits": "{v} ydelse udbetalt i perioden (typisk: {t})",
    "months_paid": "{v} måned med udbetaling i perioden (typisk: {t})",
    "corrections": "{v} korrektion af udbetalinger i perioden (typisk: {t})",
    "address_moves": "{v} adresseændring i perioden (typisk: {t})",
    "residence_status_changes": (
        "{v} udrejse, indrejse, forsvinding eller dødsfald registreret (typisk: {t})"
    ),
    "residents_at_address": (
        "{v} person registreret på modtagerens adresse på opgørelsesdagen (typisk: {t})"
    ),
    "household_changes": "{v} ændring i relationer (ægtefælle, barn) i perioden (typisk: {t})",
    "income_months_on_benefit": "{v} måned med både indkomst og ydelse (typisk: {t})",
}


@dataclass(frozen=True)
class Reason:
    """One anomaly-score explanation."""

    text: str
    robust_z: float | None = None


@dataclass(frozen=True)
class CaseAccount:
    """One queue row, readable: the Danish summary, timeline, lines and ranking."""

    priority: int
    case_id: str
    rule_id: str
    rule_name: str
    cpr: str
    status: str
    anchor_date: date | None
    period_start: date | None
    period_end: date | None
    amount: Decimal | None
    benefits: tuple[str, ...]
    legal_basis: str
    anomaly_score: float | None
    rule_weight: float
    summary: str
    timeline: tuple[Event, ...] = field(default_factory=tuple)
    lines: tuple[Line, ...] = field(default_factory=tuple)
    lines_total: int = 0
    reasons: tuple[Reason, ...] = field(default_factory=tuple)


def _reason(ex: ScoreReason) -> Reason:
    """The Danish text of a known feature; an unknown feature keeps its English text."""
    known = FEATURES_DA.get(ex.feature)
    if known is None:
        return Reason(ex.text, ex.robust_z)
    kind, template = known
    if ex.value == 1 and ex.feature in FEATURES_SINGULAR_DA:
        template = FEATURES_SINGULAR_DA[ex.feature]
    text = template.format(v=_feature_value(kind, ex.value), t=_feature_value(kind, ex.typical))
    return Reason(text, ex.robust_z)


def _feature_value(kind: str, value: float) -> str:
    if kind == "dkk":
        return f"{fmt_number(Decimal(str(round(value))), 0)} kr."
    if kind == "share":
        return f"{round(value * 100)} %"
    if kind == "change":
        pct = round(value * 100)
        return "uændret" if pct == 0 else (f"steg {pct} %" if pct > 0 else f"faldt {-pct} %")
    if float(value).is_integer():
        return fmt_number(Decimal(int(value)), 0)
    return fmt_number(Decimal(str(round(value, 1))), 1)


def parse_evidence(row: Mapping[str, Any]) -> CaseEvidence[Any]:
    """A queue row's ``evidence`` parsed with its rule's type.

    Raises ``KeyError`` for a rule not in the catalogue and
    ``pydantic.ValidationError`` for evidence that does not fit the rule's type.
    """
    rule_id = str(row["rule_id"])
    if rule_id not in RULES_BY_ID:
        raise KeyError(f"case {row.get('case_id')}: rule {rule_id} is not in the catalogue")
    return _EVIDENCE[rule_id].model_validate_json(row["evidence"])


def case_account(
    row: Mapping[str, Any],
    *,
    reasons: bool = True,
    evidence: CaseEvidence[Any] | None = None,
) -> CaseAccount:
    """One queue row (as from ``DataFrame.iter_rows(named=True)``) made readable.

    ``reasons=False`` leaves the score's reasons out (empty): the workbook has
    no column for them, and at 205,000 cases their Danish texts cost about 2 s.
    ``evidence`` is the row's evidence as :func:`parse_evidence` gives it, when
    the caller has it already (the workbook counts its totals from it too);
    otherwise it is parsed here.

    Raises ``KeyError`` for a rule not in the catalogue and
    ``pydantic.ValidationError`` for evidence that does not fit the rule's type.
    """
    if evidence is None:
        evidence = parse_evidence(row)
    rule_id = str(row["rule_id"])
    spec = RULES_BY_ID[rule_id]
    benefits = tuple(benefit_da(str(c)) for c in row["benefit_codes"])
    case = CaseFacts(
        benefits=benefits,
        amount=row["amount_at_stake_dkk"],
        start=row["period_start"],
        end=row["period_end"],
        anchor=row["anchor_date"],
        items_total=evidence.items_total,
    )
    parts = spec.account(case, evidence.items)
    summary = parts.summary
    status_raw = row.get("status")
    status = STATUS_DA.get(str(status_raw), str(status_raw)) if status_raw else DEFAULT_STATUS
    score = row.get("anomaly_score")
    return CaseAccount(
        priority=int(row.get("priority") or 0),
        case_id=str(row.get("case_id") or ""),
        rule_id=rule_id,
        rule_name=spec.name_da,
        cpr=str(row["cpr"]),
        status=status,
        anchor_date=case.anchor,
        period_start=case.start,
        period_end=case.end,
        amount=case.amount,
        benefits=benefits,
        legal_basis=str(row["legal_basis"]),
        anomaly_score=float(score) if score is not None else None,
        rule_weight=spec.weight,
        summary=summary + ("" if summary.endswith(".") or not summary else "."),
        timeline=tuple(sorted(parts.timeline, key=lambda e: e.when or date.max)),
        lines=tuple(parts.lines),
        lines_total=case.items_total,
        reasons=tuple(_reason(ex) for ex in evidence.score_explanation) if reasons else (),
    )


def case_accounts(queue: Any) -> list[CaseAccount]:
    """Every row of a queue DataFrame, in priority order."""
    rows = list(queue.iter_rows(named=True))
    rows.sort(key=lambda r: (r.get("priority") is None, r.get("priority") or 0))
    return [case_account(r) for r in rows]
