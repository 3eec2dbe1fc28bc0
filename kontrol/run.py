"""``kontrol run``: load, validate, apply the rules, score, assemble, validate, publish.

The run is the steps of :mod:`kontrol.tasks`, called in sequence in one
process; the Airflow DAG (``dags/kontrol_monthly.py``) calls the very same
functions, one task each, so the CLI and the DAG cannot diverge.

Write, audit, publish: everything is produced in a private staging directory
inside ``--out`` (the steps' work directory); only when every step and every
critical expectation has passed are the outputs moved into place (rejects,
validation report, fairness report, case queue, then the manifest). A
failure at any point leaves the previous publication untouched, so a failed
run never leaves a new or partial ``cases.parquet``.

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
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kontrol import io, pipeline, tasks
from kontrol.config import KontrolConfig
from kontrol.lifecycle import store

__all__ = ["RunResult", "run"]

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
    extracts_dir: Path,
    out_dir: Path,
    as_of: date,
    config: KontrolConfig,
    case_key: bytes,
    register_dir: Path | None = None,
) -> RunResult:
    """One whole run. Raises a :class:`~kontrol.errors.KontrolError` on any defect.

    Publishes into ``out_dir`` itself; the previous run's manifest there
    gives the volume comparison. With ``register_dir`` the case register
    (:mod:`kontrol.lifecycle`) gives each case its status and is updated after
    publication; without it every case is ``new``.
    """
    # one writer of the register from its first read (prepare) to its update (publish)
    with store.exclusive(register_dir, f"kontrol run {as_of.isoformat()}"):
        return _run(extracts_dir, out_dir, as_of, config, case_key, register_dir)


def _run(
    extracts_dir: Path,
    out_dir: Path,
    as_of: date,
    config: KontrolConfig,
    case_key: bytes,
    register_dir: Path | None,
) -> RunResult:
    staging = io.make_staging_dir(out_dir, as_of.isoformat())
    try:
        prepared = tasks.prepare(
            extracts_dir,
            out_dir,
            as_of,
            staging,
            config,
            previous_manifest=out_dir / pipeline.MANIFEST_FILE,
            register_dir=register_dir,
        )
        for extract in prepared["extracts"]:
            tasks.load_extract(staging, extract)
        tasks.validate_delivery(staging)
        tasks.apply_rules(staging)
        tasks.score(staging)
        tasks.assemble(staging, case_key)
        warnings: list[str] = tasks.validate_queue(staging)["warnings"]
        tasks.write_manifest(staging)
        loads = pipeline.read_loads(staging)
        published = tasks.publish(staging)
        for warning in warnings:
            log.warning("validation warning: %s", warning)
        return RunResult(
            published["run_id"],
            out_dir,
            published["cases"],
            published["cases_per_rule"],
            loads,
            warnings,
        )
    finally:
        io.remove_tree(staging)
