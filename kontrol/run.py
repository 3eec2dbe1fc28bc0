"""``kontrol run``: load, apply the rules, assemble the queue, publish atomically.

Write, audit, publish: everything is produced in a private staging directory
inside ``--out``; only when every stage has passed are the outputs moved into
place, the case queue before the manifest. A failure at any point removes the
staging directory and leaves the previous publication untouched, so a failed
run never leaves a new or partial ``cases.parquet``. The one exception is
deliberate: when a run fails because too many rows were rejected, the rejects
are still published (``OUT/rejects/``), because the data engineer needs them
to correct the delivery.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from kontrol import __version__, io, pipeline
from kontrol.config import KontrolConfig
from kontrol.errors import RejectRateExceeded
from kontrol.queue import assemble_queue, run_id_for
from kontrol.rules import CATALOGUE, CATALOGUE_VERSION, evaluate_rules
from kontrol.window import window_for

log = logging.getLogger(__name__)

CASES_FILE = "cases.parquet"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class RunResult:
    run_id: str
    out_dir: Path
    cases: int
    cases_per_rule: dict[str, int]
    loads: dict[str, pipeline.ExtractLoad]

    @property
    def cases_path(self) -> Path:
        return self.out_dir / CASES_FILE


def run(
    extracts_dir: Path, out_dir: Path, as_of: date, config: KontrolConfig, case_key: bytes
) -> RunResult:
    """One whole run. Raises a :class:`~kontrol.errors.KontrolError` on any defect."""
    staging = io.make_staging_dir(out_dir, as_of.isoformat())
    try:
        try:
            loads = pipeline.load_delivery(extracts_dir, staging, config)
        except RejectRateExceeded:
            io.publish(staging / pipeline.REJECTS_DIR, out_dir / pipeline.REJECTS_DIR)
            raise
        extracts = pipeline.open_staged(staging)
        cases = evaluate_rules(extracts, as_of, config).collect(engine="streaming")
        run_id = run_id_for(
            as_of,
            {load.file: load.sha256 for load in loads.values()},
            config.canonical_json(),
            CATALOGUE_VERSION,
            __version__,
        )
        queue = assemble_queue(cases, case_key, run_id)
        io.write_parquet(queue, staging / CASES_FILE)
        cases_per_rule = _cases_per_rule(queue)
        manifest = build_manifest(run_id, as_of, config, loads, cases_per_rule)
        io.write_json(manifest, staging / MANIFEST_FILE)

        io.publish(staging / pipeline.REJECTS_DIR, out_dir / pipeline.REJECTS_DIR)
        io.publish(staging / CASES_FILE, out_dir / CASES_FILE)
        io.publish(staging / MANIFEST_FILE, out_dir / MANIFEST_FILE)
        log.info("run %s published %d cases", run_id, queue.height)
        return RunResult(run_id, out_dir, queue.height, cases_per_rule, loads)
    finally:
        io.remove_tree(staging)


def _cases_per_rule(queue: pl.DataFrame) -> dict[str, int]:
    counts = dict.fromkeys((rule.rule_id for rule in CATALOGUE), 0)
    for rule_id, count in queue.group_by("rule_id").len().iter_rows():
        counts[rule_id] = count
    return counts


def build_manifest(
    run_id: str,
    as_of: date,
    config: KontrolConfig,
    loads: dict[str, pipeline.ExtractLoad],
    cases_per_rule: dict[str, int],
) -> dict[str, Any]:
    """The auditor's record of the run. Counts, digests and settings; never a cpr."""
    window = window_for(as_of, config.window_months)
    return {
        "run_id": run_id,
        "as_of": as_of.isoformat(),
        "window": {
            "months": config.window_months,
            "start": window.start.isoformat(),
            "end": as_of.isoformat(),
        },
        "inputs": {
            load.file: {"sha256": load.sha256, "rows": load.rows_delivered}
            for load in loads.values()
        },
        "rejects": {
            name: {"rows": load.rows_rejected, "reasons": load.reject_reasons}
            for name, load in loads.items()
        },
        "rule_catalogue_version": CATALOGUE_VERSION,
        "configuration": config.model_dump(mode="json"),
        "code_version": __version__,
        "validation": {
            "loader": "passed",
            "note": "structural, key and row checks of kontrol.schema",
        },
        "cases_per_rule": cases_per_rule,
        "cases_total": sum(cases_per_rule.values()),
    }
