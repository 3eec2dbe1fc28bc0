"""Plain-text views of a published case queue, for the terminal and the README.

The full caseworker list (HTML/XLSX, in Danish) is a later feature; this view
shows what the queue holds: priority, rule, amount, period, benefits and the
evidence summary. It prints the case id, not the cpr.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from kontrol import io


def describe_top_cases(cases_path: Path, top: int) -> list[str]:
    cases = io.scan_parquet(cases_path).sort("priority").head(top).collect()
    lines = [f"{cases_path}: top {cases.height} cases by priority"]
    for row in cases.iter_rows(named=True):
        evidence = json.loads(row["evidence"])
        lines.append(
            f"#{row['priority']} {row['rule_id']} case {row['case_id'][:12]}: "
            f"{row['amount_at_stake_dkk']:,} DKK at stake, "
            f"{row['period_start']} to {row['period_end']}, "
            f"{', '.join(row['benefit_codes'])}"
        )
        summary = evidence.get("summary") if isinstance(evidence, dict) else None
        if summary:
            lines.append(f"    {summary}")
        lines.append(f"    legal basis: {row['legal_basis']}")
    return lines


def count_by_rule(cases_path: Path) -> pl.DataFrame:
    return io.scan_parquet(cases_path).group_by("rule_id").len().sort("rule_id").collect()
