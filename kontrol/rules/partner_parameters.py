"""Typed parameters of the partner-register rules R08 and R11 (CONTRACT.md section 4b).

Declared here, apart from the rule modules, so that configuration
(``rule_parameters.R08.max_monthly_kwh``, ``rule_parameters.R11.min_spell_days``)
and the synthetic generator's ground truth agree on names and defaults. The
rule modules use them as their ``RuleSpec.parameters``.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from kontrol.rules.spec import RuleParameters

#: CONTRACT.md section 4b defaults.
DEFAULT_MAX_MONTHLY_KWH = Decimal("10")
DEFAULT_MIN_SPELL_DAYS = 14


class R08Parameters(RuleParameters):
    """``max_monthly_kwh``: a month's electricity reading *at or below* it counts as no use.

    Compared exactly with the delivered ``consumption`` (decimal(12,3)):
    10.000 is at most 10, 10.001 is not.
    """

    max_monthly_kwh: Decimal = Field(default=DEFAULT_MAX_MONTHLY_KWH, ge=0, decimal_places=3)


class R11Parameters(RuleParameters):
    """``min_spell_days``: a (merged) custody spell counts from this many days, inclusive."""

    min_spell_days: int = Field(default=DEFAULT_MIN_SPELL_DAYS, ge=1)
