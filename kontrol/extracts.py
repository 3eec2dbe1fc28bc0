"""The loaded delivery as LazyFrames: the one shape every transform takes."""

from __future__ import annotations

from dataclasses import dataclass, fields

import polars as pl

#: The optional partner registers of CONTRACT.md section 1b, in contract order.
OPTIONAL_EXTRACTS = ("utility_readings", "tenancies", "inspections", "custody")


@dataclass(frozen=True)
class Extracts:
    """The extracts of CONTRACT.md sections 1 and 1b, row-checked and typed as declared.

    The five required extracts are always there; each optional partner
    register (section 1b) is ``None`` when the delivery does not hold it.
    Transforms (the timeline, the rules, scoring) take this and return
    LazyFrames; none of them reads a file. Tests build it from inline frames.
    """

    persons: pl.LazyFrame
    residence_events: pl.LazyFrame
    relations: pl.LazyFrame
    payments: pl.LazyFrame
    income: pl.LazyFrame
    utility_readings: pl.LazyFrame | None = None
    tenancies: pl.LazyFrame | None = None
    inspections: pl.LazyFrame | None = None
    custody: pl.LazyFrame | None = None

    def items(self) -> list[tuple[str, pl.LazyFrame]]:
        """Every delivered extract, required ones first; optional ones only when delivered."""
        out = []
        for f in fields(self):
            frame = getattr(self, f.name)
            if frame is not None:
                out.append((f.name, frame))
        return out

    def optional(self) -> dict[str, pl.LazyFrame]:
        """The optional registers this delivery holds, by name."""
        return {
            name: frame for name in OPTIONAL_EXTRACTS if (frame := getattr(self, name)) is not None
        }
