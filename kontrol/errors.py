"""Errors a run can end with, each naming what a data engineer must fix."""

from __future__ import annotations


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
