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
from kontrol.detached import DetachedStep
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
        results = [
            prepared,
            *run_steps(
                staging,
                prepared["extracts"],
                case_key,
                detach_from_cases=config.execution.detach_from_cases,
            ),
        ]
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


def run_steps(
    work_dir: Path, extracts: list[str], case_key: bytes, *, detach_from_cases: int = 0
) -> list[dict[str, Any]]:
    """Every step of the table after the first (``prepare``), in table order.

    A per-extract step runs once for each of ``extracts`` (what ``prepare``
    found). Returns each execution's result, in table order; the last is
    ``publish``'s.

    With ``detach_from_cases`` > 0 and at least that many cases staged, a
    :attr:`~kontrol.steps.Step.detachable` step runs in a child process while
    the steps after it go on in this one; the first step that reads one of its
    outputs waits for it (so does the end of the run). Why: the case list is
    single-threaded Python, 42 s at 205,000 cases, and the steps after it
    (fairness, queue validation, rule performance, manifest: about 25 s) do not
    read it, so on two cores the run ends about 20 s earlier. Every step writes
    only its own datasets, so the outputs are the same bytes either way. The
    child never receives the case key (a detachable step may not declare one).
    A failure in the child is raised here as the same exception; a failure
    here stops the child first, so nothing writes into the staging directory
    after the run has given up on it (:mod:`kontrol.detached`).
    """
    _first, *rest = steps.STEPS  # the first step takes the run's parameters: the caller's
    results: dict[int, dict[str, Any]] = {}
    detached: dict[int, tuple[steps.Step, DetachedStep]] = {}
    order = 0
    try:
        for step in rest:
            for index, (earlier, process) in list(detached.items()):
                if set(earlier.outputs) & set(step.inputs):
                    results[index] = process.result()
                    del detached[index]
            if step.detachable and _worth_detaching(work_dir, detach_from_cases):
                detached[order] = (step, DetachedStep(step.name, work_dir))
                order += 1
                continue
            for extract in extracts if step.per_extract else [None]:
                results[order] = tasks.run_step(
                    step.name, work_dir, extract=extract, case_key=case_key
                )
                order += 1
        for index, (_step, process) in list(detached.items()):
            results[index] = process.result()
            del detached[index]
    finally:
        for _step, process in detached.values():
            process.stop()
    return [results[index] for index in sorted(results)]


def _worth_detaching(work_dir: Path, detach_from_cases: int) -> bool:
    """True when the staged queue has at least ``detach_from_cases`` cases (0: never)."""
    if detach_from_cases <= 0:
        return False
    cases = catalogue.path(work_dir, "cases")
    return io.parquet_row_count(cases) >= detach_from_cases
