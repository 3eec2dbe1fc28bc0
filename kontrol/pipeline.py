"""The stages of a run, each with its ``collect()`` at its own edge.

A stage reads files through :mod:`kontrol.io`, applies pure LazyFrame
transforms, and writes files back; stages hand each other *directories*,
never frames, so the same functions serve the CLI (one process) and the
Airflow DAG (one task per stage, paths in XCom).

All stages share one *work directory* (the run's private staging area):

==========================  =====================================================
``clean/<extract>.parquet``  stage 1: rows that passed every check, declared types
``rejects/<extract>.parquet`` stage 1: rows set aside, as delivered + reject_reason
``loads/<extract>.json``     stage 1: counts, sha256 and reasons (no values)
``net_lines.parquet``        stage 2: positive net payment lines in the window
``timeline.parquet``         stage 2: person-state intervals up to as_of
``rule_cases.parquet``       stage 2: one row per (rule, cpr), before ids/priority
``scores.parquet``           stage 3: anomaly score and explanation per case's person
``recipients.parquet``       stage 3: the cpr of every benefit recipient in the window
``cases.parquet``            stage 4: the case queue as it will be published
``fairness/``                after the register: the fairness report of that queue
==========================  =====================================================

Stage 1, :func:`load_extract` / :func:`load_delivery`: structural checks,
key checks, row checks. Stage 2, :func:`apply_rules`. Stage 3,
:func:`score`. Stage 4, :func:`assemble` (case ids, scores, priority, run
id). Once the case register has been applied, :func:`write_fairness_report`
describes the final queue. Publication is :func:`publish`, which moves the
outputs into place.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path

import polars as pl

from kontrol import __version__, io, loader
from kontrol.config import KontrolConfig
from kontrol.errors import KontrolError
from kontrol.extracts import Extracts
from kontrol.queue import assemble_queue, run_id_for
from kontrol.rules import CATALOGUE, CATALOGUE_VERSION, RuleInputs, RuleSpec, evaluate_inputs
from kontrol.schema import ALL_EXTRACT_NAMES, EXTRACT_NAMES, OPTIONAL_SPECS, all_extract_specs

log = logging.getLogger(__name__)

CLEAN_DIR = "clean"
REJECTS_DIR = "rejects"
LOADS_DIR = "loads"
NET_LINES_FILE = "net_lines.parquet"
TIMELINE_FILE = "timeline.parquet"
RULE_CASES_FILE = "rule_cases.parquet"
SCORES_FILE = "scores.parquet"
RECIPIENTS_FILE = "recipients.parquet"
FAIRNESS_DIR = "fairness"
CASES_FILE = "cases.parquet"
MANIFEST_FILE = "manifest.json"


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

    keys = loader.key_defects(delivered, spec).collect(engine="streaming")
    duplicates = 0
    if int(keys["hash_shortfall"][0]) > 0:
        duplicates = loader.duplicated_rows(delivered, spec).collect(engine="streaming").item()
    loader.raise_for_key_defects(spec, int(keys["null_keys"][0]), duplicates)

    rejects = loader.rejected_rows(delivered, spec).collect(engine="streaming")
    io.write_parquet(rejects, staging_dir / REJECTS_DIR / spec.file_name)
    summary = loader.summarise_rejects(name, rows_delivered, rejects)
    if enforce_reject_rate:
        loader.raise_for_reject_rate(spec, summary, config.loader.max_reject_share)

    io.sink_parquet(loader.clean_rows(delivered, spec), staging_dir / CLEAN_DIR / spec.file_name)
    result = ExtractLoad(
        extract=name,
        file=spec.file_name,
        sha256=io.sha256_of(path),
        rows_delivered=rows_delivered,
        rows_rejected=summary.rows_rejected,
        rows_loaded=rows_delivered - summary.rows_rejected,
        reject_reasons=summary.reasons,
    )
    io.write_json(result.to_json(), staging_dir / LOADS_DIR / f"{name}.json")
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
    loads = staging_dir / LOADS_DIR
    return {
        name: ExtractLoad(**io.read_json(loads / f"{name}.json"))
        for name in ALL_EXTRACT_NAMES
        if name in EXTRACT_NAMES or (loads / f"{name}.json").is_file()
    }


def open_staged(staging_dir: Path) -> Extracts:
    """The staged clean extracts as LazyFrames, ready for the rules (optional ones if staged)."""
    clean = staging_dir / CLEAN_DIR
    frames = {
        name: io.scan_parquet(clean / f"{name}.parquet")
        for name in ALL_EXTRACT_NAMES
        if name in EXTRACT_NAMES or (clean / f"{name}.parquet").is_file()
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
    io.sink_parquet(inputs.all_lines, staging_dir / NET_LINES_FILE)
    io.sink_parquet(inputs.timeline, staging_dir / TIMELINE_FILE)
    inputs = replace(
        inputs,
        all_lines=io.scan_parquet(staging_dir / NET_LINES_FILE),
        timeline=io.scan_parquet(staging_dir / TIMELINE_FILE),
    )
    cases = evaluate_inputs(inputs).collect(engine="streaming")
    io.write_parquet(cases, staging_dir / RULE_CASES_FILE)
    log.info("rules found %d cases", cases.height)
    return cases.height


def run_id_of(staging_dir: Path, as_of: date, config: KontrolConfig) -> str:
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
    from kontrol import scoring  # scikit-learn: imported only when scoring runs

    features = scoring.person_features(
        open_staged(staging_dir), as_of, config.window_months
    ).collect(engine="streaming")
    case_persons = io.scan_parquet(staging_dir / RULE_CASES_FILE).select("cpr").collect()
    scored = scoring.score(features, config.scoring, case_persons["cpr"])
    io.write_parquet(scored, staging_dir / SCORES_FILE)
    io.write_parquet(features.select("cpr"), staging_dir / RECIPIENTS_FILE)
    log.info("scored %d case persons against %d recipients", scored.height, features.height)
    return scored.height


def assemble(staging_dir: Path, as_of: date, config: KontrolConfig, case_key: bytes) -> str:
    """Stage 4: case ids, scores, priority and run id. Returns the run id."""
    run_id = run_id_of(staging_dir, as_of, config)
    cases = io.scan_parquet(staging_dir / RULE_CASES_FILE).collect()
    scored = io.scan_parquet(staging_dir / SCORES_FILE).collect()
    queue = assemble_queue(cases, case_key, run_id, scored, config.scoring)
    io.write_parquet(queue, staging_dir / CASES_FILE)
    return run_id


def write_fairness_report(staging_dir: Path, as_of: date, config: KontrolConfig) -> None:
    """The fairness report of the staged queue as it will be published.

    The one place protected attributes (sex, citizenship, age) are read, after
    the queue is final (case register applied), by :mod:`kontrol.fairness`: it
    shows auditors how each group is selected, overall and per evaluated rule
    of the catalogue, and can influence nothing.
    """
    from kontrol import fairness

    queue = read_staged_queue(staging_dir)
    recipients = io.scan_parquet(staging_dir / RECIPIENTS_FILE).collect()
    evaluated = cases_per_rule(staging_dir)
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
    io.write_json(report, staging_dir / FAIRNESS_DIR / "fairness.json")
    io.write_text(fairness.render_fairness_html(report), staging_dir / FAIRNESS_DIR / "index.html")


def fairness_summary(staging_dir: Path) -> dict[str, object]:
    """The fairness report as written by :func:`write_fairness_report`, for the manifest."""
    report: dict[str, object] = io.read_json(staging_dir / FAIRNESS_DIR / "fairness.json")
    return report


def read_staged_queue(staging_dir: Path) -> pl.DataFrame:
    return io.scan_parquet(staging_dir / CASES_FILE).collect()


def cases_per_rule(staging_dir: Path) -> dict[str, int]:
    """Cases per rule id of the staged queue, every evaluated catalogue rule listed (0 when none).

    A rule not evaluated (an optional extract it reads was not delivered) is
    not listed: 0 would claim it ran and found nothing. The manifest lists it
    under ``rules_not_evaluated``.
    """
    skipped = rules_not_evaluated(read_loads(staging_dir))
    counts = dict.fromkeys((r.rule_id for r in CATALOGUE if r.rule_id not in skipped), 0)
    queue = io.scan_parquet(staging_dir / CASES_FILE).group_by("rule_id").len().collect()
    for rule_id, count in queue.iter_rows():
        counts[rule_id] = count
    return counts


VALIDATION_DIR = "validation"
#: Where a failed run leaves its diagnostics, beside the last good publication.
FAILED_RUN_DIR = "failed-run"


def publish(staging_dir: Path, out_dir: Path, names: tuple[str, ...]) -> None:
    """Move the staged outputs ``names`` into ``out_dir``, in order; each move is an atomic rename.

    The order is the caller's (:data:`kontrol.tasks.PUBLISHED`): the case queue
    before the manifest, so a manifest never describes a queue that is not there.
    """
    for name in names:
        if (staging_dir / name).exists():
            io.publish(staging_dir / name, out_dir / name)
