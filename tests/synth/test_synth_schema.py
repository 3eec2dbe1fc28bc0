"""Every file has the declared types, keys are unique, and only defect rows break constraints."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from synth_helpers import SMALL_DEFECTS

from kontrol.schema import extract_specs
from kontrol.synth.model import BENEFIT_CODES
from kontrol.synth.output import arrow_schema

SPECS = extract_specs(BENEFIT_CODES)


@pytest.mark.parametrize("name", list(SPECS))
def test_declared_schema(small_town: Path, name: str) -> None:
    spec = SPECS[name]
    path = small_town / spec.file_name
    assert pl.read_parquet_schema(path) == spec.schema
    arrow = pq.read_schema(path)
    assert arrow.names == [c.name for c in spec.columns]
    assert [f.type for f in arrow] == [f.type for f in arrow_schema(spec)]


@pytest.mark.parametrize("name", list(SPECS))
def test_keys_unique(small_town: Path, name: str) -> None:
    spec = SPECS[name]
    if not spec.key:
        return
    frame = pl.read_parquet(small_town / spec.file_name)
    assert frame.select(spec.key).null_count().sum_horizontal().item() == 0
    assert not frame.select(spec.key).is_duplicated().any()


def _row_id(name: str) -> pl.Expr:
    if name == "payments":
        return pl.col("payment_id")
    if name == "persons":
        return pl.col("cpr")
    if name == "residence_events":
        return pl.concat_str([pl.col("cpr"), pl.col("event_date").cast(pl.String)], separator="|")
    if name == "income":
        return pl.concat_str(
            [pl.col("cpr"), pl.col("employer_cvr"), pl.col("month").cast(pl.String)],
            separator="|",
        )
    return pl.concat_str(
        [
            pl.col("cpr"),
            pl.col("related_cpr"),
            pl.col("relation"),
            pl.col("valid_from").cast(pl.String),
        ],
        separator="|",
    )


def test_only_injected_defects_break_constraints(small_town: Path) -> None:
    expected = pl.read_parquet(small_town / "ground_truth_rejects.parquet")
    assert expected.height == SMALL_DEFECTS
    assert expected["extract"].n_unique() >= 4, "defects are spread over the extracts"
    found: list[tuple[str, str, str]] = []
    for name, spec in SPECS.items():
        frame = pl.read_parquet(small_town / spec.file_name)
        reasons = [
            pl.when(~c.valid()).then(pl.lit(c.reason)).otherwise(None)
            for c in spec.all_constraints()
        ]
        bad = frame.select(
            _row_id(name).alias("row_id"), pl.coalesce(reasons).alias("reason")
        ).drop_nulls("reason")
        found += [(name, r, why) for r, why in bad.iter_rows()]
        n_rejects = bad.height
        assert n_rejects <= frame.height // 100, f"{name}: more than 1 % rejects"
    assert sorted(found) == sorted(expected.select("extract", "row_id", "reason").iter_rows())
