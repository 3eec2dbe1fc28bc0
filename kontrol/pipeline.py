"""The stages of a run, each with its ``collect()`` at its own edge.

A stage reads files through :mod:`kontrol.io`, applies pure LazyFrame
transforms, and writes files back; stages hand each other *directories*,
never frames, so the same functions serve the CLI (one process) and the
Airflow DAG (one task per stage, paths in XCom).

All stages share one *work directory* (the run's private staging area);
the name and place of every file in it is declared in :mod:`kontrol.catalogue`
and the order of the stages in :mod:`kontrol.steps`.

Stage 1, :func:`load_extract` / :func:`load_delivery`: structural checks,
key checks, row checks. Stage 2, :func:`apply_rules`. Stage 3,
:func:`score`. Stage 4, :func:`assemble` (case ids, scores, priority). Once
the case register has been applied, :func:`write_fairness_report` describes
the final queue.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path

import polars as pl

from kontrol import __version__, catalogue, io, loader, scoring, window
from kontrol.config import KontrolConfig
from kontrol.errors import KontrolError
from kontrol.extracts import Extracts
from kontrol.queue import assemble_queue, run_id_for
from kontrol.rules import CATALOGUE, CATALOGUE_VERSION, RuleInputs, RuleSpec
from kontrol.rules.engine import collect_cases
from kontrol.schema import ALL_EXTRACT_NAMES, EXTRACT_NAMES, OPTIONAL_SPECS, all_extract_specs

log = logging.getLogger(__name__)

#: Payment rows per piece of the net lines (:func:`kontrol.window.net_lines_in_parts`):
#: 6M persons deliver about 44M rows: 6 pieces, 1.8 GB (one piece: 5.9 GB, 3.5 CPU-s less).
PAYMENT_ROWS_PER_PART = 8_000_000


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
    extracts_dir: Path,
    name: str,
    staging_dir: Path,
    config: KontrolConfig,
    *,
    enforce_reject_rate: bool = True,
) -> ExtractLoad:
    """Check and stage one extract. Raises :class:`~kontrol.errors.StructuralDefect`.

    The rejects file is written *before* the reject-rate check, so that when
    the run fails for too many rejects the data engineer can see them all.
    With ``enforce_reject_rate=False`` the check is left to the caller
    (:func:`raise_for_reject_rates`), so a run can first validate and report
    the whole delivery and then fail.
    """
    spec = all_extract_specs(config.benefit_codes)[name]
    path = extracts_dir / spec.file_name
    delivered = io.scan_extract(extracts_dir, spec)
    rows_delivered = io.parquet_row_count(path)

    # The key check first, on the key columns alone: a broken key fails before anything is
    # staged, and its hash set is not held while the rows stream (6M persons: 7.6 GB
    # peak with the three in one query, against 3.9 GB).
    keys = loader.key_defects(delivered, spec).collect(engine="streaming")
    duplicates = 0
    if int(keys["hash_shortfall"][0]) > 0:
        duplicates = loader.duplicated_rows(delivered, spec).collect(engine="streaming").item()
    loader.raise_for_key_defects(spec, int(keys["null_keys"][0]), duplicates)

    # Then one pass for the row checks: the rejects and the clean rows come from one
    # streaming query (Polars shares the scan and the checks between them).
    (rejects,) = io.sink_parquet_with(
        loader.clean_rows(delivered, spec),
        catalogue.path(staging_dir, "clean", extract=name),
        [loader.rejected_rows(delivered, spec)],
    )
    io.write_parquet(rejects, catalogue.path(staging_dir, "rejects", extract=name))
    summary = loader.summarise_rejects(name, rows_delivered, rejects)
    if enforce_reject_rate:
        loader.raise_for_reject_rate(spec, summary, config.loader.max_reject_share)

    result = ExtractLoad(
        extract=name,
        file=spec.file_name,
        sha256=io.sha256_of(path),
        rows_delivered=rows_delivered,
        rows_rejected=summary.rows_rejected,
        rows_loaded=rows_delivered - summary.rows_rejected,
        reject_reasons=summary.reasons,
    )
    io.write_json(result.to_json(), catalogue.path(staging_dir, "loads", extract=name))
    log.info(
        "loaded %s: %d rows delivered, %d rejected",
        name,
        result.rows_delivered,
        result.rows_rejected,
    )
    return result


def delivered_extracts(extracts_dir: Path) -> tuple[str, ...]:
    """The extracts this delivery holds: the five required ones, then each optional one present.

    CONTRACT.md section 1b: an optional register is delivered when its file
    is in the directory; a missing optional file is not a defect (its rules
    are not evaluated). A missing *required* file stays in the list, so the
    structural check names it.
    """
    optional = (
        name for name, spec in OPTIONAL_SPECS.items() if (extracts_dir / spec.file_name).exists()
    )
    return (*EXTRACT_NAMES, *optional)


def check_structure(extracts_dir: Path, config: KontrolConfig) -> None:
    """Every delivered file's structure, before any data is read: a missing file fails fast."""
    specs = all_extract_specs(config.benefit_codes)
    for name in delivered_extracts(extracts_dir):
        spec = specs[name]
        io.check_structure(spec, io.delivered_schema(extracts_dir / spec.file_name))


def load_delivery(
    extracts_dir: Path, staging_dir: Path, config: KontrolConfig
) -> dict[str, ExtractLoad]:
    """Load every delivered extract; the first structural defect ends the load."""
    if not extracts_dir.is_dir():
        raise KontrolError(f"{extracts_dir}: the extracts directory does not exist")
    check_structure(extracts_dir, config)
    loads = {}
    for name in delivered_extracts(extracts_dir):
        with io.reading_delivery(extracts_dir / f"{name}.parquet"):
            loads[name] = load_extract(extracts_dir, name, staging_dir, config)
    return loads


def raise_for_reject_rates(loads: dict[str, ExtractLoad], config: KontrolConfig) -> None:
    """CONTRACT.md 1 and 1b: fail when over 1 % of a delivered extract's rows were rejected."""
    specs = all_extract_specs(config.benefit_codes)
    for name, load in loads.items():
        summary = loader.RejectSummary(
            name, load.rows_delivered, load.rows_rejected, load.reject_reasons
        )
        loader.raise_for_reject_rate(specs[name], summary, config.loader.max_reject_share)


def read_loads(staging_dir: Path) -> dict[str, ExtractLoad]:
    """The stage-1 results of every delivered extract, as written by :func:`load_extract`.

    The five required extracts always (a missing one is an error); an
    optional one when it was delivered and loaded.
    """
    return {
        name: ExtractLoad(**io.read_json(catalogue.path(staging_dir, "loads", extract=name)))
        for name in ALL_EXTRACT_NAMES
        if name in EXTRACT_NAMES or catalogue.path(staging_dir, "loads", extract=name).is_file()
    }


def open_staged(staging_dir: Path) -> Extracts:
    """The staged clean extracts as LazyFrames, ready for the rules (optional ones if staged)."""
    frames = {
        name: io.scan_parquet(catalogue.path(staging_dir, "clean", extract=name))
        for name in ALL_EXTRACT_NAMES
        if name in EXTRACT_NAMES or catalogue.path(staging_dir, "clean", extract=name).is_file()
    }
    return Extracts(**frames)


def rules_not_evaluated(
    delivered: Iterable[str], catalogue: Sequence[RuleSpec] = CATALOGUE
) -> dict[str, list[str]]:
    """Rule id -> the files of the optional extracts it reads that the delivery lacks.

    CONTRACT.md section 1b: a rule runs only when every extract it reads is
    delivered; the manifest, the validation report and the log name the
    others with the file each lacked.
    """
    present = set(delivered)
    return {
        rule.rule_id: [f"{name}.parquet" for name in rule.reads if name not in present]
        for rule in catalogue
        if any(name not in present for name in rule.reads)
    }


def describe_not_evaluated(not_evaluated: dict[str, list[str]]) -> str:
    """One line for the log and the report, e.g. ``R08 (lacks utility_readings.parquet)``."""
    if not not_evaluated:
        return "none"
    return ", ".join(
        f"{rule_id} (lacks {' and '.join(files)})" for rule_id, files in not_evaluated.items()
    )


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


def apply_rules(staging_dir: Path, as_of: date, config: KontrolConfig) -> int:
    """Stage 2: every rule of the catalogue over the staged extracts; returns the case count.

    The inputs all rules share (net payment lines in the window, the
    person-state timeline) are written to the work directory once and
    scanned by each rule, instead of being recomputed seven times.
    """
    extracts = open_staged(staging_dir)
    not_evaluated = rules_not_evaluated(name for name, _ in extracts.items())
    if not_evaluated:
        log.warning("rules not evaluated: %s", describe_not_evaluated(not_evaluated))
    inputs = RuleInputs.build(extracts, as_of, config)
    net_lines = catalogue.path(staging_dir, "net_lines")
    timeline = catalogue.path(staging_dir, "timeline")
    # the net lines month by month when the payments are many: one group-by over all of
    # them is the rule stage's largest hash table (6M persons: 5.9 GB in one, 1.8 GB in 6)
    payment_rows = io.parquet_row_count(catalogue.path(staging_dir, "clean", extract="payments"))
    parts = -(-payment_rows // PAYMENT_ROWS_PER_PART)
    io.write_parquet_parts(
        window.net_lines_in_parts(extracts.payments, inputs.window, parts), net_lines
    )
    io.sink_parquet(inputs.timeline, timeline)
    inputs = replace(
        inputs, all_lines=io.scan_parquet(net_lines), timeline=io.scan_parquet(timeline)
    )
    cases = collect_cases(inputs)  # one rule at a time
    io.write_parquet(cases, catalogue.path(staging_dir, "rule_cases"))
    log.info("rules found %d cases", cases.height)
    return cases.height


def run_id_of(staging_dir: Path, as_of: date, config: KontrolConfig) -> str:
    """The run id of the staged delivery: a digest of its inputs and the settings in force.

    Called once per run, by the ``identify_run`` step (:mod:`kontrol.steps`);
    every later step reads the ``run_id`` dataset instead of recomputing it.
    """
    loads = read_loads(staging_dir)
    return run_id_for(
        as_of,
        {load.file: load.sha256 for load in loads.values()},
        config.canonical_json(),
        CATALOGUE_VERSION,
        __version__,
    )


def score(staging_dir: Path, as_of: date, config: KontrolConfig) -> int:
    """Stage 3: anomaly scores for the persons with cases; returns the number scored.

    The detector learns what is usual from every benefit recipient in the
    window (flagged or not), so the recipients' features are computed for
    all of them; only the case persons' scores are kept. Scores rank cases,
    never create or remove one.
    """
    # the rule stage's net lines and timeline: the payments are not netted and the
    # residence events not grouped by person a second time
    features = scoring.person_features(
        open_staged(staging_dir),
        as_of,
        config.window_months,
        lines=io.scan_parquet(catalogue.path(staging_dir, "net_lines")),
        timeline=io.scan_parquet(catalogue.path(staging_dir, "timeline")),
    ).collect(engine="streaming")
    rule_cases = catalogue.path(staging_dir, "rule_cases")
    case_persons = io.scan_parquet(rule_cases).select("cpr").collect()
    scored = scoring.score(features, config.scoring, case_persons["cpr"])
    io.write_parquet(scored, catalogue.path(staging_dir, "scores"))
    io.write_parquet(features.select("cpr"), catalogue.path(staging_dir, "recipients"))
    log.info("scored %d case persons against %d recipients", scored.height, features.height)
    return scored.height


def assemble(staging_dir: Path, run_id: str, config: KontrolConfig, case_key: bytes) -> int:
    """Stage 4: case ids, scores and priority: the ``ranked`` queue. Returns its length.

    The case register then gives each case its status (``kontrol.tasks.apply_register``),
    which writes ``cases.parquet`` once.
    """
    cases = io.read_parquet(catalogue.path(staging_dir, "rule_cases"))
    scored = io.read_parquet(catalogue.path(staging_dir, "scores"))
    queue = assemble_queue(cases, case_key, run_id, scored, config.scoring)
    io.write_parquet(queue, catalogue.path(staging_dir, "ranked"))
    return queue.height


def write_fairness_report(staging_dir: Path, as_of: date, config: KontrolConfig) -> None:
    """The fairness report of the staged queue as it will be published.

    The one place protected attributes (sex, citizenship, age) are read, after
    the queue is final (case register applied), by :mod:`kontrol.fairness`: it
    shows auditors how each group is selected, overall and per evaluated rule
    of the catalogue, and can influence nothing.
    """
    from kontrol import fairness

    queue = read_staged_queue(staging_dir)
    recipients = io.read_parquet(catalogue.path(staging_dir, "recipients"))
    evaluated = cases_per_rule(queue, read_loads(staging_dir))
    rules = {
        rule.rule_id: {
            "name": rule.name_en,
            "reads": list(rule.reads),
            "benefits": list(rule.benefits_in_scope.resolve(config)),
        }
        for rule in CATALOGUE
        if rule.rule_id in evaluated
    }
    report = fairness.fairness_report(
        queue, recipients, open_staged(staging_dir).persons, as_of=as_of, rules=rules
    )
    io.write_json(report, catalogue.path(staging_dir, "fairness_summary"))
    io.write_text(fairness.render_fairness_html(report), catalogue.path(staging_dir, "fairness"))


def read_staged_queue(staging_dir: Path) -> pl.DataFrame:
    """The final staged queue (``cases``), statuses included."""
    return io.read_parquet(catalogue.path(staging_dir, "cases"))


def cases_per_rule(queue: pl.DataFrame, loads: Iterable[str]) -> dict[str, int]:
    """Cases per rule id of a queue, every evaluated catalogue rule listed (0 when none).

    A rule not evaluated (an optional extract it reads was not delivered) is
    not listed: 0 would claim it ran and found nothing. The manifest lists it
    under ``rules_not_evaluated``.
    """
    skipped = rules_not_evaluated(loads)
    counts = dict.fromkeys((r.rule_id for r in CATALOGUE if r.rule_id not in skipped), 0)
    for rule_id, count in queue.group_by("rule_id").len().iter_rows():
        counts[rule_id] = count
    return counts
