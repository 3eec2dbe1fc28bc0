"""Optional partner registers (CONTRACT.md section 1b): loaded and checked when delivered,
not an error when missing, and a rule that reads one runs only when it is there."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from kontrol import catalogue, pipeline
from kontrol.config import KontrolConfig, load_config
from kontrol.errors import RejectRateExceeded, StructuralDefect
from kontrol.rules import CATALOGUE, ITEM_SCHEMA, RuleContext, RuleSpec, Scope, evaluate_rules
from kontrol.rules.account import AccountParts
from kontrol.rules.evidence import LineFacts
from kontrol.schema import (
    ALL_EXTRACT_NAMES,
    EXTRACT_NAMES,
    OPTIONAL_EXTRACT_NAMES,
    OPTIONAL_SPECS,
)
from kontrol.validation import suites

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "delivery"
CPR = "0203851234"


def custody_rows(n: int, bad: int = 0) -> pl.DataFrame:
    """``n`` remand spells of distinct persons, the first ``bad`` with an unknown custody_type."""
    return pl.DataFrame(
        {
            "cpr": [f"0101{i:06d}" for i in range(n)],
            "custody_type": ["arrest" if i < bad else "remand" for i in range(n)],
            "start_date": [date(2026, 3, 1)] * n,
            "end_date": [date(2026, 3, 5)] * n,
        },
        schema=OPTIONAL_SPECS["custody"].schema,
    )


def test_optional_extracts_are_declared_with_the_others() -> None:
    assert OPTIONAL_EXTRACT_NAMES == ("utility_readings", "tenancies", "inspections", "custody")
    assert (*EXTRACT_NAMES, *OPTIONAL_EXTRACT_NAMES) == ALL_EXTRACT_NAMES
    assert all(not spec.required for spec in OPTIONAL_SPECS.values())
    generated = suites.build_suites()
    for name in OPTIONAL_EXTRACT_NAMES:
        names = [e["meta"]["name"] for e in generated[name]["expectations"]]
        assert "columns" in names
        delivery = [e["kwargs"]["column"] for e in generated["delivery"]["expectations"]]
        assert f"{name}__reject_share" in delivery


def test_missing_optional_file_is_not_a_defect(tiny_delivery: Path, tmp_path: Path) -> None:
    assert pipeline.delivered_extracts(tiny_delivery) == EXTRACT_NAMES
    loads = pipeline.load_delivery(tiny_delivery, tmp_path / "staging", KontrolConfig())
    assert tuple(loads) == EXTRACT_NAMES
    assert pipeline.open_staged(tmp_path / "staging").optional() == {}


def test_delivered_optional_file_is_rejected_row_by_row(
    tiny_delivery: Path, tmp_path: Path
) -> None:
    custody_rows(200, bad=2).write_parquet(tiny_delivery / "custody.parquet")
    staging = tmp_path / "staging"
    loads = pipeline.load_delivery(tiny_delivery, staging, KontrolConfig())
    assert loads["custody"].rows_rejected == 2
    assert loads["custody"].reject_reasons == {"custody_type: unknown custody_type": 2}
    rejects = pl.read_parquet(catalogue.path(staging, "rejects", extract="custody"))
    assert rejects["reject_reason"].to_list() == ["custody_type: unknown custody_type"] * 2
    staged = pipeline.open_staged(staging)
    assert staged.custody is not None
    assert staged.custody.collect().height == 198
    pipeline.raise_for_reject_rates(loads, KontrolConfig())  # 1 %: allowed


def test_more_than_one_percent_rejected_fails(tiny_delivery: Path, tmp_path: Path) -> None:
    custody_rows(200, bad=3).write_parquet(tiny_delivery / "custody.parquet")
    with pytest.raises(RejectRateExceeded, match=r"^custody\.parquet: column custody_type: 3 of"):
        pipeline.load_delivery(tiny_delivery, tmp_path / "staging", KontrolConfig())
    # the rejects are written before the run fails, for the data engineer
    rejects = catalogue.path(tmp_path / "staging", "rejects", extract="custody")
    assert pl.read_parquet(rejects).height == 3


def test_structural_defect_in_optional_file_fails(tiny_delivery: Path, tmp_path: Path) -> None:
    custody_rows(5).drop("end_date").write_parquet(tiny_delivery / "custody.parquet")
    with pytest.raises(StructuralDefect, match=r"^custody\.parquet: column end_date: missing"):
        pipeline.load_delivery(tiny_delivery, tmp_path / "staging", KontrolConfig())


def _reads_custody(called: list[bool]) -> RuleSpec:
    def flag(ctx: RuleContext) -> pl.LazyFrame:
        called.append(True)
        assert ctx.extract("custody").collect().height == 1
        return pl.LazyFrame(schema=ITEM_SCHEMA)

    def account(case: object, items: object) -> AccountParts:
        return AccountParts("x")

    return RuleSpec(
        rule_id="RX",
        name_da="x",
        name_en="x",
        description="x",
        legal_basis="x",
        benefits_in_scope=Scope.every(),
        flag=flag,
        evidence=LineFacts,
        account=account,
        reads=("custody",),
    )


def test_rule_runs_only_when_its_extract_is_delivered(tiny_delivery: Path, tmp_path: Path) -> None:
    called: list[bool] = []
    spec = _reads_custody(called)
    staging = tmp_path / "staging"
    pipeline.load_delivery(tiny_delivery, staging, KontrolConfig())
    extracts = pipeline.open_staged(staging)
    evaluate_rules(extracts, date(2026, 10, 31), KontrolConfig(), [spec]).collect()
    assert called == []
    assert pipeline.rules_not_evaluated(EXTRACT_NAMES, [spec]) == {"RX": ["custody.parquet"]}
    assert pipeline.describe_not_evaluated({"RX": ["custody.parquet"]}) == (
        "RX (lacks custody.parquet)"
    )

    custody_rows(1).write_parquet(tiny_delivery / "custody.parquet")
    pipeline.load_delivery(tiny_delivery, staging, KontrolConfig())
    extracts = pipeline.open_staged(staging)
    evaluate_rules(extracts, date(2026, 10, 31), KontrolConfig(), [spec]).collect()
    assert called == [True]
    assert pipeline.rules_not_evaluated(ALL_EXTRACT_NAMES, [spec]) == {}


def test_v1_configuration_file_still_loads(tmp_path: Path) -> None:
    """A benefit table written for version 1 lacks the two new columns: contract defaults."""
    path = tmp_path / "v1.yaml"
    path.write_text(
        "window_months: 12\n"
        "benefits:\n"
        "  - {code: KONTANTHJAELP, name_da: kontanthjælp, residence_required: true,\n"
        "     income_replacement: true, income_tested: true}\n"
        "  - {code: FOLKEPENSION, name_da: folkepension, residence_required: false,\n"
        "     income_replacement: true, income_tested: false}\n"
        "  - {code: LOKAL_YDELSE, name_da: lokal ydelse, residence_required: true,\n"
        "     income_replacement: false, income_tested: false}\n"
        "rule_parameters:\n"
        "  R04: {income_threshold_dkk: '1500.00'}\n",
        encoding="utf-8",
    )
    config = load_config(path)
    flags = {b.code: (b.work_excluded, b.stops_in_custody) for b in config.benefits}
    assert flags == {
        "KONTANTHJAELP": (True, True),
        "FOLKEPENSION": (False, False),
        "LOKAL_YDELSE": (False, False),
    }
    assert config.codes_where("work_excluded") == ["KONTANTHJAELP"]


def test_new_benefit_columns_are_configurable(tmp_path: Path) -> None:
    path = tmp_path / "v2.yaml"
    path.write_text(
        "benefits:\n"
        "  - {code: DAGPENGE, name_da: dagpenge, residence_required: true,\n"
        "     income_replacement: true, income_tested: false, work_excluded: false,\n"
        "     stops_in_custody: true}\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.codes_where("work_excluded") == []
    assert config.codes_where("stops_in_custody") == ["DAGPENGE"]
    assert KontrolConfig().codes_where("work_excluded") == [
        "DAGPENGE",
        "KONTANTHJAELP",
        "SYGEDAGPENGE",
        "UDDANNELSESHJAELP",
    ]
    assert KontrolConfig().codes_where("stops_in_custody") == KontrolConfig().codes_where(
        "work_excluded"
    )


#: The v1 fixture's case queue as ``kontrol run --demo-key`` published it before
#: version 2 (every column but ``run_id``, which names the run: its configuration
#: and catalogue version changed), as CSV with the code lists joined by commas.
V1_CASES_SHA256 = "1cc450b6cafd75c6ebd0d767711e73514da586027ecf5dca04026068129489e9"


def cases_digest(cases: pl.DataFrame) -> str:
    text = cases.drop("run_id").with_columns(pl.col("benefit_codes").list.join(",")).write_csv()
    return hashlib.sha256(text.encode()).hexdigest()


def test_delivery_without_optional_files_gives_exactly_the_v1_cases(tmp_path: Path) -> None:
    from kontrol.cli import main

    delivery = tmp_path / "delivery"
    delivery.mkdir()
    for name in EXTRACT_NAMES:
        shutil.copy(FIXTURE / f"{name}.parquet", delivery / f"{name}.parquet")
    out = tmp_path / "out"
    args = ["--quiet", "run", "--extracts", str(delivery), "--out", str(out)]
    assert main([*args, "--as-of", "2026-10-31", "--demo-key"]) == 0
    assert cases_digest(pl.read_parquet(out / "cases.parquet")) == V1_CASES_SHA256
    manifest = pipeline.io.read_json(out / "manifest.json")
    partner_rules = {r.rule_id: list(r.reads) for r in CATALOGUE if r.reads}
    assert manifest["rules_not_evaluated"] == {
        rule_id: [f"{name}.parquet" for name in reads if name not in EXTRACT_NAMES]
        for rule_id, reads in partner_rules.items()
    }
    assert set(manifest["cases_per_rule"]).isdisjoint(manifest["rules_not_evaluated"])
    assert sorted(manifest["inputs"]) == sorted(f"{n}.parquet" for n in EXTRACT_NAMES)


def test_delivered_optional_file_is_validated_and_in_the_manifest(tmp_path: Path) -> None:
    from kontrol.cli import main

    delivery = tmp_path / "delivery"
    delivery.mkdir()
    for name in EXTRACT_NAMES:
        shutil.copy(FIXTURE / f"{name}.parquet", delivery / f"{name}.parquet")
    persons = pl.read_parquet(delivery / "persons.parquet")["cpr"].head(50)
    custody_rows(50).with_columns(cpr=persons).write_parquet(delivery / "custody.parquet")
    out = tmp_path / "out"
    args = ["--quiet", "run", "--extracts", str(delivery), "--out", str(out)]
    assert main([*args, "--as-of", "2026-10-31", "--demo-key"]) == 0
    manifest = pipeline.io.read_json(out / "manifest.json")
    assert manifest["inputs"]["custody.parquet"]["rows"] == 50
    assert manifest["rejects"]["custody"]["rows"] == 0
    suites_run = manifest["validation"]["suites"]
    assert suites_run["custody"]["success"] is True
    assert suites_run["custody"]["evaluated"] > 5
    report = (out / "validation" / "index.html").read_text(encoding="utf-8")
    assert "rules_not_evaluated" in report
    if not any("custody" in r.reads for r in CATALOGUE):  # no rule reads it: v1 cases
        assert cases_digest(pl.read_parquet(out / "cases.parquet")) == V1_CASES_SHA256


def test_delivery_is_complete_only_when_optional_files_are_readable(tmp_path: Path) -> None:
    from kontrol import tasks

    delivery = tmp_path / "delivery"
    delivery.mkdir()
    for name in ALL_EXTRACT_NAMES:
        shutil.copy(FIXTURE / f"{name}.parquet", delivery / f"{name}.parquet")
    status = tasks.delivery_status(delivery, settle_seconds=0)
    assert status.complete and "all 9 files" in status.reason
    custody = (delivery / "custody.parquet").read_bytes()
    (delivery / "custody.parquet").write_bytes(custody[: len(custody) // 2])
    status = tasks.delivery_status(delivery, settle_seconds=0)
    assert not status.complete and "custody.parquet" in status.reason
    (delivery / "custody.parquet").unlink()  # not delivered at all: complete without it
    assert tasks.delivery_status(delivery, settle_seconds=0).complete
