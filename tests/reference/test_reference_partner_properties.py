"""Property: the engine agrees with the reference on deliveries with the partner registers.

Every example is a full v2 delivery (``strategies_partner``): the five
required extracts plus each optional register delivered or not. All eleven
rules are compared, case by case, on ``(rule_id, cpr, anchor_date,
period_start, period_end, amount_at_stake_dkk, benefit_codes)``, so period,
anchor and amount are checked, not only presence. The examples are
derandomized; the test also asserts that each of R08-R11 fires in at least
10 % of them, so the agreement is not the trivial one of two empty sets.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from reference_rules import CASE_FIELDS, case_tuple, reference_cases
from strategies_partner import PartnerScenario, partner_scenarios

from kontrol.config import KontrolConfig
from kontrol.extracts import Extracts
from kontrol.rules.engine import collect_rules
from kontrol.schema import OPTIONAL_SPECS, extract_specs

EXAMPLES = int(os.environ.get("KONTROL_PROPERTY_EXAMPLES", "150"))
PARTNER_RULES = ("R08", "R09", "R10", "R11")
MIN_SHARE = 0.10


def to_extracts(scenario: PartnerScenario, config: KontrolConfig) -> Extracts:
    specs = {**extract_specs(config.benefit_codes), **OPTIONAL_SPECS}
    frames = {
        name: None if rows is None else pl.DataFrame(rows, schema=specs[name].schema).lazy()
        for name, rows in scenario.rows().items()
    }
    return Extracts(**frames)


def describe(scenario: PartnerScenario) -> str:
    lines = [
        f"as_of={scenario.as_of} window_months={scenario.window_months}"
        f" rule_parameters={scenario.rule_parameters}"
    ]
    for name, rows in scenario.rows().items():
        lines.append(f"{name}:" + (" not delivered" if rows is None else ""))
        lines.extend(f"    {row}" for row in rows or [])
    return "\n".join(lines)


def check(scenario: PartnerScenario) -> set[str]:
    """Compare engine and reference; return the rule ids that fired."""
    config = KontrolConfig(
        window_months=scenario.window_months, rule_parameters=scenario.rule_parameters
    )
    expected = {
        case_tuple(case)
        for case in reference_cases(**scenario.rows(), as_of=scenario.as_of, config=config)
    }
    frame = collect_rules(to_extracts(scenario, config), scenario.as_of, config)  # as a run does
    actual = {case_tuple(row) for row in frame.select(CASE_FIELDS).rows(named=True)}
    if actual != expected:
        only_engine = sorted(actual - expected, key=str)
        only_reference = sorted(expected - actual, key=str)
        raise AssertionError(
            "engine and reference disagree\n"
            + "".join(f"  engine only:    {c}\n" for c in only_engine)
            + "".join(f"  reference only: {c}\n" for c in only_reference)
            + "--- register ---\n"
            + describe(scenario)
        )
    return {case[0] for case in actual}


def test_engine_matches_reference_with_partner_registers() -> None:
    fired: Counter[str] = Counter()
    examples: list[Any] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(scenario=partner_scenarios())
    def agree(scenario: PartnerScenario) -> None:
        rules = check(scenario)
        examples.append(scenario)
        fired.update(rules)

    agree()
    shares = {rule: fired[rule] / len(examples) for rule in PARTNER_RULES}
    print(f"partner rules fired in {len(examples)} examples: {shares}")
    assert all(share >= MIN_SHARE for share in shares.values()), shares
