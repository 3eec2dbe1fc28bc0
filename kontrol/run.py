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

from kontrol import __version__, io, pipeline
from kontrol.config import KontrolConfig
from kontrol.errors import RejectRateExceeded
from kontrol.rules import CATALOGUE, CATALOGUE_VERSION, resolve_all_parameters
from kontrol.window import window_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    run_id: str
    out_dir: Path
    cases: int
    cases_per_rule: dict[str, int]
    loads: dict[str, pipeline.ExtractLoad]

    @property
    def cases_path(self) -> Path:
        return self.out_dir / pipeline.CASES_FILE


def run(
    extracts_dir: Path, out_dir: Path, as_of: date, config: KontrolConfig, case_key: bytes
) -> RunResult:
    """One whole run. Raises a :class:`~kontrol.errors.KontrolError` on any defect."""
    resolve_all_parameters(config, CATALOGUE)  # a bad rule parameter fails before any work
    staging = io.make_staging_dir(out_dir, as_of.isoformat())
    try:
        try:
            loads = pipeline.load_delivery(extracts_dir, staging, config)
        except RejectRateExceeded:
            pipeline.publish(staging, out_dir, (pipeline.REJECTS_DIR,))
            raise
        pipeline.apply_rules(staging, as_of, config)
        run_id = pipeline.assemble(staging, as_of, config, case_key)
        per_rule = pipeline.cases_per_rule(staging)
        manifest = build_manifest(run_id, as_of, config, loads, per_rule)
        io.write_json(manifest, staging / pipeline.MANIFEST_FILE)
        pipeline.publish(staging, out_dir)
        log.info("run %s published %d cases", run_id, sum(per_rule.values()))
        return RunResult(run_id, out_dir, sum(per_rule.values()), per_rule, loads)
    finally:
        io.remove_tree(staging)


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
        "rule_parameters": {
            rule_id: params.model_dump(mode="json")
            for rule_id, params in resolve_all_parameters(config, CATALOGUE).items()
        },
        "configuration": config.model_dump(mode="json"),
        "code_version": __version__,
        "validation": {
            "loader": "passed",
            "note": "structural, key and row checks of kontrol.schema",
        },
        "cases_per_rule": cases_per_rule,
        "cases_total": sum(cases_per_rule.values()),
    }
