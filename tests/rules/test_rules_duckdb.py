"""The DuckDB baseline (benchmarks/duckdb_rules.sql) finds the engine's cases, field by field.

The benchmark compares only case counts per rule at volume; here, on a small
delivery in which every rule fires (and some near misses do not), the two
implementations must agree on every case's rule, cpr, anchor date, period
and amount. A rule whose DuckDB section is missing or wrong fails by name.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

from kontrol.config import KontrolConfig
from kontrol.rules import CATALOGUE, evaluate_rules

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import duckdb_baseline


def _near_misses(d) -> None:
    """Lines each rule must not flag: a returned emigrant, income at the threshold, adjacency."""
    p = d.person("1970-01-01")
    d.lives(p, "2010-01-01", "D").emigrates(p, "2026-01-10").event(
        p, "2026-02-01", "immigrated", address="D"
    )
    d.payment(p, "BOLIGSTOTTE", "2026-02-01", amount="2000.00")
    d.payment(p, "KONTANTHJAELP", "2026-02-01", amount="8000.00")
    d.income(p, "2026-02-01", "1000.00")
    d.payment(p, "SYGEDAGPENGE", "2026-03-01", "2026-03-14", amount="4000.00")
    d.payment(p, "KONTANTHJAELP", "2026-03-15", "2026-03-31", amount="4000.00")


@pytest.mark.parametrize("as_of", ["2026-06-15", "2026-04-30"])
def test_duckdb_baseline_finds_the_engines_cases(d, tmp_path: Path, as_of: str) -> None:
    d.every_rule_fires()
    _near_misses(d)
    config = KontrolConfig()
    extracts = d.extracts(config)
    for name, frame in extracts.items():
        frame.collect().write_parquet(tmp_path / f"{name}.parquet")
    day = date.fromisoformat(as_of)
    engine = {
        (r["rule_id"], r["cpr"]): (
            r["anchor_date"],
            r["period_start"],
            r["period_end"],
            r["amount_at_stake_dkk"],
        )
        for r in evaluate_rules(extracts, day, config).collect().to_dicts()
    }
    connection = duckdb_baseline.connect(threads=1, memory_limit="1GB")
    duckdb_baseline.run(connection, tmp_path, day, config)
    baseline = {
        (r, c): (a, s, e, amount) for r, c, a, s, e, amount in duckdb_baseline.cases(connection)
    }
    problems = [
        f"{rule} {cpr}: engine {engine.get((rule, cpr))}, DuckDB {baseline.get((rule, cpr))}"
        for rule, cpr in sorted(set(engine) | set(baseline))
        if engine.get((rule, cpr)) != baseline.get((rule, cpr))
    ]
    assert not problems, "\n".join(problems)
    if as_of == "2026-06-15":
        assert {rule for rule, _ in engine} == {spec.rule_id for spec in CATALOGUE}
