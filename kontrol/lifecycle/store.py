"""The case register on disk, through :mod:`kontrol.io`.

Layout of ``--register DIR``::

    CURRENT.json                  {"snapshot": "000007"}: the register in force
    snapshots/000007/cases.parquet    one row per case (REGISTER_SCHEMA), with cpr
    snapshots/000007/undo.parquet     the rows the latest month updated, as they were
    snapshots/000007/state.json       months applied (run id, as_of), outcome imports
    pending.json                  a publication not yet applied (see below)
    .lock                         the one-writer lock (holder: pid, host, what)

The register holds cpr values: its directories are created 0700 and its
files 0600 (the umask may narrow them further; nothing widens them).
A change writes a complete new snapshot, then replaces ``CURRENT.json``
atomically: a crash at any moment leaves the previous register in force (a
half-written snapshot is never pointed to and is overwritten by the next
change). The last :data:`KEEP_SNAPSHOTS` snapshots are kept for audit.

**One writer at a time.** :func:`exclusive` holds an exclusive ``flock`` on
``.lock`` (a POSIX advisory lock: it works across processes, and across hosts
on a shared filesystem whose locks work, such as NFSv4 or a cluster
filesystem; not on object storage or NFS mounted ``nolock``). ``kontrol run``
holds it from before it reads the register until after it updated it, and
``kontrol outcomes import`` for its whole read-validate-write: a second run or
import on the same register waits its turn (the wait is logged with the
holder). Every function here that changes the register takes the lock
itself; the lock is reentrant within a thread. When a run's steps run in
separate processes (the Airflow DAG), the run records the snapshot it read
(:func:`cases_for_month` with a work directory) and :func:`mark_pending`
refuses to publish when the register changed since
(:class:`RegisterChanged`): the run is computed again, never applied over a
change it did not see.

**Months in order.** The register applies months (as-of dates) in order and
each once: a month before the latest applied one is refused
(:class:`MonthOutOfOrder`). The latest month may be run again: its own
application is undone (its new cases still open removed, the open cases it
updated restored from ``undo.parquet``) and the month applied anew, so the
outcomes imported since count (cases closed in between stay out).

Publish, then update the register, crash safe: before a run moves its
outputs into place it writes ``pending.json`` (run id, publication
directory); after publishing it applies the published queue to the register
and removes ``pending.json``. If the process dies in between, the next run
(and ``kontrol outcomes import``) first applies the pending publication when
that directory's manifest carries its run id (it was published), or drops it
(it was not).

A corrupt register file (bad JSON, a truncated Parquet file) ends any command
with one line naming the file and the defect (exit 1); nothing is repaired
silently: the earlier snapshots are there to restore from.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from kontrol import catalogue, io
from kontrol.errors import KontrolError
from kontrol.lifecycle.outcomes import apply_outcomes, parse_outcomes
from kontrol.lifecycle.register import REGISTER_SCHEMA, apply_month, empty_register, undo_month

log = logging.getLogger(__name__)

#: The register's layout, declared in the dataset catalogue.
CURRENT_FILE = catalogue.REGISTER_CURRENT
SNAPSHOTS_DIR = catalogue.REGISTER_SNAPSHOTS
CASES_FILE = catalogue.REGISTER_CASES
STATE_FILE = catalogue.REGISTER_STATE
PENDING_FILE = catalogue.REGISTER_PENDING
LOCK_FILE = catalogue.REGISTER_LOCK
UNDO_FILE = catalogue.REGISTER_UNDO
#: In a run's work directory: the register snapshot the run read (no cpr).
READ_FILE = catalogue.REGISTER_READ
KEEP_SNAPSHOTS = 24
#: Beside a published queue (kontrol.tasks publishes them).
PUBLISHED_CASES = catalogue.dataset("cases").file
PUBLISHED_CONTROL_SAMPLE = catalogue.dataset("control_sample").file
PUBLISHED_MANIFEST = catalogue.dataset("manifest").file


class RegisterError(KontrolError):
    """The case register refuses a change; the message names the register."""


class MonthOutOfOrder(RegisterError):
    """A month before the latest month the register has applied."""


class RegisterChanged(RegisterError):
    """The register changed between a run's read and its publication."""


@dataclass
class Register:
    cases: pl.DataFrame
    applied_runs: list[dict[str, str]] = field(default_factory=list)
    imports: list[dict[str, Any]] = field(default_factory=list)
    snapshot: int = 0
    #: The open cases the latest month updated, as they were before it (see undo_month).
    undo: pl.DataFrame = field(default_factory=empty_register)
    #: What made this snapshot, for messages (no cpr).
    last_change: str = ""

    def has_run(self, run_id: str) -> bool:
        return any(run["run_id"] == run_id for run in self.applied_runs)

    @property
    def last_month(self) -> date | None:
        """The latest as-of date applied, or None."""
        months = [date.fromisoformat(run["as_of"]) for run in self.applied_runs]
        return max(months) if months else None


# --- one writer at a time -------------------------------------------------------------


@contextmanager
def exclusive(
    directory: Path | None, label: str = "kontrol", timeout: float | None = None
) -> Iterator[None]:
    """Hold the register's one-writer lock for the block (no-op without a register).

    ``label`` says who holds it (shown to whoever waits, e.g. ``kontrol run
    2026-10-31``; never a cpr). Waits for a holder to finish; ``timeout``
    seconds ends the wait with :class:`kontrol.io.RegisterBusy` (exit 1).
    Reentrant within a thread, so a run may hold it around calls of this
    module that take it too.
    """
    if directory is None:
        yield
        return
    try:
        io.make_private_dir(directory)
    except OSError as error:
        raise RegisterError(
            f"{directory}: cannot create the case register directory ({error.strerror})"
        ) from None
    with io.register_lock(directory / LOCK_FILE, label, timeout):
        yield


# --- reading and writing snapshots ------------------------------------------------------


def _structure_error(path: Path, defect: str) -> io.RegisterFileError:
    return io.RegisterFileError(path, f"not a case register file ({defect})")


def load(directory: Path) -> Register:
    """The register in force (empty when the directory has none yet)."""
    current = directory / CURRENT_FILE
    if not current.is_file():
        if io.list_dir_names(directory / SNAPSHOTS_DIR):
            raise io.RegisterFileError(
                current, f"missing, but {SNAPSHOTS_DIR}/ holds snapshots: restore it"
            )
        return Register(empty_register())
    pointer = io.read_register_json(current)
    try:
        snapshot = int(pointer["snapshot"])
    except (KeyError, TypeError, ValueError):
        raise _structure_error(current, "no snapshot number") from None
    folder = directory / SNAPSHOTS_DIR / f"{snapshot:06d}"
    cases = _register_frame(folder / CASES_FILE)
    undo_path = folder / UNDO_FILE
    undo = _register_frame(undo_path) if undo_path.is_file() else empty_register()
    state_path = folder / STATE_FILE
    state = io.read_register_json(state_path)
    try:
        runs = [
            {"run_id": str(r["run_id"]), "as_of": str(r["as_of"])} for r in state["applied_runs"]
        ]
        for run in runs:
            date.fromisoformat(run["as_of"])
        imports = list(state["imports"])
        last_change = str(state.get("last_change", ""))
    except (KeyError, TypeError, ValueError):
        raise _structure_error(state_path, "applied_runs/imports malformed") from None
    return Register(cases, runs, imports, snapshot, undo, last_change)


def _register_frame(path: Path) -> pl.DataFrame:
    frame = io.read_register_parquet(path)
    missing = [name for name in REGISTER_SCHEMA.names() if name not in frame.columns]
    if missing:
        raise _structure_error(path, f"missing column(s) {', '.join(missing)}")
    try:
        return frame.select([pl.col(n).cast(t) for n, t in REGISTER_SCHEMA.items()])
    except pl.exceptions.PolarsError:
        raise _structure_error(path, "a column has the wrong type") from None


def save(directory: Path, register: Register) -> Register:
    """Write ``register`` as a new snapshot and put it in force (atomic pointer swap)."""
    with exclusive(directory, "register update"):
        snapshot = register.snapshot + 1
        folder = directory / SNAPSHOTS_DIR / f"{snapshot:06d}"
        io.remove_tree(folder)  # a leftover of a crashed change, never in force
        io.make_private_dir(folder)
        io.write_private_parquet(register.cases, folder / CASES_FILE)
        io.write_private_parquet(register.undo, folder / UNDO_FILE)
        io.write_private_json(
            {
                "applied_runs": register.applied_runs,
                "imports": register.imports,
                "last_change": register.last_change,
            },
            folder / STATE_FILE,
        )
        io.write_private_json({"snapshot": f"{snapshot:06d}"}, directory / CURRENT_FILE)
        for name in io.list_dir_names(directory / SNAPSHOTS_DIR):
            if name.isdigit() and int(name) <= snapshot - KEEP_SNAPSHOTS:
                io.remove_tree(directory / SNAPSHOTS_DIR / name)
    return Register(
        register.cases,
        register.applied_runs,
        register.imports,
        snapshot,
        register.undo,
        register.last_change,
    )


# --- months in order ---------------------------------------------------------------------


def _check_order(directory: Path, register: Register, as_of: date) -> None:
    last = register.last_month
    if last is not None and as_of < last:
        raise MonthOutOfOrder(
            f"{directory}: month {as_of.isoformat()} is before the last month applied to "
            f"this case register ({last.isoformat()}); months are applied in order"
        )


def check_month(directory: Path, as_of: date) -> None:
    """Refuse (:class:`MonthOutOfOrder`) a month before the latest applied one."""
    _check_order(directory, load(directory), as_of)


def _without_month(register: Register, as_of: date) -> Register:
    """``register`` with month ``as_of``'s own application undone, if it is the latest."""
    if register.last_month != as_of:
        return register
    return Register(
        undo_month(register.cases, register.undo, as_of),
        [run for run in register.applied_runs if date.fromisoformat(run["as_of"]) != as_of],
        register.imports,
        register.snapshot,
        empty_register(),
        register.last_change,
    )


def cases_for_month(directory: Path, as_of: date, work_dir: Path | None = None) -> pl.DataFrame:
    """The register cases month ``as_of`` is classified against.

    Refuses a month out of order; for a re-run of the latest month, the
    register without that month's own application. With ``work_dir`` (a
    run's steps in separate processes), the snapshot read is recorded there
    the first time, and a later read that finds another snapshot fails with
    :class:`RegisterChanged`; :func:`mark_pending` checks it again.
    """
    with exclusive(directory, f"read for {as_of.isoformat()}"):
        _recover(directory)
        register = load(directory)
        _check_order(directory, register, as_of)
        if work_dir is not None:
            _check_unchanged(directory, register, work_dir, record=True)
        return _without_month(register, as_of).cases


def _check_unchanged(directory: Path, register: Register, work_dir: Path, record: bool) -> None:
    token = work_dir / READ_FILE
    if not token.is_file():
        if record:
            io.write_private_json(
                {"register": str(directory), "snapshot": register.snapshot}, token
            )
        return
    read = int(io.read_register_json(token)["snapshot"])
    if read != register.snapshot:
        change = f": {register.last_change}" if register.last_change else ""
        raise RegisterChanged(
            f"{directory}: the case register changed while this run was computing (it read "
            f"snapshot {read}, now {register.snapshot}{change}); nothing published, "
            "run the month again"
        )


# --- publish, then apply ---------------------------------------------------------------


def mark_pending(
    directory: Path, run_id: str, as_of: date, publish_dir: Path, work_dir: Path | None = None
) -> None:
    """Before publishing: the run to apply if the process dies after the publication.

    Refuses (nothing is published yet) a month out of order and, with the
    run's ``work_dir``, a register changed since the run read it.
    """
    with exclusive(directory, f"publish {as_of.isoformat()}"):
        _recover(directory)
        register = load(directory)
        _check_order(directory, register, as_of)
        if work_dir is not None:
            _check_unchanged(directory, register, work_dir, record=False)
        io.write_private_json(
            {"run_id": run_id, "as_of": as_of.isoformat(), "publish_dir": str(publish_dir)},
            directory / PENDING_FILE,
        )


def apply_publication(directory: Path, run_id: str, as_of: date, publish_dir: Path) -> bool:
    """After publishing: record the published run in the register. True if it changed."""
    with exclusive(directory, f"apply {as_of.isoformat()}"):
        changed = _apply(directory, run_id, as_of, publish_dir)
        io.remove_file(directory / PENDING_FILE)
        return changed


def recover(directory: Path) -> str | None:
    """Apply a publication a crashed run left unapplied. Returns its run id if applied."""
    with exclusive(directory, "recover"):
        return _recover(directory)


def _recover(directory: Path) -> str | None:
    pending_path = directory / PENDING_FILE
    if not pending_path.is_file():
        return None
    pending = io.read_register_json(pending_path)
    try:
        run_id, as_of = str(pending["run_id"]), date.fromisoformat(pending["as_of"])
        publish_dir = Path(pending["publish_dir"])
    except (KeyError, TypeError, ValueError):
        raise _structure_error(pending_path, "run_id/as_of/publish_dir malformed") from None
    manifest = publish_dir / PUBLISHED_MANIFEST
    applied = None
    if manifest.is_file() and io.read_register_json(manifest).get("run_id") == run_id:
        _apply(directory, run_id, as_of, publish_dir)
        applied = run_id
        log.warning("applied run %s, published but not yet in the register", applied)
    else:
        log.warning("run %s was not published; dropping its pending marker", run_id)
    io.remove_file(pending_path)
    return applied


def _apply(directory: Path, run_id: str, as_of: date, publish_dir: Path) -> bool:
    """Apply a published month: in order; the latest month again replaces its application."""
    register = load(directory)
    _check_order(directory, register, as_of)
    base = _without_month(register, as_of)
    queue = io.read_register_parquet(publish_dir / PUBLISHED_CASES)
    sample_path = publish_dir / PUBLISHED_CONTROL_SAMPLE
    sample = None
    if sample_path.is_file():
        sample = io.read_register_parquet(sample_path)
        if sample.height and sample["run_id"][0] != run_id:
            sample = None  # an earlier run's sample left beside this queue
    cases, undo = apply_month(base.cases, queue, sample, run_id, as_of)
    runs = [*base.applied_runs, {"run_id": run_id, "as_of": as_of.isoformat()}]
    if (
        cases.equals(register.cases)
        and undo.equals(register.undo)
        and runs == register.applied_runs
    ):
        return False
    again = " again" if register.last_month == as_of else ""
    change = f"run {run_id} applied month {as_of.isoformat()}{again}"
    save(directory, Register(cases, runs, register.imports, register.snapshot, undo, change))
    return True


# --- outcomes --------------------------------------------------------------------------


def import_outcomes(directory: Path, path: Path, today: date | None = None) -> int:
    """Validate ``path`` whole and apply it in one register change. Returns the rows imported.

    ``today`` (default: the system date) bounds ``closed_date``: a case cannot
    be closed in the future.
    """
    with exclusive(directory, f"outcomes import {path.name}"):
        _recover(directory)
        register = load(directory)
        cells = io.read_outcome_cells(path)
        outcomes = parse_outcomes(path.name, cells, register.cases, today or date.today())
        digest = hashlib.sha256(io.read_bytes(path)).hexdigest()
        imports = [*register.imports, {"file": path.name, "sha256": digest, "rows": len(outcomes)}]
        cases = apply_outcomes(register.cases, outcomes)
        change = f"outcomes import of {path.name} ({len(outcomes)} rows)"
        save(
            directory,
            Register(
                cases, register.applied_runs, imports, register.snapshot, register.undo, change
            ),
        )
        return len(outcomes)
