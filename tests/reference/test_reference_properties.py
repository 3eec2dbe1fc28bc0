"""Property: the Polars rules engine agrees with the pure-Python reference.

For small random registers (see ``strategies.py``) the cases of
:func:`kontrol.rules.evaluate_rules` must equal, as a set of
``(rule_id, cpr, anchor_date, period_start, period_end, amount_at_stake_dkk,
benefit_codes)``, the cases of ``reference_rules.reference_cases``. Runs are
derandomized and use no example database, so CI sees the same examples every
time.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from reference_rules import CASE_FIELDS, case_tuple, reference_cases
from strategies import Scenario, scenarios

from kontrol.config import KontrolConfig
from kontrol.extracts import Extracts
from kontrol.schema import extract_specs

#: The engine takes ~0.1 s per call, so the default sizes keep this file at
#: roughly half a minute; set KONTROL_PROPERTY_EXAMPLES (e.g. 2000) for a deep
#: local run. The non-default R04 threshold changes only R04, so it gets fewer.
EXAMPLES = int(os.environ.get("KONTROL_PROPERTY_EXAMPLES", "150"))


def property_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def make_config(window_months: int, r04_threshold: str | None) -> KontrolConfig:
    parameters = {} if r04_threshold is None else {"R04": {"income_threshold_dkk": r04_threshold}}
    return KontrolConfig(window_months=window_months, rule_parameters=parameters)


def to_extracts(rows: dict[str, list[dict[str, Any]]], config: KontrolConfig) -> Extracts:
    """Rows -> Extracts, every frame with exactly the declared dtypes of kontrol.schema."""
    specs = extract_specs(config.benefit_codes)
    frames = {
        name: pl.DataFrame(rows[name], schema=spec.schema, orient="row").lazy()
        for name, spec in specs.items()
    }
    return Extracts(**frames)


def engine_cases(extracts: Extracts, as_of: date, config: KontrolConfig) -> set[tuple[Any, ...]]:
    from kontrol.rules import evaluate_rules

    frame = evaluate_rules(extracts, as_of, config).collect()
    return {case_tuple(row) for row in frame.select(CASE_FIELDS).rows(named=True)}


def describe(scenario: Scenario, config: KontrolConfig) -> str:
    lines = [
        f"as_of={scenario.as_of} window_months={scenario.window_months} "
        f"rule_parameters={config.rule_parameters}"
    ]
    for name, rows in scenario.rows().items():
        lines.append(f"{name}:")
        lines.extend(f"    {row}" for row in rows)
    return "\n".join(lines)


def diff(engine: set[tuple[Any, ...]], reference: set[tuple[Any, ...]]) -> str:
    def fmt(case: tuple[Any, ...]) -> str:
        rule, cpr, anchor, start, end, amount, codes = case
        return f"{rule} {cpr} anchor={anchor} [{start}..{end}] {amount} {list(codes)}"

    out = []
    for case in sorted(engine - reference, key=str):
        out.append(f"  engine only:    {fmt(case)}")
    for case in sorted(reference - engine, key=str):
        out.append(f"  reference only: {fmt(case)}")
    return "\n".join(out)


def check(scenario: Scenario, r04_threshold: str | None) -> None:
    config = make_config(scenario.window_months, r04_threshold)
    expected = {
        case_tuple(case)
        for case in reference_cases(**scenario.rows(), as_of=scenario.as_of, config=config)
    }
    actual = engine_cases(to_extracts(scenario.rows(), config), scenario.as_of, config)
    assert actual == expected, (
        "engine and reference disagree\n"
        + diff(actual, expected)
        + "\n--- register ---\n"
        + describe(scenario, config)
    )


@property_settings(EXAMPLES)
@given(scenario=scenarios())
def test_engine_matches_reference(scenario: Scenario) -> None:
    check(scenario, r04_threshold=None)


@property_settings(max(EXAMPLES // 3, 20))
@given(scenario=scenarios())
def test_engine_matches_reference_r04_threshold_1500(scenario: Scenario) -> None:
    check(scenario, r04_threshold="1500.00")
