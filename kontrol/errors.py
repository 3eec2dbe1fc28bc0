"""Errors a run can end with, each naming what a data engineer must fix."""

from __future__ import annotations

import re

__all__ = [
    "CPR_LIKE",
    "MASK",
    "ConfigError",
    "KontrolError",
    "RejectRateExceeded",
    "StructuralDefect",
    "mask",
]

#: A cpr-shaped number (with or without the dash) standing alone, masked in every
#: report text and error message. Digits inside a longer alphanumeric token (hex
#: ids, fingerprints) are left alone, so GX's ids and data fingerprints stay intact.
CPR_LIKE = re.compile(r"(?<![0-9A-Za-z])[0-9]{6}-?[0-9]{4}(?![0-9A-Za-z])")
MASK = "[masked]"


def mask(text: str) -> str:
    """``text`` with every cpr-shaped number replaced by ``[masked]``."""
    return CPR_LIKE.sub(MASK, text)


class KontrolError(Exception):
    """Base class: an expected failure with a message meant for the operator."""


class StructuralDefect(KontrolError):
    """A delivery that cannot be read as the contract describes (CONTRACT.md section 1).

    The message always names the file, the column (or ``-`` for the whole
    file) and the defect, e.g.
    ``payments.parquet: column amount_dkk: wrong type: expected decimal(12,2), found float64``.
    """

    def __init__(self, file: str, column: str | None, defect: str) -> None:
        self.file = file
        self.column = column
        self.defect = defect
        where = f"column {column}" if column else "file"
        super().__init__(f"{file}: {where}: {defect}")


class RejectRateExceeded(StructuralDefect):
    """More than the allowed share of an extract's rows were set aside."""


class ConfigError(KontrolError):
    """An invalid configuration, command-line argument or environment."""
