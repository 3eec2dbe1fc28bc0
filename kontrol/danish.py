"""Danish words and number/date formatting for what caseworkers read.

One leaf module (it imports only the benefit table) because two layers need
it: each rule's Danish account (``kontrol/rules/rNN_*.py``) and the case list
(:mod:`kontrol.caselist`). Keeping it out of :mod:`kontrol.caselist` lets a
rule module import it without importing the case list, which itself imports
the rule catalogue. Money stays :class:`~decimal.Decimal`; formatting to
``132.728,00 kr.`` happens here, at the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from kontrol.benefits import DEFAULT_BENEFITS

BENEFIT_NAMES_DA: dict[str, str] = {b.code: b.name_da for b in DEFAULT_BENEFITS}

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
    """``marts 2026``."""
    return f"{MONTHS_DA[value.month - 1]} {value.year}"


def fmt_score(value: float | None) -> str:
    return "–" if value is None else fmt_number(Decimal(str(round(value, 2))), 2)


def benefit_da(code: str) -> str:
    """The benefit's Danish name (``kontanthjælp``); an unknown code as it is."""
    return BENEFIT_NAMES_DA.get(code, code)


def country_da(code: str | None) -> str:
    """``Sverige (SE)``; ``ukendt land`` when the register gives no country."""
    if not code:
        return "ukendt land"
    name = COUNTRIES_DA.get(code)
    return f"{name} ({code})" if name else code


def event_da(kind: str) -> str:
    """A residence event type in Danish (``emigrated`` -> ``udrejst``)."""
    return EVENTS_DA.get(kind, kind)


def relation_da(kind: str) -> str:
    """A relation in Danish (``other_parent`` -> ``barnets anden forælder``)."""
    return RELATIONS_DA.get(kind, kind)


def join_da(words: Sequence[str]) -> str:
    """``a``, ``a og b``, ``a, b og c``."""
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " og " + words[-1]


def plural(n: int, one: str, many: str) -> str:
    """``1 måned``, ``3 måneder``."""
    return f"{n} {one if n == 1 else many}"
