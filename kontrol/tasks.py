"""The steps of a run, one function each: shared by ``kontrol run`` and the Airflow DAG.

Which steps there are, in which order, and which datasets each reads and
writes is declared once, in the step table :mod:`kontrol.steps`; the file
of each dataset in :mod:`kontrol.catalogue`. This module holds the step
functions themselves and :func:`run_step`, which resolves a table entry to
its function.

Every function takes paths and plain values (``str``/``Path``, ``int``,
``date``), persists what it produces as files in the run's *work directory*
(through :mod:`kontrol.pipeline` and :mod:`kontrol.io`), and returns only a
small JSON-able ``dict`` of paths, counts, names and the run id: never data,
never a cpr value. So a step can run in its own process (an Airflow task,
with its return value in XCom) or all of them in one (:func:`kontrol.run.run`),
and both give the same files.

A step re-run with the same work directory rewrites the same files (every
write is an atomic replace), so retrying or clearing an Airflow task is
safe; :func:`prepare` starts a run over from an empty work directory.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kontrol import (
    __version__,
    case_volume,
    catalogue,
    io,
    lifecycle,
    pipeline,
    progress,
    steps,
    validation,
)
from kontrol.config import KontrolConfig, load_config
from kontrol.errors import ConfigError, KontrolError, StructuralDefect
from kontrol.lifecycle import store
from kontrol.lifecycle.performance import render_html
from kontrol.lifecycle.performance import rule_performance as performance_of
from kontrol.lifecycle.sample import draw_control_sample
from kontrol.rules import CATALOGUE, CATALOGUE_VERSION, resolve_all_parameters
from kontrol.schema import ALL_EXTRACT_NAMES
from kontrol.window import window_for

if TYPE_CHECKING:
    import polars as pl

log = logging.getLogger(__name__)

#: The published manifest's name, as it appears in a publication directory.
MANIFEST = catalogue.dataset("manifest").file
#: Written by the delivering system after the five files: the delivery is complete.
DELIVERY_MARKER = catalogue.DELIVERY_MARKER


# --- where things are -------------------------------------------------------------


def work_dir_for(out_dir: str | Path, as_of: date) -> Path:
    """The month's work directory: deterministic, so a re-run finds and replaces it."""
    return Path(out_dir) / catalogue.WORK_ROOT / as_of.isoformat()


def publish_dir_for(out_dir: str | Path, as_of: date) -> Path:
    """The month's publication: ``out_dir/<as_of>/`` (one directory per month)."""
    return Path(out_dir) / as_of.isoformat()


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    first_of_next = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first_of_next - timedelta(days=1)


def default_as_of(interval_start: date | None, run_after: date) -> date:
    """The as-of date of a scheduled run: the last day of its data interval's month.

    A monthly interval ``[2026-10-01, 2026-11-01)`` gives 2026-10-31. A run
    without a data interval (triggered by hand) covers the month before the
    one it runs in.
    """
    if interval_start is not None:
        return month_end(interval_start)
    return run_after.replace(day=1) - timedelta(days=1)


def previous_manifest(out_dir: str | Path, as_of: date) -> Path | None:
    """The manifest of the latest publication in ``out_dir`` for an earlier month, if any.

    Used for the volume-against-previous-run warnings: only earlier months
    count, so re-running a month gives the same result whatever ran after it.
    """
    root = Path(out_dir)
    if not root.is_dir():
        return None
    earlier = []
    for child in root.iterdir():
        try:
            published = date.fromisoformat(child.name)
        except ValueError:
            continue
        if published < as_of and (child / MANIFEST).is_file():
            earlier.append(published)
    return publish_dir_for(root, max(earlier)) / MANIFEST if earlier else None


@dataclass(frozen=True)
class DeliveryStatus:
    complete: bool
    reason: str


def delivery_status(
    extracts_dir: str | Path, *, require_marker: bool = False, settle_seconds: float = 2.0
) -> DeliveryStatus:
    """Whether a delivery directory holds a complete delivery (file names and counts only).

    Complete means: the delivering system's ``_SUCCESS`` marker is there
    (it writes it after the five files), or, when the marker is not required
    and absent, all five files exist, each (and each optional register
    present) has a readable Parquet footer
    (a writer writes the footer last, so a file still being written has
    none) and no file's size or modification time changes over
    ``settle_seconds``.
    """
    directory = Path(extracts_dir)
    if (directory / DELIVERY_MARKER).is_file():
        return DeliveryStatus(True, f"{DELIVERY_MARKER} marker present")
    if require_marker:
        return DeliveryStatus(False, f"waiting for the {DELIVERY_MARKER} marker in {directory}")
    # the five required files, and every optional register already there (CONTRACT.md
    # 1b): one still being written must not be read half, nor taken as "not delivered"
    files = [
        directory / catalogue.delivery_file(name) for name in pipeline.delivered_extracts(directory)
    ]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        return DeliveryStatus(False, f"waiting for {', '.join(missing)} in {directory}")
    before = [_signature(f) for f in files]
    for path in files:
        try:
            io.delivered_schema(path)
        except StructuralDefect:
            return DeliveryStatus(False, f"{path.name} has no readable Parquet footer yet")
    time.sleep(settle_seconds)
    changed = [f.name for f, sig in zip(files, before, strict=True) if _signature(f) != sig]
    if changed:
        return DeliveryStatus(False, f"still being written: {', '.join(changed)}")
    return DeliveryStatus(True, f"all {len(files)} files present, readable and unchanged")


def _signature(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


# --- the run's parameters, persisted by prepare() ---------------------------------


@dataclass(frozen=True)
class RunSpec:
    """What :func:`prepare` fixed for a run; every later step reads it from ``run.json``."""

    work_dir: Path
    extracts_dir: Path
    publish_dir: Path
    as_of: date
    config: KontrolConfig
    previous_rows: dict[str, int] | None
    #: The case register across runs (``--register``), or None: every case is new.
    register_dir: Path | None = None
    #: The previous run's cases per rule and parameters (the volume warnings), or None.
    previous_run: case_volume.PreviousRun | None = None

    @classmethod
    def read(cls, work_dir: str | Path) -> RunSpec:
        work = Path(work_dir)
        path = catalogue.path(work, "run_spec")
        if not path.is_file():
            raise KontrolError(f"{work}: no {path.name}; the run's prepare step has not run")
        doc = io.read_json(path)
        return cls(
            work_dir=work,
            extracts_dir=Path(doc["extracts_dir"]),
            publish_dir=Path(doc["publish_dir"]),
            as_of=date.fromisoformat(doc["as_of"]),
            # ``output`` is left out of the configuration's dump (see KontrolConfig.output)
            config=KontrolConfig.model_validate({**doc["config"], "output": doc["output"]}),
            previous_rows=doc["previous_rows"],
            register_dir=Path(doc["register_dir"]) if doc.get("register_dir") else None,
            previous_run=case_volume.previous_run_from(doc.get("previous_run")),
        )

    @property
    def group_id(self) -> int | None:
        """The configured reader group's id for the published cpr files, if any."""
        group = self.config.output.group
        return io.group_id(group) if group is not None else None

    @property
    def run_info(self) -> dict[str, str]:
        """Shown at the top of the validation report."""
        return {"as_of": self.as_of.isoformat(), "extracts": self.extracts_dir.name}


def config_from(config_file: str | Path | None, window_months: int | None) -> KontrolConfig:
    """The run's configuration: a YAML/JSON file (or the defaults) and a window override.

    Raises :class:`ConfigError` (one line naming the file and the defect).
    """
    return load_config(Path(config_file) if config_file else None, window_months=window_months)


def check_output_root(out_dir: str | Path) -> None:
    """Fail fast (ConfigError) if the run could not create and write ``out_dir``'s files.

    ``out_dir`` must be a writable directory, or not exist yet under a
    writable one; checked before any extract is read.
    """
    import os

    root = Path(out_dir)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"output root {root} is not a directory")
    existing = root
    while not existing.exists():
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"output root {root}: no permission to write in {existing} "
            f"(the Airflow workers' user needs write access; Variable kontrol_out_root)"
        )


# --- running a step of the table -----------------------------------------------------


def run_step(
    name: str,
    work_dir: str | Path,
    *,
    extract: str | None = None,
    case_key: bytes | None = None,
) -> dict[str, Any]:
    """Run step ``name`` of :data:`kontrol.steps.STEPS` on ``work_dir``.

    The table holds the function as a dotted string so that the DAG can read
    the table at parse time without importing kontrol's dependencies; it is
    resolved here, at execution. ``extract`` goes to a per-extract step,
    ``case_key`` to a step that declares it needs one (and to no other).

    Logs one progress line per execution (:mod:`kontrol.progress`): the step,
    its extract, its seconds and the counts it returned; the CLI and every
    Airflow task run their steps through here, so both logs show them.
    """
    entry = steps.step(name)
    module_name, _, function_name = entry.function.rpartition(".")
    function = getattr(importlib.import_module(module_name), function_name)
    arguments: list[Any] = [work_dir]
    if entry.per_extract:
        if extract is None:
            raise KontrolError(f"step {name} runs once per extract; no extract given")
        arguments.append(extract)
    if entry.case_key:
        if case_key is None:
            raise KontrolError(f"step {name} needs the case key")
        arguments.append(case_key)
    with progress.timed_step(name, extract) as timer:
        result: dict[str, Any] = function(*arguments)
        timer.result = result
    return result


# --- the steps ----------------------------------------------------------------------


def prepare(
    extracts_dir: str | Path,
    publish_dir: str | Path,
    as_of: date,
    work_dir: str | Path,
    config: KontrolConfig,
    previous_manifest: str | Path | None = None,
    register_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Start a run (:func:`_prepare`), logged as a step like every other (:mod:`kontrol.progress`).

    The first step takes the run's parameters rather than a work directory, so
    ``kontrol run`` and the DAG call it directly instead of through :func:`run_step`.
    """
    with progress.timed_step("prepare") as timer:
        result = _prepare(
            extracts_dir, publish_dir, as_of, work_dir, config, previous_manifest, register_dir
        )
        timer.result = result
    return result


def _prepare(
    extracts_dir: str | Path,
    publish_dir: str | Path,
    as_of: date,
    work_dir: str | Path,
    config: KontrolConfig,
    previous_manifest: str | Path | None,
    register_dir: str | Path | None,
) -> dict[str, Any]:
    """Start a run: an empty work directory, a checked configuration and delivery structure.

    With a case register (``register_dir``), a month out of order fails first, before
    anything is touched. Then what earlier runs left in the publication directory and no longer
    applies goes (:func:`kontrol.io.remove_leftovers`): a killed run's
    staging directory, an unswitched release, an earlier ``failed-run/``.
    With a case register (``register_dir``), a publication an earlier run
    made but could not record there (it died in between) is recorded first.

    Fails (a :class:`KontrolError`) on a bad rule parameter, a missing
    delivery directory, or a structural defect in any file's schema (a
    missing file, column or a wrong type), before any data is read.
    """
    resolve_all_parameters(config, CATALOGUE)  # a bad rule parameter fails before any work
    if config.output.group is not None:
        try:
            io.group_id(config.output.group)
        except KontrolError as error:
            raise ConfigError(str(error)) from error
    if register_dir is not None:
        # fail fast, before anything in the publication directory is touched
        store.recover(Path(register_dir))
        store.check_month(Path(register_dir), as_of)  # checked again on publish
    work = Path(work_dir)
    removed = io.remove_leftovers(Path(publish_dir), keep=work)
    if removed:
        log.info("removed what earlier runs left in %s: %s", publish_dir, ", ".join(removed))
    if work.parent.name == catalogue.WORK_ROOT:
        # the DAG's work directories of other months: the DAG runs one month at a time
        # (max_active_runs=1), so none is in use; a failed one's staged data goes
        for other in io.list_dir_names(work.parent):
            if work.parent / other != work:
                discard_work(work.parent / other)
    io.empty_private_dir(work)
    extracts = Path(extracts_dir)
    if not extracts.is_dir():
        raise KontrolError(f"{extracts}: the extracts directory does not exist")
    pipeline.check_structure(extracts, config)
    previous_rows = (
        validation.previous_rows_from_manifest(Path(previous_manifest))
        if previous_manifest is not None
        else None
    )
    previous_run = case_volume.previous_run_from(_read_manifest(previous_manifest))
    io.write_json(
        {
            "extracts_dir": str(extracts),
            "publish_dir": str(publish_dir),
            "as_of": as_of.isoformat(),
            "config": config.model_dump(mode="json"),
            "output": config.output.model_dump(mode="json"),
            "previous_rows": previous_rows,
            "previous_run": previous_run.to_json() if previous_run is not None else None,
            "register_dir": str(register_dir) if register_dir is not None else None,
        },
        catalogue.path(work, "run_spec"),
    )
    log.info("prepared run for %s in %s", as_of.isoformat(), work)
    return {
        "work_dir": str(work),
        "publish_dir": str(publish_dir),
        "as_of": as_of.isoformat(),
        "extracts": list(pipeline.delivered_extracts(extracts)),
    }


def load_extract(work_dir: str | Path, extract: str) -> dict[str, Any]:
    """Load, check and validate one extract: clean rows, rejects, counts, its GX outcome.

    Does not gate on the reject rate or on failed expectations, so every
    extract is loaded and reported before :func:`validate_delivery` decides.
    A broken key is a structural defect and fails here.
    """
    run = RunSpec.read(work_dir)
    if extract not in ALL_EXTRACT_NAMES:
        raise ConfigError(f"unknown extract {extract!r}; expected one of {ALL_EXTRACT_NAMES}")
    if extract not in pipeline.delivered_extracts(run.extracts_dir):
        # an optional register this delivery does not hold (CONTRACT.md section 1b)
        log.info("optional extract %s not delivered", extract)
        return {"extract": extract, "delivered": False}
    with io.reading_delivery(run.extracts_dir / f"{extract}.parquet"):
        load = pipeline.load_extract(
            run.extracts_dir, extract, run.work_dir, run.config, enforce_reject_rate=False
        )
    outcome = validation.validate_extract(run.work_dir, extract, run.config)
    _log_warnings(outcome)
    io.write_json(
        outcome.to_json(), catalogue.path(run.work_dir, "extract_outcomes", extract=extract)
    )
    return {
        "extract": extract,
        "delivered": True,
        "rows_delivered": load.rows_delivered,
        "rows_rejected": load.rows_rejected,
        "rows_loaded": load.rows_loaded,
        "critical_failures": len(outcome.critical_failures),
        "warnings": len(outcome.warnings),
    }


def validate_delivery(work_dir: str | Path) -> dict[str, Any]:
    """Validate the whole delivery, then gate: too many rejects or a critical failure ends it.

    The delivery's outcome is written only once the gate has passed, so
    ``delivery_outcome`` existing *is* the acceptance every later step reads.
    On failure the run's diagnostics (rejects, validation report, error)
    are published to ``<publish_dir>/failed-run/``.
    """
    run = RunSpec.read(work_dir)
    loads = pipeline.read_loads(run.work_dir)
    outcome = validation.validate_delivery_facts(
        run.work_dir, loads, run.as_of, run.config, previous_rows=run.previous_rows
    )
    _log_warnings(outcome)
    outcomes = [*_extract_outcomes(run.work_dir, loads), outcome]
    with _failed_run_diagnostics(run, outcomes):
        pipeline.raise_for_reject_rates(loads, run.config)
        validation.raise_for_critical(outcomes)
    io.write_json(outcome.to_json(), catalogue.path(run.work_dir, "delivery_outcome"))
    return {
        "rows_delivered": sum(load.rows_delivered for load in loads.values()),
        "rows_rejected": sum(load.rows_rejected for load in loads.values()),
        "warnings": _warnings(outcomes),
    }


def identify_run(work_dir: str | Path) -> dict[str, Any]:
    """The run id (inputs' digests, configuration, as_of, versions), computed once."""
    run = RunSpec.read(work_dir)
    run_id = pipeline.run_id_of(run.work_dir, run.as_of, run.config)
    io.write_json({"run_id": run_id}, catalogue.path(run.work_dir, "run_id"))
    return {"run_id": run_id}


def apply_rules(work_dir: str | Path) -> dict[str, Any]:
    """Every rule of the catalogue over the staged extracts of an accepted delivery."""
    run = RunSpec.read(work_dir)
    if not catalogue.path(run.work_dir, "delivery_outcome").is_file():
        raise KontrolError(f"{run.work_dir}: the delivery has not passed validate_delivery")
    return {"rule_cases": pipeline.apply_rules(run.work_dir, run.as_of, run.config)}


def score(work_dir: str | Path) -> dict[str, Any]:
    """Anomaly scores for the persons with cases (they rank cases, never make one)."""
    run = RunSpec.read(work_dir)
    return {"scored": pipeline.score(run.work_dir, run.as_of, run.config)}


def assemble(work_dir: str | Path, case_key: bytes) -> dict[str, Any]:
    """The ranked queue: case ids (HMAC with ``case_key``), scores, priority."""
    run = RunSpec.read(work_dir)
    run_id = _run_id(run)
    ranked = pipeline.assemble(run.work_dir, run_id, run.config, case_key)
    return {"run_id": run_id, "ranked": ranked}


def apply_register(work_dir: str | Path, case_key: bytes) -> dict[str, Any]:
    """The queue to publish: statuses, kept case ids and suppression from the register.

    Without a register every case is ``new``. ``cases.parquet`` is written
    here and nowhere else; the suppressed cases and the control sample
    (drawn with the case key, seeded by the run id) beside it.
    """
    run = RunSpec.read(work_dir)
    work = run.work_dir
    run_id = _run_id(run)
    kept, suppressed = lifecycle.classify(
        io.read_parquet(catalogue.path(work, "ranked")),
        _register_cases(run),
        run.as_of,
        run.config.lifecycle.suppress_months,
    )
    io.write_parquet(kept, catalogue.path(work, "cases"))
    io.write_parquet(suppressed, catalogue.path(work, "suppressed"))
    sample = draw_control_sample(
        io.read_parquet(catalogue.path(work, "recipients")),
        io.read_parquet(catalogue.path(work, "rule_cases")),
        run.config.lifecycle.control_sample_size,
        run_id,
        run.as_of,
        case_key,
    )
    io.write_parquet(sample, catalogue.path(work, "control_sample"))
    return {
        "run_id": run_id,
        "cases": kept.height,
        "suppressed": suppressed.height,
        "control_sample": sample.height,
    }


def fairness_report(work_dir: str | Path) -> dict[str, Any]:
    """The fairness report of the queue as published, after suppression (auditors only)."""
    run = RunSpec.read(work_dir)
    pipeline.write_fairness_report(run.work_dir, run.as_of, run.config)
    return {"report": str(catalogue.path(run.work_dir, "fairness"))}


def validate_queue(work_dir: str | Path) -> dict[str, Any]:
    """Validate the case queue, gate on it, and write the run's validation report."""
    run = RunSpec.read(work_dir)
    queue = pipeline.read_staged_queue(run.work_dir)
    queue_outcome = validation.validate_queue(queue)
    _log_warnings(queue_outcome)
    loads = pipeline.read_loads(run.work_dir)
    outcomes = [*_delivery_outcomes(run.work_dir, loads), queue_outcome]
    run_info = {
        **run.run_info,
        "run_id": _run_id(run),
        "rules_not_evaluated": pipeline.describe_not_evaluated(pipeline.rules_not_evaluated(loads)),
    }
    with _failed_run_diagnostics(run, outcomes, run_info):
        validation.raise_for_critical(outcomes)
    io.write_json(queue_outcome.to_json(), catalogue.path(run.work_dir, "queue_outcome"))
    volume = check_case_volume(run, queue, loads)
    io.write_json(volume.to_json(), catalogue.path(run.work_dir, "case_volume"))
    for warning in volume.warnings:
        log.warning("%s", warning)
    validation.write_report(
        outcomes,
        catalogue.path(run.work_dir, "validation").parent,
        run_info,
        case_volume=volume.to_json(),
    )
    return {"cases": queue.height, "warnings": [*_warnings(outcomes), *volume.warnings]}


def check_case_volume(
    run: RunSpec, queue: pl.DataFrame, loads: Iterable[str]
) -> case_volume.CaseVolume:
    """This run's cases per rule against the previous run's and the recipients (warnings only).

    Counts of the queue as published (after suppression), as the manifest's
    ``cases_per_rule`` of both runs; recipients from the ``recipients`` dataset.
    """
    return case_volume.check_case_volume(
        pipeline.cases_per_rule(queue, loads),
        io.parquet_row_count(catalogue.path(run.work_dir, "recipients")),
        run.previous_run,
        _rule_parameters(run.config),
        {rule.rule_id: rule.name_en for rule in CATALOGUE},
        run.config.volume,
    )


def case_list(work_dir: str | Path) -> dict[str, Any]:
    """The final queue as the caseworkers open it: a static HTML page and a workbook, in Danish."""
    from kontrol import caselist

    run = RunSpec.read(work_dir)
    queue = pipeline.read_staged_queue(run.work_dir)
    run_info = {"run_id": _run_id(run), "as_of": run.as_of.strftime("%d.%m.%Y")}
    capacity = run.config.queue.capacity
    # The workbook first: it parses every case's evidence and counts the totals
    # from it on the way; the page shows the same totals (parsed once, not twice).
    totals = io.write_stream(
        catalogue.path(run.work_dir, "cases_xlsx"),
        lambda out: caselist.write_xlsx(
            queue,
            out,
            capacity=capacity,
            detail_cases=run.config.caselist.xlsx_detail_cases,
        ),
    )
    page = caselist.render_html(
        queue,
        run_info,
        capacity=capacity,
        max_accounts=run.config.caselist.max_accounts,
        max_compact_rows=run.config.caselist.max_compact_rows,
        totals=totals,
    )
    io.write_text(page, catalogue.path(run.work_dir, "cases_html"))
    return {"cases": queue.height}


def rule_performance(work_dir: str | Path) -> dict[str, Any]:
    """Per-rule performance over the register as this run will leave it (page and data)."""
    run = RunSpec.read(work_dir)
    work = run.work_dir
    run_id = _run_id(run)
    register = lifecycle.apply_run(
        _register_cases(run),
        pipeline.read_staged_queue(work),
        io.read_parquet(catalogue.path(work, "control_sample")),
        run_id,
        run.as_of,
    )
    performance = performance_of(register, [rule.rule_id for rule in CATALOGUE])
    io.write_json(performance, catalogue.path(work, "performance"))
    io.write_text(render_html(performance, run_id), catalogue.path(work, "rule_performance"))
    return {"rules": len(CATALOGUE)}


def write_manifest(work_dir: str | Path) -> dict[str, Any]:
    """The auditor's record of the run, staged beside the queue it describes."""
    run = RunSpec.read(work_dir)
    work = run.work_dir
    run_id = _run_id(run)
    queue = pipeline.read_staged_queue(work)
    loads = pipeline.read_loads(work)
    per_rule = pipeline.cases_per_rule(queue, loads)
    manifest = build_manifest(run_id, run.as_of, run.config, loads, per_rule)
    outcomes = [
        *_delivery_outcomes(work, loads),
        validation.ValidationOutcome.from_json(io.read_json(catalogue.path(work, "queue_outcome"))),
    ]
    manifest["validation"] = validation.manifest_section(outcomes)
    manifest["fairness"] = io.read_json(catalogue.path(work, "fairness_summary"))
    statuses = dict.fromkeys(("new", "continuing"), 0)
    for status, count in queue.group_by("status").len().iter_rows():
        statuses[status] = count
    manifest["lifecycle"] = {
        "statuses": statuses,
        "suppressed": io.parquet_row_count(catalogue.path(work, "suppressed")),
        "control_sample": io.parquet_row_count(catalogue.path(work, "control_sample")),
        "suppress_months": run.config.lifecycle.suppress_months,
    }
    manifest["rule_performance"] = io.read_json(catalogue.path(work, "performance"))
    volume = io.read_json(catalogue.path(work, "case_volume"))
    manifest["case_volume"] = volume
    # every warning of the run in one list: each suite's failed warning expectations
    # (``suite: name``, as ``kontrol run`` prints them), then the case volume's
    manifest["warnings"] = [*_warnings(outcomes), *volume["warnings"]]
    io.write_json(manifest, catalogue.path(work, "manifest"))
    return {"run_id": run_id, "cases": manifest["cases_total"], "cases_per_rule": per_rule}


def publish(work_dir: str | Path) -> dict[str, Any]:
    """Put the staged publication in force: one directory, one atomic switch.

    The files get their modes first (cpr: owner-only, or the configured
    group), while still inside the private work directory; then
    :func:`kontrol.io.publish_release` moves the whole publication into
    ``<publish_dir>/.releases/`` and switches ``current`` to it, so a reader
    or a crash sees the whole previous publication or the whole new one.
    Afterwards the work directory keeps only ``run.json`` and ``published.json``
    (no staged data, no cpr), so publishing again (a retried or cleared task)
    returns the same result instead of failing.
    """
    run = RunSpec.read(work_dir)
    marker = catalogue.path(run.work_dir, "published")
    staged_manifest = catalogue.path(run.work_dir, "manifest")
    if not staged_manifest.is_file() and marker.is_file():
        if run.register_dir is not None:
            store.recover(run.register_dir)
        published: dict[str, Any] = io.read_json(marker)
        log.info("run %s was already published to %s", published["run_id"], run.publish_dir)
        return published
    manifest = io.read_json(staged_manifest)
    # one register writer from the check (month order, unchanged since apply_register read
    # it) through the publication to the register update
    with store.exclusive(run.register_dir, f"publish {run.as_of.isoformat()}"):
        if run.register_dir is not None:
            store.mark_pending(
                run.register_dir, manifest["run_id"], run.as_of, run.publish_dir, run.work_dir
            )
        publication = run.work_dir / catalogue.PUBLICATION_DIR
        io.set_modes(publication, catalogue.cpr_names(), run.group_id)
        release = io.publish_release(
            publication, run.publish_dir, manifest["run_id"], catalogue.published_names()
        )
        log.info("publication %s in force", release.name)
        # this publication supersedes an earlier failure's diagnostics
        io.remove_path(run.publish_dir / catalogue.FAILED_RUN_DIR)
        if run.register_dir is not None:
            # queue first, then the register: a crash here is repaired by the next
            # run's prepare (kontrol.lifecycle.store.recover)
            store.apply_publication(
                run.register_dir, manifest["run_id"], run.as_of, run.publish_dir
            )
    published = {
        "run_id": manifest["run_id"],
        "as_of": run.as_of.isoformat(),
        "cases": manifest["cases_total"],
        "cases_per_rule": manifest["cases_per_rule"],
        "publish_dir": str(run.publish_dir),
        "cases_path": str(run.publish_dir / catalogue.dataset("cases").file),
        "manifest_path": str(run.publish_dir / MANIFEST),
        "report_path": str(run.publish_dir / catalogue.dataset("validation").file),
    }
    io.empty_private_dir(run.work_dir, keep=(catalogue.relative("run_spec"),))
    io.write_json(published, marker)
    log.info(
        "run %s published %d cases to %s", published["run_id"], published["cases"], run.publish_dir
    )
    return published


def discard_work(work_dir: str | Path) -> None:
    """After a run failed for good (a data error): remove its staged data (cpr values).

    Only the run's parameters (and, after a publication, its result) stay;
    a new attempt starts with ``prepare``.
    """
    keep = (catalogue.relative("run_spec"), catalogue.relative("published"))
    io.empty_private_dir(Path(work_dir), keep=keep)


# --- helpers --------------------------------------------------------------------------


def _run_id(run: RunSpec) -> str:
    """The ``run_id`` dataset (written once, by the identify_run step)."""
    run_id: str = io.read_json(catalogue.path(run.work_dir, "run_id"))["run_id"]
    return run_id


def _register_cases(run: RunSpec) -> Any:
    if run.register_dir is None:
        return lifecycle.empty_register()
    # in order, without a re-run month's own first application; the snapshot read is
    # recorded in the work directory and checked again on publish
    return store.cases_for_month(run.register_dir, run.as_of, run.work_dir)


def build_manifest(
    run_id: str,
    as_of: date,
    config: KontrolConfig,
    loads: Mapping[str, pipeline.ExtractLoad],
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
        "rule_parameters": _rule_parameters(config),
        "configuration": config.model_dump(mode="json"),
        "code_version": __version__,
        "cases_per_rule": cases_per_rule,
        "cases_total": sum(cases_per_rule.values()),
        # CONTRACT.md section 1b: each rule not evaluated, with the file it lacked
        "rules_not_evaluated": pipeline.rules_not_evaluated(loads),
    }


def _rule_parameters(config: KontrolConfig) -> dict[str, dict[str, Any]]:
    """Each rule's parameters in force, as JSON values (the manifest's ``rule_parameters``)."""
    return {
        rule_id: params.model_dump(mode="json")
        for rule_id, params in resolve_all_parameters(config, CATALOGUE).items()
    }


def _read_manifest(path: str | Path | None) -> dict[str, Any] | None:
    """An earlier run's manifest, or None when there is none or it cannot be read."""
    if path is None:
        return None
    try:
        doc = io.read_json(Path(path))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _warnings(outcomes: Sequence[validation.ValidationOutcome]) -> list[str]:
    return [f"{o.suite}: {name}" for o in outcomes for name in o.warnings]


def _log_warnings(outcome: validation.ValidationOutcome) -> None:
    """Log each failed warning-level expectation of ``outcome`` once, in words.

    The step that validates a suite logs its warnings, and nothing else does
    (so ``kontrol run`` and the Airflow task show each once; the run's summary
    does not repeat them, and :mod:`kontrol.validation` only returns them).
    """
    for expectation in outcome.expectations:
        if expectation.success or expectation.severity == "critical":
            continue
        log.warning("validation warning: %s", validation.failure_text(outcome, expectation))


def _extract_outcomes(
    work_dir: Path, extracts: Iterable[str]
) -> list[validation.ValidationOutcome]:
    """The delivered extracts' outcomes, in the delivery's order (the report's and manifest's)."""
    outcomes = []
    for extract in extracts:
        path = catalogue.path(work_dir, "extract_outcomes", extract=extract)
        if not path.is_file():
            raise KontrolError(f"{work_dir}: no validation outcome for {extract}")
        outcomes.append(validation.ValidationOutcome.from_json(io.read_json(path)))
    return outcomes


def _delivery_outcomes(work_dir: Path, loads: Iterable[str]) -> list[validation.ValidationOutcome]:
    """The extracts' outcomes and the accepted delivery's."""
    delivery = validation.ValidationOutcome.from_json(
        io.read_json(catalogue.path(work_dir, "delivery_outcome"))
    )
    return [*_extract_outcomes(work_dir, loads), delivery]


@contextmanager
def _failed_run_diagnostics(
    run: RunSpec,
    outcomes: Sequence[validation.ValidationOutcome],
    run_info: Mapping[str, str] | None = None,
) -> Iterator[None]:
    """On a :class:`KontrolError`, publish the run's diagnostics to ``<publish_dir>/failed-run/``.

    They go beside the last good publication (replacing an earlier failure's),
    never over it.
    """
    try:
        yield
    except KontrolError as error:
        work, out_dir = run.work_dir, run.publish_dir
        failed = work / catalogue.FAILED_RUN_DIR
        io.remove_tree(failed)
        info = dict(run_info or run.run_info)
        validation.write_report(outcomes, failed / catalogue.dataset("validation").top, info)
        rejects = catalogue.directory(work, "rejects")
        if rejects.is_dir():
            # moved, not copied: a gate failure is final for this work directory
            # (the next attempt starts over with prepare)
            io.publish(rejects, failed / rejects.name)
        io.write_text(f"{error}\n", failed / catalogue.FAILED_RUN_ERROR)
        io.set_modes(failed, catalogue.cpr_names(), run.group_id)
        io.publish(failed, out_dir / catalogue.FAILED_RUN_DIR)
        log.error("run failed; diagnostics in %s", out_dir / catalogue.FAILED_RUN_DIR)
        raise
