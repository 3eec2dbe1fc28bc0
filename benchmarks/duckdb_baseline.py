"""The DuckDB baseline (benchmarks/duckdb_rules.sql): render it, run it, return its cases.

Used by run_benchmarks.py (timing and case counts at volume) and by
tests/rules/test_rules_duckdb.py (the same cases as the engine, field by
field, on a small delivery). Kept apart from the benchmark script so the test
imports nothing that measures.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

SQL = Path(__file__).resolve().parent / "duckdb_rules.sql"

#: A rule's section header in the SQL: ``-- R01 family abroad ...``.
SECTION = re.compile(r"^-- (R\d{2}) ", re.MULTILINE)


def sections() -> list[str]:
    """The rule ids that have a section in duckdb_rules.sql, in file order."""
    return SECTION.findall(SQL.read_text())


#: Opens the block of a rule that reads optional registers: ``-- @reads <extract> ...``.
READS_MARKER = "-- @reads "


def delivered_blocks(text: str, data: Path) -> str:
    """The SQL of R01-R07, then each R08-R11 block whose optional registers are in ``data``.

    CONTRACT.md 1b: a rule runs only when every extract it reads is delivered.
    """
    head, *blocks = text.split("\n" + READS_MARKER)
    kept = [head]
    for block in blocks:
        reads = block.splitlines()[0].split()
        if all((data / f"{name}.parquet").is_file() for name in reads):
            kept.append(READS_MARKER + block)
    return "\n".join(kept)


def render(data: Path, as_of: date, config: Any) -> str:
    """The SQL for the clean extracts in ``data``, with the configuration's benefit flags."""
    from kontrol.window import window_for

    def quoted(codes: list[str]) -> str:
        return ", ".join(f"'{code}'" for code in codes)

    def parameter(rule: str, name: str, default: object) -> object:
        return config.rule_parameters.get(rule, {}).get(name, default)

    return delivered_blocks(SQL.read_text(), data).format(
        dir=data,
        as_of=as_of.isoformat(),
        window_start=window_for(as_of, config.window_months).start.isoformat(),
        threshold=parameter("R04", "income_threshold_dkk", "1000.00"),
        residence=quoted(config.codes_where("residence_required")),
        income_tested=quoted(config.codes_where("income_tested")),
        replacement=quoted(config.codes_where("income_replacement")),
        work_excluded=quoted(config.codes_where("work_excluded")),
        stops=quoted(config.codes_where("stops_in_custody")),
        max_kwh=parameter("R08", "max_monthly_kwh", "10"),
        min_spell_days=int(str(parameter("R11", "min_spell_days", 14))),
    )


def connect(threads: int = 2, memory_limit: str = "12GB") -> Any:
    import duckdb

    connection = duckdb.connect()
    connection.execute(f"SET threads = {threads}")
    connection.execute(f"SET memory_limit = '{memory_limit}'")  # leave room on 24 GiB
    return connection


def run(connection: Any, data: Path, as_of: date, config: Any) -> None:
    """Build the ``cases`` table of the baseline in ``connection``."""
    connection.execute(render(data, as_of, config))


def cases(connection: Any) -> list[tuple[Any, ...]]:
    """``(rule_id, cpr, anchor_date, period_start, period_end, amount)`` with amount > 0."""
    return connection.execute(
        "SELECT rule_id, cpr, anchor_date, period_start, period_end, amount FROM cases"
        " WHERE amount > 0 ORDER BY rule_id, cpr"
    ).fetchall()
