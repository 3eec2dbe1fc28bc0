"""A case's evidence as a caseworker reads it, in Danish.

Everything here is derived from one queue row: its columns and its
``evidence`` JSON (CONTRACT.md section 5). No other data source is read; the
rule catalogue and the benefit table supply only the Danish names and the
rule weight. Money stays :class:`~decimal.Decimal` throughout; formatting to
``132.728,00 kr.`` happens at the edge.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from kontrol.benefits import DEFAULT_BENEFITS
from kontrol.rules import CATALOGUE

RULE_NAMES_DA: dict[str, str] = {spec.rule_id: spec.name_da for spec in CATALOGUE}
RULE_WEIGHTS: dict[str, float] = {spec.rule_id: spec.weight for spec in CATALOGUE}
BENEFIT_NAMES_DA: dict[str, str] = {b.code: b.name_da for b in DEFAULT_BENEFITS}

#: ``status`` as published by the queue, in Danish; a queue without the
#: column is treated as all new.
STATUS_DA: dict[str, str] = {"new": "ny", "continuing": "fortsat"}
DEFAULT_STATUS = "ny"

MONTHS_DA = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)

COUNTRIES_DA: dict[str, str] = {
    "AU": "Australien",
    "CH": "Schweiz",
    "DE": "Tyskland",
    "ES": "Spanien",
    "FI": "Finland",
    "FR": "Frankrig",
    "GB": "Storbritannien",
    "IQ": "Irak",
    "IS": "Island",
    "IT": "Italien",
    "LT": "Litauen",
    "NL": "Holland",
    "NO": "Norge",
    "PK": "Pakistan",
    "PL": "Polen",
    "RO": "Rumænien",
    "SE": "Sverige",
    "SO": "Somalia",
    "SY": "Syrien",
    "TR": "Tyrkiet",
    "US": "USA",
}

RELATIONS_DA: dict[str, str] = {
    "spouse": "ægtefælle",
    "other_parent": "barnets anden forælder",
    "child": "barn",
}

EVENTS_DA: dict[str, str] = {
    "emigrated": "udrejst",
    "immigrated": "indrejst",
    "died": "død",
    "disappeared": "forsvundet (CPR-status 70)",
    "address": "flyttet",
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


# --------------------------------------------------------------------------- formatting


def _group3(digits: str) -> str:
    groups = []
    while len(digits) > 3:
        groups.append(digits[-3:])
        digits = digits[:-3]
    groups.append(digits)
    return ".".join(reversed(groups))


def fmt_number(value: Decimal | float | int, decimals: int = 2) -> str:
    """Danish digits: ``132728.5`` -> ``132.728,50`` (exact for a Decimal)."""
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    q = d.quantize(Decimal(1).scaleb(-decimals)) if decimals else d.quantize(Decimal(1))
    sign = "-" if q < 0 else ""
    text = f"{abs(q):f}"
    whole, _, frac = text.partition(".")
    return f"{sign}{_group3(whole)}" + (f",{frac}" if decimals else "")


def fmt_dkk(value: Decimal | None) -> str:
    """``132.728,00 kr.``; ``–`` for a missing amount."""
    return "–" if value is None else f"{fmt_number(value)} kr."


def fmt_date(value: date | None) -> str:
    """``20.02.2026``; ``–`` for a missing date."""
    return "–" if value is None else value.strftime("%d.%m.%Y")


def fmt_period(start: date | None, end: date | None) -> str:
    return f"{fmt_date(start)}–{fmt_date(end)}"


def fmt_month(value: date) -> str:
    return f"{MONTHS_DA[value.month - 1]} {value.year}"


def fmt_score(value: float | None) -> str:
    return "–" if value is None else fmt_number(Decimal(str(round(value, 2))), 2)


def benefit_da(code: str) -> str:
    return BENEFIT_NAMES_DA.get(code, code)


def country_da(code: str | None) -> str:
    if not code:
        return "ukendt land"
    name = COUNTRIES_DA.get(code)
    return f"{name} ({code})" if name else code


def join_da(words: Sequence[str]) -> str:
    """``a``, ``a og b``, ``a, b og c``."""
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " og " + words[-1]


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _month_of(value: Any) -> date | None:
    """``"2026-01"`` or a date string -> the first of that month."""
    if isinstance(value, str) and len(value) == 7:
        return _date(value + "-01")
    d = _date(value)
    return d.replace(day=1) if d else None


# --------------------------------------------------------------------------- the account


@dataclass(frozen=True)
class Event:
    """One register fact on the case's timeline."""

    when: date | None
    text: str
    until: date | None = None


@dataclass(frozen=True)
class Line:
    """One flagged line (or month, or overlapping pair) with the amount it puts at stake."""

    benefit: str
    period_start: date | None
    period_end: date | None
    amount: Decimal | None
    note: str = ""


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


def _months_count(lines: Iterable[Line], start: date | None, end: date | None) -> int:
    months = {(ln.period_start.year, ln.period_start.month) for ln in lines if ln.period_start}
    if months:
        return len(months)
    if start and end:
        return (end.year - start.year) * 12 + end.month - start.month + 1
    return 0


def _paid_tail(benefits: Sequence[str], months: int, amount: Decimal | None) -> str:
    return (
        f"modtager fortsat {join_da(list(benefits))}: "
        f"{_plural(months, 'måned', 'måneder')}, {fmt_dkk(amount)}"
    )


def _simple_lines(items: Sequence[Mapping[str, Any]]) -> list[Line]:
    return [
        Line(
            benefit=benefit_da(str(it.get("benefit_code", ""))),
            period_start=_date(it.get("period_start")),
            period_end=_date(it.get("period_end")),
            amount=_dec(it.get("amount_dkk")),
        )
        for it in items
    ]


def _single_event(items: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    for it in items:
        ev = it.get("event")
        if isinstance(ev, Mapping):
            return ev
    return {}


def _r01(ev: Mapping[str, Any], items: Sequence[Mapping[str, Any]], ctx: _Ctx) -> _Parts:
    members: dict[str, Mapping[str, Any]] = {}
    for it in items:
        for m in it.get("household") or []:
            members.setdefault(str(m.get("cpr")), m)
    adults = []
    children = 0
    for m in members.values():
        rel = list(m.get("relations") or [])
        if "spouse" in rel:
            adults.append("ægtefælle")
        elif "other_parent" in rel:
            adults.append("barnets anden forælder")
        elif "child" in rel:
            children += 1
        else:
            adults.append("husstandsmedlem")
    who = adults + ([_plural(children, "barn", "børn")] if children else [])
    dates = sorted(d for m in members.values() if (d := _date(m.get("event_date"))))
    kinds = sorted({str(m.get("event_type")) for m in members.values()})
    verb = join_da([EVENTS_DA.get(k, k) for k in kinds]) or "udrejst"
    when = (
        fmt_date(dates[0])
        if dates and dates[0] == dates[-1]
        else (f"{fmt_date(dates[0])}–{fmt_date(dates[-1])}" if dates else "")
    )
    lines = _simple_lines(items)
    subject = join_da(who) or "Husstanden"
    summary = (
        f"{subject[0].upper()}{subject[1:]} {verb} {when}; "
        f"{_paid_tail(ctx.benefits, _months_count(lines, ctx.start, ctx.end), ctx.amount)}"
    )
    timeline = []
    adults_first = sorted(members.items(), key=lambda kv: "child" in (kv[1].get("relations") or []))
    for cpr, m in adults_first:
        rel_da = join_da([RELATIONS_DA.get(r, r) for r in m.get("relations") or []]) or "medlem"
        kind = str(m.get("event_type"))
        where = f" til {country_da(m.get('country_code'))}" if kind == "emigrated" else ""
        timeline.append(
            Event(
                _date(m.get("event_date")),
                f"{rel_da.capitalize()} (CPR-nr. {cpr}) {EVENTS_DA.get(kind, kind)}{where}",
            )
        )
    first = items[0] if items else {}
    if first.get("recipient_state_on_period_start") == "resident":
        addr = first.get("recipient_address_id")
        timeline.append(
            Event(
                _date(first.get("period_start")),
                "Modtageren er fortsat registreret som bosat i Danmark"
                + (f" (adresse {addr})" if addr else ""),
            )
        )
    return summary, timeline, lines


def _state_rule(
    verb: str, with_country: bool
) -> Any:  # a factory of the R02/R03/R07 builders, which differ in wording only
    def build(ev: Mapping[str, Any], items: Sequence[Mapping[str, Any]], ctx: _Ctx) -> _Parts:
        event = _single_event(items)
        when = _date(event.get("event_date")) or ctx.anchor
        where = f" til {event.get('country_code') or 'ukendt land'}" if with_country else ""
        lines = _simple_lines(items)
        months = _months_count(lines, ctx.start, ctx.end)
        if verb == "Død":
            tail = (
                f"udbetalt {join_da(list(ctx.benefits))} for "
                f"{_plural(months, 'måned', 'måneder')} efter dødsfaldet: {fmt_dkk(ctx.amount)}"
            )
            summary = f"Død {fmt_date(when)}; {tail}"
        elif verb == "Forsvundet":
            summary = (
                f"Forsvundet (CPR-status 70) siden {fmt_date(when)}; "
                f"{_paid_tail(ctx.benefits, months, ctx.amount)}"
            )
        else:
            summary = (
                f"Udrejst {fmt_date(when)}{where}; {_paid_tail(ctx.benefits, months, ctx.amount)}"
            )
        kind = str(event.get("event_type") or "")
        text = f"Modtageren {EVENTS_DA.get(kind, kind or 'registreret')}"
        if kind == "emigrated":
            text += f" til {country_da(event.get('country_code'))}"
        return summary, [Event(when, text)], lines

    return build


def _r04(ev: Mapping[str, Any], items: Sequence[Mapping[str, Any]], ctx: _Ctx) -> _Parts:
    lines: list[Line] = []
    timeline: list[Event] = []
    threshold = None
    for it in items:
        month = _month_of(it.get("month"))
        threshold = threshold or _dec(it.get("income_threshold_dkk"))
        paid = it.get("lines") or []
        codes = sorted({str(p.get("benefit_code")) for p in paid})
        starts = [d for p in paid if (d := _date(p.get("period_start")))]
        ends = [d for p in paid if (d := _date(p.get("period_end")))]
        employers = [str(e.get("employer_cvr")) for e in it.get("employers") or []]
        income = _dec(it.get("income_total_dkk"))
        lines.append(
            Line(
                benefit=join_da([benefit_da(c) for c in codes]),
                period_start=min(starts) if starts else month,
                period_end=max(ends) if ends else None,
                amount=_dec(it.get("amount_dkk")),
                note=(
                    f"Ydelse {fmt_dkk(_dec(it.get('benefit_total_dkk')))}, "
                    f"indkomst {fmt_dkk(income)}; på spil er det mindste af de to"
                ),
            )
        )
        timeline.append(
            Event(
                month,
                f"Indkomst {fmt_dkk(income)} i {fmt_month(month) if month else '?'} "
                f"(eIndkomst, CVR-nr. {', '.join(employers) or 'ukendt'})",
            )
        )
    n = ctx.items_total or len(items)
    summary = (
        f"Indkomst over {fmt_dkk(threshold or Decimal('1000'))} i "
        f"{_plural(n, 'måned', 'måneder')} med {join_da(list(ctx.benefits))}"
        f"{' (' + ', '.join(fmt_month(ln.period_start) for ln in lines if ln.period_start) + ')' if lines and n == len(lines) else ''}"  # noqa: E501
        f": {fmt_dkk(ctx.amount)} på spil"
    )
    return summary, timeline, lines


def _r05(ev: Mapping[str, Any], items: Sequence[Mapping[str, Any]], ctx: _Ctx) -> _Parts:
    spans: dict[tuple[str, str], list[Any]] = {}
    for it in items:
        for co in it.get("co_residents") or []:
            key = (str(co.get("cpr")), str(co.get("address_id")))
            lo, hi = _date(co.get("lived_together_from")), _date(co.get("lived_together_to"))
            span = spans.setdefault(key, [lo, hi, co])
            if lo and (span[0] is None or lo < span[0]):
                span[0] = lo
            if hi and (span[1] is None or hi > span[1]):
                span[1] = hi
    rels: list[str] = []
    timeline = []
    for (cpr, addr), (lo, hi, co) in spans.items():
        co_rel = co.get("relations") or []
        word = "ægtefælle" if "spouse" in co_rel else "barnets anden forælder"
        if word not in rels:
            rels.append(word)
        kids = co.get("common_children") or []
        timeline.append(
            Event(
                lo,
                f"Bor på samme adresse ({addr}) som {word} (CPR-nr. {cpr})"
                + (f"; fælles børn: {', '.join(str(k) for k in kids)}" if kids else ""),
                until=hi,
            )
        )
    first = min((t.when for t in timeline if t.when), default=None)
    lines = _simple_lines(items)
    summary = (
        f"Bor på samme adresse som {join_da(rels) or 'en samlever'}"
        f"{' siden ' + fmt_date(first) if first else ''}; "
        f"{_paid_tail(ctx.benefits, _months_count(lines, ctx.start, ctx.end), ctx.amount)}"
    )
    return summary, timeline, lines


def _r06(ev: Mapping[str, Any], items: Sequence[Mapping[str, Any]], ctx: _Ctx) -> _Parts:
    lines = []
    pairs: list[str] = []
    days = 0
    for it in items:
        a, b = it.get("line_1") or {}, it.get("line_2") or {}
        na, nb = benefit_da(str(a.get("benefit_code"))), benefit_da(str(b.get("benefit_code")))
        pair = f"{na} og {nb}"
        if pair not in pairs:
            pairs.append(pair)
        shared = int(it.get("shared_days") or 0)
        days += shared
        lines.append(
            Line(
                benefit=f"{na} + {nb}",
                period_start=_date(it.get("shared_from")),
                period_end=_date(it.get("shared_to")),
                amount=_dec(it.get("amount_dkk")),
                note=(
                    f"{na.capitalize()} {fmt_dkk(_dec(a.get('amount_dkk')))} "
                    f"({a.get('days')} dage), {nb} {fmt_dkk(_dec(b.get('amount_dkk')))} "
                    f"({b.get('days')} dage); {shared} fælles dage, på spil er den mindste andel"
                ),
            )
        )
    complete = ctx.items_total in (0, len(items))
    summary = (
        f"Overlappende {'; '.join(pairs) or 'indkomsterstattende ydelser'} i "
        f"{'' if complete else 'mindst '}{_plural(days, 'dag', 'dage')}: {fmt_dkk(ctx.amount)}"
    )
    return summary, [], lines


@dataclass(frozen=True)
class _Ctx:
    benefits: tuple[str, ...]
    amount: Decimal | None
    start: date | None
    end: date | None
    anchor: date | None
    items_total: int


_Parts = tuple[str, list[Event], list[Line]]

_BUILDERS: dict[str, Any] = {
    "R01": _r01,
    "R02": _state_rule("Udrejst", with_country=True),
    "R03": _state_rule("Død", with_country=False),
    "R04": _r04,
    "R05": _r05,
    "R06": _r06,
    "R07": _state_rule("Forsvundet", with_country=False),
}


def _reasons(evidence: Mapping[str, Any]) -> tuple[Reason, ...]:
    out = []
    for ex in evidence.get("score_explanation") or []:
        if not isinstance(ex, Mapping):
            continue
        feature = str(ex.get("feature", ""))
        text = str(ex.get("text", feature))
        known = FEATURES_DA.get(feature)
        if known is not None and ex.get("value") is not None and ex.get("typical") is not None:
            kind, template = known
            if float(ex["value"]) == 1 and feature in FEATURES_SINGULAR_DA:
                template = FEATURES_SINGULAR_DA[feature]
            text = template.format(
                v=_feature_value(kind, float(ex["value"])),
                t=_feature_value(kind, float(ex["typical"])),
            )
        z = ex.get("robust_z")
        out.append(Reason(text, float(z) if isinstance(z, int | float) else None))
    return tuple(out)


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


def parse_evidence(text: str | None) -> dict[str, Any]:
    """The evidence object; an unreadable one becomes ``{}`` (the row still renders)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def case_account(row: Mapping[str, Any]) -> CaseAccount:
    """One queue row (as from ``DataFrame.iter_rows(named=True)``) made readable."""
    evidence = parse_evidence(row.get("evidence"))
    rule_id = str(row.get("rule_id") or evidence.get("rule_id") or "")
    codes = [str(c) for c in (row.get("benefit_codes") or evidence.get("benefit_codes") or [])]
    benefits = tuple(benefit_da(c) for c in codes)
    amount = _dec(row.get("amount_at_stake_dkk"))
    items = [it for it in evidence.get("items") or [] if isinstance(it, Mapping)]
    ctx = _Ctx(
        benefits=benefits,
        amount=amount,
        start=_date(row.get("period_start")),
        end=_date(row.get("period_end")),
        anchor=_date(row.get("anchor_date")),
        items_total=int(evidence.get("items_total") or len(items)),
    )
    builder = _BUILDERS.get(rule_id)
    if builder is not None:
        try:
            summary, timeline, lines = builder(evidence, items, ctx)
        except (TypeError, ValueError, AttributeError, KeyError):
            builder = None
    if builder is None:
        summary = str(evidence.get("summary") or "")
        timeline, lines = [], _simple_lines(items)
    status_raw = row.get("status")
    status = STATUS_DA.get(str(status_raw), str(status_raw)) if status_raw else DEFAULT_STATUS
    score = row.get("anomaly_score")
    return CaseAccount(
        priority=int(row.get("priority") or 0),
        case_id=str(row.get("case_id") or ""),
        rule_id=rule_id,
        rule_name=RULE_NAMES_DA.get(rule_id, str(evidence.get("rule_name") or rule_id)),
        cpr=str(row.get("cpr") or ""),
        status=status,
        anchor_date=ctx.anchor,
        period_start=ctx.start,
        period_end=ctx.end,
        amount=amount,
        benefits=benefits,
        legal_basis=str(row.get("legal_basis") or ""),
        anomaly_score=float(score) if score is not None else None,
        rule_weight=RULE_WEIGHTS.get(rule_id, 1.0),
        summary=summary + ("" if summary.endswith(".") or not summary else "."),
        timeline=tuple(sorted(timeline, key=lambda e: e.when or date.max)),
        lines=tuple(lines),
        lines_total=ctx.items_total,
        reasons=_reasons(evidence),
    )


def case_accounts(queue: Any) -> list[CaseAccount]:
    """Every row of a queue DataFrame, in priority order."""
    rows = list(queue.iter_rows(named=True))
    rows.sort(key=lambda r: (r.get("priority") is None, r.get("priority") or 0))
    return [case_account(r) for r in rows]
