"""Queues for the case-list tests: the fixture delivery's real queue and a tiny hand-made one."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from kontrol.queue import QUEUE_SCHEMA


@pytest.fixture(scope="session")
def fixture_queue(fixture_run: Path) -> pl.DataFrame:
    """``cases.parquet`` of the session's run on the fixture delivery (tests/conftest.py)."""
    return pl.read_parquet(fixture_run / "cases.parquet")


def _row(
    priority: int, rule_id: str, amount: str, items: list[dict[str, Any]], **kw: Any
) -> dict[str, Any]:
    anchor = kw.pop("anchor", date(2026, 2, 20))
    codes = kw.pop("codes")
    evidence = {
        "rule_id": rule_id,
        "rule_name": "x",
        "summary": "English summary",
        "anchor_date": anchor.isoformat(),
        "period_start": "2026-03-01",
        "period_end": "2026-10-31",
        "amount_at_stake_dkk": amount,
        "benefit_codes": codes,
        "items_total": len(items),
        "items_listed": len(items),
        "items": items,
        "score_explanation": kw.pop("explanation", []),
    }
    return {
        "case_id": f"case{priority:02d}",
        "rule_id": rule_id,
        "cpr": kw.pop("cpr", f"01010{priority:05d}"),
        "anchor_date": anchor,
        "period_start": date(2026, 3, 1),
        "period_end": date(2026, 10, 31),
        "amount_at_stake_dkk": Decimal(amount),
        "benefit_codes": codes,
        "evidence": json.dumps(evidence, ensure_ascii=False),
        "legal_basis": kw.pop("basis", "Aktivloven § 5."),
        "anomaly_score": kw.pop("score", None),
        "priority": priority,
        "run_id": "2026-10-31-abcdef123456",
    }


def _line(code: str, month: int, amount: str, **extra: Any) -> dict[str, Any]:
    end = 30 if month in (4, 6, 9, 11) else 31
    return {
        "benefit_code": code,
        "period_start": f"2026-{month:02d}-01",
        "period_end": f"2026-{month:02d}-{end}",
        "amount_dkk": amount,
        **extra,
    }


@pytest.fixture
def tiny_queue() -> pl.DataFrame:
    """Three cases with hand-written evidence, one carrying markup in its data."""
    abroad = {"state_on_period_start": "abroad"}
    emigrated = {"event_type": "emigrated", "event_date": "2026-02-20", "country_code": "SE"}
    hostile = {"event_type": "emigrated", "event_date": "2026-01-05", "country_code": "<b>X</b>"}
    household = [
        {"cpr": "0101800001", "relations": ["spouse"], **abroad, **emigrated},
        {"cpr": "0101150002", "relations": ["child"], **abroad, **emigrated},
        {"cpr": "0101160003", "relations": ["child"], **abroad, **emigrated},
    ]
    r01_facts = {
        "recipient_state_on_period_start": "resident",
        "recipient_address_id": None,
        "household_size": 3,
        "household": household,
    }
    rows = [
        _row(
            1,
            "R01",
            "132728.00",
            [
                _line(c, m, a, **r01_facts)
                for m in range(3, 11)
                for c, a in (("KONTANTHJAELP", "12000.00"), ("BOERNE_UNGEYDELSE", "4591.00"))
            ],
            codes=["BOERNE_UNGEYDELSE", "KONTANTHJAELP"],
            score=0.9,
            explanation=[
                {
                    "feature": "corrections",
                    "value": 3.0,
                    "typical": 0.0,
                    "robust_z": 9.0,
                    "text": "3 corrections",
                },
                {
                    "feature": "new_feature",
                    "value": 1.0,
                    "typical": 0.0,
                    "robust_z": 2.0,
                    "text": "untranslated <i>text</i>",
                },
            ],
        ),
        _row(
            2,
            "R02",
            "1234567.89",
            [
                _line("BOLIGSTOTTE", m, a, recipient_state_on_period_start="abroad", event=hostile)
                for m, a in [*((m, "154320.98") for m in range(3, 11)), (11, "0.05")]
            ],
            codes=["BOLIGSTOTTE"],
            basis="<script>alert(1)</script> & § 5",
            cpr="<img src=x onerror=alert(1)>",
        ),
        _row(
            3,
            "R06",
            "500.50",
            [
                {
                    "line_1": {
                        "benefit_code": "SYGEDAGPENGE",
                        "period_start": "2026-03-01",
                        "period_end": "2026-03-10",
                        "amount_dkk": "900.00",
                        "days": 10,
                        "prorated_dkk": "810.00",
                    },
                    "line_2": {
                        "benefit_code": "DAGPENGE",
                        "period_start": "2026-03-02",
                        "period_end": "2026-03-10",
                        "amount_dkk": "700.00",
                        "days": 9,
                        "prorated_dkk": "700.00",
                    },
                    "shared_from": "2026-03-02",
                    "shared_to": "2026-03-10",
                    "shared_days": 9,
                    "amount_dkk": "500.50",
                }
            ],
            codes=["DAGPENGE", "SYGEDAGPENGE"],
            score=0.1,
        ),
    ]
    return pl.DataFrame(rows, schema=QUEUE_SCHEMA)


def grow_queue(base: pl.DataFrame, n: int, *, shared_every: int = 4) -> pl.DataFrame:
    """``n`` cases made from ``base``'s rows, priorities 1..n; every ``shared_every``-th
    case belongs to the same person as the case before it (a person with two cases)."""
    base = base.sort("priority")
    i = pl.int_range(0, n, eager=True).alias("i")
    person = pl.when(i % shared_every == 1).then(i - 1).otherwise(i)
    frame = pl.DataFrame(i).with_columns(
        (pl.col("i") % base.height).alias("b"),
        pl.format("v{}", pl.col("i").cast(pl.String).str.zfill(11)).alias("case_id"),
        pl.format("99{}", person.cast(pl.String).str.zfill(8)).alias("cpr"),
        (pl.col("i") + 1).cast(pl.Int32).alias("priority"),
    )
    rows = base.drop("case_id", "cpr", "priority").with_row_index("b")
    out = frame.join(rows.with_columns(pl.col("b").cast(pl.Int64)), on="b", how="left")
    return out.sort("i").select(base.columns)


@pytest.fixture
def grown(fixture_queue: pl.DataFrame) -> Any:
    return lambda n, **kw: grow_queue(fixture_queue, n, **kw)
