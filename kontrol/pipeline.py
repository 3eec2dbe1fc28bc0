"""The stages of a run, each with its ``collect()`` at its own edge.

A stage reads files through :mod:`kontrol.io`, applies pure LazyFrame
transforms, and writes files back; stages hand each other *directories*,
never frames, so the same functions serve the CLI (one process) and the
Airflow DAG (one task per stage, paths in XCom).

Stage 1, :func:`load_extract` / :func:`load_delivery`: structural checks,
key checks, row checks; writes ``clean/<extract>.parquet`` (declared columns
and types only) and ``rejects/<extract>.parquet`` into a staging directory,
plus a JSON summary that carries counts and reasons, never values.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

from kontrol import io, loader
from kontrol.config import KontrolConfig
from kontrol.errors import KontrolError
from kontrol.extracts import Extracts
from kontrol.schema import EXTRACT_NAMES, extract_specs

log = logging.getLogger(__name__)

CLEAN_DIR = "clean"
REJECTS_DIR = "rejects"


@dataclass(frozen=True)
class ExtractLoad:
    """What loading one extract found: safe to log and to put in the manifest."""

    extract: str
    file: str
    sha256: str
    rows_delivered: int
    rows_rejected: int
    rows_loaded: int
    reject_reasons: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def load_extract(
    extracts_dir: Path, name: str, staging_dir: Path, config: KontrolConfig
) -> ExtractLoad:
    """Check and stage one extract. Raises :class:`~kontrol.errors.StructuralDefect`.

    The rejects file is written *before* the reject-rate check, so that when
    the run fails for too many rejects the data engineer can see them all.
    """
    spec = extract_specs(config.benefit_codes)[name]
    path = extracts_dir / spec.file_name
    delivered = io.scan_extract(extracts_dir, spec)
    rows_delivered = io.parquet_row_count(path)

    keys = loader.key_defects(delivered, spec).collect(engine="streaming")
    loader.raise_for_key_defects(spec, int(keys["null_keys"][0]), int(keys["duplicate_keys"][0]))

    rejects = loader.rejected_rows(delivered, spec).collect(engine="streaming")
    io.write_parquet(rejects, staging_dir / REJECTS_DIR / spec.file_name)
    summary = loader.summarise_rejects(name, rows_delivered, rejects)
    loader.raise_for_reject_rate(spec, summary, config.loader.max_reject_share)

    io.sink_parquet(loader.clean_rows(delivered, spec), staging_dir / CLEAN_DIR / spec.file_name)
    result = ExtractLoad(
        extract=name,
        file=spec.file_name,
        sha256=io.sha256_of(path),
        rows_delivered=rows_delivered,
        rows_rejected=summary.rows_rejected,
        rows_loaded=rows_delivered - summary.rows_rejected,
        reject_reasons=summary.reasons,
    )
    log.info(
        "loaded %s: %d rows delivered, %d rejected",
        name,
        result.rows_delivered,
        result.rows_rejected,
    )
    return result


def check_structure(extracts_dir: Path, config: KontrolConfig) -> None:
    """Every file's structure, before any data is read: a missing file fails fast."""
    for spec in extract_specs(config.benefit_codes).values():
        io.check_structure(spec, io.delivered_schema(extracts_dir / spec.file_name))


def load_delivery(
    extracts_dir: Path, staging_dir: Path, config: KontrolConfig
) -> dict[str, ExtractLoad]:
    """Load all five extracts; the first structural defect ends the load."""
    if not extracts_dir.is_dir():
        raise KontrolError(f"{extracts_dir}: the extracts directory does not exist")
    check_structure(extracts_dir, config)
    return {name: load_extract(extracts_dir, name, staging_dir, config) for name in EXTRACT_NAMES}


def open_staged(staging_dir: Path) -> Extracts:
    """The staged clean extracts as LazyFrames, ready for the rules."""
    clean = staging_dir / CLEAN_DIR
    frames = {name: io.scan_parquet(clean / f"{name}.parquet") for name in EXTRACT_NAMES}
    return Extracts(**frames)


def delivery_summary(loads: dict[str, ExtractLoad], extracts: Extracts) -> list[str]:
    """Human-readable lines describing a loaded delivery (counts only, no cpr)."""
    lines = [f"{'extract':<18}{'delivered':>12}{'rejected':>10}{'loaded':>12}"]
    for name, load in loads.items():
        lines.append(
            f"{name:<18}{load.rows_delivered:>12,}{load.rows_rejected:>10,}{load.rows_loaded:>12,}"
        )
        for reason, count in load.reject_reasons.items():
            lines.append(f"{'':<4}{count:>6,} x {reason}")
    periods = extracts.payments.select(
        pl.col("period_start").min().alias("first"),
        pl.col("period_end").max().alias("last"),
        pl.col("amount_dkk").sum().alias("total"),
    ).collect()
    events = extracts.residence_events.group_by("event_type").len().sort("event_type").collect()
    lines.append(
        f"payments cover {periods['first'][0]} to {periods['last'][0]}, "
        f"net total {periods['total'][0]:,} DKK"
    )
    lines.append(
        "residence events: " + ", ".join(f"{row[0]} {row[1]:,}" for row in events.iter_rows())
    )
    return lines
