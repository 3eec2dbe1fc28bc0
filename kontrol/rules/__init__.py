"""The rule engine: a declared catalogue of rules, compiled to lazy Polars plans.

Public API (others code against these names)::

    CATALOGUE          # tuple[RuleSpec, ...], one per module kontrol/rules/rNN_*.py
    CATALOGUE_VERSION  # "2.0.0"
    RULES_BY_ID        # {rule_id: RuleSpec}
    evaluate_rules(extracts, as_of, config) -> pl.LazyFrame   # one row per case
    rules_not_evaluated(inputs) -> {rule_id: [missing optional extract, ...]}

See :mod:`kontrol.rules.spec` for the declaration and the shared flagged-item
shape, :mod:`kontrol.rules.catalogue` for how a rule module joins the
catalogue, :mod:`kontrol.rules.evidence` for the typed evidence,
:mod:`kontrol.rules.account` for the Danish account, and
:mod:`kontrol.rules.engine` for how items become cases.
"""

from __future__ import annotations

from typing import Any

from kontrol.rules.catalogue import CATALOGUE, CATALOGUE_VERSION
from kontrol.rules.engine import (
    RuleInputs,
    compile_cases,
    evaluate_inputs,
    evaluate_rules,
    flag_items,
    resolve_all_parameters,
    rules_not_evaluated,
)
from kontrol.rules.items import MAX_LISTED
from kontrol.rules.r04_income import R04Parameters
from kontrol.rules.r08_no_electricity import R08Parameters
from kontrol.rules.r11_custody import R11Parameters
from kontrol.rules.spec import (
    CASE_SCHEMA,
    ITEM_SCHEMA,
    RuleContext,
    RuleParameters,
    RuleSpec,
    Scope,
)

RULES_BY_ID: dict[str, RuleSpec[Any]] = {spec.rule_id: spec for spec in CATALOGUE}

__all__ = [
    "CASE_SCHEMA",
    "CATALOGUE",
    "CATALOGUE_VERSION",
    "ITEM_SCHEMA",
    "MAX_LISTED",
    "RULES_BY_ID",
    "R04Parameters",
    "R08Parameters",
    "R11Parameters",
    "RuleContext",
    "RuleInputs",
    "RuleParameters",
    "RuleSpec",
    "Scope",
    "compile_cases",
    "evaluate_inputs",
    "evaluate_rules",
    "flag_items",
    "resolve_all_parameters",
    "rules_not_evaluated",
]
