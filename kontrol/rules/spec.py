"""What a rule *is*: a declaration (:class:`RuleSpec`), one flag function, its typed
evidence and its Danish account.

A rule is declared as data (ids, names, legal basis, the benefits it looks
at, typed parameters, a weight) and its logic is one function
``flag(ctx: RuleContext) -> LazyFrame`` returning *flagged items* in the one
shared shape :data:`ITEM_SCHEMA`. The item's ``evidence`` JSON has the
declared type ``RuleSpec.evidence`` (:mod:`kontrol.rules.evidence`), and
``RuleSpec.account`` renders it in Danish for the case list
(:mod:`kontrol.rules.account`). All four live in the rule's own module
``kontrol/rules/rNN_<name>.py``; :mod:`kontrol.rules.catalogue` collects them.
The engine (:mod:`kontrol.rules.engine`) turns items into cases identically
for every rule, so the contract's case rules (one case per (rule, cpr), min
start, max end, sum, anchor of the earliest item, sorted distinct codes,
amount > 0) live in exactly one place.

Why a shared item shape rather than rules returning cases: the aggregation is
where off-by-one and tie-breaking mistakes hide, and the auditor wants it
written once. Why items carry their own evidence fragment: evidence differs
per rule, but it is only built for flagged items, which are few.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from kontrol.benefits import Benefit
from kontrol.config import KontrolConfig
from kontrol.errors import ConfigError
from kontrol.rules.account import AccountParts, CaseFacts
from kontrol.rules.evidence import E
from kontrol.schema import CASE_MONEY
from kontrol.window import Window

#: The shared shape of flagged items, in column order.
#:
#: * an item is a flagged net line (R01-R03, R05, R07), a flagged month (R04)
#:   or a flagged pair of lines (R06);
#: * ``item_start``/``item_end``: the days the item covers (the case period is
#:   min/max over items);
#: * ``amount_dkk``: the item's amount at stake (summed into the case);
#: * ``benefit_codes``: codes of the lines behind the item;
#: * ``order_key``: the date that makes an item "earliest" (a line's
#:   ``period_start``, R04's month, R06's first shared day); ties are broken
#:   by ``item_end`` then the first benefit code (docs/contract-readings.md 15);
#: * ``anchor_date``: the case anchor if this item is the earliest;
#: * ``summary``: one sentence for a caseworker about this item;
#: * ``evidence``: a JSON object (string) with the facts behind this item.
ITEM_SCHEMA = pl.Schema(
    {
        "cpr": pl.String(),
        "item_start": pl.Date(),
        "item_end": pl.Date(),
        "amount_dkk": CASE_MONEY,
        "benefit_codes": pl.List(pl.String()),
        "order_key": pl.Date(),
        "anchor_date": pl.Date(),
        "summary": pl.String(),
        "evidence": pl.String(),
    }
)

#: Columns and dtypes of :func:`kontrol.rules.evaluate_rules`.
CASE_SCHEMA = pl.Schema(
    {
        "rule_id": pl.String(),
        "cpr": pl.String(),
        "anchor_date": pl.Date(),
        "period_start": pl.Date(),
        "period_end": pl.Date(),
        "amount_at_stake_dkk": CASE_MONEY,
        "benefit_codes": pl.List(pl.String()),
        "evidence": pl.String(),
        "legal_basis": pl.String(),
    }
)


class RuleParameters(BaseModel):
    """Base of every rule's parameters: frozen, every field defaulted, unknown names refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


P = TypeVar("P", bound=RuleParameters)

_BENEFIT_FLAGS = tuple(
    name for name, info in Benefit.model_fields.items() if info.annotation is bool
)


@dataclass(frozen=True)
class Scope:
    """The benefits a rule looks at: by a flag of the benefit table, by code, or all.

    Declared by flag rather than by code wherever the contract does so
    ("the benefit requires residence"), so that an installation that changes
    its benefit table changes the rules' scope with it.
    """

    flag: str | None = None
    codes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.flag is not None and self.codes is not None:
            raise ValueError("a scope is a flag or a list of codes, not both")
        if self.flag is not None and self.flag not in _BENEFIT_FLAGS:
            raise ValueError(f"unknown benefit flag {self.flag!r}; known: {_BENEFIT_FLAGS}")

    @classmethod
    def where(cls, flag: str) -> Scope:
        return cls(flag=flag)

    @classmethod
    def only(cls, *codes: str) -> Scope:
        return cls(codes=tuple(sorted(codes)))

    @classmethod
    def every(cls) -> Scope:
        return cls()

    def resolve(self, config: KontrolConfig) -> tuple[str, ...]:
        """The configured benefit codes in scope, sorted."""
        if self.flag is not None:
            return tuple(config.codes_where(self.flag))
        if self.codes is not None:
            known = set(config.benefit_codes)
            return tuple(c for c in self.codes if c in known)
        return tuple(sorted(config.benefit_codes))

    def describe(self) -> str:
        if self.flag is not None:
            return f"benefits with {self.flag}"
        if self.codes is not None:
            return ", ".join(self.codes)
        return "all benefits"


@dataclass(frozen=True)
class RuleContext:
    """Everything a flag function may read, already cut to the run (window, as_of).

    * ``lines``: positive net lines in the window *of the benefits in the
      rule's scope*; ``all_lines``: of every benefit;
    * ``timeline``: :func:`kontrol.timeline.person_states` at ``as_of``;
    * ``relations``: relations with ``valid_from <= as_of`` (reading 7);
      ``relations_any_date``: every delivered relation, for a rule whose
      contract text ignores the relation's dates (R09: "whatever its dates");
    * ``persons``: ``cpr, birth_date``;
    * ``income``: income rows with ``window.start <= month <= as_of``;
    * ``optional``: the delivered optional registers (CONTRACT.md section
      1b), each cut to the facts dated on or before ``as_of`` (a reading by
      its ``month``, a lease row by its ``valid_from``, an inspection by its
      ``inspection_date``, a custody spell by its ``start_date``), read with
      :meth:`extract`.
    """

    as_of: date
    window: Window
    config: KontrolConfig
    params: RuleParameters
    benefit_codes: tuple[str, ...]
    all_lines: pl.LazyFrame
    timeline: pl.LazyFrame
    relations: pl.LazyFrame
    relations_any_date: pl.LazyFrame
    persons: pl.LazyFrame
    income: pl.LazyFrame
    optional: Mapping[str, pl.LazyFrame] = field(default_factory=dict)

    @property
    def lines(self) -> pl.LazyFrame:
        return self.all_lines.filter(pl.col("benefit_code").is_in(list(self.benefit_codes)))

    def extract(self, name: str) -> pl.LazyFrame:
        """An optional register the rule declared in ``reads`` (the engine checked it is here)."""
        try:
            return self.optional[name]
        except KeyError:
            raise KeyError(f"optional extract {name!r} was not delivered") from None

    def params_as(self, kind: type[P]) -> P:
        """The rule's parameters as their declared type (for the type checker)."""
        if not isinstance(self.params, kind):
            raise TypeError(f"expected {kind.__name__}, got {type(self.params).__name__}")
        return self.params


FlagFunction = Callable[[RuleContext], pl.LazyFrame]


@dataclass(frozen=True)
class RuleSpec(Generic[E]):
    """One rule of the catalogue: its declaration, flag function, evidence type and account.

    ``evidence`` is the type of one flagged item's evidence JSON; ``account``
    writes the Danish account of a case from the case's facts and its items
    parsed as that type. ``weight`` scales the rule's cases when the case
    queue is prioritised. ``item_kind`` names one flagged item in the case
    summary ("line", "month", "pair"). ``reads`` names the optional registers (CONTRACT.md
    section 1b) the rule needs; the rule runs only when every one of them is
    delivered, and is reported as not evaluated otherwise.
    """

    rule_id: str
    name_da: str
    name_en: str
    description: str
    legal_basis: str
    benefits_in_scope: Scope
    flag: FlagFunction
    evidence: type[E]
    account: Callable[[CaseFacts, Sequence[E]], AccountParts]
    parameters: type[RuleParameters] = RuleParameters
    weight: float = 1.0
    item_kind: str = "line"
    reads: tuple[str, ...] = ()

    def default_parameters(self) -> RuleParameters:
        return self.parameters()

    def resolve_parameters(self, overrides: Mapping[str, Any] | None = None) -> RuleParameters:
        """Defaults with ``overrides`` applied; unknown names or bad values raise ConfigError."""
        try:
            return self.parameters.model_validate(dict(overrides or {}))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '-'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ConfigError(f"rule_parameters.{self.rule_id}: {problems}") from exc
