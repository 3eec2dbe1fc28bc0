"""Helpers for the lifecycle tests: small queues built like the real one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from kontrol.queue import DEMO_CASE_KEY, assemble_queue
from kontrol.rules.spec import CASE_SCHEMA

KEY = DEMO_CASE_KEY.encode()


def make_queue(cases: list[dict[str, Any]], as_of: date) -> pl.DataFrame:
    """An assembled queue (keyed ids, priority, run id, status new) for ``cases``."""
    rows = [
        {
            "period_start": case["anchor_date"],
            "period_end": as_of,
            "amount_at_stake_dkk": Decimal("1000.00"),
            "benefit_codes": ["KTH"],
            "evidence": "{}",
            "legal_basis": "test",
            **case,
        }
        for case in cases
    ]
    frame = pl.DataFrame(rows, schema=CASE_SCHEMA)
    return assemble_queue(frame, KEY, f"{as_of.isoformat()}-000000000000")
