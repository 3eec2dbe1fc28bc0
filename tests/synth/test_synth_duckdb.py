"""The DuckDB baseline's R08-R11 (benchmarks/duckdb_rules.sql) against the generator's truth."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import polars as pl
from synth_helpers import AS_OF, PARTNER_RULES, truth

from kontrol.config import KontrolConfig

ROOT = Path(__file__).resolve().parents[2]


def _baseline() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "duckdb_baseline", ROOT / "benchmarks" / "duckdb_baseline.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def duckdb_cases(delivery: Path) -> set[tuple[object, ...]]:
    baseline = _baseline()
    connection = baseline.connect()
    baseline.run(connection, delivery, AS_OF, KontrolConfig())
    return {
        (*row[:5], Decimal(str(row[5])).quantize(Decimal("0.01")))
        for row in baseline.cases(connection)
        if row[0] in PARTNER_RULES
    }


def test_duckdb_partner_rules_equal_the_ground_truth(small_town: Path) -> None:
    """Over the raw delivery (its few defective rows touch no partner-rule case)."""
    pos = truth(small_town).filter(
        (pl.col("kind") == "positive") & pl.col("rule_id").is_in(PARTNER_RULES)
    )
    expected = {
        (
            r["rule_id"],
            r["cpr"],
            r["anchor_date"],
            r["period_start"],
            r["period_end"],
            r["amount_at_stake_dkk"],
        )
        for r in pos.iter_rows(named=True)
    }
    assert len(expected) >= 8
    assert duckdb_cases(small_town) == expected


def test_duckdb_skips_rules_whose_register_is_missing(small_town: Path, tmp_path: Path) -> None:
    sql = _baseline().render(tmp_path, AS_OF, KontrolConfig())
    assert "utility_readings.parquet" not in sql
    assert "R08" not in sql.split("-- Rules R08-R11")[-1]
    full = _baseline().render(small_town, AS_OF, KontrolConfig())
    for name in ("utility_readings", "tenancies", "inspections", "custody"):
        assert f"{name}.parquet" in full
