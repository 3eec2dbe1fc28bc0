"""Danish words and number/date/money formatting: the one place for every page and workbook.

One leaf module (it imports only the benefit table) because two layers need
it: each rule's Danish account (``kontrol/rules/rNN_*.py``) and the case list
(:mod:`kontrol.caselist`). Keeping it out of :mod:`kontrol.caselist` lets a
rule module import it without importing the case list, which itself imports
the rule catalogue. The HTML pages (:mod:`kontrol.pages`, as template
filters) and ``cases.xlsx`` use it too. Money stays :class:`~decimal.Decimal`;
formatting to ``132.728,00 kr.`` happens here, at the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from kontrol.benefits import DEFAULT_BENEFITS

#: Numbers as in Denmark: ``1.234.567,89``.
LOCALE = "da_DK"
#: Shown for a missing amount, date or score.
MISSING = "–"

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


def _decimal(value: Decimal | float | int) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


#: ``1,234,567.89`` (Python's format) -> ``1.234.567,89`` (Danish).
_DANISH_SEPARATORS = str.maketrans({",": ".", ".": ","})


def fmt_number(value: Decimal | float | int, decimals: int = 2) -> str:
    """Danish digits, as Babel's ``da_DK``: ``132728.5`` -> ``132.728,50``.

    Exact for a Decimal (rounded half to even at the shown decimals, as
    ``Decimal.quantize``); a float goes through ``str`` first, so ``0.1`` is ``0,10``.
    Python's own Decimal formatting, with the separators swapped: the same text as
    ``babel.numbers.format_decimal(value, "#,##0.00", locale="da_DK")`` (a test
    compares them) at a tenth of the cost, which counts at tens of thousands of cases.
    """
    return f"{_decimal(value):,.{decimals}f}".translate(_DANISH_SEPARATORS)


def fmt_int(value: int) -> str:
    """``1234567`` -> ``1.234.567``."""
    return fmt_number(value, 0)


def fmt_dkk(value: Decimal | None) -> str:
    """``132.728,00 kr.`` (an ordinary space before ``kr.``); ``–`` for a missing amount."""
    return MISSING if value is None else f"{fmt_number(value)} kr."


def fmt_date(value: date | None) -> str:
    """``20.02.2026``; ``–`` for a missing date."""
    return MISSING if value is None else value.strftime("%d.%m.%Y")


def fmt_period(start: date | None, end: date | None) -> str:
    """``01.03.2026–31.10.2026``."""
    return f"{fmt_date(start)}–{fmt_date(end)}"


def fmt_month(value: date) -> str:
    """``marts 2026``."""
    return f"{MONTHS_DA[value.month - 1]} {value.year}"


def fmt_score(value: float | None) -> str:
    """An anomaly score to two decimals, ``0,87``; ``–`` when not scored."""
    return MISSING if value is None else fmt_number(Decimal(str(round(value, 2))), 2)


def fmt_share(value: float | None, decimals: int = 1) -> str:
    """``0.1234`` -> ``12,3 %``; ``–`` for none."""
    return MISSING if value is None else f"{fmt_number(_decimal(value) * 100, decimals)} %"


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
