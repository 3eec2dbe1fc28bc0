"""Rule performance from the register, for governance: no cpr, counts and sums only."""

from __future__ import annotations

import html
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import polars as pl

from kontrol.lifecycle.register import CONTROL_RULE_ID, FOUNDED


def rule_performance(register: pl.DataFrame, rule_ids: Sequence[str]) -> dict[str, Any]:
    """Per rule (and the control sample): raised, closed, founded, hit rate, money.

    ``hit_rate`` is the share founded among closed cases (null while none is
    closed); the control sample's is the base rate. Money is a decimal string.
    """
    rows = {rule: _empty() for rule in (*rule_ids, CONTROL_RULE_ID)}
    for case in register.iter_rows(named=True):
        stats = rows.setdefault(case["rule_id"], _empty())
        stats["raised"] += 1
        if case["outcome"] is not None:
            stats["closed"] += 1
            stats["founded"] += case["outcome"] == FOUNDED
            for name in ("repayment_dkk", "future_saving_dkk"):
                if case[name] is not None:
                    stats[name] += case[name]
    out: dict[str, Any] = {}
    for rule, stats in rows.items():
        closed = stats["closed"]
        out[rule] = {
            "raised": stats["raised"],
            "closed": closed,
            "founded": stats["founded"],
            "hit_rate": round(stats["founded"] / closed, 4) if closed else None,
            "repayment_dkk": f"{stats['repayment_dkk']:.2f}",
            "future_saving_dkk": f"{stats['future_saving_dkk']:.2f}",
        }
    control = out.pop(CONTROL_RULE_ID)
    return {"rules": out, "control_sample": control, "base_rate": control["hit_rate"]}


def _empty() -> dict[str, Any]:
    return {
        "raised": 0,
        "closed": 0,
        "founded": 0,
        "repayment_dkk": Decimal("0.00"),
        "future_saving_dkk": Decimal("0.00"),
    }


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def render_html(performance: dict[str, Any], run_id: str) -> str:
    """A small static page (no external assets, no cpr)."""
    base = performance["base_rate"]
    lines = []
    entries = [*performance["rules"].items(), ("control sample", performance["control_sample"])]
    for rule, stats in entries:
        lines.append(
            "<tr>"
            f"<th>{html.escape(rule)}</th><td>{stats['raised']}</td><td>{stats['closed']}</td>"
            f"<td>{stats['founded']}</td><td>{_rate(stats['hit_rate'])}</td>"
            f"<td>{_rate(base)}</td><td>{stats['repayment_dkk']}</td>"
            f"<td>{stats['future_saving_dkk']}</td></tr>"
        )
    rows = "\n".join(lines)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>kontrol: rule performance</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #999;padding:4px 8px;text-align:right}}</style></head>
<body><h1>Rule performance</h1>
<p>Run {html.escape(run_id)}. From the case register: every case published so far and the
outcomes imported from the case system. Hit rate = share founded among closed cases; the
base rate is the control sample's (recipients with no rule hit).</p>
<table><thead><tr><th>rule</th><th>raised</th><th>closed</th><th>founded</th>
<th>hit rate</th><th>base rate</th><th>repayment DKK</th><th>future saving DKK</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""
