"""Fixtures for the validation tests: staged deliveries and case queues.

GX is imported once per test process (the first validation pays ~10 s);
every validation after that builds a fresh ephemeral context in milliseconds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from builders import CHILD, FATHER, MOTHER, tiny_rows, write_delivery

from kontrol import pipeline
from kontrol.config import KontrolConfig, LoaderConfig
from kontrol.queue import assemble_queue, run_id_for

AS_OF = date(2026, 10, 31)
KEY = b"validation-test-key-0123456789"
ALL_CPRS = (MOTHER, FATHER, CHILD)

Rows = dict[str, list[dict[str, Any]]]


class Staged:
    """A delivery that went through the real load stage into a staging dir."""

    def __init__(self, staging: Path, loads: dict[str, pipeline.ExtractLoad]) -> None:
        self.staging = staging
        self.loads = loads


def validation_rows() -> Rows:
    """The tiny delivery, paid up to the as-of month (else a warning says payments stop early)."""
    rows = copy.deepcopy(tiny_rows())
    last = rows["payments"][-1]
    rows["payments"].append(
        {
            **last,
            "payment_id": "P10",
            "period_start": date(2026, 10, 1),
            "period_end": date(2026, 10, 31),
            "paid_date": date(2026, 10, 1),
        }
    )
    return rows


@pytest.fixture
def stage(tmp_path: Path) -> Callable[..., Staged]:
    """Write ``rows`` as a delivery and load it (optionally with a lax reject limit)."""

    def run(rows: Rows | None = None, max_reject_share: str = "0.01") -> Staged:
        delivery = write_delivery(tmp_path / "delivery", rows or validation_rows())
        config = KontrolConfig(loader=LoaderConfig(max_reject_share=Decimal(max_reject_share)))
        staging = tmp_path / "staging"
        loads = pipeline.load_delivery(delivery, staging, config)
        return Staged(staging, loads)

    return run


@pytest.fixture
def rows() -> Rows:
    return validation_rows()


def _cases_frame(n: int = 3) -> pl.DataFrame:
    """Rule output in the engine's case shape, ``n`` cases."""
    cprs = [ALL_CPRS[i % len(ALL_CPRS)] for i in range(n)]
    return pl.DataFrame(
        {
            "rule_id": [("R02", "R03", "R04")[i % 3] for i in range(n)],
            "cpr": cprs,
            "anchor_date": [date(2026, 2, 20)] * n,
            "period_start": [date(2026, 3, 1)] * n,
            "period_end": [date(2026, 3, 31)] * n,
            "amount_at_stake_dkk": pl.Series(
                [Decimal(f"{1000 + i}.50") for i in range(n)], dtype=pl.Decimal(14, 2)
            ),
            "benefit_codes": [["KONTANTHJAELP"]] * n,
            "evidence": ['{"emigrated": "2026-02-20"}'] * n,
            "legal_basis": ["aktivloven § 5"] * n,
        }
    )


@pytest.fixture
def as_of() -> date:
    return AS_OF


@pytest.fixture
def all_cprs() -> tuple[str, ...]:
    return ALL_CPRS


@pytest.fixture
def make_queue() -> Callable[[int], pl.DataFrame]:
    """A clean queue of ``n`` cases, assembled by the real ``assemble_queue``."""

    def make(n: int = 3) -> pl.DataFrame:
        run_id = run_id_for(AS_OF, {"payments.parquet": "0" * 64}, "{}", "1.0.0", "0.1.0")
        return assemble_queue(_cases_frame(n), KEY, run_id)

    return make


@pytest.fixture
def queue(make_queue: Callable[[int], pl.DataFrame]) -> pl.DataFrame:
    return make_queue(3)
