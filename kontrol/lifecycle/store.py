"""The case register on disk, through :mod:`kontrol.io`.

Layout of ``--register DIR``::

    CURRENT.json                  {"snapshot": "000007"}: the register in force
    snapshots/000007/cases.parquet    one row per case (REGISTER_SCHEMA), with cpr
    snapshots/000007/state.json       runs applied (run id, as_of) and outcome imports
    pending.json                  a publication not yet applied (see below)
    .lock                         every read-modify-write holds it

The directory is created mode 0700: the register holds cpr values.
A change writes a complete new snapshot, then replaces ``CURRENT.json``
atomically: a crash at any moment leaves the previous register in force (a
half-written snapshot is never pointed to and is overwritten by the next
change). The last :data:`KEEP_SNAPSHOTS` snapshots are kept for audit.

Publish, then update the register, crash safe: before a run moves its
outputs into place it writes ``pending.json`` (run id, publication
directory); after publishing it applies the published queue to the register
(a no-op when the run id is already applied) and removes ``pending.json``.
If the process dies in between, the next run (and ``kontrol outcomes
import``) first applies the pending publication when that directory's
manifest carries its run id (it was published), or drops it (it was not).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from kontrol import io
from kontrol.lifecycle.outcomes import apply_outcomes, parse_outcomes
from kontrol.lifecycle.register import REGISTER_SCHEMA, apply_run, empty_register

log = logging.getLogger(__name__)

CURRENT_FILE = "CURRENT.json"
SNAPSHOTS_DIR = "snapshots"
CASES_FILE = "cases.parquet"
STATE_FILE = "state.json"
PENDING_FILE = "pending.json"
LOCK_FILE = ".lock"
KEEP_SNAPSHOTS = 24
#: Beside a published queue (kontrol.tasks publishes them).
PUBLISHED_CASES = "cases.parquet"
PUBLISHED_CONTROL_SAMPLE = "control_sample.parquet"
PUBLISHED_MANIFEST = "manifest.json"


@dataclass
class Register:
    cases: pl.DataFrame
    applied_runs: list[dict[str, str]] = field(default_factory=list)
    imports: list[dict[str, Any]] = field(default_factory=list)
    snapshot: int = 0

    def has_run(self, run_id: str) -> bool:
        return any(run["run_id"] == run_id for run in self.applied_runs)


def load(directory: Path) -> Register:
    """The register in force (empty when the directory has none yet)."""
    current = directory / CURRENT_FILE
    if not current.is_file():
        return Register(empty_register())
    snapshot = int(io.read_json(current)["snapshot"])
    folder = directory / SNAPSHOTS_DIR / f"{snapshot:06d}"
    cases = io.read_parquet(folder / CASES_FILE).select(
        [pl.col(n).cast(t) for n, t in REGISTER_SCHEMA.items()]
    )
    state = io.read_json(folder / STATE_FILE)
    return Register(cases, state["applied_runs"], state["imports"], snapshot)


def save(directory: Path, register: Register) -> Register:
    """Write ``register`` as a new snapshot and put it in force (atomic pointer swap)."""
    io.ensure_private_dir(directory)
    snapshot = register.snapshot + 1
    folder = directory / SNAPSHOTS_DIR / f"{snapshot:06d}"
    io.remove_tree(folder)  # a leftover of a crashed change, never in force
    io.write_parquet(register.cases, folder / CASES_FILE)
    io.write_json(
        {"applied_runs": register.applied_runs, "imports": register.imports}, folder / STATE_FILE
    )
    io.write_json({"snapshot": f"{snapshot:06d}"}, directory / CURRENT_FILE)
    for name in io.list_dir_names(directory / SNAPSHOTS_DIR):
        if name.isdigit() and int(name) <= snapshot - KEEP_SNAPSHOTS:
            io.remove_tree(directory / SNAPSHOTS_DIR / name)
    return Register(register.cases, register.applied_runs, register.imports, snapshot)


def mark_pending(directory: Path, run_id: str, as_of: date, publish_dir: Path) -> None:
    """Before publishing: the run to apply if the process dies after the publication."""
    io.ensure_private_dir(directory)
    with io.exclusive_lock(directory / LOCK_FILE):
        io.write_json(
            {"run_id": run_id, "as_of": as_of.isoformat(), "publish_dir": str(publish_dir)},
            directory / PENDING_FILE,
        )


def apply_publication(directory: Path, run_id: str, as_of: date, publish_dir: Path) -> bool:
    """After publishing: record the published run in the register. True if it changed."""
    with io.exclusive_lock(directory / LOCK_FILE):
        changed = _apply(directory, run_id, as_of, publish_dir)
        io.remove_file(directory / PENDING_FILE)
        return changed


def recover(directory: Path) -> str | None:
    """Apply a publication a crashed run left unapplied. Returns its run id if applied."""
    with io.exclusive_lock(directory / LOCK_FILE):
        return _recover(directory)


def _recover(directory: Path) -> str | None:
    pending_path = directory / PENDING_FILE
    if not pending_path.is_file():
        return None
    pending = io.read_json(pending_path)
    publish_dir = Path(pending["publish_dir"])
    manifest = publish_dir / PUBLISHED_MANIFEST
    applied = None
    if manifest.is_file() and io.read_json(manifest)["run_id"] == pending["run_id"]:
        _apply(directory, pending["run_id"], date.fromisoformat(pending["as_of"]), publish_dir)
        applied = pending["run_id"]
        log.warning("applied run %s, published but not yet in the register", applied)
    else:
        log.warning("run %s was not published; dropping its pending marker", pending["run_id"])
    io.remove_file(pending_path)
    return applied


def _apply(directory: Path, run_id: str, as_of: date, publish_dir: Path) -> bool:
    register = load(directory)
    if register.has_run(run_id):
        return False
    queue = io.read_parquet(publish_dir / PUBLISHED_CASES)
    sample_path = publish_dir / PUBLISHED_CONTROL_SAMPLE
    sample = None
    if sample_path.is_file():
        sample = io.read_parquet(sample_path)
        if sample.height and sample["run_id"][0] != run_id:
            sample = None  # an earlier run's sample left beside this queue
    cases = apply_run(register.cases, queue, sample, run_id, as_of)
    runs = [*register.applied_runs, {"run_id": run_id, "as_of": as_of.isoformat()}]
    save(directory, Register(cases, runs, register.imports, register.snapshot))
    return True


def import_outcomes(directory: Path, path: Path) -> int:
    """Validate ``path`` whole and apply it in one register change. Returns the rows imported."""
    with io.exclusive_lock(directory / LOCK_FILE):
        _recover(directory)
        register = load(directory)
        header, rows = io.read_table_cells(path)
        outcomes = parse_outcomes(path.name, header, rows, set(register.cases["case_id"]))
        digest = hashlib.sha256(io.read_bytes(path)).hexdigest()
        imports = [*register.imports, {"file": path.name, "sha256": digest, "rows": len(outcomes)}]
        cases = apply_outcomes(register.cases, outcomes)
        save(directory, Register(cases, register.applied_runs, imports, register.snapshot))
        return len(outcomes)
