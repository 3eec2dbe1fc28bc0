"""Rule performance from the register, for governance: no cpr, counts and sums only."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import polars as pl

from kontrol import pages
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


def render_html(performance: dict[str, Any], run_id: str) -> str:
    """A small static page (no external assets, no cpr), from ``performance.html.j2``."""
    entries = [*performance["rules"].items(), ("control sample", performance["control_sample"])]
    rows = [
        (
            rule,
            {
                **stats,
                "repayment_dkk": Decimal(stats["repayment_dkk"]),
                "future_saving_dkk": Decimal(stats["future_saving_dkk"]),
            },
        )
        for rule, stats in entries
    ]
    base_rate = performance["base_rate"]
    return pages.render(
        "performance.html.j2", lang="en", run_id=run_id, rows=rows, base_rate=base_rate
    )
