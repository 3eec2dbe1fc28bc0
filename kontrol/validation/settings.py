"""Settings of the validation layer, importable without importing the rest of kontrol.

Kept apart so that :mod:`kontrol.config` can nest them (``KontrolConfig.validation``)
without an import cycle: this module imports pydantic only.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RowRange(BaseModel):
    """Expected rows of one extract's delivery; ``max`` ``None`` = no upper bound."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min: int = Field(default=1, ge=0)
    max: int | None = Field(default=None, ge=0)


class ValidationSettings(BaseModel):
    """Thresholds of the validation layer (candidate for ``KontrolConfig.validation``).

    Volume plausibility is checked two ways, both warnings: against an
    absolute per-extract range (``expected_rows``; by default only "not
    empty") and against the previous run's delivered rows, when known, within
    ``[volume_min_ratio, volume_max_ratio]``. The default 0.8..1.25 is
    symmetric (1/0.8 = 1.25): monthly register volumes move by a few percent,
    so a delivery with half the usual rows, or a doubled one, stands out.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sample_rows: int = Field(default=200_000, ge=1)
    volume_min_ratio: float = Field(default=0.8, gt=0)
    volume_max_ratio: float = Field(default=1.25, gt=0)
    expected_rows: dict[str, RowRange] = Field(default_factory=dict)
    #: Extracts that may be delivered with zero rows. By default none may: an
    #: empty required extract is a structural defect that fails the run
    #: (an empty payments file would otherwise publish an empty queue as if
    #: the month were clean). Naming ``payments`` here also lets a delivery
    #: without any payment line in the window through.
    allow_empty: tuple[str, ...] = ()

    @field_validator("allow_empty")
    @classmethod
    def _known_extracts(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        from kontrol.schema import EXTRACT_NAMES

        unknown = sorted(set(names) - set(EXTRACT_NAMES))
        if unknown:
            raise ValueError(f"unknown extract(s) {unknown}; expected some of {EXTRACT_NAMES}")
        return tuple(sorted(set(names)))
