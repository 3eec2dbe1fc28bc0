"""Empty and implausible deliveries fail as critical expectations (issue 11, items 10, 19, 20)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pydantic
import pytest
from builders import MOTHER, tiny_rows

from kontrol.config import KontrolConfig
from kontrol.validation import (
    ValidationFailed,
    ValidationOutcome,
    ValidationSettings,
    raise_for_critical,
    validate_delivery,
)

pytestmark = pytest.mark.slow  # GX

CONFIG = KontrolConfig()


def _delivery(
    staged: Any, as_of: date, settings: ValidationSettings | None = None
) -> tuple[ValidationOutcome, list[ValidationOutcome]]:
    outcomes = validate_delivery(staged.staging, staged.loads, as_of, CONFIG, settings=settings)
    return outcomes[-1], outcomes


def _huge_lines(count: int) -> list[dict[str, Any]]:
    return [
        {
            "payment_id": f"H{i}",
            "cpr": MOTHER,
            "benefit_code": "KONTANTHJAELP",
            "period_start": date(2026, 10, 1),
            "period_end": date(2026, 10, 31),
            "amount_dkk": Decimal("9999999999.99"),
            "payment_type": "regular",
            "paid_date": date(2026, 10, 1),
        }
        for i in range(count)
    ]


def test_sums_beyond_decimal_14_2_are_critical(
    stage: Callable[..., Any], rows: dict[str, list[dict[str, Any]]], as_of: date
) -> None:
    rows["payments"] += _huge_lines(101)  # 1,009,999,999,998.99 DKK for one person
    delivery, outcomes = _delivery(stage(rows, max_reject_share="0.2"), as_of)
    assert delivery.critical_failures == ("payments__persons_over_case_money",)
    with pytest.raises(ValidationFailed) as raised:
        raise_for_critical(outcomes)
    assert (
        "payments.parquet: column amount_dkk: 1 person(s) whose lines sum beyond decimal(14,2) "
        "(999,999,999,999.99 DKK)" in str(raised.value)
    )


def test_sums_within_decimal_14_2_pass(
    stage: Callable[..., Any], rows: dict[str, list[dict[str, Any]]], as_of: date
) -> None:
    rows["payments"] += _huge_lines(99)
    delivery, _ = _delivery(stage(rows, max_reject_share="0.2"), as_of)
    assert "payments__persons_over_case_money" not in delivery.critical_failures


def test_an_empty_extract_is_critical_unless_allowed(
    stage: Callable[..., Any], rows: dict[str, list[dict[str, Any]]], as_of: date
) -> None:
    rows["income"] = []
    staged = stage(rows)
    delivery, _ = _delivery(staged, as_of)
    assert delivery.critical_failures == ("income__empty",)
    allowed, _ = _delivery(staged, as_of, ValidationSettings(allow_empty=("income",)))
    assert allowed.success


def test_no_payment_in_the_window_is_critical_and_names_it(
    stage: Callable[..., Any], as_of: date
) -> None:
    delivery, outcomes = _delivery(stage(), date(2000, 1, 31))
    assert "payments__lines_in_window" in delivery.critical_failures
    with pytest.raises(ValidationFailed) as raised:
        raise_for_critical(outcomes)
    assert (
        "payments.parquet: no payment line in the window 1999-02-01 to 2000-01-31; "
        "the latest payment period found ends 2026-10-31 (latest start 2026-10-01)"
    ) in str(raised.value)


def test_payments_stopping_before_the_as_of_month_are_a_warning(
    stage: Callable[..., Any], as_of: date
) -> None:
    staged = stage(tiny_rows())  # paid January to September, as-of in October
    delivery, _ = _delivery(staged, as_of)
    assert delivery.success
    assert delivery.warnings == ("payments__stops_before_as_of_month",)
    (warning,) = [e for e in delivery.expectations if not e.success]
    assert warning.detail == (
        "payments.parquet: payments stop before the as-of month 2026-10; "
        "the latest payment period found ends 2026-09-30 (latest start 2026-09-01)"
    )


def test_allow_empty_names_only_known_extracts() -> None:
    with pytest.raises(pydantic.ValidationError, match="unknown extract"):
        ValidationSettings(allow_empty=("paymnets",))
