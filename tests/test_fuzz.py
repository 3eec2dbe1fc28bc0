"""Fuzz: mutated deliveries end in success or in one clear line, never a traceback (issue 11).

Hypothesis mutates the valid tiny delivery (types, encodings, truncation,
corrupt pages, nulls, duplicates, extreme values, missing/extra columns,
empty or missing files) and runs ``kontrol load`` (the loader: cheap, many
examples) and ``kontrol run`` (the whole run with validation: a few seconds
each, few examples). Every outcome must be exit 0, or exit 1/2 with exactly
one ``kontrol:`` line naming a file or an argument, and never an internal
error (the last-resort handler) or an exception out of ``main``.

CI runs a bounded, derandomized number of examples (well under a minute on
an idle 2-core machine). A deep run explores at random::

    KONTROL_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest tests/test_fuzz.py -q

which uses that number for the loader and a tenth of it for whole runs.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from builders import tiny_rows, write_delivery
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kontrol.cli import main
from kontrol.schema import EXTRACT_NAMES

DEEP = int(os.environ.get("KONTROL_FUZZ_EXAMPLES", "0"))
LOAD_EXAMPLES = DEEP or 30
RUN_EXAMPLES = max(DEEP // 10, 1) if DEEP else 3


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=not DEEP,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- mutations ---------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    extract: str
    kind: str
    column: int  # an index, taken modulo the extract's column count
    row: int  # an index, taken modulo the row count
    choice: int  # picks a type, an extreme value, a cut point


TABLE_KINDS = (
    "retype",
    "dictionary",
    "date64",
    "bad_utf8",
    "nulls",
    "duplicate",
    "extreme",
    "drop_column",
    "extra_column",
    "empty",
    "repeat_rows",
)
FILE_KINDS = ("truncate", "corrupt", "delete", "zero_bytes", "not_parquet")

TYPES: tuple[pa.DataType, ...] = (
    pa.int64(),
    pa.int8(),
    pa.float64(),
    pa.string(),
    pa.large_string(),
    pa.binary(),
    pa.bool_(),
    pa.date32(),
    pa.timestamp("us", tz="Europe/Copenhagen"),
    pa.decimal128(20, 4),
    pa.decimal128(12, 2),
)


def _extreme(field_type: pa.DataType, choice: int) -> Any:
    if pa.types.is_decimal(field_type):
        top = Decimal(10) ** (field_type.precision - field_type.scale) - Decimal(1).scaleb(
            -field_type.scale
        )
        return [top, -top, Decimal(0), Decimal("0.01")][choice % 4]
    if pa.types.is_date(field_type):
        return [date(1, 1, 1), date(1900, 1, 1), date(9999, 12, 31), date(2026, 10, 31)][choice % 4]
    if pa.types.is_integer(field_type):
        bits = field_type.bit_width
        return [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1, 0, -1][choice % 4]
    return ["", " ", "x" * 10_000, "0101901234", "ÆØÅ æøå", "\x00", "DK;SE"][choice % 7]


def _column(table: pa.Table, mutation: Mutation) -> tuple[int, pa.Field]:
    index = mutation.column % table.num_columns
    return index, table.schema.field(index)


def _mutate_table(table: pa.Table, m: Mutation) -> pa.Table:
    n = table.num_rows
    index, field = _column(table, m)
    column = table.column(index).combine_chunks()
    row = m.row % n if n else 0
    if m.kind == "retype":
        target = TYPES[m.choice % len(TYPES)]
        try:
            new = column.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            new = pa.nulls(n, target)
        return table.set_column(index, field.name, new)
    if m.kind == "dictionary" and pa.types.is_string(field.type):
        return table.set_column(index, field.name, column.dictionary_encode())
    if m.kind == "date64" and pa.types.is_date32(field.type):
        return table.set_column(index, field.name, column.cast(pa.date64()))
    if m.kind == "bad_utf8" and pa.types.is_string(field.type) and n:
        raw = [None if v is None else v.encode() for v in column.to_pylist()]
        raw[row] = b"\xff\xfe" + (raw[row] or b"")
        bad = pa.array(raw, pa.binary()).view(pa.string())
        return table.set_column(index, field.name, bad)
    if m.kind == "nulls" and n:
        mask = pa.array([i == row or (m.choice > 0 and i % (m.choice + 1) == 0) for i in range(n)])
        return table.set_column(
            index, field.name, pc.if_else(mask, pa.nulls(n, field.type), column)
        )
    if m.kind == "duplicate" and n:
        return pa.concat_tables([table, table.slice(row, 1 + m.choice % 3)])
    if m.kind == "repeat_rows" and n:
        return pa.concat_tables([table] * (2 + m.choice % 3))
    if m.kind == "extreme" and n:
        values = column.to_pylist()
        values[row] = _extreme(field.type, m.choice)
        try:
            new = pa.array(values, field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            return table
        return table.set_column(index, field.name, new)
    if m.kind == "drop_column":
        return table.remove_column(index)
    if m.kind == "extra_column":
        return table.append_column("extra", pa.array([m.choice] * n, pa.int64()))
    if m.kind == "empty":
        return table.slice(0, 0)
    return table


def _mutate_file(path: Path, m: Mutation) -> None:
    if m.kind == "delete":
        path.unlink()
        return
    if m.kind == "zero_bytes":
        path.write_bytes(b"")
        return
    if m.kind == "not_parquet":
        path.write_text("cpr;navn\n0101901234;x\n", encoding="utf-8-sig")
        return
    data = bytearray(path.read_bytes())
    if m.kind == "truncate":
        path.write_bytes(bytes(data[: (m.choice * 7919) % len(data)]))
        return
    # corrupt: scramble a stretch of bytes before the footer
    footer = int.from_bytes(data[-8:-4], "little") + 8
    body = max(len(data) - footer - 4, 1)
    start = 4 + (m.row * 131) % body
    for i in range(start, min(start + 1 + m.choice % 64, len(data) - footer)):
        data[i] ^= 0xA5
    path.write_bytes(bytes(data))


def apply(delivery: Path, mutations: list[Mutation]) -> None:
    for m in mutations:
        path = delivery / f"{m.extract}.parquet"
        if not path.is_file():
            continue
        if m.kind in FILE_KINDS:
            _mutate_file(path, m)
            continue
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError):
            continue  # an earlier mutation broke the file: that is already the test
        pq.write_table(_mutate_table(table, m), path)


mutations = st.lists(
    st.builds(
        Mutation,
        extract=st.sampled_from(EXTRACT_NAMES),
        kind=st.sampled_from(TABLE_KINDS + FILE_KINDS),
        column=st.integers(0, 7),
        row=st.integers(0, 40),
        choice=st.integers(0, 12),
    ),
    min_size=1,
    max_size=3,
)


# --- the property --------------------------------------------------------------------

NAMES_A_FILE_OR_ARGUMENT = re.compile(r"[\w.-]+\.(parquet|yaml|json)\b|--[a-z-]+|KONTROL_\w+")


def check_outcome(argv: list[str]) -> None:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = main(["--quiet", *argv])
    text = stderr.getvalue()
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if line.startswith("kontrol: ")]
    if code == 0:
        assert not lines, text
        return
    assert code in (1, 2), (code, text)
    assert len(lines) == 1, text
    assert "internal error" not in lines[0], lines[0]
    assert NAMES_A_FILE_OR_ARGUMENT.search(lines[0]), lines[0]


ROWS = tiny_rows()


@fuzz_settings(LOAD_EXAMPLES)
@given(mutations)
def test_fuzzed_deliveries_load_or_fail_clearly(changes: list[Mutation]) -> None:
    with tempfile.TemporaryDirectory(prefix="kontrol-fuzz-") as name:
        delivery = write_delivery(Path(name) / "delivery", ROWS)
        apply(delivery, changes)
        check_outcome(["load", "--extracts", str(delivery)])


@fuzz_settings(RUN_EXAMPLES)
@given(mutations)
def test_fuzzed_deliveries_run_or_fail_clearly(changes: list[Mutation]) -> None:
    with tempfile.TemporaryDirectory(prefix="kontrol-fuzz-") as name:
        delivery = write_delivery(Path(name) / "delivery", ROWS)
        apply(delivery, changes)
        out = Path(name) / "out"
        argv = ["run", "--extracts", str(delivery), "--out", str(out), "--as-of", "2026-10-31"]
        check_outcome([*argv, "--demo-key"])
        assert not [p for p in out.iterdir() if p.name.startswith(".staging")]
