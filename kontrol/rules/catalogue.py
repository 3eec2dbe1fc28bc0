"""The rule catalogue (CONTRACT.md section 4), assembled from the rule modules.

A rule lives in one module, ``kontrol/rules/rNN_<name>.py``, which defines
``RULE``: its :class:`~kontrol.rules.spec.RuleSpec` with the declaration
(ids, names, legal basis, scope, typed parameters), the flag function, the
type of its evidence and its Danish account. :data:`CATALOGUE` is every such
module's ``RULE``, in module-name order, which is rule-id order. So adding a
rule is adding its module (plus its tests and its synth scenario); the engine,
the case-queue suite, the case list, the manifest and the registry test
(tests/rules/test_rules_registry.py, which names whatever a new rule still
lacks elsewhere) all read this tuple.

Example: ``kontrol/rules/r04_income.py`` defines ``RULE = RuleSpec(rule_id="R04",
...)``; its module name starts with ``r04_``, so it is the fourth entry.

Bump :data:`CATALOGUE_VERSION` (semantic versioning) whenever a rule's
meaning, scope or defaults change: the manifest records it so an auditor can
tell which rules produced a case queue.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

from kontrol.rules.spec import RuleSpec

#: 2.0.0: CONTRACT.md version 2 adds R08-R11 on the optional partner registers.
CATALOGUE_VERSION = "2.0.0"

#: A rule module's name: ``r`` + the rule id's two digits + ``_`` + a name.
RULE_MODULE = re.compile(r"r(\d{2})_[a-z0-9_]+")


def rule_module_names() -> list[str]:
    """The names of the rule modules in this package, sorted."""
    here = str(Path(__file__).resolve().parent)
    return sorted(m.name for m in pkgutil.iter_modules([here]) if RULE_MODULE.fullmatch(m.name))


def _assemble() -> tuple[RuleSpec[Any], ...]:
    rules = []
    for name in rule_module_names():
        module = importlib.import_module(f"{__package__}.{name}")
        spec = getattr(module, "RULE", None)
        if not isinstance(spec, RuleSpec):
            raise TypeError(f"rule module {module.__name__} defines no RULE = RuleSpec(...)")
        if spec.rule_id != f"R{name[1:3]}":
            raise ValueError(f"rule module {module.__name__} declares {spec.rule_id}")
        rules.append(spec)
    return tuple(rules)


CATALOGUE: tuple[RuleSpec[Any], ...] = _assemble()
