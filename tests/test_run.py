"""End to end: `kontrol run` over the committed synthetic delivery."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from kontrol.cli import main
from kontrol.queue import QUEUE_SCHEMA
from kontrol.rules import CATALOGUE

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "delivery"
AS_OF = "2026-10-31"


def run_cli(extracts: Path, out: Path, *extra: str) -> int:
    return main(
        ["--quiet", "run", "--extracts", str(extracts), "--out", str(out), "--as-of", AS_OF, *extra]
    )


@pytest.fixture
def published(fixture_run: Path) -> Path:
    """The session's one run of the fixture delivery (tests/conftest.py). Read only."""
    return fixture_run


def test_queue_has_every_contract_column(published: Path) -> None:
    queue = pl.read_parquet(published / "cases.parquet")
    assert queue.schema == QUEUE_SCHEMA
    assert queue.height > 0
    assert queue["priority"].to_list() == list(range(1, queue.height + 1))
    assert queue["case_id"].n_unique() == queue.height
    assert queue.select(pl.struct("rule_id", "cpr").n_unique()).item() == queue.height
    assert (queue["amount_at_stake_dkk"] > 0).all()
    assert queue["run_id"].n_unique() == 1
    for evidence in queue["evidence"]:
        assert json.loads(evidence)


def test_cases_equal_the_injected_ground_truth(published: Path) -> None:
    """The generator's promise: the rules find exactly the injected positives."""
    queue = pl.read_parquet(published / "cases.parquet")
    # only the rules of the catalogue (R08-R11's truth is there before their rules may be)
    truth = pl.read_parquet(FIXTURE / "ground_truth.parquet").filter(
        pl.col("rule_id").is_in([rule.rule_id for rule in CATALOGUE])
    )
    columns = ["rule_id", "cpr", "anchor_date", "period_start", "period_end", "amount_at_stake_dkk"]
    expected = truth.filter(pl.col("kind") == "positive").select(columns)
    found = queue.select(columns)
    missing = expected.join(found, on=columns, how="anti", nulls_equal=True)
    unexpected = found.join(expected, on=columns, how="anti", nulls_equal=True)
    assert missing.height == 0, f"injected cases not found:\n{missing}"
    assert unexpected.height == 0, f"cases not in the ground truth:\n{unexpected}"
    near_misses = truth.filter(pl.col("kind") == "near_miss").select("rule_id", "cpr")
    assert near_misses.height > 0
    assert near_misses.join(queue, on=["rule_id", "cpr"], how="semi").height == 0
    assert set(expected["rule_id"]) == {rule.rule_id for rule in CATALOGUE}


def test_ground_truth_names_the_rules_not_in_the_catalogue() -> None:
    """The fixture's truth covers R01-R11; any of them missing from the catalogue is named."""
    truth = pl.read_parquet(FIXTURE / "ground_truth.parquet")
    assert set(truth["rule_id"]) == {f"R{n:02d}" for n in range(1, 12)}
    missing = sorted(set(truth["rule_id"]) - {rule.rule_id for rule in CATALOGUE})
    assert set(missing) <= {"R08", "R09", "R10", "R11"}, f"rules missing: {missing}"


def test_same_inputs_give_byte_identical_publication(published: Path, tmp_path: Path) -> None:
    """Reproducible byte for byte: the queue, manifest, case list and validation report.

    The second run writes its case list in a child process beside the steps
    after it (``execution.detach_from_cases: 1``; kontrol.run.run_steps), as a
    large run does: where a step runs must not change a byte.
    """
    again = tmp_path / "again"
    config = tmp_path / "detach.yaml"
    config.write_text("execution:\n  detach_from_cases: 1\n", encoding="utf-8")
    assert run_cli(FIXTURE, again, "--demo-key", "--config", str(config)) == 0
    for name in ("cases.parquet", "manifest.json", "cases.html", "cases.xlsx"):
        assert (again / name).read_bytes() == (published / name).read_bytes(), name
    for name in ("cases.html", "cases.xlsx"):  # written by the child: owner-only all the same
        assert (again / name).stat().st_mode & 0o077 == 0, name

    def validation(root: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(root)): p.read_bytes()
            for p in sorted((root / "validation").rglob("*"))
            if p.is_file()
        }

    first, second = validation(published), validation(again)
    assert len(first) >= 8
    assert first == second
    text = b"".join(first.values()).decode()
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-", text)  # no uuids
    assert not re.search(r"\d{4}-?\d{2}-?\d{2}T\d{2}:?\d{2}", text)  # no wall-clock times


def test_case_list_is_published_for_caseworkers(published: Path) -> None:
    queue = pl.read_parquet(published / "cases.parquet")
    page = (published / "cases.html").read_text(encoding="utf-8")
    assert all(case_id in page for case_id in queue["case_id"])
    assert (published / "cases.xlsx").read_bytes()[:2] == b"PK"  # a zip container, i.e. XLSX


def test_manifest_and_rejects(published: Path) -> None:
    manifest = json.loads((published / "manifest.json").read_text())
    assert manifest["as_of"] == AS_OF
    assert manifest["window"] == {"months": 12, "start": "2025-11-01", "end": AS_OF}
    assert set(manifest["inputs"]) == {
        "persons.parquet",
        "residence_events.parquet",
        "relations.parquet",
        "payments.parquet",
        "income.parquet",
        # the fixture delivers every optional partner register (CONTRACT.md 1b)
        "utility_readings.parquet",
        "tenancies.parquet",
        "inspections.parquet",
        "custody.parquet",
    }
    assert manifest["rules_not_evaluated"] == {}
    queue = pl.read_parquet(published / "cases.parquet")
    assert manifest["cases_total"] == queue.height
    rejected = sum(entry["rows"] for entry in manifest["rejects"].values())
    truth_rejects = pl.read_parquet(FIXTURE / "ground_truth_rejects.parquet")
    assert rejected == truth_rejects.height > 0
    for name, entry in manifest["rejects"].items():
        assert pl.read_parquet(published / "rejects" / f"{name}.parquet").height == entry["rows"]


def test_manifest_contains_no_cpr(published: Path) -> None:
    text = (published / "manifest.json").read_text()
    persons = pl.read_parquet(FIXTURE / "persons.parquet")["cpr"].to_list()
    assert not any(cpr in text for cpr in persons)


def test_missing_case_key_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KONTROL_CASE_KEY", raising=False)
    assert run_cli(FIXTURE, tmp_path / "out") == 2
    assert "KONTROL_CASE_KEY is not set" in capsys.readouterr().err
    assert not (tmp_path / "out" / "cases.parquet").exists()


def test_case_ids_follow_the_key(
    published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KONTROL_CASE_KEY", "another-secret-key-for-tests")
    assert run_cli(FIXTURE, tmp_path / "keyed") == 0
    mine = pl.read_parquet(tmp_path / "keyed" / "cases.parquet").sort("rule_id", "cpr")
    demo = pl.read_parquet(published / "cases.parquet").sort("rule_id", "cpr")
    assert mine["cpr"].to_list() == demo["cpr"].to_list()
    assert not set(mine["case_id"]) & set(demo["case_id"])


def test_failed_run_keeps_the_previous_publication(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    shutil.copytree(published, out)
    before = (out / "cases.parquet").read_bytes()
    broken = tmp_path / "broken"
    shutil.copytree(FIXTURE, broken)
    pl.read_parquet(broken / "income.parquet").drop("month").write_parquet(
        broken / "income.parquet"
    )
    assert run_cli(broken, out, "--demo-key") == 1
    assert "income.parquet: column month: missing column" in capsys.readouterr().err
    assert (out / "cases.parquet").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


def test_failed_first_run_writes_no_queue(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(FIXTURE, broken)
    (broken / "relations.parquet").unlink()
    assert run_cli(broken, tmp_path / "out", "--demo-key") == 1
    assert not (tmp_path / "out" / "cases.parquet").exists()


def test_too_many_rejects_fails_and_leaves_diagnostics(
    published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(FIXTURE, broken)
    income = pl.read_parquet(broken / "income.parquet")
    damaged = income.with_columns(
        pl.when(pl.int_range(pl.len()) % 50 == 0)
        .then(pl.lit("1234"))
        .otherwise("employer_cvr")
        .alias("employer_cvr")
    )
    damaged.write_parquet(broken / "income.parquet")
    out = tmp_path / "out"
    shutil.copytree(published, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert run_cli(broken, out, "--demo-key") == 1
    error = capsys.readouterr().err
    assert "income.parquet: column employer_cvr:" in error
    assert "more than the allowed 1% (" in error
    # the last good publication is untouched ...
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    # ... and the failed run's diagnostics are beside it
    failed = out / "failed-run"
    rejects = pl.read_parquet(failed / "rejects" / "income.parquet")
    assert rejects.height >= income.height // 50
    assert "more than the allowed" in (failed / "error.txt").read_text()
    report = (failed / "validation" / "index.html").read_text()
    assert "reject" in report.lower()


def test_validation_report_is_published_without_cpr(published: Path) -> None:
    index = published / "validation" / "index.html"
    assert index.is_file()
    persons = set(pl.read_parquet(FIXTURE / "persons.parquet")["cpr"].to_list())
    persons |= set(pl.read_parquet(published / "cases.parquet")["cpr"].to_list())
    for path in (published / "validation").rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert not [cpr for cpr in persons if cpr in text], path
    manifest = json.loads((published / "manifest.json").read_text())
    assert manifest["validation"]["success"] is True
    assert set(manifest["validation"]["suites"]) >= {"persons", "payments", "case_queue"}


def test_files_holding_cpr_are_owner_only(published: Path) -> None:
    """Issue 11, item 6: never world-readable, whatever the umask (tests/test_publication.py)."""
    for name in ("cases.parquet", "cases.html", "cases.xlsx", "suppressed.parquet"):
        assert (published / name).stat().st_mode & 0o077 == 0, name
    assert (published / "rejects").stat().st_mode & 0o077 == 0
    assert (published / "manifest.json").stat().st_mode & 0o400


def test_window_months_option(tmp_path: Path) -> None:
    assert run_cli(FIXTURE, tmp_path / "short", "--demo-key", "--window-months", "1") == 0
    manifest = json.loads((tmp_path / "short" / "manifest.json").read_text())
    assert manifest["window"]["start"] == "2026-10-01"
    queue = pl.read_parquet(tmp_path / "short" / "cases.parquet")
    assert (queue["period_start"] >= date(2026, 10, 1)).all()
