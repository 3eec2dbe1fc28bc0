"""Validation of staged deliveries ends the way CONTRACT.md section 1 says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from kontrol.config import KontrolConfig
from kontrol.validation import (
    RowRange,
    ValidationFailed,
    ValidationOutcome,
    ValidationSettings,
    manifest_section,
    raise_for_critical,
    validate_delivery,
)

pytestmark = pytest.mark.slow  # the first test pays for importing GX

CONFIG = KontrolConfig()


def _by_suite(outcomes: list[ValidationOutcome]) -> dict[str, ValidationOutcome]:
    return {o.suite: o for o in outcomes}


def _validate(staged: Any, as_of: date, **kwargs: Any) -> dict[str, ValidationOutcome]:
    return _by_suite(validate_delivery(staged.staging, staged.loads, as_of, CONFIG, **kwargs))


def test_a_good_delivery_passes_every_suite(stage: Callable[..., Any], as_of: date) -> None:
    outcomes = _validate(stage(), as_of)
    assert list(outcomes) == [
        "persons",
        "residence_events",
        "relations",
        "payments",
        "income",
        "delivery",
    ]
    for outcome in outcomes.values():
        assert outcome.success, outcome.critical_failures
        assert outcome.warnings == ()
        assert outcome.statistics["evaluated_expectations"] == len(outcome.expectations) > 0
        assert outcome.statistics["unsuccessful_expectations"] == 0
    raise_for_critical(list(outcomes.values()))
    section = manifest_section(list(outcomes.values()))
    assert section["success"] is True
    assert section["suites"]["payments"]["failed_critical"] == []


def test_unknown_persons_are_a_warning_not_a_failure(
    stage: Callable[..., Any], rows: dict[str, list[dict[str, Any]]], as_of: date
) -> None:
    rows["payments"].append({**rows["payments"][0], "payment_id": "PX", "cpr": "0101901234"})
    rows["income"].append({**rows["income"][0], "cpr": "0101901234"})
    outcomes = _validate(stage(rows), as_of)
    delivery = outcomes["delivery"]
    assert delivery.success
    assert set(delivery.warnings) == {
        "payments__rows_unknown_person",
        "income__rows_unknown_person",
    }
    raise_for_critical(list(outcomes.values()))  # warnings never stop the run


def test_a_truncated_extract_is_a_warning(stage: Callable[..., Any], as_of: date) -> None:
    staged = stage()
    previous = {name: load.rows_delivered for name, load in staged.loads.items()}
    previous["payments"] *= 2  # this month's payments: half the usual rows
    delivery = _validate(staged, as_of, previous_rows=previous)["delivery"]
    assert delivery.success
    assert delivery.warnings == ("payments__rows_vs_previous",)
    observed = {e.name: e.observed for e in delivery.expectations}
    assert "1 of 1 rows unexpected" in observed["payments__rows_vs_previous"]


def test_volume_outside_the_configured_range_is_a_warning(
    stage: Callable[..., Any], as_of: date
) -> None:
    settings = ValidationSettings(expected_rows={"persons": RowRange(min=6, max=10)})
    delivery = _validate(stage(), as_of, settings=settings)["delivery"]
    assert delivery.success
    assert delivery.warnings == ("persons__rows_delivered",)


def test_events_after_as_of_are_a_warning(stage: Callable[..., Any]) -> None:
    delivery = _validate(stage(), date(2026, 2, 1))["delivery"]
    assert delivery.success
    assert "residence_events__rows_after_as_of" in delivery.warnings
    assert "payments__rows_after_as_of" in delivery.warnings


def test_a_reject_rate_over_the_limit_is_critical(
    stage: Callable[..., Any], rows: dict[str, list[dict[str, Any]]], as_of: date
) -> None:
    rows["payments"][0]["benefit_code"] = "UKENDT"  # 1 of 9 rows rejected: 11 %
    staged = stage(rows, max_reject_share="1")  # the loader lets it through here
    assert staged.loads["payments"].rows_rejected == 1
    outcomes = _validate(staged, as_of)
    assert outcomes["delivery"].critical_failures == ("payments__reject_share",)
    assert outcomes["payments"].success  # the clean rows themselves are fine
    with pytest.raises(ValidationFailed, match="payments__reject_share"):
        raise_for_critical(list(outcomes.values()))


def test_a_clean_file_with_rows_the_loader_should_have_rejected_is_critical(
    stage: Callable[..., Any], as_of: date
) -> None:
    staged = stage()
    path: Path = staged.staging / "clean" / "payments.parquet"
    clean = pl.read_parquet(path)
    bad = clean.head(1).with_columns(
        pl.lit("P99").alias("payment_id"),
        pl.lit("9913001234").alias("cpr"),
        pl.lit(date(2025, 12, 31)).alias("period_start"),
        pl.lit(Decimal("-5.00")).cast(pl.Decimal(12, 2)).alias("amount_dkk"),
    )
    pl.concat([clean, bad]).write_parquet(path)
    outcomes = _validate(staged, as_of)
    payments = outcomes["payments"]
    assert set(payments.critical_failures) == {
        "cpr: malformed cpr (expected 10 digits DDMMYYSSSS)",
        "period_end: period_end in another month than period_start",
        "amount_dkk: negative regular payment",
    }
    delivery = outcomes["delivery"]
    assert "payments__staged_rows_mismatch" in delivery.critical_failures
    assert (
        "payments__clean_rows_failing__amount_dkk_negative_regular_payment"
        in delivery.critical_failures
    )


def test_a_duplicate_key_in_a_clean_file_is_critical(
    stage: Callable[..., Any], as_of: date
) -> None:
    staged = stage()
    path: Path = staged.staging / "clean" / "persons.parquet"
    persons = pl.read_parquet(path)
    pl.concat([persons, persons.head(1)]).write_parquet(path)
    staged.loads["persons"] = replace(
        staged.loads["persons"],
        rows_delivered=staged.loads["persons"].rows_delivered + 1,
        rows_loaded=staged.loads["persons"].rows_loaded + 1,
    )
    outcomes = _validate(staged, as_of)
    assert outcomes["persons"].critical_failures == ("key cpr: unique",)
    assert outcomes["delivery"].critical_failures == ("persons__key_duplicate_rows",)


def test_large_extracts_are_validated_on_an_even_sample_and_counted_whole(
    stage: Callable[..., Any], as_of: date
) -> None:
    outcomes = _validate(stage(), as_of, settings=ValidationSettings(sample_rows=4))
    payments = outcomes["payments"]
    assert (payments.rows_total, payments.rows_validated) == (10, 4)  # every 3rd row
    assert payments.success
    assert outcomes["delivery"].success
