"""The committed suites are the generator's output, pinned to the installed GX.

These tests do not import Great Expectations (package metadata gives its
version), so they run in a second.
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kontrol.config import KontrolConfig
from kontrol.schema import extract_specs
from kontrol.validation import (
    SuiteDrift,
    checks,
    committed_suites,
    previous_rows_from_manifest,
    suites,
)


def test_committed_suites_equal_the_generator_output() -> None:
    generated = suites.build_suites()
    for name in suites.SUITE_NAMES:
        path = suites.suite_path(name)
        assert path.is_file(), f"{path} missing: run python -m kontrol.validation.suites --write"
        committed = json.loads(path.read_text(encoding="utf-8"))
        assert committed == generated[name], (
            f"expectations/{name}.json drifted from kontrol.schema: "
            "run python -m kontrol.validation.suites --write and review the diff"
        )
    assert sorted(p.stem for p in suites.SUITES_DIR.glob("*.json")) == sorted(suites.SUITE_NAMES)


def test_suites_are_pinned_to_the_installed_great_expectations() -> None:
    installed = importlib.metadata.version("great_expectations")
    for name, doc in suites.load_suites().items():
        pinned = doc["meta"]["great_expectations_version"]
        assert pinned == installed, (
            f"expectations/{name}.json is pinned to GX {pinned} but GX {installed} is installed: "
            "read GX's changelog for changed expectation semantics, then regenerate with "
            "python -m kontrol.validation.suites --write and rerun these tests"
        )


def test_every_expectation_has_a_name_and_a_severity() -> None:
    for doc in suites.build_suites().values():
        names = [e["meta"]["name"] for e in doc["expectations"]]
        assert len(names) == len(set(names))
        for expectation in doc["expectations"]:
            assert expectation["meta"]["severity"] in {"critical", "warning"}
            assert expectation["severity"] == expectation["meta"]["severity"]
            assert expectation["meta"]["description"]


def test_every_loader_check_is_compiled_into_its_suite_and_the_whole_file_facts() -> None:
    built = suites.build_suites()
    delivery = {e["meta"]["name"] for e in built["delivery"]["expectations"]}
    for name, spec in extract_specs(KontrolConfig().benefit_codes).items():
        in_suite = {e["meta"]["name"] for e in built[name]["expectations"]}
        for constraint in spec.all_constraints():
            assert checks.check_name(constraint) in in_suite
            fact = checks.fact_column(name, checks.failed_metric(constraint))
            assert fact in delivery


def test_native_constraints_compile_to_native_expectations() -> None:
    payments = {e["meta"]["name"]: e for e in suites.build_suites()["payments"]["expectations"]}
    cpr = payments["cpr: malformed cpr (expected 10 digits DDMMYYSSSS)"]
    assert cpr["type"] == "expect_column_values_to_match_regex"
    codes = payments["benefit_code: unknown benefit_code"]
    assert codes["kwargs"]["value_set"] == {"$PARAMETER": "benefit_codes"}
    same_month = payments["period_end: period_end in another month than period_start"]
    assert same_month["kwargs"]["column"].startswith("valid__")
    assert payments["key payment_id: unique"]["type"] == "expect_column_values_to_be_unique"


def test_severities_follow_the_contract() -> None:
    delivery = {
        e["meta"]["name"]: e["meta"]["severity"]
        for e in suites.build_suites()["delivery"]["expectations"]
    }
    assert delivery["payments__reject_share"] == "critical"
    assert delivery["payments__rows_unknown_person"] == "warning"
    assert delivery["payments__rows_vs_previous"] == "warning"
    assert delivery["residence_events__rows_after_as_of"] == "warning"
    built = suites.build_suites()
    for name in suites.SUITE_NAMES:
        if name != "delivery":
            assert {e["severity"] for e in built[name]["expectations"]} == {"critical"}


def test_a_hand_edited_suite_is_refused_at_run_time(tmp_path: Path) -> None:
    shutil.copytree(suites.SUITES_DIR, tmp_path / "expectations")
    path = tmp_path / "expectations" / "persons.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["expectations"] = doc["expectations"][:-1]
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SuiteDrift, match="persons"):
        committed_suites(tmp_path / "expectations")
    assert suites.main(["--check", "--dir", str(tmp_path / "expectations")]) == 1


def test_importing_the_package_does_not_import_great_expectations() -> None:
    code = (
        "import sys, kontrol.validation, kontrol.validation.suites, kontrol.validation.report;"
        "sys.exit('great_expectations' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_previous_rows_are_read_from_an_earlier_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps({"inputs": {"payments.parquet": {"sha256": "x", "rows": 120}}}), encoding="utf-8"
    )
    assert previous_rows_from_manifest(manifest) == {"payments": 120}
    assert previous_rows_from_manifest(tmp_path / "missing.json") is None
