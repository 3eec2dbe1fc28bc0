"""Danish number, money and date formatting: the one place every page and workbook uses.

Numbers follow the ``da_DK`` locale through Babel (``1.234.567,89``); money is
``1.234.567,89 kr.`` with an ordinary space, so a caseworker can paste it into
a letter and a test can spell it. A :class:`~decimal.Decimal` is formatted
exactly (rounding half to even at the shown decimals, as ``Decimal.quantize``);
floats are converted through ``str`` first so that ``0.1`` stays ``0,10``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from babel.numbers import format_decimal

LOCALE = "da_DK"
#: Shown for a missing amount or date.
MISSING = "–"

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


def _decimal(value: Decimal | float | int) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def fmt_number(value: Decimal | float | int, decimals: int = 2) -> str:
    """Danish digits: ``132728.5`` -> ``132.728,50`` (exact for a Decimal)."""
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(_decimal(value), format=pattern, locale=LOCALE)


def fmt_int(value: int) -> str:
    """``1234567`` -> ``1.234.567``."""
    return fmt_number(value, 0)


def fmt_dkk(value: Decimal | None) -> str:
    """``132.728,00 kr.``; ``–`` for a missing amount."""
    return MISSING if value is None else f"{fmt_number(value)} kr."


def fmt_date(value: date | None) -> str:
    """``20.02.2026``; ``–`` for a missing date."""
    return MISSING if value is None else value.strftime("%d.%m.%Y")


def fmt_period(start: date | None, end: date | None) -> str:
    """``01.03.2026–31.10.2026``."""
    return f"{fmt_date(start)}–{fmt_date(end)}"


def fmt_month(value: date) -> str:
    """``februar 2026``."""
    return f"{MONTHS_DA[value.month - 1]} {value.year}"


def fmt_score(value: float | None) -> str:
    """An anomaly score to two decimals, ``0,87``; ``–`` when not scored."""
    return MISSING if value is None else fmt_number(Decimal(str(round(value, 2))), 2)


def fmt_share(value: float | None, decimals: int = 1) -> str:
    """``0.1234`` -> ``12,3 %``; ``–`` for none."""
    if value is None:
        return MISSING
    return f"{fmt_number(Decimal(str(value)) * 100, decimals)} %"


def join_da(words: Sequence[str]) -> str:
    """``a``, ``a og b``, ``a, b og c``."""
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " og " + words[-1]
