"""The steps of a run, one function each: shared by ``kontrol run`` and the Airflow DAG.

Every function takes paths and plain values (``str``/``Path``, ``int``,
``date``), persists what it produces as files in the run's *work directory*
(through :mod:`kontrol.pipeline` and :mod:`kontrol.io`), and returns only a
small JSON-able ``dict`` of paths, counts, names and the run id: never data,
never a cpr value. So a step can run in its own process (an Airflow task,
with its return value in XCom) or all of them in one (:func:`kontrol.run.run`,
which calls them in the same order), and both give the same files.

=================  ==========================================================
step               reads / writes in the work directory
=================  ==========================================================
:func:`prepare`    empties it; checks config and the delivery's structure;
                   writes ``run.json`` (paths, as_of, configuration, the
                   previous run's row counts): the one source every later
                   step reads its parameters from
:func:`load_extract`  one extract: ``clean/``, ``rejects/``, ``loads/``, and
                   its GX outcome in ``outcomes/<extract>.json``
:func:`validate_delivery`  the delivery suite; then the gate (reject rates,
                   critical expectations); on failure, ``failed-run/``
:func:`apply_rules`  ``net_lines``, ``timeline``, ``rule_cases``
:func:`score`      ``scores``, ``recipients``
:func:`assemble`   ``cases.parquet`` (case ids from the key; with a case
                   register, ``status`` and kept ids), ``suppressed.parquet``,
                   ``control_sample.parquet``, ``fairness/``
:func:`validate_queue`  the queue suite, the gate, ``validation/`` report
:func:`write_manifest`  ``manifest.json`` (with ``rule_performance``),
                   ``rule_performance.html``
:func:`publish`    moves rejects, validation, fairness, cases, manifest into
                   the publication directory (atomic renames, manifest last),
                   then records the run in the case register (if any;
                   :mod:`kontrol.lifecycle.store`), then empties the work
                   directory but for ``run.json`` and ``published.json``
=================  ==========================================================

A step re-run with the same work directory rewrites the same files (every
write is an atomic replace), so retrying or clearing an Airflow task is
safe; :func:`prepare` starts a run over from an empty work directory.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from kontrol import __version__, io, lifecycle, pipeline, validation
from kontrol.config import KontrolConfig, load_config
from kontrol.errors import ConfigError, KontrolError, StructuralDefect
from kontrol.lifecycle import store
from kontrol.lifecycle.performance import render_html, rule_performance
from kontrol.lifecycle.sample import draw_control_sample
from kontrol.rules import CATALOGUE, CATALOGUE_VERSION, resolve_all_parameters
from kontrol.schema import ALL_EXTRACT_NAMES
from kontrol.window import window_for

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
OUTCOMES_DIR = "outcomes"
PUBLISHED_FILE = "published.json"
#: Under ``out_dir``: one work directory per as-of date, ``out_dir/.work/<as_of>/``.
WORK_ROOT = ".work"
#: Beside the queue: cases the register held back, with the reason (they hold cpr).
SUPPRESSED_FILE = "suppressed.parquet"
#: Beside the queue: the random control sample, no priority (it holds cpr).
CONTROL_SAMPLE_FILE = store.PUBLISHED_CONTROL_SAMPLE
#: Beside the queue: per-rule performance from the register (no cpr).
RULE_PERFORMANCE_FILE = "rule_performance.html"
#: Beside the queue: the caseworkers' case list in Danish (they hold cpr, like the queue).
CASES_HTML_FILE = "cases.html"
CASES_XLSX_FILE = "cases.xlsx"
#: What :func:`publish` moves into place, in order: the queue, then the manifest.
PUBLISHED = (
    pipeline.REJECTS_DIR,
    pipeline.VALIDATION_DIR,
    pipeline.FAIRNESS_DIR,
    SUPPRESSED_FILE,
    CONTROL_SAMPLE_FILE,
    RULE_PERFORMANCE_FILE,
    CASES_HTML_FILE,
    CASES_XLSX_FILE,
    pipeline.CASES_FILE,
    pipeline.MANIFEST_FILE,
)
#: Written by the delivering system after the five files: the delivery is complete.
DELIVERY_MARKER = "_SUCCESS"


# --- where things are -------------------------------------------------------------


def work_dir_for(out_dir: str | Path, as_of: date) -> Path:
    """The month's work directory: deterministic, so a re-run finds and replaces it."""
    return Path(out_dir) / WORK_ROOT / as_of.isoformat()


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
        if published < as_of and (child / pipeline.MANIFEST_FILE).is_file():
            earlier.append(published)
    return publish_dir_for(root, max(earlier)) / pipeline.MANIFEST_FILE if earlier else None


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
    files = [directory / f"{name}.parquet" for name in pipeline.delivered_extracts(directory)]
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

    @classmethod
    def read(cls, work_dir: str | Path) -> RunSpec:
        work = Path(work_dir)
        path = work / RUN_FILE
        if not path.is_file():
            raise KontrolError(f"{work}: no {RUN_FILE}; the run's prepare step has not run")
        doc = io.read_json(path)
        return cls(
            work_dir=work,
            extracts_dir=Path(doc["extracts_dir"]),
            publish_dir=Path(doc["publish_dir"]),
            as_of=date.fromisoformat(doc["as_of"]),
            config=KontrolConfig.model_validate(doc["config"]),
            previous_rows=doc["previous_rows"],
            register_dir=Path(doc["register_dir"]) if doc.get("register_dir") else None,
        )

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
    """Start a run: an empty work directory, a checked configuration and delivery structure.

    With a case register (``register_dir``), a publication an earlier run
    made but could not record there (it died in between) is recorded first.

    Fails (a :class:`KontrolError`) on a bad rule parameter, a missing
    delivery directory, or a structural defect in any file's schema (a
    missing file, column or a wrong type), before any data is read.
    """
    resolve_all_parameters(config, CATALOGUE)  # a bad rule parameter fails before any work
    work = Path(work_dir)
    _empty_private_dir(work)
    extracts = Path(extracts_dir)
    if not extracts.is_dir():
        raise KontrolError(f"{extracts}: the extracts directory does not exist")
    pipeline.check_structure(extracts, config)
    if register_dir is not None:
        store.recover(Path(register_dir))
        store.check_month(Path(register_dir), as_of)  # fail fast; checked again on publish
    previous_rows = (
        validation.previous_rows_from_manifest(Path(previous_manifest))
        if previous_manifest is not None
        else None
    )
    io.write_json(
        {
            "extracts_dir": str(extracts),
            "publish_dir": str(publish_dir),
            "as_of": as_of.isoformat(),
            "config": config.model_dump(mode="json"),
            "previous_rows": previous_rows,
            "register_dir": str(register_dir) if register_dir is not None else None,
        },
        work / RUN_FILE,
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
    _write_outcome(run.work_dir, outcome)
    return {
        "extract": extract,
        "delivered": True,
        "rows_delivered": load.rows_delivered,
        "rows_rejected": load.rows_rejected,
        "critical_failures": len(outcome.critical_failures),
        "warnings": len(outcome.warnings),
    }


def validate_delivery(work_dir: str | Path) -> dict[str, Any]:
    """Validate the whole delivery, then gate: too many rejects or a critical failure ends it.

    On failure the run's diagnostics (rejects, validation report, error)
    are published to ``<publish_dir>/failed-run/``.
    """
    from kontrol.validation.suites import DELIVERY_SUITE

    run = RunSpec.read(work_dir)
    loads = pipeline.read_loads(run.work_dir)
    outcome = validation.validate_delivery_facts(
        run.work_dir, loads, run.as_of, run.config, previous_rows=run.previous_rows
    )
    _write_outcome(run.work_dir, outcome)
    outcomes = _read_outcomes(run.work_dir, [*loads, DELIVERY_SUITE])
    with _failed_run_diagnostics(run, outcomes):
        pipeline.raise_for_reject_rates(loads, run.config)
        validation.raise_for_critical(outcomes)
    return {
        "rows_delivered": sum(load.rows_delivered for load in loads.values()),
        "rows_rejected": sum(load.rows_rejected for load in loads.values()),
        "warnings": _warnings(outcomes),
    }


def apply_rules(work_dir: str | Path) -> dict[str, Any]:
    """Every rule of the catalogue over the staged extracts."""
    run = RunSpec.read(work_dir)
    return {"rule_cases": pipeline.apply_rules(run.work_dir, run.as_of, run.config)}


def score(work_dir: str | Path) -> dict[str, Any]:
    """Anomaly scores for the persons with cases (they rank cases, never make one)."""
    run = RunSpec.read(work_dir)
    return {"scored": pipeline.score(run.work_dir, run.as_of, run.config)}


def assemble(work_dir: str | Path, case_key: bytes) -> dict[str, Any]:
    """The case queue to publish: case ids (HMAC with ``case_key``), scores, priority, run id."""
    run = RunSpec.read(work_dir)
    run_id = pipeline.assemble(run.work_dir, run.as_of, run.config, case_key)
    counts = _apply_lifecycle(run, run_id, case_key)
    return {"run_id": run_id, **counts}


def validate_queue(work_dir: str | Path) -> dict[str, Any]:
    """Validate the case queue, gate on it, and write the run's validation report."""
    from kontrol.validation.suites import DELIVERY_SUITE, QUEUE_SUITE

    run = RunSpec.read(work_dir)
    queue = pipeline.read_staged_queue(run.work_dir)
    _write_outcome(run.work_dir, validation.validate_queue(queue))
    loads = pipeline.read_loads(run.work_dir)
    outcomes = _read_outcomes(run.work_dir, [*loads, DELIVERY_SUITE, QUEUE_SUITE])
    run_info = {
        **run.run_info,
        "run_id": pipeline.run_id_of(run.work_dir, run.as_of, run.config),
        "rules_not_evaluated": pipeline.describe_not_evaluated(pipeline.rules_not_evaluated(loads)),
    }
    with _failed_run_diagnostics(run, outcomes, run_info):
        validation.raise_for_critical(outcomes)
    validation.write_report(outcomes, run.work_dir / pipeline.VALIDATION_DIR, run_info)
    return {"cases": queue.height, "warnings": _warnings(outcomes)}


def write_manifest(work_dir: str | Path) -> dict[str, Any]:
    """The auditor's record of the run, staged beside the queue it describes."""
    from kontrol.validation.suites import DELIVERY_SUITE, QUEUE_SUITE

    run = RunSpec.read(work_dir)
    run_id = pipeline.run_id_of(run.work_dir, run.as_of, run.config)
    per_rule = pipeline.cases_per_rule(run.work_dir)
    loads = pipeline.read_loads(run.work_dir)
    manifest = build_manifest(run_id, run.as_of, run.config, loads, per_rule)
    outcomes = _read_outcomes(run.work_dir, [*loads, DELIVERY_SUITE, QUEUE_SUITE])
    manifest["validation"] = validation.manifest_section(outcomes)
    manifest["fairness"] = pipeline.fairness_summary(run.work_dir)
    manifest["lifecycle"], performance = _lifecycle_summary(run, run_id)
    manifest["rule_performance"] = performance
    io.write_text(
        render_html(performance, run_id),
        run.work_dir / RULE_PERFORMANCE_FILE,
    )
    _write_case_list(run, run_id)
    io.write_json(manifest, run.work_dir / pipeline.MANIFEST_FILE)
    return {"run_id": run_id, "cases": manifest["cases_total"], "cases_per_rule": per_rule}


def publish(work_dir: str | Path) -> dict[str, Any]:
    """Move the staged outputs into the publication directory, the manifest last.

    Each move is an atomic rename on the same filesystem. Afterwards the
    work directory keeps only ``run.json`` and ``published.json`` (no staged
    data, no cpr), so publishing again (a retried or cleared task) returns
    the same result instead of failing.
    """
    run = RunSpec.read(work_dir)
    marker = run.work_dir / PUBLISHED_FILE
    staged_manifest = run.work_dir / pipeline.MANIFEST_FILE
    if not staged_manifest.is_file() and marker.is_file():
        if run.register_dir is not None:
            store.recover(run.register_dir)
        published: dict[str, Any] = io.read_json(marker)
        log.info("run %s was already published to %s", published["run_id"], run.publish_dir)
        return published
    manifest = io.read_json(staged_manifest)
    # one register writer from the check (month order, unchanged since assemble read it)
    # through the publication to the register update
    with store.exclusive(run.register_dir, f"publish {run.as_of.isoformat()}"):
        if run.register_dir is not None:
            store.mark_pending(
                run.register_dir, manifest["run_id"], run.as_of, run.publish_dir, run.work_dir
            )
        pipeline.publish(run.work_dir, run.publish_dir, PUBLISHED)
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
        "cases_path": str(run.publish_dir / pipeline.CASES_FILE),
        "manifest_path": str(run.publish_dir / pipeline.MANIFEST_FILE),
        "report_path": str(run.publish_dir / pipeline.VALIDATION_DIR / "index.html"),
    }
    for child in run.work_dir.iterdir():
        if child.name != RUN_FILE:
            _remove(child)
    io.write_json(published, marker)
    log.info(
        "run %s published %d cases to %s", published["run_id"], published["cases"], run.publish_dir
    )
    return published


# --- helpers --------------------------------------------------------------------------


def _write_case_list(run: RunSpec, run_id: str) -> None:
    """The final queue as the caseworkers open it: a static HTML page and a workbook, in Danish."""
    from kontrol import caselist

    queue = pipeline.read_staged_queue(run.work_dir)
    run_info = {"run_id": run_id, "as_of": run.as_of.strftime("%d.%m.%Y")}
    capacity = run.config.queue.capacity
    totals = caselist.case_list_totals(queue, capacity)
    page = caselist.render_html(
        queue,
        run_info,
        capacity=capacity,
        max_accounts=run.config.caselist.max_accounts,
        max_compact_rows=run.config.caselist.max_compact_rows,
        totals=totals,
    )
    io.write_text(page, run.work_dir / CASES_HTML_FILE)
    io.write_stream(
        run.work_dir / CASES_XLSX_FILE,
        lambda out: caselist.write_xlsx(
            queue,
            out,
            capacity=capacity,
            totals=totals,
            detail_cases=run.config.caselist.xlsx_detail_cases,
        ),
    )


def _register_cases(run: RunSpec) -> Any:
    if run.register_dir is None:
        return lifecycle.empty_register()
    # in order, without a re-run month's own first application; the snapshot read is
    # recorded in the work directory and checked again on publish
    return store.cases_for_month(run.register_dir, run.as_of, run.work_dir)


def _apply_lifecycle(run: RunSpec, run_id: str, case_key: bytes) -> dict[str, int]:
    """Statuses, kept case ids and suppression from the register; the control sample."""
    work = run.work_dir
    queue = pipeline.read_staged_queue(work)
    kept, suppressed = lifecycle.classify(
        queue, _register_cases(run), run.as_of, run.config.lifecycle.suppress_months
    )
    io.write_parquet(kept, work / pipeline.CASES_FILE)
    io.write_parquet(suppressed, work / SUPPRESSED_FILE)
    # of the queue as published, after suppression
    pipeline.write_fairness_report(work, run.as_of, run.config)
    recipients = io.read_parquet(work / pipeline.RECIPIENTS_FILE)
    sample = draw_control_sample(
        recipients,
        io.read_parquet(work / pipeline.RULE_CASES_FILE),
        run.config.lifecycle.control_sample_size,
        run_id,
        run.as_of,
        case_key,
    )
    io.write_parquet(sample, work / CONTROL_SAMPLE_FILE)
    return {"suppressed": suppressed.height, "control_sample": sample.height}


def _lifecycle_summary(run: RunSpec, run_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Counts by status, and rule performance over the register as this run leaves it."""
    from kontrol.rules import CATALOGUE

    work = run.work_dir
    queue = pipeline.read_staged_queue(work)
    sample = io.read_parquet(work / CONTROL_SAMPLE_FILE)
    suppressed = io.read_parquet(work / SUPPRESSED_FILE)
    statuses = dict.fromkeys(("new", "continuing"), 0)
    for status, count in queue.group_by("status").len().iter_rows():
        statuses[status] = count
    register = lifecycle.apply_run(_register_cases(run), queue, sample, run_id, run.as_of)
    summary = {
        "statuses": statuses,
        "suppressed": suppressed.height,
        "control_sample": sample.height,
        "suppress_months": run.config.lifecycle.suppress_months,
    }
    return summary, rule_performance(register, [rule.rule_id for rule in CATALOGUE])


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
        "rule_parameters": {
            rule_id: params.model_dump(mode="json")
            for rule_id, params in resolve_all_parameters(config, CATALOGUE).items()
        },
        "configuration": config.model_dump(mode="json"),
        "code_version": __version__,
        "cases_per_rule": cases_per_rule,
        "cases_total": sum(cases_per_rule.values()),
        # CONTRACT.md section 1b: each rule not evaluated, with the file it lacked
        "rules_not_evaluated": pipeline.rules_not_evaluated(loads),
    }


def run_warnings(work_dir: str | Path) -> list[str]:
    """``suite: expectation`` for every failed warning-level expectation recorded so far."""
    work = Path(work_dir)
    names = sorted(p.stem for p in (work / OUTCOMES_DIR).glob("*.json"))
    return _warnings(_read_outcomes(work, names))


def _warnings(outcomes: Sequence[validation.ValidationOutcome]) -> list[str]:
    return [f"{o.suite}: {name}" for o in outcomes for name in o.warnings]


def _write_outcome(work_dir: Path, outcome: validation.ValidationOutcome) -> None:
    io.write_json(outcome.to_json(), work_dir / OUTCOMES_DIR / f"{outcome.suite}.json")


def _read_outcomes(work_dir: Path, suites: Sequence[str]) -> list[validation.ValidationOutcome]:
    """The outcomes of ``suites``, in that order (the report's and the manifest's order)."""
    outcomes = []
    for suite in suites:
        path = work_dir / OUTCOMES_DIR / f"{suite}.json"
        if not path.is_file():
            raise KontrolError(f"{work_dir}: no validation outcome for {suite}")
        outcomes.append(validation.ValidationOutcome.from_json(io.read_json(path)))
    return outcomes


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
        failed = work / pipeline.FAILED_RUN_DIR
        io.remove_tree(failed)
        info = dict(run_info or run.run_info)
        validation.write_report(outcomes, failed / pipeline.VALIDATION_DIR, info)
        if (work / pipeline.REJECTS_DIR).is_dir():
            # moved, not copied: a gate failure is final for this work directory
            # (the next attempt starts over with prepare)
            io.publish(work / pipeline.REJECTS_DIR, failed / pipeline.REJECTS_DIR)
        io.write_text(f"{error}\n", failed / "error.txt")
        io.publish(failed, out_dir / pipeline.FAILED_RUN_DIR)
        log.error("run failed; diagnostics in %s", out_dir / pipeline.FAILED_RUN_DIR)
        raise


def _empty_private_dir(path: Path) -> None:
    """Create ``path`` (mode 0700: it will hold cpr values) or empty it."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    for child in path.iterdir():
        _remove(child)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        io.remove_tree(path)
    else:
        path.unlink(missing_ok=True)
