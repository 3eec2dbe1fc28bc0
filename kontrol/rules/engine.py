"""From a delivery to cases: build each rule's context, run its flag, compile items to cases.

The compile step is the one place where CONTRACT.md section 4's case rules
are implemented, for every rule alike (docs/contract-readings.md 15, 16):

* one case per (rule, cpr);
* ``period_start`` = min item start, ``period_end`` = max item end;
* ``amount_at_stake_dkk`` = exact decimal sum of item amounts, Decimal(14,2);
  the case is dropped when it is <= 0;
* ``anchor_date`` = the anchor of the earliest item, earliest by
  ``(order_key, item_end, first benefit code)``;
* ``benefit_codes`` = sorted distinct codes over all items;
* ``evidence`` = a JSON object with a fixed key order: the case facts, a
  ``summary`` (the earliest item's sentence plus the totals) and at most
  :data:`~kontrol.rules.items.MAX_LISTED` item fragments, earliest first,
  with ``items_total`` beside them.

Everything stays lazy and the caller collects, except :func:`collect_cases`
and :func:`collect_rules`, which collect each rule by itself on the streaming
engine, as a run does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import polars as pl

from kontrol.config import KontrolConfig
from kontrol.errors import ConfigError
from kontrol.extracts import OPTIONAL_EXTRACTS, Extracts
from kontrol.rules.catalogue import CATALOGUE
from kontrol.rules.evidence import CaseHead, struct_of
from kontrol.rules.items import MAX_LISTED
from kontrol.rules.spec import CASE_SCHEMA, ITEM_SCHEMA, RuleContext, RuleParameters, RuleSpec
from kontrol.schema import CASE_MONEY
from kontrol.timeline import person_states
from kontrol.window import Window, net_lines, window_for


@dataclass(frozen=True)
class RuleInputs:
    """The run-wide inputs every rule shares, cut to the window and to ``as_of``."""

    as_of: date
    window: Window
    config: KontrolConfig
    all_lines: pl.LazyFrame
    timeline: pl.LazyFrame
    relations: pl.LazyFrame
    relations_any_date: pl.LazyFrame
    persons: pl.LazyFrame
    income: pl.LazyFrame
    #: The delivered optional registers, cut at ``as_of`` (see :func:`optional_facts`).
    optional: Mapping[str, pl.LazyFrame] = field(default_factory=dict)

    @classmethod
    def build(cls, extracts: Extracts, as_of: date, config: KontrolConfig) -> RuleInputs:
        window = window_for(as_of, config.window_months)
        return cls(
            as_of=as_of,
            window=window,
            config=config,
            all_lines=net_lines(extracts.payments, window),
            timeline=person_states(extracts.residence_events, as_of),
            # Reading 7: a relation counts only from a valid_from on or before as_of.
            relations=extracts.relations.filter(pl.col("valid_from") <= as_of),
            relations_any_date=extracts.relations,
            persons=extracts.persons.select("cpr", "birth_date"),
            income=extracts.income.filter(window.contains("month")),
            optional=optional_facts(extracts, as_of),
        )

    def missing(self, spec: RuleSpec) -> tuple[str, ...]:
        """The optional extracts ``spec`` reads that this delivery lacks (empty: it runs).

        The five required extracts are always delivered (a delivery without
        one fails before any rule), so only optional ones can be missing.
        """
        return tuple(
            name for name in spec.reads if name in OPTIONAL_EXTRACTS and name not in self.optional
        )

    def context(self, spec: RuleSpec, params: RuleParameters | None = None) -> RuleContext:
        overrides = self.config.rule_parameters.get(spec.rule_id)
        return RuleContext(
            as_of=self.as_of,
            window=self.window,
            config=self.config,
            params=params if params is not None else spec.resolve_parameters(overrides),
            benefit_codes=spec.benefits_in_scope.resolve(self.config),
            all_lines=self.all_lines,
            timeline=self.timeline,
            relations=self.relations,
            relations_any_date=self.relations_any_date,
            persons=self.persons,
            income=self.income,
            optional={name: self.optional[name] for name in spec.reads if name in self.optional},
        )


#: The date by which a fact of each optional register counts (CONTRACT.md section 4b:
#: "Register facts of the optional extracts count when dated on or before as_of").
OPTIONAL_FACT_DATE = {
    "utility_readings": "month",
    "tenancies": "valid_from",
    "inspections": "inspection_date",
    "custody": "start_date",
}


def optional_facts(extracts: Extracts, as_of: date) -> dict[str, pl.LazyFrame]:
    """The delivered optional registers, each cut to its facts dated on or before ``as_of``.

    Facts before the window count too: R08 reads the two months before a
    line's month, R09 a lease row that began years ago.
    """
    return {
        name: frame.filter(pl.col(OPTIONAL_FACT_DATE[name]) <= as_of)
        for name, frame in extracts.optional().items()
    }


def rules_not_evaluated(
    inputs: RuleInputs, catalogue: Sequence[RuleSpec] | None = None
) -> dict[str, list[str]]:
    """Rule id -> the optional extracts it reads that were not delivered (CONTRACT.md 1b)."""
    catalogue = CATALOGUE if catalogue is None else catalogue
    return {spec.rule_id: list(missing) for spec in catalogue if (missing := inputs.missing(spec))}


def resolve_all_parameters(
    config: KontrolConfig, catalogue: Sequence[RuleSpec]
) -> dict[str, RuleParameters]:
    """Every rule's parameters in force; refuses overrides for rules not in the catalogue.

    The manifest records these so an auditor sees the thresholds actually used.
    """
    known = {spec.rule_id for spec in catalogue}
    unknown = sorted(set(config.rule_parameters) - known)
    if unknown:
        raise ConfigError(
            f"rule_parameters: unknown rule id(s) {', '.join(unknown)};"
            f" known: {', '.join(sorted(known))}"
        )
    return {
        spec.rule_id: spec.resolve_parameters(config.rule_parameters.get(spec.rule_id))
        for spec in catalogue
    }


def compile_cases(items: pl.LazyFrame, spec: RuleSpec) -> pl.LazyFrame:
    """Flagged items of one rule → at most one case per cpr, in :data:`CASE_SCHEMA`."""
    order = [
        pl.col("order_key"),
        pl.col("item_end"),
        pl.col("_first_code"),
        pl.col("item_start"),
        pl.col("evidence"),
    ]
    cases = (
        items.match_to_schema(ITEM_SCHEMA)
        .with_columns(pl.col("benefit_codes").list.sort().list.first().alias("_first_code"))
        .group_by("cpr")
        .agg(
            pl.col("anchor_date").sort_by(order).first(),
            pl.col("item_start").min().alias("period_start"),
            pl.col("item_end").max().alias("period_end"),
            pl.col("amount_dkk").sum().cast(CASE_MONEY).alias("amount_at_stake_dkk"),
            pl.col("benefit_codes")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique()
            .sort(),
            pl.len().alias("items_total"),
            pl.col("summary").sort_by(order).first().alias("_first_summary"),
            pl.col("evidence").sort_by(order).head(MAX_LISTED).str.join(",").alias("_items"),
        )
        .filter(pl.col("amount_at_stake_dkk") > 0)
    )
    summary = pl.format(
        "{}. {} flagged {}(s) from {} to {}, {} DKK at stake in total.",
        pl.col("_first_summary"),
        pl.col("items_total"),
        pl.lit(spec.item_kind),
        pl.col("period_start").cast(pl.String),
        pl.col("period_end").cast(pl.String),
        pl.col("amount_at_stake_dkk").cast(pl.String),
    )
    head = struct_of(
        CaseHead,
        {
            "rule_id": pl.lit(spec.rule_id),
            "rule_name": pl.lit(spec.name_en),
            "summary": summary,
            "anchor_date": pl.col("anchor_date"),
            "period_start": pl.col("period_start"),
            "period_end": pl.col("period_end"),
            "amount_at_stake_dkk": pl.col("amount_at_stake_dkk"),
            "benefit_codes": pl.col("benefit_codes"),
            "items_total": pl.col("items_total"),
            "items_listed": pl.min_horizontal(pl.col("items_total"), pl.lit(MAX_LISTED)),
        },
    ).struct.json_encode()
    evidence = pl.concat_str(
        head.str.strip_suffix("}"), pl.lit(',"items":['), pl.col("_items"), pl.lit("]}")
    )
    return cases.select(
        pl.lit(spec.rule_id).alias("rule_id"),
        "cpr",
        "anchor_date",
        "period_start",
        "period_end",
        "amount_at_stake_dkk",
        pl.col("benefit_codes").cast(pl.List(pl.String())),
        evidence.alias("evidence"),
        pl.lit(spec.legal_basis).alias("legal_basis"),
    )


def flag_items(
    spec: RuleSpec, extracts: Extracts, as_of: date, config: KontrolConfig
) -> pl.LazyFrame:
    """One rule's flagged items (the shared shape), e.g. for tests and diagnostics.

    A rule whose optional extracts are not delivered flags nothing.
    """
    inputs = RuleInputs.build(extracts, as_of, config)
    if inputs.missing(spec):
        return pl.LazyFrame(schema=ITEM_SCHEMA)
    return spec.flag(inputs.context(spec))


def evaluate_rules(
    extracts: Extracts,
    as_of: date,
    config: KontrolConfig,
    catalogue: Sequence[RuleSpec] | None = None,
) -> pl.LazyFrame:
    """All rules of ``catalogue`` (default: :data:`kontrol.rules.CATALOGUE`) → cases.

    One row per case in :data:`CASE_SCHEMA`, sorted by ``rule_id, cpr``.
    Window months come from ``config.window_months``, rule parameters from
    ``config.rule_parameters`` (validated before anything is planned).
    """
    return evaluate_inputs(RuleInputs.build(extracts, as_of, config), catalogue)


def evaluate_inputs(
    inputs: RuleInputs, catalogue: Sequence[RuleSpec] | None = None
) -> pl.LazyFrame:
    """Like :func:`evaluate_rules`, over inputs the caller has already built: one lazy query.

    A run does not use this one query: it collects the rules one at a time
    (:func:`collect_cases`), over shared inputs computed once.
    """
    return combine_cases(rule_case_plans(inputs, catalogue))


def rule_case_plans(
    inputs: RuleInputs, catalogue: Sequence[RuleSpec] | None = None
) -> list[pl.LazyFrame]:
    """Each evaluated rule's cases, one plan per rule, in catalogue order.

    :func:`collect_cases` collects them one at a time and joins them with
    :func:`combine_cases`: one query over all rules runs their joins side by
    side and holds every rule's hash tables at once.
    """
    if catalogue is None:
        catalogue = CATALOGUE
    params = resolve_all_parameters(inputs.config, catalogue)
    # CONTRACT.md section 1b: a rule runs only when every extract it reads is
    # delivered; the others are reported by :func:`rules_not_evaluated`.
    return [
        compile_cases(spec.flag(inputs.context(spec, params[spec.rule_id])), spec)
        for spec in catalogue
        if not inputs.missing(spec)
    ]


def collect_cases(inputs: RuleInputs, catalogue: Sequence[RuleSpec] | None = None) -> pl.DataFrame:
    """Every evaluated rule's cases, collected as a run collects them: one rule at a time.

    Each rule's plan is collected by itself with the streaming engine, then the
    cases are joined (:func:`combine_cases`). One query over all rules ran their
    joins side by side (6M persons, high-hit: 7.5 GB, against 1.8 GB for the
    largest rule alone). The pipeline (:func:`kontrol.pipeline.apply_rules`)
    and the property tests call this, so the tests check the rules the way a
    run evaluates them.
    """
    per_rule = [
        plan.collect(engine="streaming").lazy() for plan in rule_case_plans(inputs, catalogue)
    ]
    return combine_cases(per_rule).collect()


def collect_rules(
    extracts: Extracts,
    as_of: date,
    config: KontrolConfig,
    catalogue: Sequence[RuleSpec] | None = None,
) -> pl.DataFrame:
    """:func:`evaluate_rules`, collected as a run collects it, for data that fits in memory.

    The shared inputs once (:func:`shared_inputs_in_memory`), then each rule by
    itself on the streaming engine (:func:`collect_cases`): what the rule edge
    tests and the property tests check, so that they check the run's path.
    """
    inputs = shared_inputs_in_memory(RuleInputs.build(extracts, as_of, config))
    return collect_cases(inputs, catalogue)


def shared_inputs_in_memory(inputs: RuleInputs) -> RuleInputs:
    """``inputs`` with the net lines and the timeline, which several rules read, computed once.

    The pipeline writes the two to Parquet and scans them; this is the same in
    memory, for small data (tests, diagnostics). Without it each rule's plan
    recomputes them from the raw extracts.
    """
    return replace(
        inputs,
        all_lines=inputs.all_lines.collect(engine="streaming").lazy(),
        timeline=inputs.timeline.collect(engine="streaming").lazy(),
    )


def combine_cases(per_rule: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
    """The rules' cases in one frame in :data:`CASE_SCHEMA`, sorted by ``rule_id, cpr``."""
    if not per_rule:
        return pl.LazyFrame(schema=CASE_SCHEMA)
    return pl.concat(per_rule, how="vertical").sort("rule_id", "cpr")
