"""``kontrol run``: the step table (:mod:`kontrol.steps`), in one process.

The run is the steps of :data:`kontrol.steps.STEPS`, called in table order;
the Airflow DAG (``dags/kontrol_monthly.py``) builds one task per step from
the same table, so the CLI and the DAG cannot diverge.

Write, audit, publish: everything is produced in a private staging directory
inside ``--out`` (the steps' work directory); only when every step and every
critical expectation has passed is the publication moved into place. A
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

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from kontrol import catalogue, io, steps, tasks
from kontrol.config import KontrolConfig
from kontrol.lifecycle import store

__all__ = ["RunResult", "run", "run_steps"]


@dataclass(frozen=True)
class RunResult:
    run_id: str
    out_dir: Path
    cases: int
    cases_per_rule: dict[str, int]
    warnings: list[str]

    @property
    def cases_path(self) -> Path:
        return self.out_dir / catalogue.dataset("cases").file


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

    One run at a time per ``out_dir``: a second one fails at once, naming the
    lock, instead of cleaning up the first one's staging directory as a leftover.
    """
    # then one writer of the register from its first read (prepare) to its update (publish)
    with (
        io.exclusive_lock(out_dir / catalogue.LOCK_FILE, wait=False),
        store.exclusive(register_dir, f"kontrol run {as_of.isoformat()}"),
    ):
        return _run_locked(extracts_dir, out_dir, as_of, config, case_key, register_dir)


def _run_locked(
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
            previous_manifest=out_dir / tasks.MANIFEST,
            register_dir=register_dir,
        )
        results = [prepared, *run_steps(staging, prepared["extracts"], case_key)]
        # the latest gate's warnings include every earlier suite's; the steps that
        # found them have logged each once (not repeated here)
        warnings: list[str] = next(r["warnings"] for r in reversed(results) if "warnings" in r)
        published = results[-1]
        return RunResult(
            published["run_id"],
            out_dir,
            published["cases"],
            published["cases_per_rule"],
            warnings,
        )
    finally:
        io.remove_tree(staging)


def run_steps(work_dir: Path, extracts: list[str], case_key: bytes) -> list[dict[str, Any]]:
    """Every step of the table after the first (``prepare``), in table order, in this process.

    A per-extract step runs once for each of ``extracts`` (what ``prepare``
    found). Returns each execution's result, in order; the last is ``publish``'s.
    """
    _first, *rest = steps.STEPS  # the first step takes the run's parameters: the caller's
    results: list[dict[str, Any]] = []
    for step in rest:
        for extract in extracts if step.per_extract else [None]:
            results.append(tasks.run_step(step.name, work_dir, extract=extract, case_key=case_key))
    return results
