"""``kontrol run``: load, validate, apply the rules, assemble, validate, publish.

Write, audit, publish: everything is produced in a private staging directory
inside ``--out``; only when every stage and every critical expectation has
passed are the outputs moved into place (rejects, validation report, case
queue, then the manifest). A failure at any point leaves the previous
publication untouched, so a failed run never leaves a new or partial
``cases.parquet``.

What a failed run leaves, for the people who must act on it: when the
delivery could be read but failed a check (too many rejects, a critical
expectation), its rejects, its validation report and the error go to
``OUT/failed-run/`` (replaced by the next failure), not over the last good
publication, whose queue, manifest and report stay consistent. A structural
defect (missing file, column, wrong type, broken key) fails before anything
is validated; its message names the file, the column and the defect.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kontrol import __version__, io, pipeline, validation
from kontrol.config import KontrolConfig
from kontrol.errors import KontrolError
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
    warnings: list[str]

    @property
    def cases_path(self) -> Path:
        return self.out_dir / pipeline.CASES_FILE


def run(
    extracts_dir: Path, out_dir: Path, as_of: date, config: KontrolConfig, case_key: bytes
) -> RunResult:
    """One whole run. Raises a :class:`~kontrol.errors.KontrolError` on any defect."""
    resolve_all_parameters(config, CATALOGUE)  # a bad rule parameter fails before any work
    staging = io.make_staging_dir(out_dir, as_of.isoformat())
    run_info = {"as_of": as_of.isoformat(), "extracts": extracts_dir.name}
    try:
        previous_rows = validation.previous_rows_from_manifest(out_dir / pipeline.MANIFEST_FILE)
        loads = pipeline.load_delivery(extracts_dir, staging, config, enforce_reject_rate=False)
        outcomes = validation.validate_delivery(
            staging, loads, as_of, config, previous_rows=previous_rows
        )
        with _failed_run_diagnostics(staging, out_dir, outcomes, run_info):
            pipeline.raise_for_reject_rates(loads, config)
            validation.raise_for_critical(outcomes)

        pipeline.apply_rules(staging, as_of, config)
        run_id = pipeline.assemble(staging, as_of, config, case_key)
        run_info["run_id"] = run_id
        outcomes.append(validation.validate_queue(pipeline.read_staged_queue(staging)))
        with _failed_run_diagnostics(staging, out_dir, outcomes, run_info):
            validation.raise_for_critical(outcomes)

        validation.write_report(outcomes, staging / pipeline.VALIDATION_DIR, run_info)
        per_rule = pipeline.cases_per_rule(staging)
        manifest = build_manifest(run_id, as_of, config, loads, per_rule)
        manifest["validation"] = validation.manifest_section(outcomes)
        io.write_json(manifest, staging / pipeline.MANIFEST_FILE)
        pipeline.publish(staging, out_dir)
        warnings = [f"{o.suite}: {name}" for o in outcomes for name in o.warnings]
        for warning in warnings:
            log.warning("validation warning: %s", warning)
        log.info("run %s published %d cases", run_id, sum(per_rule.values()))
        return RunResult(run_id, out_dir, sum(per_rule.values()), per_rule, loads, warnings)
    finally:
        io.remove_tree(staging)


@contextmanager
def _failed_run_diagnostics(
    staging: Path,
    out_dir: Path,
    outcomes: list[validation.ValidationOutcome],
    run_info: dict[str, str],
) -> Iterator[None]:
    """On a :class:`KontrolError`, publish the run's diagnostics to ``OUT/failed-run/``."""
    try:
        yield
    except KontrolError as error:
        failed = staging / pipeline.FAILED_RUN_DIR
        validation.write_report(outcomes, failed / pipeline.VALIDATION_DIR, run_info)
        if (staging / pipeline.REJECTS_DIR).is_dir():
            io.publish(staging / pipeline.REJECTS_DIR, failed / pipeline.REJECTS_DIR)
        io.write_text(f"{error}\n", failed / "error.txt")
        io.publish(failed, out_dir / pipeline.FAILED_RUN_DIR)
        log.error("run failed; diagnostics in %s", out_dir / pipeline.FAILED_RUN_DIR)
        raise


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
        "cases_per_rule": cases_per_rule,
        "cases_total": sum(cases_per_rule.values()),
    }
