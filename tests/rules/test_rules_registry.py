"""Every rule of the catalogue through the same contract checks (CONTRACT.md section 4)."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from kontrol.config import KontrolConfig
from kontrol.errors import ConfigError
from kontrol.rules import (
    CASE_SCHEMA,
    CATALOGUE,
    CATALOGUE_VERSION,
    ITEM_SCHEMA,
    RuleContext,
    RuleSpec,
    Scope,
    evaluate_rules,
    flag_items,
)

AS_OF = "2026-06-15"
RULES = [pytest.param(spec, id=spec.rule_id) for spec in CATALOGUE]


def _rich(d) -> None:
    """A delivery in which every rule fires at least once."""
    m = d.person("1985-04-01")
    f = d.person("1984-01-01")
    c = d.person("2015-05-05")
    for x in (m, f, c):
        d.lives(x, "2010-01-01", "A")
    d.emigrates(f, "2026-02-20").emigrates(c, "2026-02-20")
    d.marry(m, f).child(m, c).child(f, c)
    d.payment(m, "KONTANTHJAELP", "2026-03-01", amount="12000.00")  # R01
    d.payment(m, "BOERNETILSKUD_ENLIG", "2026-01-01", amount="1500.00")  # R05
    d.payment(m, "SYGEDAGPENGE", "2026-03-22", amount="5000.00")  # R06 (with R01 line)
    d.income(m, "2026-03-01", "9700.00")  # R04
    d.payment(f, "BOLIGSTOTTE", "2026-03-01", amount="3000.00")  # R02
    d.payment(f, "BOLIGSTOTTE", "2026-04-01", amount="3000.00")
    old = d.person("1930-01-01")
    d.lives(old, "1990-01-01", "B").event(old, "2026-01-14", "died")
    d.payment(old, "FOLKEPENSION", "2026-02-01", amount="14000.00")  # R03
    gone = d.person("1990-01-01")
    d.lives(gone, "2010-01-01", "C").event(gone, "2026-03-05", "disappeared")
    d.payment(gone, "KONTANTHJAELP", "2026-04-01", amount="7000.00")  # R07
    d.payment(gone, "KONTANTHJAELP", "2026-04-01", amount="-7000.00", payment_type="correction")
    d.payment(gone, "BOLIGSTOTTE", "2026-05-01", amount="900.00")


def test_catalogue_is_versioned_and_ids_are_unique_and_ordered() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", CATALOGUE_VERSION)
    ids = [spec.rule_id for spec in CATALOGUE]
    assert ids == sorted(set(ids)) == ["R01", "R02", "R03", "R04", "R05", "R06", "R07"]


@pytest.mark.parametrize("spec", RULES)
def test_declaration_is_complete(spec: RuleSpec) -> None:
    for text in (spec.name_da, spec.name_en, spec.description, spec.legal_basis):
        assert text.strip()
    assert spec.weight > 0
    assert spec.item_kind in {"line", "month", "pair"}
    # The general basis of the matching and of repayment is always cited.
    for citation in (
        "retssikkerhedsloven § 11 a",
        "Udbetaling Danmark-loven § 12 a",
        "aktivloven § 91",
    ):
        assert citation in spec.legal_basis
    assert spec.flag.__doc__ and "Example:" in spec.flag.__doc__
    codes = spec.benefits_in_scope.resolve(KontrolConfig())
    assert codes and list(codes) == sorted(codes)


@pytest.mark.parametrize("spec", RULES)
def test_parameters_have_defaults_and_refuse_unknown_names(spec: RuleSpec) -> None:
    for name, info in spec.parameters.model_fields.items():
        assert not info.is_required(), f"{spec.rule_id}.{name} has no default"
    assert spec.resolve_parameters({}) == spec.default_parameters()
    with pytest.raises(ConfigError):
        spec.resolve_parameters({"no_such_parameter": 1})


def test_specific_legal_basis() -> None:
    by_id = {spec.rule_id: spec for spec in CATALOGUE}
    for rid in ("R01", "R02"):
        for citation in ("aktivloven § 5", "børnetilskudsloven § 5 stk. 1 nr. 2", "CPR-loven § 24"):
            assert citation in by_id[rid].legal_basis
    assert "børnetilskudsloven § 2 stk. 2" in by_id["R05"].legal_basis
    assert "aktivloven § 5" in by_id["R07"].legal_basis


def test_benefit_scopes() -> None:
    config = KontrolConfig()
    by_id = {spec.rule_id: spec.benefits_in_scope.resolve(config) for spec in CATALOGUE}
    assert "FOLKEPENSION" not in by_id["R02"] and "BOLIGSTOTTE" in by_id["R02"]
    assert set(by_id["R03"]) == set(config.benefit_codes)
    assert by_id["R04"] == ("KONTANTHJAELP", "UDDANNELSESHJAELP")
    assert by_id["R05"] == ("BOERNETILSKUD_ENLIG",)
    assert "BOLIGSTOTTE" not in by_id["R06"] and "FOLKEPENSION" in by_id["R06"]
    with pytest.raises(ValueError):
        Scope.where("no_such_flag")


@pytest.mark.parametrize("spec", RULES)
@pytest.mark.parametrize("filled", [False, True], ids=["empty", "small"])
def test_flag_returns_the_shared_item_shape(spec: RuleSpec, filled: bool, d) -> None:
    if filled:
        _rich(d)
    items = flag_items(spec, d.extracts(), date(2026, 6, 15), KontrolConfig())
    assert items.collect_schema() == ITEM_SCHEMA
    frame = items.collect(engine="streaming")
    assert frame.schema == ITEM_SCHEMA
    assert (frame.height > 0) == filled
    for evidence in frame["evidence"]:
        assert isinstance(json.loads(evidence), dict)


def test_cases_obey_the_contract(d) -> None:
    _rich(d)
    config = KontrolConfig()
    lazy = evaluate_rules(d.extracts(), date(2026, 6, 15), config)
    assert lazy.collect_schema() == CASE_SCHEMA
    cases = lazy.collect(engine="streaming")
    assert cases.schema == CASE_SCHEMA
    assert sorted(set(cases["rule_id"])) == [spec.rule_id for spec in CATALOGUE]
    assert cases.equals(cases.sort("rule_id", "cpr"))
    assert cases.select("rule_id", "cpr").is_unique().all()
    assert (cases["amount_at_stake_dkk"] > 0).all()
    by_id = {spec.rule_id: spec for spec in CATALOGUE}
    for case in cases.to_dicts():
        assert case["benefit_codes"] == sorted(set(case["benefit_codes"]))
        assert case["period_start"] <= case["period_end"]
        assert case["legal_basis"] == by_id[case["rule_id"]].legal_basis
        evidence = json.loads(case["evidence"], parse_float=lambda s: pytest.fail(s))
        assert evidence["rule_id"] == case["rule_id"]
        assert evidence["summary"].strip()
        assert evidence["amount_at_stake_dkk"] == str(case["amount_at_stake_dkk"])
        assert evidence["anchor_date"] == case["anchor_date"].isoformat()
        assert 1 <= evidence["items_listed"] == len(evidence["items"]) <= evidence["items_total"]
    # The fully reversed R07 line does not count; the later one does.
    r07 = cases.filter(pl.col("rule_id") == "R07").row(0, named=True)
    assert r07["period_start"] == date(2026, 5, 1)
    assert r07["amount_at_stake_dkk"] == Decimal("900.00")


def test_output_is_deterministic_and_engine_independent(d) -> None:
    _rich(d)
    lazy = evaluate_rules(d.extracts(), date(2026, 6, 15), KontrolConfig())
    first = lazy.collect(engine="streaming")
    assert first.equals(lazy.collect(engine="streaming"))
    assert first.equals(lazy.collect(engine="in-memory"))


def test_an_extra_rule_needs_only_a_declaration_and_a_function(d) -> None:
    """The engine runs any catalogue; here a toy rule flagging every BOLIGSTOTTE line."""
    from kontrol.rules.items import line_items

    def flag_toy(ctx: RuleContext) -> pl.LazyFrame:
        """Example: any BOLIGSTOTTE line."""
        return line_items(ctx.lines, anchor=pl.col("period_start"), summary=pl.lit("toy"), facts={})

    toy = RuleSpec(
        rule_id="R99",
        name_da="leg",
        name_en="toy",
        description="toy",
        legal_basis="none",
        benefits_in_scope=Scope.only("BOLIGSTOTTE"),
        flag=flag_toy,
    )
    _rich(d)
    cases = evaluate_rules(
        d.extracts(), date(2026, 6, 15), KontrolConfig(), catalogue=(toy,)
    ).collect()
    assert cases["rule_id"].to_list() == ["R99", "R99"]
    assert cases.schema == CASE_SCHEMA
