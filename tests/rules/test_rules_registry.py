"""The rule registry: every rule of the catalogue through the same checks.

A rule lives in one module, ``kontrol/rules/rNN_<name>.py`` (declaration,
flag function, typed evidence, Danish account). Everything else a rule needs
is checked here, per rule, with a message that names what is missing:

* the contract's case rules (CONTRACT.md section 4) and the shared item shape;
* its evidence type describes its evidence JSON exactly (parse and
  re-serialise gives the same bytes) and its account renders it;
* its synth scenario (positives and near misses), its reference
  implementation (tests/reference), its DuckDB query
  (benchmarks/duckdb_rules.sql), its edge tests (``test_rNN_*`` in
  tests/rules) and its row in the README's rule table;
* no rule id is spelled as a string literal in ``kontrol/`` outside
  ``kontrol/rules/`` and ``kontrol/synth/``: every other module derives its
  rules from the catalogue.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from pydantic import ValidationError

from kontrol.caselist import case_account
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
from kontrol.rules.account import AccountParts
from kontrol.rules.catalogue import rule_module_names
from kontrol.rules.evidence import LineFacts, case_evidence
from kontrol.synth.registers import PARTNER_CATALOGUE
from kontrol.synth.scenarios import CATALOGUE as V1_SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "reference"))
sys.path.insert(0, str(ROOT / "benchmarks"))

import duckdb_baseline  # noqa: E402
from reference_rules import reference_rules  # noqa: E402

#: The generator's injected scenarios: R01-R07 (kontrol.synth.scenarios) and R08-R11 on the
#: partner registers (kontrol.synth.registers).
SCENARIOS = (*V1_SCENARIOS, *PARTNER_CATALOGUE)

AS_OF = "2026-06-15"
RULES = [pytest.param(spec, id=spec.rule_id) for spec in CATALOGUE]
RULE_ID = re.compile(r"\bR\d{2}\b")


def _rich(d) -> None:
    d.every_rule_fires()


def test_catalogue_is_versioned_and_assembled_from_one_module_per_rule() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", CATALOGUE_VERSION)
    ids = [spec.rule_id for spec in CATALOGUE]
    assert ids == sorted(set(ids))
    assert len(ids) >= 7
    assert [f"R{name[1:3]}" for name in rule_module_names()] == ids
    for spec in CATALOGUE:
        module = sys.modules[spec.flag.__module__]
        assert module.__name__ == f"kontrol.rules.{rule_module_names()[ids.index(spec.rule_id)]}"
        assert spec.account.__module__ == module.__name__, (
            f"{spec.rule_id}: its account belongs in its own module {module.__name__}"
        )


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
    assert spec.account.__doc__ and "Example:" in spec.account.__doc__, (
        f"{spec.rule_id}: its account has no docstring with an Example"
    )
    assert issubclass(spec.evidence, LineFacts) or spec.item_kind != "line"
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
        return line_items(
            ctx.lines,
            evidence=LineFacts,
            anchor=pl.col("period_start"),
            summary=pl.lit("toy"),
            facts={},
        )

    def account_toy(case: object, items: object) -> AccountParts:
        """Example: "leg"."""
        return AccountParts("leg")

    toy = RuleSpec(
        rule_id="R99",
        name_da="leg",
        name_en="toy",
        description="toy",
        legal_basis="none",
        benefits_in_scope=Scope.only("BOLIGSTOTTE"),
        flag=flag_toy,
        evidence=LineFacts,
        account=account_toy,
    )
    _rich(d)
    cases = evaluate_rules(
        d.extracts(), date(2026, 6, 15), KontrolConfig(), catalogue=(toy,)
    ).collect()
    assert cases["rule_id"].to_list() == ["R99", "R99"]
    assert cases.schema == CASE_SCHEMA


# --- typed evidence and the Danish account -----------------------------------------


@pytest.mark.parametrize("spec", RULES)
def test_evidence_type_describes_the_item_json_exactly(spec: RuleSpec, d) -> None:
    """Parsing an item's JSON with the rule's type and writing it back gives the same bytes."""
    _rich(d)
    items = flag_items(spec, d.extracts(), date(2026, 6, 15), KontrolConfig()).collect()
    assert items.height > 0
    for text in items["evidence"]:
        assert spec.evidence.model_validate_json(text).model_dump_json() == text


@pytest.mark.parametrize("spec", RULES)
def test_every_rule_has_a_danish_account_of_its_cases(spec: RuleSpec, d) -> None:
    _rich(d)
    cases = evaluate_rules(d.extracts(), date(2026, 6, 15), KontrolConfig()).collect()
    rows = cases.filter(pl.col("rule_id") == spec.rule_id).to_dicts()
    assert rows, f"{spec.rule_id}: the rich delivery raises no case"
    for row in rows:
        evidence = case_evidence(spec.evidence).model_validate_json(row["evidence"])
        assert evidence.rule_id == spec.rule_id
        account = case_account(row)
        assert account.rule_name == spec.name_da
        assert account.summary.endswith(".") and len(account.summary) > 20
        assert "DKK" not in account.summary and "_" not in account.summary
        assert account.lines and all(line.amount is not None for line in account.lines)


def test_a_case_the_case_list_cannot_explain_is_an_error(d) -> None:
    _rich(d)
    cases = evaluate_rules(d.extracts(), date(2026, 6, 15), KontrolConfig()).collect()
    row = cases.filter(pl.col("rule_id") == CATALOGUE[0].rule_id).row(0, named=True)
    with pytest.raises(KeyError, match="not in the catalogue"):
        case_account({**row, "rule_id": "R99"})
    evidence = json.loads(row["evidence"])
    evidence["items"][0]["unexpected"] = 1
    with pytest.raises(ValidationError):
        case_account({**row, "evidence": json.dumps(evidence)})
    del evidence["items"][0]["unexpected"]
    del evidence["items"][0]["amount_dkk"]
    with pytest.raises(ValidationError):
        case_account({**row, "evidence": json.dumps(evidence)})


# --- what a rule needs outside its module -------------------------------------------


def _missing(what: str, has: set[str]) -> list[str]:
    return [f"{spec.rule_id} has no {what}" for spec in CATALOGUE if spec.rule_id not in has]


def test_every_rule_has_synth_scenarios() -> None:
    positives = {s.rule_id for s in SCENARIOS if s.kind == "positive"}
    near_misses = {s.rule_id for s in SCENARIOS if s.kind == "near_miss"}
    missing = _missing("positive synth scenario (kontrol/synth/scenarios.py)", positives)
    missing += _missing("near-miss synth scenario (kontrol/synth/scenarios.py)", near_misses)
    assert not missing, "\n".join(missing)


def test_every_rule_has_a_reference_implementation() -> None:
    implemented = set(reference_rules())
    missing = _missing(
        "reference implementation (tests/reference: @reference(rule_id) on a function)",
        implemented,
    )
    assert not missing, "\n".join(missing)
    unknown = implemented - {spec.rule_id for spec in CATALOGUE}
    assert not unknown, f"reference implementations of rules not in the catalogue: {unknown}"


def test_every_rule_has_a_duckdb_query() -> None:
    sections = duckdb_baseline.sections()
    assert len(sections) == len(set(sections)), f"a rule has two DuckDB sections: {sections}"
    missing = [
        f"{spec.rule_id} has no DuckDB query"
        f" (benchmarks/duckdb_rules.sql section -- {spec.rule_id})"
        for spec in CATALOGUE
        if spec.rule_id not in sections
    ]
    assert not missing, "\n".join(missing)


def test_every_rule_has_edge_tests() -> None:
    names = set()
    for path in (ROOT / "tests" / "rules").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and re.match(r"test_r\d{2}_", node.name):
                names.add(f"R{node.name[6:8]}")
    missing = _missing("edge tests (test_rNN_* functions in tests/rules)", names)
    assert not missing, "\n".join(missing)


def test_every_rule_is_in_the_readme_rule_table() -> None:
    rows = set(re.findall(r"^\| (R\d{2}) \|", (ROOT / "README.md").read_text(), re.MULTILINE))
    missing = _missing("row in the README's rule table", rows)
    assert not missing, "\n".join(missing)


def _string_literals(tree: ast.AST) -> list[ast.Constant]:
    """String constants, docstrings and other bare string statements excluded."""
    bare = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare
    ]


def test_no_rule_id_literal_outside_the_rules_and_the_synth() -> None:
    """Other modules derive their rules from the catalogue: a new rule needs no edit there."""
    allowed = (ROOT / "kontrol" / "rules", ROOT / "kontrol" / "synth")
    found = []
    for path in sorted((ROOT / "kontrol").rglob("*.py")):
        if any(path.is_relative_to(a) for a in allowed):
            continue
        for node in _string_literals(ast.parse(path.read_text())):
            if RULE_ID.search(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert not found, "rule ids spelled outside kontrol/rules and kontrol/synth:\n" + "\n".join(
        found
    )


def test_the_literal_scan_sees_a_rule_id() -> None:
    tree = ast.parse('"""R01 in a docstring is fine."""\nx = {"R01": 1}\ny = f"{x} R02"\n')
    assert [n.value for n in _string_literals(tree) if RULE_ID.search(n.value)] == ["R01", " R02"]
