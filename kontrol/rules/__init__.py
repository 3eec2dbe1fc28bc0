"""The rule engine: a declared catalogue of rules, compiled to lazy Polars plans.

Public API (others code against these names)::

    CATALOGUE          # tuple[RuleSpec, ...], rules R01-R07 of CONTRACT.md section 4
    CATALOGUE_VERSION  # "1.0.0"
    evaluate_rules(extracts, as_of, config) -> pl.LazyFrame   # one row per case

See :mod:`kontrol.rules.spec` for the declaration and the shared flagged-item
shape, :mod:`kontrol.rules.engine` for how items become cases.
"""

from __future__ import annotations

from kontrol.rules.catalogue import CATALOGUE, CATALOGUE_VERSION
from kontrol.rules.engine import (
    RuleInputs,
    compile_cases,
    evaluate_inputs,
    evaluate_rules,
    flag_items,
    resolve_all_parameters,
)
from kontrol.rules.income import R04Parameters
from kontrol.rules.items import MAX_LISTED
from kontrol.rules.spec import (
    CASE_SCHEMA,
    ITEM_SCHEMA,
    RuleContext,
    RuleParameters,
    RuleSpec,
    Scope,
)

__all__ = [
    "CASE_SCHEMA",
    "CATALOGUE",
    "CATALOGUE_VERSION",
    "ITEM_SCHEMA",
    "MAX_LISTED",
    "R04Parameters",
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
]
