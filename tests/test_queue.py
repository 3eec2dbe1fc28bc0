"""Case ids, run ids and priority of the case queue."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from kontrol.errors import ConfigError
from kontrol.queue import (
    QUEUE_SCHEMA,
    assemble_queue,
    case_id,
    case_key_from_env,
    run_id_for,
)
from kontrol.schema import CASE_MONEY

KEY = b"a-test-key-of-sufficient-length"


def cases(*rows: tuple[str, str, date, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "rule_id": rule,
                "cpr": cpr,
                "anchor_date": anchor,
                "period_start": date(2026, 1, 1),
                "period_end": date(2026, 1, 31),
                "amount_at_stake_dkk": Decimal(amount),
                "benefit_codes": ["KONTANTHJAELP"],
                "evidence": "{}",
                "legal_basis": "aktivloven § 5",
            }
            for rule, cpr, anchor, amount in rows
        ],
        schema_overrides={"amount_at_stake_dkk": CASE_MONEY},
    )


def test_case_id_is_the_keyed_hmac_of_rule_cpr_and_anchor() -> None:
    expected = hmac.new(KEY, b"R02|0101801234|2026-02-20", hashlib.sha256).hexdigest()[:32]
    assert case_id(KEY, "R02", "0101801234", date(2026, 2, 20)) == expected


def test_case_id_depends_on_key_and_every_part() -> None:
    base = case_id(KEY, "R02", "0101801234", date(2026, 2, 20))
    assert case_id(b"another-key-of-good-length", "R02", "0101801234", date(2026, 2, 20)) != base
    assert case_id(KEY, "R03", "0101801234", date(2026, 2, 20)) != base
    assert case_id(KEY, "R02", "0101801235", date(2026, 2, 20)) != base
    assert case_id(KEY, "R02", "0101801234", date(2026, 2, 21)) != base
    assert "0101801234" not in base


def test_missing_key_is_refused_unless_demo() -> None:
    with pytest.raises(ConfigError, match="KONTROL_CASE_KEY is not set"):
        case_key_from_env({}, demo=False)
    with pytest.raises(ConfigError, match="too short"):
        case_key_from_env({"KONTROL_CASE_KEY": "short"}, demo=False)
    assert case_key_from_env({"KONTROL_CASE_KEY": "x" * 16}, demo=False) == b"x" * 16
    assert case_key_from_env({}, demo=True)


def test_run_id_is_deterministic_and_sensitive_to_inputs() -> None:
    args = (date(2026, 10, 31), {"a.parquet": "00", "b.parquet": "11"}, "{}", "1.0.0", "0.1.0")
    assert run_id_for(*args) == run_id_for(*args)
    assert run_id_for(*args).startswith("2026-10-31-")
    changed = (args[0], {"a.parquet": "01", "b.parquet": "11"}, *args[2:])
    assert run_id_for(*changed) != run_id_for(*args)


def test_priority_orders_by_amount_then_rule_then_case_id() -> None:
    frame = cases(
        ("R02", "0101801234", date(2026, 2, 1), "100.00"),
        ("R03", "0101801235", date(2026, 2, 1), "900.00"),
        ("R01", "0101801236", date(2026, 2, 1), "100.00"),
        ("R01", "0101801237", date(2026, 2, 1), "100.00"),
    )
    queue = assemble_queue(frame, KEY, "run")
    assert queue.schema == QUEUE_SCHEMA
    assert queue["priority"].to_list() == [1, 2, 3, 4]
    assert queue["rule_id"].to_list() == ["R03", "R01", "R01", "R02"]
    r01_ids = queue.filter(pl.col("rule_id") == "R01")["case_id"].to_list()
    assert r01_ids == sorted(r01_ids)
    assert queue["anomaly_score"].null_count() == 4
    assert set(queue["run_id"]) == {"run"}


def test_empty_queue_keeps_the_schema() -> None:
    rule_columns = [
        "rule_id",
        "cpr",
        "anchor_date",
        "period_start",
        "period_end",
        "amount_at_stake_dkk",
        "benefit_codes",
        "evidence",
        "legal_basis",
    ]
    empty = pl.DataFrame(schema={name: QUEUE_SCHEMA[name] for name in rule_columns})
    queue = assemble_queue(empty, KEY, "run")
    assert queue.height == 0
    assert queue.schema == QUEUE_SCHEMA
