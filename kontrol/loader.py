"""Row checks and key checks of a delivery, as pure LazyFrame transforms.

Every check comes from :mod:`kontrol.schema`; nothing here restates one. The
loader distinguishes, as CONTRACT.md section 1 does:

* **structural defects** (missing file/column, wrong type: :mod:`kontrol.io`;
  broken key: :func:`key_defects` here), which fail the run; and
* **row defects**, which are set aside with a ``reject_reason`` naming every
  failed check of that row, e.g.
  ``"cpr: malformed cpr (expected 10 digits DDMMYYSSSS); benefit_code: unknown benefit_code"``.

The reject reason contains column names and check names only, never values,
so it can be counted in reports and logs without leaking a cpr.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from kontrol.errors import RejectRateExceeded, StructuralDefect
from kontrol.schema import ExtractSpec

REJECT_REASON = "reject_reason"


def reject_reason(spec: ExtractSpec) -> pl.Expr:
    """Null for a good row; otherwise every failed check as ``column: reason``, joined by ``; ``."""
    failures = [
        pl.when(~constraint.valid()).then(pl.lit(f"{constraint.column}: {constraint.reason}"))
        for constraint in spec.all_constraints()
    ]
    if not failures:
        return pl.lit(None, dtype=pl.String)
    joined = pl.concat_list(failures).list.drop_nulls().list.join("; ")
    return pl.when(joined == "").then(None).otherwise(joined)


def annotate(frame: pl.LazyFrame, spec: ExtractSpec) -> pl.LazyFrame:
    return frame.with_columns(reject_reason(spec).alias(REJECT_REASON))


def clean_rows(frame: pl.LazyFrame, spec: ExtractSpec) -> pl.LazyFrame:
    """The rows that pass every check, with exactly the declared columns."""
    return (
        annotate(frame, spec)
        .filter(pl.col(REJECT_REASON).is_null())
        .select([c.name for c in spec.columns])
    )


def rejected_rows(frame: pl.LazyFrame, spec: ExtractSpec) -> pl.LazyFrame:
    """The rows that fail a check: every delivered column plus ``reject_reason``."""
    return annotate(frame, spec).filter(pl.col(REJECT_REASON).is_not_null())


def key_defects(frame: pl.LazyFrame, spec: ExtractSpec) -> pl.LazyFrame:
    """One row: rows with a null key part, and distinct-key shortfall (rows minus distinct keys).

    Distinct keys are counted on 64-bit hashes, which streams in bounded
    memory on 44M payment ids (about 3 s, where ``is_duplicated`` over a
    struct took 7 GB). Equal hashes are necessary for equal keys, so a zero
    shortfall proves uniqueness; anything else is recounted exactly by
    :func:`duplicated_rows` before the run fails.
    """
    if not spec.key:
        return pl.LazyFrame({"null_keys": [0], "hash_shortfall": [0]})
    key = list(spec.key)
    null_rows = pl.any_horizontal([pl.col(k).is_null() for k in key]).sum()
    hashed = pl.col(key[0]).hash() if len(key) == 1 else pl.struct(key).hash()
    return frame.select(
        null_rows.cast(pl.Int64).alias("null_keys"),
        (pl.len() - hashed.n_unique()).cast(pl.Int64).alias("hash_shortfall"),
    )


def duplicated_rows(frame: pl.LazyFrame, spec: ExtractSpec) -> pl.LazyFrame:
    """One row: the exact number of rows whose key value occurs more than once."""
    return frame.select(pl.struct(list(spec.key)).is_duplicated().sum().cast(pl.Int64))


def raise_for_key_defects(spec: ExtractSpec, null_keys: int, duplicate_keys: int) -> None:
    column = ", ".join(spec.key)
    if null_keys:
        raise StructuralDefect(
            spec.file_name, column, f"broken key: {null_keys} rows with a null key value"
        )
    if duplicate_keys:
        raise StructuralDefect(
            spec.file_name,
            column,
            f"broken key: {duplicate_keys} rows share a key value with another row",
        )


@dataclass(frozen=True)
class RejectSummary:
    """Counts of one extract's rejects, safe to log (no values, only reasons)."""

    extract: str
    rows_delivered: int
    rows_rejected: int
    reasons: dict[str, int]

    @property
    def share(self) -> Decimal:
        if self.rows_delivered == 0:
            return Decimal(0)
        return Decimal(self.rows_rejected) / Decimal(self.rows_delivered)


def summarise_rejects(extract: str, rows_delivered: int, rejects: pl.DataFrame) -> RejectSummary:
    """Count rejects per individual reason (a row failing two checks counts for both)."""
    reasons: dict[str, int] = {}
    if rejects.height:
        counted = (
            rejects.select(pl.col(REJECT_REASON).str.split("; ").alias("reason"))
            .explode("reason")
            .group_by("reason")
            .len()
            .sort("reason")
        )
        reasons = dict(zip(counted["reason"].to_list(), counted["len"].to_list(), strict=True))
    return RejectSummary(extract, rows_delivered, rejects.height, reasons)


def allowed_rejects(rows_delivered: int, max_share: Decimal) -> int:
    """The most rows that may be rejected: ``floor(rows_delivered * max_share)``, exactly."""
    return int(Decimal(rows_delivered) * max_share)


def _percent(share: Decimal) -> str:
    """A share as a percentage, exact up to 4 decimals and never rounded up to a limit."""
    text = f"{(share * 100).quantize(Decimal('0.0001'), rounding='ROUND_DOWN'):f}"
    return text.rstrip("0").rstrip(".") + "%"


def raise_for_reject_rate(spec: ExtractSpec, summary: RejectSummary, max_share: Decimal) -> None:
    """CONTRACT.md section 1: more than 1 % rejected fails the run as a structural defect.

    The message gives the exact counts and the allowed count, so that no
    rounding can hide why (231 of 23,000 rows is 1.0043 %, not "1.00 %").
    """
    if summary.share <= max_share:
        return
    top_reason, top_count = max(summary.reasons.items(), key=lambda item: (item[1], item[0]))
    column, _, reason = top_reason.partition(": ")
    allowed = allowed_rejects(summary.rows_delivered, max_share)
    raise RejectRateExceeded(
        spec.file_name,
        column,
        f"{summary.rows_rejected:,} of {summary.rows_delivered:,} rows rejected "
        f"({_percent(summary.share)}), more than the allowed {_percent(max_share)} "
        f"({allowed:,} rows); most frequent defect: {reason} ({top_count:,} rows)",
    )
