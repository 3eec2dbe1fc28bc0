"""The catalogue of datasets: every file name of a run, declared once.

A *dataset* is a named file (or a family of files, one per extract or per
suite) that one step of :mod:`kontrol.steps` writes and later steps read.
Steps name datasets; only this module turns a name into a path, so a file
name is spelled in exactly one place, and the step table, the work
directory's layout, the published layout and the file modes all derive from
the same declarations.

Why a separate module from :mod:`kontrol.io`: :mod:`kontrol.steps` (which
the Airflow DAG imports at parse time) and the tests must be able to read
the catalogue without importing Polars or PyArrow. This module imports the
standard library only (a boundary test checks) and touches no file: paths
are computed here and opened by :mod:`kontrol.io`.

Layout of a run's *work directory* (private, mode 0700)::

    run.json                     run_spec: what prepare fixed for the run
    run_id.json                  run_id: the run's identity (computed once)
    clean/<extract>.parquet      staged clean rows
    loads/<extract>.json         counts, sha256, reject reasons
    outcomes/<suite>.json        the GX outcome of each suite
    net_lines.parquet ...        the rules' and the scorer's intermediates
    publication/                 exactly what is published, as it will appear

``publication/`` is moved as a whole into the publication directory
(:func:`kontrol.io.publish_release`): one rename, then one atomic switch of
the ``current`` link, so a reader sees a whole publication or the previous
one, never a mix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ALL_EXTRACTS",
    "CATALOGUE",
    "CURRENT_LINK",
    "EXTRACTS",
    "FAILED_RUN_DIR",
    "LOCK_FILE",
    "OPTIONAL_EXTRACTS",
    "PREVIOUS_LINK",
    "PUBLICATION_DIR",
    "PUBLISHED_MARKER",
    "RELEASES_DIR",
    "STAGING_PREFIX",
    "WORK_ROOT",
    "Dataset",
    "cpr_names",
    "dataset",
    "directory",
    "path",
    "published_names",
    "relative",
]


@dataclass(frozen=True)
class Dataset:
    """One named dataset: where it lives, whether it holds cpr, whether it is published."""

    name: str
    #: Relative to the work directory, or (``published``) to the publication.
    #: ``{extract}`` / ``{suite}`` mark a family of files, one per extract / suite.
    file: str
    #: Holds cpr values: created owner-only (0600, directories 0700), or
    #: group-readable (0640/0750) when the configuration names a group.
    cpr: bool
    #: Part of the publication (``OUT/<file>``) rather than a work file.
    published: bool = False
    why: str = ""

    @property
    def top(self) -> str:
        """The first path component: the name that appears in the directory."""
        return self.file.split("/", 1)[0]


#: The extracts of a delivery (CONTRACT.md section 1), in order; each is ``<name>.parquet``
#: in the delivery directory. Here, not in :mod:`kontrol.schema`, so that the DAG can map
#: its load task over them at parse time without importing Polars.
EXTRACTS: tuple[str, ...] = ("persons", "residence_events", "relations", "payments", "income")
#: The optional registers of CONTRACT.md section 1b, in order; their specs are
#: ``kontrol.schema.OPTIONAL_SPECS`` (a test checks the two agree).
OPTIONAL_EXTRACTS: tuple[str, ...] = ("utility_readings", "tenancies", "inspections", "custody")
ALL_EXTRACTS: tuple[str, ...] = (*EXTRACTS, *OPTIONAL_EXTRACTS)

#: Written by the delivering system after the files: the delivery is complete.
DELIVERY_MARKER = "_SUCCESS"


def delivery_file(extract: str) -> str:
    """The file of ``extract`` in a delivery directory (CONTRACT.md section 1)."""
    return f"{extract}.parquet"


#: The case register (``--register DIR``, :mod:`kontrol.lifecycle.store`): the pointer
#: to the snapshot in force, the snapshots (each a cases file and a state file), the
#: pending-publication marker and the lock.
REGISTER_CURRENT = "CURRENT.json"
REGISTER_SNAPSHOTS = "snapshots"
REGISTER_CASES = "cases.parquet"
REGISTER_STATE = "state.json"
REGISTER_PENDING = "pending.json"
REGISTER_LOCK = ".lock"
REGISTER_UNDO = "undo.parquet"
#: In a run's work directory: the register snapshot the run read (no cpr).
REGISTER_READ = "register_read.json"
#: A failed run's diagnostics: the error message, beside its rejects and report.
FAILED_RUN_ERROR = "error.txt"

#: The work directory's subdirectory that becomes the publication (see module doc).
PUBLICATION_DIR = "publication"
#: In a publication directory: each run's published files, in a directory of its own.
RELEASES_DIR = ".releases"
#: In a publication directory: the link to the release in force (switched atomically).
CURRENT_LINK = "current"
#: In a publication directory: the release in force before ``current`` (rollback).
PREVIOUS_LINK = "previous"
#: Beside the publication: held by ``kontrol run`` for the whole run (one run at a time).
LOCK_FILE = ".lock"
#: In a publication directory: a failed run's diagnostics, beside the last good publication.
FAILED_RUN_DIR = "failed-run"
#: ``kontrol run``'s work directories inside ``--out`` start with this.
STAGING_PREFIX = ".staging-"
#: The Airflow DAG's work directories: ``out_dir/.work/<as_of>/``.
WORK_ROOT = ".work"
#: Written by a publish step once it has published: makes publishing again a no-op.
PUBLISHED_MARKER = "published.json"

CATALOGUE: tuple[Dataset, ...] = (
    Dataset("run_spec", "run.json", cpr=False, why="paths, as_of, configuration"),
    Dataset("clean", "clean/{extract}.parquet", cpr=True, why="rows that passed every check"),
    Dataset("loads", "loads/{extract}.json", cpr=False, why="counts, sha256, reject reasons"),
    Dataset("extract_outcomes", "outcomes/{extract}.json", cpr=False, why="each extract's GX"),
    Dataset(
        "delivery_outcome",
        "outcomes/delivery.json",
        cpr=False,
        why="the delivery suite; written only once the delivery passed its gate",
    ),
    Dataset("run_id", "run_id.json", cpr=False, why="the run's identity, computed once"),
    Dataset("net_lines", "net_lines.parquet", cpr=True, why="net payment lines in the window"),
    Dataset("timeline", "timeline.parquet", cpr=True, why="person-state intervals"),
    Dataset("rule_cases", "rule_cases.parquet", cpr=True, why="one row per (rule, cpr)"),
    Dataset("scores", "scores.parquet", cpr=True, why="anomaly score per case person"),
    Dataset("recipients", "recipients.parquet", cpr=True, why="every recipient in the window"),
    Dataset("ranked", "ranked.parquet", cpr=True, why="the queue before the case register"),
    Dataset("queue_outcome", "outcomes/case_queue.json", cpr=False, why="the queue suite"),
    Dataset(
        "case_volume",
        "case_volume.json",
        cpr=False,
        why="cases per rule against the previous run and the recipients: the volume warnings",
    ),
    Dataset("performance", "performance.json", cpr=False, why="rule performance, for the manifest"),
    # --- published ---------------------------------------------------------------
    Dataset("rejects", "rejects/{extract}.parquet", cpr=True, published=True),
    Dataset("validation", "validation/index.html", cpr=False, published=True),
    Dataset("fairness", "fairness/index.html", cpr=False, published=True),
    Dataset("fairness_summary", "fairness/fairness.json", cpr=False, published=True),
    Dataset("suppressed", "suppressed.parquet", cpr=True, published=True),
    Dataset("control_sample", "control_sample.parquet", cpr=True, published=True),
    Dataset("rule_performance", "rule_performance.html", cpr=False, published=True),
    Dataset("cases_html", "cases.html", cpr=True, published=True),
    Dataset("cases_xlsx", "cases.xlsx", cpr=True, published=True),
    Dataset("cases", "cases.parquet", cpr=True, published=True),
    Dataset("manifest", "manifest.json", cpr=False, published=True),
    Dataset("published", PUBLISHED_MARKER, cpr=False, why="what publish did, for retries"),
)

_BY_NAME = {entry.name: entry for entry in CATALOGUE}


def dataset(name: str) -> Dataset:
    """The catalogue entry ``name``; an unknown name is a programming error."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no dataset {name!r} in kontrol.catalogue") from None


def relative(name: str, **parts: str) -> str:
    """The dataset's path relative to the work directory (``publication/...`` if published)."""
    entry = dataset(name)
    file = entry.file.format(**parts) if parts else entry.file
    return f"{PUBLICATION_DIR}/{file}" if entry.published else file


def path(work_dir: Path, name: str, **parts: str) -> Path:
    """Where dataset ``name`` (for ``extract=``/``suite=`` of a family) lives in ``work_dir``."""
    return work_dir / relative(name, **parts)


def directory(work_dir: Path, name: str) -> Path:
    """The directory holding a family of files (``clean``, ``rejects``, ...)."""
    entry = dataset(name)
    parent = Path(entry.file).parent
    base = work_dir / PUBLICATION_DIR if entry.published else work_dir
    return base / parent


def published_names() -> tuple[str, ...]:
    """The names that appear at the top of a publication (``cases.parquet``, ``rejects``, ...)."""
    names: list[str] = []
    for entry in CATALOGUE:
        if entry.published and entry.top not in names:
            names.append(entry.top)
    return tuple(names)


def cpr_names() -> frozenset[str]:
    """Top-level published names that hold cpr values (their modes are owner-only)."""
    return frozenset(e.top for e in CATALOGUE if e.published and e.cpr)
