"""Turning a chunk's integer columns into Arrow tables of the declared schemas, and writing.

Types come from :mod:`kontrol.schema` (``extract_specs``), never restated
here: :func:`arrow_schema` maps each declared Polars dtype to its Arrow type.
Money is built from integer øre straight into ``decimal128`` buffers (16-byte
two's complement of the unscaled value), so no stored amount ever passes
through a binary float.

Parquet is written by pyarrow with fixed settings (zstd level 3, dictionary
encoding, statistics, format 2.6, a fixed row-group size), so the same rows
always give the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from kontrol import io
from kontrol.schema import EVENT_TYPES, PAYMENT_TYPES, RELATION_TYPES, ExtractSpec
from kontrol.synth.calendar import NO_DAY, Calendar, IntArray
from kontrol.synth.model import BENEFIT_CODES, CIT_CODES, COUNTRIES
from kontrol.synth.population import Population

ROW_GROUP_SIZE = 1_000_000
HEX = np.array([f"{i:02x}".encode() for i in range(256)], dtype="S2")


def arrow_type(dtype: pl.DataType) -> pa.DataType:
    if isinstance(dtype, pl.Decimal):
        return pa.decimal128(dtype.precision or 38, dtype.scale or 0)
    if dtype == pl.String():
        return pa.string()
    if dtype == pl.Date():
        return pa.date32()
    if dtype == pl.Int16():
        return pa.int16()
    if dtype == pl.Int32():
        return pa.int32()
    if dtype == pl.Int64():
        return pa.int64()
    raise TypeError(f"no Arrow mapping for {dtype}")  # pragma: no cover


def arrow_schema(spec: ExtractSpec) -> pa.Schema:
    return pa.schema([pa.field(c.name, arrow_type(c.dtype)) for c in spec.columns])


def decimal_array(
    ore: IntArray, precision: int, mask: np.ndarray | None = None, scale: int = 2
) -> pa.Array:
    """decimal128(precision, scale) from integer units of 10**-scale (øre by default), exactly."""
    ore = np.ascontiguousarray(ore, dtype="<i8")
    words = np.empty(2 * len(ore), dtype="<i8")
    words[0::2] = ore
    words[1::2] = np.where(ore < 0, -1, 0)
    validity = None
    if mask is not None and mask.any():
        validity = pa.array(~mask).buffers()[1]
    return pa.Array.from_buffers(
        pa.decimal128(precision, scale),
        len(ore),
        [validity, pa.py_buffer(words.tobytes())],
        null_count=int(mask.sum()) if mask is not None else 0,
    )


def date_array(days: IntArray) -> pa.Array:
    nulls = days >= NO_DAY
    values = np.where(nulls, 0, days).astype(np.int32)
    return pa.array(values, type=pa.int32(), mask=nulls if nulls.any() else None).view(pa.date32())


def vocab(words: tuple[str, ...], index: IntArray) -> pa.Array:
    """Strings from a small vocabulary; a negative index is null."""
    idx = pa.array(index, type=pa.int64(), mask=index < 0)
    return pa.array(words, type=pa.string()).take(idx)


def padded(numbers: IntArray, width: int, prefix: str = "") -> pa.Array:
    text = pc.utf8_lpad(pa.array(numbers, type=pa.int64()).cast(pa.string()), width, "0")
    if prefix:
        text = pc.binary_join_element_wise(prefix, text, "")
    return text


def uuid_strings(rng: np.random.Generator, count: int) -> pa.Array:
    """DAR-like address ids (random version-4 style UUID text)."""
    raw = rng.integers(0, 256, size=(count, 16), dtype=np.uint8)
    hexed = HEX[raw].view("S1").reshape(count, 32)
    out = np.full((count, 36), b"-", dtype="S1")
    for dst, src in (
        (slice(0, 8), slice(0, 8)),
        (slice(9, 13), slice(8, 12)),
        (slice(14, 18), slice(12, 16)),
        (slice(19, 23), slice(16, 20)),
        (slice(24, 36), slice(20, 32)),
    ):
        out[:, dst] = hexed[:, src]
    return pa.array(out.view("S36").ravel(), type=pa.binary(36)).cast(pa.string())


def persons_table(pop: Population, cpr: pa.Array, schema: pa.Schema) -> pa.Table:
    return pa.Table.from_arrays(
        [
            cpr,
            date_array(pop.birth),
            vocab(("M", "K"), pop.sex),
            vocab(CIT_CODES, pop.cit),
            pa.array(pop.muni.astype(np.int16), type=pa.int16()),
        ],
        schema=schema,
    )


def events_table(
    ev: dict[str, IntArray], cpr: pa.Array, addresses: pa.Array, schema: pa.Schema
) -> pa.Table:
    addr_idx = pa.array(ev["addr"], type=pa.int64(), mask=ev["addr"] < 0)
    return pa.Table.from_arrays(
        [
            cpr.take(pa.array(ev["pidx"])),
            date_array(ev["day"]),
            vocab(EVENT_TYPES, ev["etype"]),
            addresses.take(addr_idx),
            vocab(COUNTRIES, ev["country"]),
        ],
        schema=schema,
    )


def relations_table(rel: dict[str, IntArray], cpr: pa.Array, schema: pa.Schema) -> pa.Table:
    return pa.Table.from_arrays(
        [
            cpr.take(pa.array(rel["pidx"])),
            cpr.take(pa.array(rel["ridx"])),
            vocab(RELATION_TYPES, rel["rel"]),
            date_array(rel["vfrom"]),
            date_array(rel["vto"]),
        ],
        schema=schema,
    )


def payments_table(
    pay: dict[str, IntArray], ids: pa.Array, cpr: pa.Array, schema: pa.Schema
) -> pa.Table:
    return pa.Table.from_arrays(
        [
            ids,
            cpr.take(pa.array(pay["pidx"])),
            vocab(BENEFIT_CODES, pay["code"]),
            date_array(pay["s"]),
            date_array(pay["e"]),
            decimal_array(pay["amount"], 12),
            vocab(PAYMENT_TYPES, pay["ptype"]),
            date_array(pay["paid"]),
        ],
        schema=schema,
    )


def income_table(inc: dict[str, IntArray], cpr: pa.Array, schema: pa.Schema) -> pa.Table:
    return pa.Table.from_arrays(
        [
            cpr.take(pa.array(inc["pidx"])),
            padded(inc["cvr"], 8),
            date_array(inc["month"]),
            decimal_array(inc["amount"], 12),
        ],
        schema=schema,
    )


def readings_table(
    r: dict[str, IntArray], addresses: pa.Array, cal: Calendar, schema: pa.Schema
) -> pa.Table:
    from kontrol.synth.registers import UTILITIES

    return pa.Table.from_arrays(
        [
            addresses.take(pa.array(r["addr"])),
            vocab(UTILITIES, r["util"]),
            date_array(cal.month_start[r["month"]]),
            decimal_array(r["milli"], 12, scale=3),
        ],
        schema=schema,
    )


def tenancies_table(
    t: dict[str, IntArray],
    chunk: int,
    addresses: pa.Array,
    cpr: pa.Array,
    outsiders: list[str],
    schema: pa.Schema,
) -> pa.Table:
    """A negative ``pidx`` is an outsider (``-1 - pidx`` indexes ``outsiders``)."""
    from kontrol.synth.registers import ROLES

    people = pa.concat_arrays([cpr, pa.array(outsiders, type=pa.string())])
    index = np.where(t["pidx"] >= 0, t["pidx"], len(cpr) - 1 - t["pidx"])
    return pa.Table.from_arrays(
        [
            padded(chunk * 10_000_000 + t["lease"], 10, "L"),
            addresses.take(pa.array(t["addr"])),
            people.take(pa.array(index)),
            vocab(ROLES, t["role"]),
            date_array(t["vfrom"]),
            date_array(t["vto"]),
        ],
        schema=schema,
    )


def inspections_table(
    i: dict[str, IntArray], chunk: int, cpr: pa.Array, schema: pa.Schema
) -> pa.Table:
    return pa.Table.from_arrays(
        [
            padded(chunk * 10_000_000 + i["insp"], 10, "V"),
            date_array(i["day"]),
            padded(i["cvr"], 8),
            cpr.take(pa.array(i["pidx"])),
        ],
        schema=schema,
    )


def custody_table(c: dict[str, IntArray], cpr: pa.Array, schema: pa.Schema) -> pa.Table:
    from kontrol.synth.registers import CUSTODY_TYPES

    return pa.Table.from_arrays(
        [
            cpr.take(pa.array(c["pidx"])),
            vocab(CUSTODY_TYPES, c["ctype"]),
            date_array(c["start"]),
            date_array(c["end"]),
        ],
        schema=schema,
    )


def open_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    return io.parquet_writer(
        path,
        schema,
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        version="2.6",
    )


def write_table(writer: pq.ParquetWriter, table: pa.Table) -> None:
    if table.num_rows:
        writer.write_table(table, row_group_size=ROW_GROUP_SIZE)
