"""Great Expectations validation of a delivery and of the case queue.

What is validated, and why there
--------------------------------
The loader already sets aside rows that fail a row check (up to 1 % of an
extract), so GX validating the *raw* delivery would report expected failures
on every run. GX therefore validates:

* each **clean staged extract** (``<staging>/clean/<extract>.parquet``)
  against a suite compiled from :mod:`kontrol.schema` (``expectations/<extract>.json``):
  columns, types, keys, and every row constraint. After the loader, every
  row must pass: all these expectations are **critical**; a failure means
  the loader and its declarations disagree, and no case may come of it.
* the **delivery** (``expectations/delivery.json``): one row of whole-file
  measurements: reject share per extract (**critical**, CONTRACT.md section 1),
  staged rows = delivered - rejected (critical), whole-file key and
  constraint counts on the clean files (critical), and the facts with no
  loader twin, which are **warnings**: volume against a configured range and
  against the previous run, rows whose ``cpr`` is not in ``persons``
  (referential integrity), rows dated after ``as_of``.
* the **case queue** before publication (``expectations/case_queue.json``),
  every expectation critical (the contract's columns, unique ``case_id``,
  amount > 0, priority exactly 1..N and sorted, score in [0, 1] or null,
  known rule ids, non-empty JSON evidence and legal basis).

Why warnings for volumes, referential integrity and future dates: each is a
plausibility signal, not a contradiction of the contract. A municipality's
payment ledger legitimately lists recipients who moved away and are no
longer in ``persons``; a volume jump can be a real event (a new benefit); a
future-dated event is most often an extract cut a day late. They are shown
prominently to the operator and the auditor, and recorded in the manifest,
but stopping the monthly run for them would stop control work for nothing.

Scale (a national delivery: 6M persons, ~60M payment lines, ~60M income rows)
----------------------------------------------------------------------------
GX has no Polars engine and its pandas engine on 60M rows is far too slow
and big (every row becomes Python objects). The work is therefore split:

1. **Polars over the whole file** (:func:`checks.delivery_facts`): one
   streaming pass per clean extract computes, as aggregates, the number of
   rows failing each constraint (``(~c.valid()).sum()``), key nulls and
   duplicates (distinct 64-bit hashes: a zero is proof, anything else is
   recounted exactly), rows after ``as_of``, rows whose ``cpr`` hash is not
   among the ``persons.cpr`` hashes. GX validates the resulting *one-row* frame: exact
   whole-file results, in GX, at the cost of a Polars scan.
2. **GX value by value on a bounded frame** (:func:`checks.gx_sample`): the
   clean extract itself when it has at most ``sample_rows`` rows (default
   200,000; every test and the demo delivery), otherwise every k-th row
   (deterministic, spread over the whole file). GX's own regex, set,
   uniqueness and type expectations thus run on real rows, in seconds.

The case queue is validated whole (it is thousands, at most a few hundred
thousand, rows): every queue expectation is critical and must see every case.

Measured on this 2-core machine (shared with other jobs, load average 3-5,
so these are upper bounds) on a random delivery of 5.9M persons, 8.9M
residence events, 3.0M relations, 60M payment lines and 60M income rows:
the load stage took 90 s; ``validate_delivery`` 83 s, of which the
whole-file Polars facts 57-75 s (payments about 28 s, income 20 s; the bare
scan of each is 5 s) and GX on the five samples 9 s; peak RSS of
validation alone 5.2 GB. Importing GX adds 7-15 s once per process. A queue
of 300,000 cases validates in about 12 s. On the bundled demo delivery
(60,000 rows) every suite runs whole in under a second each.

Gating is the caller's: each :class:`ValidationOutcome` says ``success``
(no critical expectation failed); :func:`raise_for_critical` raises
:class:`ValidationFailed` (a :class:`~kontrol.errors.KontrolError`) listing the
failed critical expectations by name.

``great_expectations`` is imported lazily (in :mod:`kontrol.validation.engine`)
because the import alone takes seconds; importing this package is cheap.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from kontrol import catalogue, io
from kontrol.config import KontrolConfig, RowRange, ValidationSettings
from kontrol.errors import KontrolError
from kontrol.schema import (
    ALL_EXTRACT_NAMES,
    EXTRACT_NAMES,
    OPTIONAL_EXTRACT_NAMES,
    ExtractSpec,
    all_extract_specs,
)
from kontrol.validation import checks, report, suites
from kontrol.validation.engine import ExpectationOutcome, GxSession, SuiteRun
from kontrol.validation.suites import DELIVERY_SUITE, QUEUE_SUITE
from kontrol.window import Window, window_for

log = logging.getLogger(__name__)

__all__ = [
    "ExpectationOutcome",
    "RowRange",
    "SuiteDrift",
    "ValidationFailed",
    "ValidationOutcome",
    "ValidationSettings",
    "manifest_section",
    "previous_rows_from_manifest",
    "raise_for_critical",
    "validate_delivery",
    "validate_delivery_facts",
    "validate_extract",
    "validate_queue",
    "write_report",
]


class ExtractLoadLike(Protocol):
    """What validation reads from ``kontrol.pipeline.ExtractLoad``."""

    @property
    def rows_delivered(self) -> int: ...
    @property
    def rows_rejected(self) -> int: ...
    @property
    def rows_loaded(self) -> int: ...


class ValidationFailed(KontrolError):
    """At least one critical expectation failed: no case queue may be published."""


class SuiteDrift(KontrolError):
    """A committed suite in ``expectations/`` differs from what the generator produces."""


@dataclass(frozen=True)
class ValidationOutcome:
    """One suite's result for one run: what was checked, what passed, what failed."""

    suite: str
    success: bool
    critical_failures: tuple[str, ...]
    warnings: tuple[str, ...]
    statistics: dict[str, int]
    rows_total: int
    rows_validated: int
    gx_version: str
    seconds: float
    expectations: tuple[ExpectationOutcome, ...] = ()
    gx_result: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        """Everything, as JSON values: lets an outcome travel between Airflow tasks as a file.

        Names, counts and the sanitised GX result only (see :mod:`.engine`), never a value.
        """
        return {
            "suite": self.suite,
            "success": self.success,
            "critical_failures": list(self.critical_failures),
            "warnings": list(self.warnings),
            "statistics": dict(self.statistics),
            "rows_total": self.rows_total,
            "rows_validated": self.rows_validated,
            "gx_version": self.gx_version,
            "seconds": self.seconds,
            "expectations": [e.to_json() for e in self.expectations],
            "gx_result": self.gx_result,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ValidationOutcome:
        """The inverse of :meth:`to_json`."""
        return cls(
            suite=str(doc["suite"]),
            success=bool(doc["success"]),
            critical_failures=tuple(doc["critical_failures"]),
            warnings=tuple(doc["warnings"]),
            statistics={str(k): int(v) for k, v in doc["statistics"].items()},
            rows_total=int(doc["rows_total"]),
            rows_validated=int(doc["rows_validated"]),
            gx_version=str(doc["gx_version"]),
            seconds=float(doc["seconds"]),
            expectations=tuple(ExpectationOutcome(**e) for e in doc["expectations"]),
            gx_result=dict(doc["gx_result"]),
        )

    def to_manifest(self) -> dict[str, Any]:
        """JSON-able summary for the run manifest: names and counts, never values."""
        return {
            "success": self.success,
            "evaluated": self.statistics.get("evaluated_expectations", 0),
            "successful": self.statistics.get("successful_expectations", 0),
            "failed_critical": list(self.critical_failures),
            "failed_warning": list(self.warnings),
            "rows_total": self.rows_total,
            "rows_validated": self.rows_validated,
            "great_expectations_version": self.gx_version,
        }


def _outcome(
    suite: str, run: SuiteRun, rows_total: int, rows_validated: int, started: float
) -> ValidationOutcome:
    seconds = time.perf_counter() - started
    # the timing goes to the log, never into the report (byte-identical across runs)
    log.info("validated suite %s: %d rows in %.1f s", suite, rows_validated, seconds)
    critical = tuple(e.name for e in run.expectations if not e.success and e.severity == "critical")
    warned = tuple(e.name for e in run.expectations if not e.success and e.severity != "critical")
    return ValidationOutcome(
        suite=suite,
        success=not critical,
        critical_failures=critical,
        warnings=warned,
        statistics=run.statistics,
        rows_total=rows_total,
        rows_validated=rows_validated,
        gx_version=run.gx_version,
        seconds=seconds,
        expectations=run.expectations,
        gx_result=run.gx_result,
    )


def _strip_version(doc: Mapping[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in doc["meta"].items() if k != "great_expectations_version"}
    return {**doc, "meta": meta}


@functools.cache
def _generated_suites() -> dict[str, dict[str, Any]]:
    """The generator's suites without the GX version, built once per process.

    Why once: they are a function of kontrol's own code (the declarations in
    ``kontrol.schema``, the queue and the rule catalogue), and building them
    took about 0.1 CPU-s for each of a run's 11 validations. The committed
    files are still read and compared on every call. Callers get ``loaded``
    documents, never these.
    """
    return {name: _strip_version(doc) for name, doc in suites.build_suites().items()}


def committed_suites(suites_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """The suites of ``expectations/``, refused if they drifted from the declarations.

    The GX version is left out of this runtime comparison (the test suite
    pins it); everything else must equal the generator's output, so a suite
    edited by hand cannot silently validate something else than the loader.
    """
    loaded = suites.load_suites(suites_dir or suites.SUITES_DIR)
    generated = _generated_suites()
    stale = [n for n in suites.SUITE_NAMES if _strip_version(loaded[n]) != generated[n]]
    if stale:
        raise SuiteDrift(
            f"expectations/{', '.join(stale)}: committed suites differ from kontrol.schema; "
            "run python -m kontrol.validation.suites --write and review the diff"
        )
    return loaded


def _session() -> GxSession:
    return GxSession()


def _delivery_parameters(config: KontrolConfig, settings: ValidationSettings) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        suites.P_BENEFIT_CODES: list(config.benefit_codes),
        suites.P_MAX_REJECT_SHARE: float(config.loader.max_reject_share),
        suites.P_VOLUME_MIN_RATIO: settings.volume_min_ratio,
        suites.P_VOLUME_MAX_RATIO: settings.volume_max_ratio,
    }
    for name in ALL_EXTRACT_NAMES:
        expected = settings.expected_rows.get(name, RowRange())
        parameters[suites.p_min_rows(name)] = expected.min
        parameters[suites.p_max_rows(name)] = expected.max
    for name in EXTRACT_NAMES:  # the required ones: an optional register may be empty
        parameters[suites.p_allowed_empty(name)] = int(name in settings.allow_empty)
    parameters[suites.P_MIN_LINES_IN_WINDOW] = 0 if "payments" in settings.allow_empty else 1
    return parameters


def _staged(staging_dir: Path, extract: str) -> pl.LazyFrame:
    """A staged clean extract, by its catalogue entry (``clean``), through kontrol.io."""
    return io.scan_parquet(catalogue.path(staging_dir, "clean", extract=extract))


def _settings(config: KontrolConfig, settings: ValidationSettings | None) -> ValidationSettings:
    return settings if settings is not None else config.validation


def validate_delivery(
    staging_dir: Path,
    loads: Mapping[str, ExtractLoadLike],
    as_of: date,
    config: KontrolConfig,
    *,
    settings: ValidationSettings | None = None,
    previous_rows: Mapping[str, int] | None = None,
    suites_dir: Path | None = None,
) -> list[ValidationOutcome]:
    """Validate the staged clean extracts and the delivery facts: one outcome per suite.

    ``loads`` are the load stage's counts; ``previous_rows`` the previous
    run's delivered rows per extract (see :func:`previous_rows_from_manifest`),
    or ``None`` when unknown (the comparison is then reported as not evaluated).
    Reads ``<staging_dir>/clean/``; writes nothing. The same as
    :func:`validate_extract` for every extract, then :func:`validate_delivery_facts`
    (which the Airflow DAG calls one task at a time).
    """
    session = _session()
    outcomes = [
        validate_extract(
            staging_dir, name, config, settings=settings, suites_dir=suites_dir, session=session
        )
        for name in loads
    ]
    outcomes.append(
        validate_delivery_facts(
            staging_dir,
            loads,
            as_of,
            config,
            settings=settings,
            previous_rows=previous_rows,
            suites_dir=suites_dir,
            session=session,
        )
    )
    return outcomes


def validate_extract(
    staging_dir: Path,
    name: str,
    config: KontrolConfig,
    *,
    settings: ValidationSettings | None = None,
    suites_dir: Path | None = None,
    session: GxSession | None = None,
) -> ValidationOutcome:
    """Validate one staged clean extract (``<staging_dir>/clean/<name>.parquet``) by its suite."""
    settings = _settings(config, settings)
    doc = committed_suites(suites_dir)[name]
    spec = all_extract_specs(config.benefit_codes)[name]
    started = time.perf_counter()
    sample = checks.gx_sample(_staged(staging_dir, name), spec, settings.sample_rows)
    run = (session or _session()).run(
        doc, sample.frame.to_pandas(), _delivery_parameters(config, settings)
    )
    return _outcome(name, run, sample.rows_total, sample.frame.height, started)


def validate_delivery_facts(
    staging_dir: Path,
    loads: Mapping[str, ExtractLoadLike],
    as_of: date,
    config: KontrolConfig,
    *,
    settings: ValidationSettings | None = None,
    previous_rows: Mapping[str, int] | None = None,
    suites_dir: Path | None = None,
    session: GxSession | None = None,
) -> ValidationOutcome:
    """Validate the whole-delivery facts (reject shares, volumes, references) by their suite."""
    settings = _settings(config, settings)
    doc = _for_delivered(committed_suites(suites_dir)[suites.DELIVERY_SUITE], loads)
    specs = {n: s for n, s in all_extract_specs(config.benefit_codes).items() if n in loads}
    started = time.perf_counter()
    counts = {
        name: checks.ExtractCounts(load.rows_delivered, load.rows_rejected, load.rows_loaded)
        for name, load in loads.items()
    }
    clean = {name: _staged(staging_dir, name) for name in specs}
    window = window_for(as_of, config.window_months)
    facts = checks.delivery_facts(clean, specs, counts, as_of, previous_rows, window=window)
    run = (session or _session()).run(
        doc, facts.to_pandas(), _delivery_parameters(config, settings)
    )
    details = _fact_details(facts, specs, window)
    run = replace(
        run,
        expectations=tuple(
            e if e.success or e.name not in details else replace(e, detail=details[e.name])
            for e in run.expectations
        ),
    )
    delivered = sum(c.rows_delivered for c in counts.values())
    return _outcome(suites.DELIVERY_SUITE, run, delivered, delivered, started)


def _for_delivered(doc: Mapping[str, Any], loads: Mapping[str, Any]) -> dict[str, Any]:
    """The delivery suite without the expectations of optional extracts not delivered.

    CONTRACT.md section 1b: a missing optional file is not a defect, so its
    facts are not measured and their expectations are not evaluated (the
    report and the manifest name the rules that did not run instead).
    """
    absent = [name for name in OPTIONAL_EXTRACT_NAMES if name not in loads]
    prefixes = tuple(checks.fact_column(name, "") for name in absent)
    if not prefixes:
        return dict(doc)
    kept = [
        e
        for e in doc["expectations"]
        if not str(e["kwargs"].get("column", "")).startswith(prefixes)
    ]
    return {**doc, "expectations": kept}


def _fact_details(
    facts: pl.DataFrame, specs: Mapping[str, ExtractSpec], window: Window
) -> dict[str, str]:
    """The plausibility facts in words: file, column, window and counts, never a row's value."""

    def fact(extract: str, metric: str) -> Any:
        column = checks.fact_column(extract, metric)
        return facts[column][0] if column in facts.columns else None

    details: dict[str, str] = {}
    for name, spec in specs.items():
        details[checks.fact_column(name, checks.FACT_EMPTY)] = (
            f"{spec.file_name}: file: no rows; a required extract may not be empty "
            "(validation.allow_empty lists the extracts that may)"
        )
        if name in checks.SUMMED_MONEY:
            over = fact(name, checks.FACT_PERSONS_OVER_CASE_MONEY)
            details[checks.fact_column(name, checks.FACT_PERSONS_OVER_CASE_MONEY)] = (
                f"{spec.file_name}: column {checks.SUMMED_MONEY[name]}: {over} person(s) whose "
                f"lines sum beyond decimal(14,2) ({checks.CASE_MONEY_MAX:,} DKK)"
            )
    if "payments" in specs:
        file = specs["payments"].file_name
        start = fact("payments", checks.FACT_LATEST_PERIOD_START)
        end = fact("payments", checks.FACT_LATEST_PERIOD_END)
        latest = (
            f"the latest payment period found ends {end} (latest start {start})"
            if end is not None
            else "the file has no payment line at all"
        )
        details[checks.fact_column("payments", checks.FACT_LINES_IN_WINDOW)] = (
            f"{file}: no payment line in the window {window.start} to {window.as_of}; {latest}"
        )
        details[checks.fact_column("payments", checks.FACT_STOPS_BEFORE_AS_OF_MONTH)] = (
            f"{file}: payments stop before the as-of month {window.as_of:%Y-%m}; {latest}"
        )
    return details


def validate_queue(queue: pl.DataFrame, *, suites_dir: Path | None = None) -> ValidationOutcome:
    """Validate the whole case queue (``QUEUE_SCHEMA`` frame) before it is published."""
    started = time.perf_counter()
    doc = committed_suites(suites_dir)[suites.QUEUE_SUITE]
    # GX refuses max_value < min_value; an empty queue has no priority to check anyway.
    parameters = {suites.P_CASE_COUNT: max(queue.height, 1)}
    run = _session().run(doc, queue.to_pandas(), parameters)
    return _outcome(suites.QUEUE_SUITE, run, queue.height, queue.height, started)


def failure_text(outcome: ValidationOutcome, expectation: ExpectationOutcome) -> str:
    """One failed expectation in words, naming the file (and column) it concerns.

    ``payments.parquet: no payment line in the window ... [delivery: payments__lines_in_window]``;
    without a detail, the observed counts: ``persons.parquet (staged): column cpr:
    cpr: malformed cpr (3 of 10 rows unexpected) [persons: cpr: malformed cpr]``.
    """
    tag = f"[{outcome.suite}: {expectation.name}]"
    if expectation.detail:
        return f"{expectation.detail} {tag}"
    if outcome.suite == DELIVERY_SUITE:
        extract, _, metric = expectation.name.partition("__")
        where = f"{extract}.parquet: {metric}"
    elif outcome.suite == QUEUE_SUITE:
        where = f"case queue (staged cases.parquet): {expectation.name}"
    else:
        column = f" column {expectation.column}:" if expectation.column else ""
        where = f"{outcome.suite}.parquet (staged):{column} {expectation.name}"
    observed = expectation.error or expectation.observed
    return f"{where} ({observed}) {tag}" if observed else f"{where} {tag}"


def raise_for_critical(outcomes: Sequence[ValidationOutcome]) -> None:
    """Raise :class:`ValidationFailed` naming every failed critical expectation, if any.

    One line: each failure names its file and what failed (:func:`failure_text`).
    """
    failed = [
        failure_text(o, e)
        for o in outcomes
        for e in o.expectations
        if not e.success and e.severity == "critical"
    ]
    if failed:
        shown = "; ".join(failed[:10]) + (
            f"; and {len(failed) - 10} more" if len(failed) > 10 else ""
        )
        raise ValidationFailed(
            f"{len(failed)} critical expectation(s) failed, no cases published: {shown}"
        )


def manifest_section(
    outcomes: Sequence[ValidationOutcome], suites_dir: Path | None = None
) -> dict[str, Any]:
    """The manifest's ``validation`` value: overall verdict plus one summary per suite."""
    return {
        "success": all(o.success for o in outcomes),
        "great_expectations_version": outcomes[0].gx_version if outcomes else None,
        "suites_pinned_to": suites.load_suites(suites_dir or suites.SUITES_DIR)[suites.QUEUE_SUITE][
            "meta"
        ]["great_expectations_version"],
        "report": "validation/index.html",
        "suites": {o.suite: o.to_manifest() for o in outcomes},
    }


def previous_rows_from_manifest(path: Path) -> dict[str, int] | None:
    """Delivered rows per extract from an earlier run's ``manifest.json``, if readable."""
    try:
        inputs = io.read_json(path)["inputs"]
        return {
            file.removesuffix(".parquet"): int(entry["rows"])
            for file, entry in inputs.items()
            if file.removesuffix(".parquet") in ALL_EXTRACT_NAMES
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_report(
    outcomes: Sequence[ValidationOutcome],
    report_dir: Path,
    run_info: Mapping[str, str] | None = None,
    *,
    case_volume: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``report_dir/index.html`` (+ one sanitised GX result JSON per suite); return it.

    ``case_volume`` (the ``case_volume`` dataset, :mod:`kontrol.case_volume`) adds the
    cases per rule against the previous run and the recipients, with its warnings.
    """
    return report.write(outcomes, report_dir, run_info or {}, case_volume=case_volume)
