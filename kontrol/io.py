"""All file reading and writing of kontrol lives here (``tests/test_file_access.py`` checks).

Transforms elsewhere take and return LazyFrames; this module turns paths into
LazyFrames (after checking the delivery's structure against
:mod:`kontrol.schema`) and frames back into files, always atomically: a file
is written beside its destination under a temporary name and moved into
place with :func:`os.replace`, so a reader never sees half a file and a
crashed run leaves the previous publication intact.

**File modes.** Every file is created owner-only (0600, by
:func:`tempfile.mkstemp`) and stays so unless it is declared not to hold cpr
values (``private=False``, or a published dataset the catalogue marks
``cpr=False``); those get the usual ``0666 & ~umask``. When publishing,
:func:`set_modes` gives files that hold cpr 0600 (directories 0700), or
0640/0750 with the configured group; a mode is always masked by the
process umask, never wider.

**Publication** (:func:`publish_release`): a run's publication is moved as
one directory into ``.releases/`` and put in force by replacing the
``current`` symlink (one atomic rename); the published names
(``cases.parquet``, ...) are fixed symlinks through ``current``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal, TypeVar

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from kontrol import catalogue
from kontrol.errors import KontrolError, StructuralDefect, mask
from kontrol.schema import ExtractSpec

#: Parquet settings for everything kontrol writes. Fixed, so that the same
#: frame gives the same bytes (CONTRACT.md section 3: byte-identical output).
PARQUET_COMPRESSION: Final[Literal["zstd"]] = "zstd"
PARQUET_COMPRESSION_LEVEL = 3
#: Rows per row group of a file written in pieces (:func:`write_parquet_parts`).
PARQUET_ROW_GROUP_ROWS = 128 * 1024


# --- reading a delivery ---------------------------------------------------------


def _describe(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"decimal({dtype.precision},{dtype.scale})"
    if isinstance(dtype, pl.Datetime):  # the time zone as stored, not lower-cased
        zone = f", {dtype.time_zone}" if dtype.time_zone else ""
        return f"datetime[{dtype.time_unit}{zone}]"
    return str(dtype).lower()


def _compatible(found: pl.DataType, declared: pl.DataType) -> bool:
    """Whether ``found`` converts to ``declared`` without loss (see kontrol.schema)."""
    if found == declared:
        return True
    if isinstance(declared, pl.Decimal) and isinstance(found, pl.Decimal):
        found_scale = found.scale or 0
        declared_scale = declared.scale or 0
        found_precision = found.precision or 38
        declared_precision = declared.precision or 38
        return (
            found_scale <= declared_scale
            and found_precision - found_scale <= declared_precision - declared_scale
        )
    if declared.is_integer() and found.is_integer():
        declared_info = _integer_range(declared)
        found_info = _integer_range(found)
        return declared_info[0] <= found_info[0] and found_info[1] <= declared_info[1]
    return False


_INTEGER_BITS: dict[type[pl.DataType], int] = {
    pl.Int8: 8,
    pl.Int16: 16,
    pl.Int32: 32,
    pl.Int64: 64,
    pl.Int128: 128,
    pl.UInt8: 8,
    pl.UInt16: 16,
    pl.UInt32: 32,
    pl.UInt64: 64,
    pl.UInt128: 128,
}


def _integer_range(dtype: pl.DataType) -> tuple[int, int]:
    bits = _INTEGER_BITS[type(dtype)]
    if dtype.is_signed_integer():
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


#: Arrow presentations of a stored Parquet logical type, as Polars reports them:
#: a dictionary-encoded string column reads as Categorical, an Arrow ``date64``
#: (stored as a Parquet DATE) as a millisecond Datetime. The stored type is the
#: contract's, so they are accepted as that type (and cast when scanned).
_PRESENTATIONS: dict[str, tuple[pl.DataType, tuple[type[pl.DataType], ...]]] = {
    "STRING": (pl.String(), (pl.Categorical, pl.Enum)),
    "DATE": (pl.Date(), (pl.Datetime,)),
}


def delivered_schema(path: Path) -> pl.Schema:
    """The Parquet file's schema by stored type, or a structural defect naming the file.

    A column whose Polars type is only an Arrow presentation of its stored
    Parquet logical type (see ``_PRESENTATIONS``) is given as the stored type.
    """
    if not path.is_file():
        raise StructuralDefect(path.name, None, "required file missing")
    try:
        found = pl.Schema(pl.read_parquet_schema(path))
        stored = pq.ParquetFile(path).schema
        logical = {
            stored.column(i).path: str(stored.column(i).logical_type.type)
            for i in range(len(stored))
        }
    except Exception as error:  # polars/arrow raise several types for corrupt files
        raise StructuralDefect(
            path.name, None, f"unreadable as Parquet ({_first_line(error)})"
        ) from error
    for name, dtype in found.items():
        presentation = _PRESENTATIONS.get(logical.get(name, ""))
        if presentation is not None and isinstance(dtype, presentation[1]):
            found[name] = presentation[0]
    return found


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return mask(lines[0][:200]) if lines else type(error).__name__


@contextmanager
def reading_delivery(path: Path) -> Iterator[None]:
    """Turn a failure to decode the delivered file ``path`` into a structural defect.

    A file whose footer is intact can still hold corrupt data pages or
    strings that are not UTF-8; these surface only when the data is read.
    The file's columns are then read one by one to name the defective one;
    when every column reads cleanly, the failure was not the file's and is
    raised unchanged.
    """
    try:
        yield
    except pl.exceptions.PolarsError as error:
        defect = unreadable_column(path)
        if defect is None:
            raise
        raise defect from error


def unreadable_column(path: Path) -> StructuralDefect | None:
    """The first column of ``path`` that cannot be decoded, as a structural defect; or None."""
    try:
        columns = pl.read_parquet_schema(path)
    except Exception as error:  # polars/arrow raise several types for corrupt files
        return StructuralDefect(path.name, None, f"corrupt data ({_first_line(error)})")
    for column in columns:
        try:
            pl.scan_parquet(path).select(column).collect(engine="streaming")
        except pl.exceptions.PolarsError as error:
            text = str(error)
            if "utf-8" in text.lower() or "utf8" in text.lower():
                return StructuralDefect(path.name, column, "strings that are not valid UTF-8")
            return StructuralDefect(path.name, column, f"corrupt data ({_first_line(error)})")
    return None


def check_structure(spec: ExtractSpec, found: pl.Schema) -> None:
    """Refuse a missing column or a column of the wrong type, naming both."""
    for column in spec.columns:
        if column.name not in found:
            raise StructuralDefect(
                spec.file_name,
                column.name,
                f"missing column (expected {_describe(column.dtype)})",
            )
        found_dtype = found[column.name]
        if not _compatible(found_dtype, column.dtype):
            raise StructuralDefect(
                spec.file_name,
                column.name,
                f"wrong type: expected {_describe(column.dtype)}, found {_describe(found_dtype)}",
            )


def scan_extract(directory: Path, spec: ExtractSpec) -> pl.LazyFrame:
    """Scan one extract *as delivered* (all its columns) after the structural check.

    Declared columns are cast to their declared type (a lossless widening,
    guaranteed by :func:`check_structure`); extra delivered columns are kept
    so that a rejects file can show rows as they were delivered.
    """
    path = directory / spec.file_name
    check_structure(spec, delivered_schema(path))
    # every declared column, also where the stored type equals it: a dictionary
    # or date64 column reads as Categorical/Datetime (see delivered_schema)
    return pl.scan_parquet(path).with_columns(pl.col(c.name).cast(c.dtype) for c in spec.columns)


def parquet_row_count(path: Path) -> int:
    return int(pq.ParquetFile(path).metadata.num_rows)


def sha256_of(path: Path, chunk_bytes: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def scan_parquet(path: Path) -> pl.LazyFrame:
    """Scan a file kontrol itself wrote (staged extracts, cases)."""
    return pl.scan_parquet(path)


# --- writing --------------------------------------------------------------------


@contextmanager
def _temporary_beside(destination: Path, *, private: bool = True) -> Iterator[Path]:
    """A temporary file beside ``destination``, moved over it when the block succeeds.

    mkstemp creates it 0600, which is what a file holding cpr values must be;
    a file declared not to (``private=False``) gets the usual ``0666 & ~umask``.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent
    )
    os.close(handle)
    temporary = Path(name)
    try:
        try:
            yield temporary
        except OSError as error:  # polars' write errors name no file (a full disk, ...)
            if error.filename is None and error.errno is not None:
                raise OSError(error.errno, os.strerror(error.errno), str(destination)) from error
            raise
        if not private:
            temporary.chmod(0o666 & ~umask())
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)


def write_parquet(frame: pl.DataFrame, destination: Path) -> None:
    """Write a collected frame atomically, with fixed settings for reproducible bytes."""
    with _temporary_beside(destination) as temporary:
        frame.write_parquet(
            temporary,
            compression=PARQUET_COMPRESSION,
            compression_level=PARQUET_COMPRESSION_LEVEL,
            statistics=True,
        )


def sink_parquet(frame: pl.LazyFrame, destination: Path) -> None:
    """Stream a lazy frame to Parquet atomically (bounded memory on large extracts)."""
    with _temporary_beside(destination) as temporary:
        frame.sink_parquet(
            temporary,
            compression=PARQUET_COMPRESSION,
            compression_level=PARQUET_COMPRESSION_LEVEL,
            engine="streaming",
        )


def write_parquet_parts(frames: Sequence[pl.LazyFrame], destination: Path) -> int:
    """Collect ``frames`` one after another into one Parquet file, atomically; returns its rows.

    For a result too large to hold at once whose plan splits into disjoint
    pieces (the net lines, month by month): only one piece is in memory at a
    time, each appended as row groups. The pieces must share one schema.
    """
    rows = 0
    with _temporary_beside(destination) as temporary:
        writer: pq.ParquetWriter | None = None
        try:
            for frame in frames:
                table = frame.collect(engine="streaming").to_arrow()
                if writer is None:
                    writer = pq.ParquetWriter(
                        str(temporary),
                        table.schema,
                        compression=PARQUET_COMPRESSION,
                        compression_level=PARQUET_COMPRESSION_LEVEL,
                    )
                # row groups of Polars' own size: readers stream them in small morsels
                writer.write_table(table.cast(writer.schema), row_group_size=PARQUET_ROW_GROUP_ROWS)
                rows += table.num_rows
                del table
        finally:
            if writer is not None:
                writer.close()
    return rows


def sink_parquet_with(
    frame: pl.LazyFrame, destination: Path, also: Sequence[pl.LazyFrame]
) -> list[pl.DataFrame]:
    """Stream ``frame`` to Parquet (as :func:`sink_parquet`) and collect ``also`` in the same query.

    One streaming execution: plans that share a scan (the loader's key check, its
    rejects and its clean rows all read the delivered file) read it once. Returns
    the collected frames of ``also``, in order.
    """
    with _temporary_beside(destination) as temporary:
        sink = frame.sink_parquet(
            temporary,
            compression=PARQUET_COMPRESSION,
            compression_level=PARQUET_COMPRESSION_LEVEL,
            engine="streaming",
            lazy=True,
        )
        collected = pl.collect_all([*also, sink], engine="streaming")
    return list(collected[: len(also)])


def write_json(document: Any, destination: Path, *, private: bool = True) -> None:
    """Write JSON atomically with sorted keys, so equal documents give equal bytes."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_text(text, destination, private=private)


def write_text(text: str, destination: Path, *, private: bool = True) -> None:
    with _temporary_beside(destination, private=private) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_bytes(data: bytes, destination: Path, *, private: bool = True) -> None:
    with _temporary_beside(destination, private=private) as temporary:
        temporary.write_bytes(data)


_Written = TypeVar("_Written")


def write_stream(destination: Path, write: Callable[[BinaryIO], _Written]) -> _Written:
    """Atomically write what ``write`` streams into a seekable binary file (e.g. a workbook).

    Returns what ``write`` returns (the workbook's totals), once the file is in place.
    """
    with _temporary_beside(destination) as temporary, temporary.open("wb") as out:
        return write(out)


def write_private_bytes(data: bytes, destination: Path) -> None:
    """Write atomically, mode 0600 from the start (files for one account: they hold cpr)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(  # mkstemp creates 0600, and it stays so
        prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent
    )
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def append_private_log(text: str, log_file: Path | None, prefix: str) -> Path:
    """Append ``text`` to ``log_file`` (created 0600), or to a new file in $TMPDIR."""
    if log_file is None:
        descriptor, name = tempfile.mkstemp(prefix=prefix, suffix=".log")
        os.close(descriptor)
        log_file = Path(name)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(text)
    return log_file


def read_text(path: Path) -> str:
    """A UTF-8 text file (a configuration file, say)."""
    return path.read_text(encoding="utf-8")


def write_arrow_table(table: pa.Table, destination: Path, **settings: Any) -> None:
    """Write an Arrow table atomically (the synthetic generator's ground truth)."""
    with _temporary_beside(destination) as temporary:
        pq.write_table(table, temporary, **settings)


def parquet_writer(path: Path, schema: pa.Schema, **settings: Any) -> pq.ParquetWriter:
    """A streaming Parquet writer (the synthetic generator writes its extracts in chunks)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return pq.ParquetWriter(str(path), schema, **settings)


@contextmanager
def private_temp_dir(prefix: str) -> Iterator[Path]:
    """A temporary directory, mode 0700, removed after the block (``kontrol load``'s staging)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        yield Path(name)


def make_staging_dir(out_dir: Path, label: str) -> Path:
    """A fresh private directory inside ``out_dir`` (same filesystem: renames are atomic)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{catalogue.STAGING_PREFIX}{label}-", dir=out_dir))


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def publish(staged: Path, destination: Path) -> None:
    """Move a staged file or directory into place; a directory replaces the old one whole."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if staged.is_dir():
        if destination.exists():
            retired = destination.with_name(f".{destination.name}.retired")
            remove_tree(retired)
            os.replace(destination, retired)
            os.replace(staged, destination)
            remove_tree(retired)
        else:
            os.replace(staged, destination)
    else:
        os.replace(staged, destination)


# --- file modes ---------------------------------------------------------------------


def umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def group_id(name: str) -> int:
    """The id of the group ``name``; a :class:`KontrolError` naming it when there is none."""
    import grp

    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise KontrolError(f"output.group: no group {name!r} on this machine") from None


def set_modes(root: Path, cpr_names: frozenset[str], gid: int | None) -> None:
    """Set the modes of a publication (or a failed run's diagnostics) before it is published.

    The top-level entries named in ``cpr_names`` hold cpr values: files 0600
    and directories 0700, or 0640/0750 owned by group ``gid`` when one is
    configured. Everything else (manifest, reports) is ``0666``/``0777``,
    so auditors can read it. Every mode is masked by the umask: never wider
    than the account running kontrol allows.
    """
    mask = umask()
    grouped = gid is not None

    def apply(path: Path, private: bool) -> None:
        if private:
            mode = (0o750 if grouped else 0o700) if path.is_dir() else (0o640 if grouped else 0o600)
        else:
            mode = 0o777 if path.is_dir() else 0o666
        if gid is not None:
            os.chown(path, -1, gid)
        path.chmod(mode & ~mask)

    apply(root, private=False)  # traversable, so auditors reach the reports
    for top in root.iterdir():
        private = top.name in cpr_names
        for path in [top, *(top.rglob("*") if top.is_dir() else ())]:
            apply(path, private)


def mode_of(path: Path) -> int:
    """The permission bits of ``path`` (tests and diagnostics)."""
    return path.stat().st_mode & 0o777


# --- publication: one directory per run, one atomic switch ---------------------------


def _symlink_atomically(target: str, link: Path) -> None:
    """Point ``link`` at ``target`` with one rename (a reader sees the old or the new link).

    A real directory in the way (a copy of an older layout) is moved aside first.
    """
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    os.symlink(target, temporary)
    retired = None
    if link.is_dir() and not link.is_symlink():
        retired = link.with_name(f".{link.name}.retired")
        remove_tree(retired)
        os.replace(link, retired)
    os.replace(temporary, link)
    if retired is not None:
        remove_tree(retired)


def _link_target(link: Path) -> str | None:
    return os.readlink(link) if link.is_symlink() else None


def publish_release(
    publication: Path, publish_dir: Path, label: str, names: tuple[str, ...]
) -> Path:
    """Put ``publication`` (a directory on the same filesystem) in force in ``publish_dir``.

    1. ``publication`` is renamed to ``publish_dir/.releases/<label>[.n]``;
    2. ``publish_dir/current`` is switched to it with one atomic rename:
       the publication's only moment of change;
    3. each of ``names`` at the top of ``publish_dir`` is (once) a symlink
       ``name -> current/name``, so the contract's ``OUT/cases.parquet`` works;
    4. ``previous`` keeps the release that was in force, for rollback; any
       other release is removed.

    A crash before 2 leaves the previous publication in force and an orphan
    release that the next run removes (:func:`remove_leftovers`); after 2,
    the new one. Returns the release directory.
    """
    releases = publish_dir / catalogue.RELEASES_DIR
    releases.mkdir(parents=True, exist_ok=True)
    release = releases / label
    n = 0
    while release.exists() or release.is_symlink():
        n += 1
        release = releases / f"{label}.{n}"
    os.rename(publication, release)
    current = publish_dir / catalogue.CURRENT_LINK
    previous = _link_target(current)
    _symlink_atomically(f"{catalogue.RELEASES_DIR}/{release.name}", current)
    for name in names:
        link = publish_dir / name
        target = f"{catalogue.CURRENT_LINK}/{name}"
        if _link_target(link) != target:
            _symlink_atomically(target, link)
    if previous is not None:
        _symlink_atomically(previous, publish_dir / catalogue.PREVIOUS_LINK)
    _prune_releases(publish_dir)
    return release


def _prune_releases(publish_dir: Path) -> None:
    """Remove every release that neither ``current`` nor ``previous`` points to."""
    releases = publish_dir / catalogue.RELEASES_DIR
    keep = {
        Path(target).name
        for link in (catalogue.CURRENT_LINK, catalogue.PREVIOUS_LINK)
        if (target := _link_target(publish_dir / link)) is not None
    }
    for child in list_dir_names(releases):
        if child not in keep:
            remove_path(releases / child)


def remove_leftovers(publish_dir: Path, keep: Path) -> list[str]:
    """Remove what earlier runs left in ``publish_dir`` that no longer applies.

    Stale staging directories (a killed run's, holding cpr values),
    ``.*.retired`` and ``.*.tmp`` entries (a crash mid-replace), releases no
    link points to (a crash between the release rename and the switch), and
    an earlier run's ``failed-run/`` (this run supersedes it). ``keep`` is
    the current run's own work directory. Returns the names removed.
    """
    removed = []
    for name in list_dir_names(publish_dir):
        path = publish_dir / name
        stale = (
            (name.startswith(catalogue.STAGING_PREFIX) and path != keep)
            or (name.startswith(".") and name.endswith((".retired", ".tmp")))
            or name == catalogue.FAILED_RUN_DIR
        )
        if stale:
            remove_path(path)
            removed.append(name)
    _prune_releases(publish_dir)
    return removed


# --- the case register and outcome files (kontrol.lifecycle) --------------------------


def read_parquet(path: Path) -> pl.DataFrame:
    """Read a whole Parquet file kontrol wrote (the register, a published queue)."""
    return pl.read_parquet(path)


@contextmanager
def exclusive_lock(path: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if missing) for the block.

    With ``wait=False`` a lock held elsewhere is a :class:`KontrolError` naming it.
    """
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise KontrolError(
                f"{path.parent}: another kontrol run is using this directory "
                f"({path.name} is locked)"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_file(path: Path) -> None:
    path.unlink(missing_ok=True)


def list_dir_names(path: Path) -> list[str]:
    """Sorted names in a directory (empty when it does not exist)."""
    return sorted(child.name for child in path.iterdir()) if path.is_dir() else []


def read_bytes(path: Path) -> bytes:
    return path.read_bytes()


# --- the case register: its lock, private files, outcome files (kontrol.lifecycle) ------
#
# Everything below is used by kontrol.lifecycle.store only. Register files hold cpr
# values: they are created owner-only (files 0600 through mkstemp, directories 0700
# through mkdir), the umask narrowing them further; nothing here widens a mode.


class RegisterFileError(KontrolError):
    """A case register file that cannot be read (corrupt, truncated, not kontrol's)."""

    def __init__(self, path: Path, defect: str) -> None:
        self.path = path
        self.defect = defect
        super().__init__(f"{path}: {defect}")


class OutcomesFileError(KontrolError):
    """An outcomes file that cannot be read as a table at all (nothing is imported).

    The message names the file and the defect, never a cell's content.
    """

    def __init__(self, path: Path, defect: str) -> None:
        super().__init__(f"{path.name}: {defect}; nothing imported")


class RegisterBusy(KontrolError):
    """The register's lock was not free within the allowed wait."""


#: Where this thread already holds a register lock: path -> depth (the lock is reentrant
#: within a thread, so ``kontrol run`` can hold it around steps that take it themselves).
_held_locks = threading.local()


def _lock_holder(path: Path) -> str:
    """Who holds the lock, as its holder wrote it (pid, host, what, since); no cpr."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return "unknown"
    return text.splitlines()[0][:200] if text else "unknown"


@contextmanager
def register_lock(
    path: Path, label: str, timeout: float | None = None, poll: float = 0.2
) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created 0600 if missing) for the block.

    Reentrant within a thread. Another process (on this host, or on another host
    sharing a POSIX filesystem whose locks work, e.g. NFSv4) waits until it is
    released; the wait is logged once with the holder (pid, host, ``label``).
    ``timeout`` seconds (None: wait as long as it takes) ends the wait with
    :class:`RegisterBusy`. A process that dies releases its lock.
    """
    import fcntl
    import logging
    import socket
    import time

    key = str(path.resolve())
    depths: dict[str, int] = getattr(_held_locks, "depths", None) or {}
    _held_locks.depths = depths
    if depths.get(key):
        depths[key] += 1
        try:
            yield
        finally:
            depths[key] -= 1
        return

    make_private_dir(path.parent)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        started = time.monotonic()
        logged = False
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _lock_holder(path)
                if not logged:
                    logging.getLogger(__name__).warning(
                        "waiting for the case register lock %s, held by %s", path, holder
                    )
                    logged = True
                if timeout is not None and time.monotonic() - started >= timeout:
                    raise RegisterBusy(
                        f"{path.parent}: the case register is in use by {holder} "
                        f"(waited {timeout:g} s); try again when it has finished"
                    ) from None
                time.sleep(poll)
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        os.ftruncate(descriptor, 0)
        os.pwrite(
            descriptor,
            f"pid {os.getpid()} on {socket.gethostname()}: {label} (since {since})\n".encode(),
            0,
        )
        depths[key] = 1
        try:
            yield
        finally:
            depths.pop(key, None)
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def make_private_dir(path: Path) -> None:
    """Create ``path`` and its missing parents owner-only (0700 less the umask).

    An existing directory keeps its mode: an operator may have opened it to a group.
    (``Path.mkdir(parents=True)`` would create the parents with the default mode.)
    """
    missing = []
    while not path.is_dir():
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)


@contextmanager
def _private_temporary_beside(destination: Path) -> Iterator[Path]:
    """Like :func:`_temporary_beside`, but the file stays as mkstemp made it: 0600."""
    make_private_dir(destination.parent)
    handle, name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent
    )
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)


def write_private_parquet(frame: pl.DataFrame, destination: Path) -> None:
    """Write a register frame atomically, owner-only, with kontrol's fixed Parquet settings."""
    with _private_temporary_beside(destination) as temporary:
        frame.write_parquet(
            temporary,
            compression=PARQUET_COMPRESSION,
            compression_level=PARQUET_COMPRESSION_LEVEL,
            statistics=True,
        )


def write_private_json(document: Any, destination: Path) -> None:
    """Write a register JSON document atomically, owner-only, with sorted keys."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    with _private_temporary_beside(destination) as temporary:
        temporary.write_text(text, encoding="utf-8")


def read_register_json(path: Path) -> Any:
    """A register JSON file, or :class:`RegisterFileError` naming the file and the defect."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegisterFileError(path, "missing") from None
    except json.JSONDecodeError as error:
        raise RegisterFileError(
            path, f"corrupt JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from None
    except UnicodeDecodeError:
        raise RegisterFileError(path, "corrupt JSON (not UTF-8 text)") from None
    except OSError as error:
        raise RegisterFileError(path, f"unreadable ({error.strerror})") from None


def read_register_parquet(path: Path) -> pl.DataFrame:
    """A register Parquet file, or :class:`RegisterFileError` naming the file and the defect."""
    if not path.is_file():
        raise RegisterFileError(path, "missing")
    try:
        return pl.read_parquet(path)
    except pl.exceptions.PolarsError as error:
        defect = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RegisterFileError(path, f"corrupt Parquet ({defect})") from None
    except OSError as error:
        raise RegisterFileError(path, f"unreadable ({error.strerror or error})") from None


# Outcome files from the case system, as a caseworker's spreadsheet tool saves them.
#
# CSV: UTF-8 (with or without a byte-order mark), UTF-16 (Excel's "Unicode text":
# with a byte-order mark, or without one when every other byte is NUL) and otherwise
# Windows-1252 (Danish Excel's "CSV (semikolonsepareret)"). Every valid value of an
# outcomes file is ASCII, so the 8-bit fallback cannot change a valid value; a byte
# that is not Windows-1252 (or a NUL) refuses the file. The separator is the one of
# comma, semicolon and tab that makes the header name ``case_id``.

#: The separators tried, in order, and the header column that decides between them.
CSV_SEPARATORS = (",", ";", "\t")


@dataclass(frozen=True)
class UnreadableCell:
    """A cell whose value cannot be used: e.g. a formula saved without its value."""

    defect: str


@dataclass(frozen=True)
class OutcomeCells:
    """An outcomes file as cells: header, rows (spreadsheet row number, cells), separator."""

    header: list[str]
    rows: list[tuple[int, list[object]]]
    separator: str | None  # None for XLSX


def _decode_csv(path: Path, data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif len(data) >= 4 and data[1:64:2].count(0) >= len(data[1:64:2]) * 0.9:
        encoding = "utf-16-le"
    elif len(data) >= 4 and data[0:64:2].count(0) >= len(data[0:64:2]) * 0.9:
        encoding = "utf-16-be"
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "cp1252"
        else:
            encoding = "utf-8"
            return _refuse_nul(path, text)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise OutcomesFileError(
            path, f"not readable as text ({encoding} detected, but a byte sequence is invalid)"
        ) from None
    return _refuse_nul(path, text)


def _refuse_nul(path: Path, text: str) -> str:
    if "\x00" in text:
        raise OutcomesFileError(path, "not a text file (it holds NUL bytes)")
    return text


def _read_csv_cells(path: Path) -> OutcomeCells:
    import csv
    import io as text_io

    text = _decode_csv(path, read_bytes(path))
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    separator = ","
    for candidate in CSV_SEPARATORS:
        if "case_id" in [cell.strip().lower() for cell in first.split(candidate)]:
            separator = candidate
            break
    try:
        parsed = list(csv.reader(text_io.StringIO(text, newline=""), delimiter=separator))
    except csv.Error as error:
        raise OutcomesFileError(path, f"not readable as CSV ({error})") from None
    numbered: list[tuple[int, list[object]]] = [
        (number, list(row)) for number, row in enumerate(parsed, start=1)
    ]
    return _cells(numbered, separator)


def _read_xlsx_cells(path: Path) -> OutcomeCells:
    """Cached values; a formula without one (never calculated) is an :class:`UnreadableCell`."""
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        values = openpyxl.load_workbook(path, read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException):
        raise OutcomesFileError(path, "not a readable XLSX workbook (not a zip archive)") from None
    except (KeyError, ValueError, TypeError, OSError, EOFError, zipfile.LargeZipFile) as error:
        raise OutcomesFileError(
            path, f"not a readable XLSX workbook ({type(error).__name__})"
        ) from None
    try:
        if not values.worksheets:
            raise OutcomesFileError(path, "the workbook has no worksheet")
        numbered: list[tuple[int, list[object]]] = []
        value_rows = values.worksheets[0].iter_rows()
        formula_rows = formulas.worksheets[0].iter_rows()
        for number, (value_row, formula_row) in enumerate(
            zip(value_rows, formula_rows, strict=False), start=1
        ):
            cells: list[object] = []
            for value_cell, formula_cell in zip(value_row, formula_row, strict=False):
                value = value_cell.value
                if getattr(formula_cell, "data_type", None) == "f" and value is None:
                    cells.append(UnreadableCell("a formula saved without its value"))
                elif getattr(value_cell, "data_type", None) == "e":
                    cells.append(UnreadableCell("an error value"))
                else:
                    cells.append(value)
            numbered.append((number, cells))
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError) as error:
        raise OutcomesFileError(
            path, f"not a readable XLSX workbook ({type(error).__name__})"
        ) from None
    finally:
        values.close()
        formulas.close()
    return _cells(numbered, None)


def _cells(numbered: list[tuple[int, list[object]]], separator: str | None) -> OutcomeCells:
    rows = [(n, row) for n, row in numbered if any(cell not in (None, "") for cell in row)]
    if not rows:
        return OutcomeCells([], [], separator)
    header = [
        "" if cell is None or isinstance(cell, UnreadableCell) else str(cell).strip()
        for cell in rows[0][1]
    ]
    return OutcomeCells(header, rows[1:], separator)


def read_outcome_cells(path: Path) -> OutcomeCells:
    """An outcomes CSV or XLSX file as cells (CSV: str; XLSX: openpyxl's cached values).

    No type inference for CSV (money is never a float). Raises
    :class:`OutcomesFileError` for a file that is not a table at all (corrupt
    XLSX, binary data, undecodable text); the message never quotes a cell.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv_cells(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx_cells(path)
    raise OutcomesFileError(path, "expected a .csv or .xlsx file")


def empty_private_dir(path: Path, keep: tuple[str, ...] = ()) -> None:
    """Create ``path`` owner-only (:func:`make_private_dir`: it will hold cpr values) or
    empty it, but for ``keep``."""
    make_private_dir(path)
    for child in path.iterdir():
        if child.name not in keep:
            remove_path(child)


def remove_path(path: Path) -> None:
    """Remove a file, a symlink or a whole directory; nothing if it is not there."""
    if path.is_dir() and not path.is_symlink():
        remove_tree(path)
    else:
        path.unlink(missing_ok=True)
