"""All file reading and writing of kontrol lives here.

Transforms elsewhere take and return LazyFrames; this module turns paths into
LazyFrames (after checking the delivery's structure against
:mod:`kontrol.schema`) and frames back into files, always atomically: a file
is written beside its destination under a temporary name and moved into
place with :func:`os.replace`, so a reader never sees half a file and a
crashed run leaves the previous publication intact.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal

import polars as pl
import pyarrow.parquet as pq

from kontrol.errors import StructuralDefect
from kontrol.schema import ExtractSpec

#: Parquet settings for everything kontrol writes. Fixed, so that the same
#: frame gives the same bytes (CONTRACT.md section 3: byte-identical output).
PARQUET_COMPRESSION: Final[Literal["zstd"]] = "zstd"
PARQUET_COMPRESSION_LEVEL = 3


# --- reading a delivery ---------------------------------------------------------


def _describe(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"decimal({dtype.precision},{dtype.scale})"
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


def delivered_schema(path: Path) -> pl.Schema:
    """The Parquet file's schema, or a structural defect naming the file."""
    if not path.is_file():
        raise StructuralDefect(path.name, None, "required file missing")
    try:
        return pl.Schema(pl.read_parquet_schema(path))
    except Exception as error:  # polars/arrow raise several types for corrupt files
        raise StructuralDefect(path.name, None, f"unreadable as Parquet ({error})") from error


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
    found = delivered_schema(path)
    check_structure(spec, found)
    casts = [pl.col(c.name).cast(c.dtype) for c in spec.columns if found[c.name] != c.dtype]
    frame = pl.scan_parquet(path)
    return frame.with_columns(casts) if casts else frame


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
def _temporary_beside(destination: Path, suffix: str = "") -> Iterator[Path]:
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=suffix + ".tmp", dir=destination.parent
    )
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        # mkstemp creates 0600; published files are read by other accounts
        # (caseworkers' tools, auditors), so give them the usual 0644.
        temporary.chmod(0o644)
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


def write_json(document: Any, destination: Path) -> None:
    """Write JSON atomically with sorted keys, so equal documents give equal bytes."""
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_text(text, destination)


def write_text(text: str, destination: Path) -> None:
    with _temporary_beside(destination) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_bytes(data: bytes, destination: Path) -> None:
    with _temporary_beside(destination) as temporary:
        temporary.write_bytes(data)


def write_stream(destination: Path, write: Callable[[BinaryIO], None]) -> None:
    """Atomically write what ``write`` streams into a seekable binary file (e.g. a workbook)."""
    with _temporary_beside(destination) as temporary, temporary.open("wb") as out:
        write(out)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def make_staging_dir(out_dir: Path, label: str) -> Path:
    """A fresh private directory inside ``out_dir`` (same filesystem: renames are atomic)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".staging-{label}-", dir=out_dir))


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


# --- the case register and outcome files (kontrol.lifecycle) --------------------------


def read_parquet(path: Path) -> pl.DataFrame:
    """Read a whole Parquet file kontrol wrote (the register, a published queue)."""
    return pl.read_parquet(path)


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if missing) for the block."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_table_cells(path: Path) -> tuple[list[str], list[list[object]]]:
    """A CSV or XLSX file's header and rows, cells as read (CSV: str; XLSX: cell values).

    No type inference for CSV (every cell a string, so money is never a float);
    XLSX cells keep openpyxl's values (the caller converts numbers via ``str``).
    """
    import csv

    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows: list[list[object]] = [list(row) for row in csv.reader(handle)]
    elif suffix in (".xlsx", ".xlsm"):
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    else:
        raise ValueError(f"{path.name}: expected a .csv or .xlsx file")
    rows = [row for row in rows if any(cell not in (None, "") for cell in row)]
    if not rows:
        return [], []
    header = ["" if cell is None else str(cell).strip() for cell in rows[0]]
    return header, rows[1:]


def remove_file(path: Path) -> None:
    path.unlink(missing_ok=True)


def list_dir_names(path: Path) -> list[str]:
    """Sorted names in a directory (empty when it does not exist)."""
    return sorted(child.name for child in path.iterdir()) if path.is_dir() else []


def read_bytes(path: Path) -> bytes:
    return path.read_bytes()


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` if needed, mode 0700 (it holds cpr values)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
