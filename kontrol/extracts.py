"""The loaded delivery as LazyFrames: the one shape every transform takes."""

from __future__ import annotations

from dataclasses import dataclass, fields

import polars as pl


@dataclass(frozen=True)
class Extracts:
    """The five extracts of CONTRACT.md section 1, row-checked and typed as declared.

    Transforms (the timeline, the rules, scoring) take this and return
    LazyFrames; none of them reads a file. Tests build it from inline frames.
    """

    persons: pl.LazyFrame
    residence_events: pl.LazyFrame
    relations: pl.LazyFrame
    payments: pl.LazyFrame
    income: pl.LazyFrame

    def items(self) -> list[tuple[str, pl.LazyFrame]]:
        return [(f.name, getattr(self, f.name)) for f in fields(self)]
