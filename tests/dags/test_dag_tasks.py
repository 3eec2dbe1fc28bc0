"""kontrol.tasks as the DAG uses them: as_of, completeness, idempotent reruns, backfill, failure."""

from __future__ import annotations

import json
import os
import shutil
import threading
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from kontrol import tasks
from kontrol.errors import KontrolError
from kontrol.lifecycle import store
from kontrol.queue import DEMO_CASE_KEY
from kontrol.run import run_steps
from kontrol.validation import ExpectationOutcome, ValidationOutcome

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "delivery"
OCTOBER = date(2026, 10, 31)


def run_month(
    extracts: Path, out_dir: Path, as_of: date, register: Path | None = None
) -> dict[str, Any]:
    """The DAG's task bodies, in the step table's order, in this process."""
    prepared = tasks.prepare(
        extracts,
        tasks.publish_dir_for(out_dir, as_of),
        as_of,
        tasks.work_dir_for(out_dir, as_of),
        tasks.config_from(None, None),
        previous_manifest=tasks.previous_manifest(out_dir, as_of),
        register_dir=register,
    )
    return run_steps(Path(prepared["work_dir"]), prepared["extracts"], DEMO_CASE_KEY.encode())[-1]


# --- small pure helpers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval_start", "run_after", "expected"),
    [
        (date(2026, 10, 1), date(2026, 11, 1), date(2026, 10, 31)),
        (date(2026, 2, 1), date(2026, 3, 1), date(2026, 2, 28)),
        (date(2028, 2, 1), date(2028, 3, 1), date(2028, 2, 29)),
        (date(2026, 12, 1), date(2027, 1, 1), date(2026, 12, 31)),
        (None, date(2026, 11, 24), date(2026, 10, 31)),
        (None, date(2027, 1, 5), date(2026, 12, 31)),
    ],
)
def test_default_as_of_is_the_last_day_of_the_interval_month(
    interval_start: date | None, run_after: date, expected: date
) -> None:
    assert tasks.default_as_of(interval_start, run_after) == expected


def test_month_layout(tmp_path: Path) -> None:
    assert tasks.publish_dir_for(tmp_path, OCTOBER) == tmp_path / "2026-10-31"
    assert tasks.work_dir_for(tmp_path, OCTOBER) == tmp_path / ".work" / "2026-10-31"


def test_previous_manifest_is_the_latest_earlier_month(tmp_path: Path) -> None:
    assert tasks.previous_manifest(tmp_path / "missing", OCTOBER) is None
    for month in ("2026-08-31", "2026-09-30", "2026-10-31", "2026-11-30"):
        (tmp_path / month).mkdir()
        (tmp_path / month / "manifest.json").write_text("{}")
    (tmp_path / "not-a-date").mkdir()
    assert tasks.previous_manifest(tmp_path, OCTOBER) == tmp_path / "2026-09-30" / "manifest.json"
    assert tasks.previous_manifest(tmp_path, date(2026, 8, 31)) is None


def copy_delivery(delivery: Path) -> None:
    """The fixture's delivered files (not its ground truth) into ``delivery``."""
    for path in FIXTURE.glob("*.parquet"):
        if not path.name.startswith("ground_truth"):
            shutil.copy(path, delivery / path.name)


def test_delivery_status(tmp_path: Path) -> None:
    delivery = tmp_path / "delivery"
    delivery.mkdir()
    status = tasks.delivery_status(delivery, settle_seconds=0)
    assert not status.complete
    assert "persons.parquet" in status.reason
    copy_delivery(delivery)
    assert tasks.delivery_status(delivery, settle_seconds=0).complete
    assert not tasks.delivery_status(delivery, require_marker=True, settle_seconds=0).complete
    # a file still being written (no Parquet footer yet) is not complete
    payments = (delivery / "payments.parquet").read_bytes()
    (delivery / "payments.parquet").write_bytes(payments[: len(payments) // 2])
    status = tasks.delivery_status(delivery, settle_seconds=0)
    assert not status.complete
    assert "payments.parquet" in status.reason
    # the delivering system's marker is authoritative
    (delivery / tasks.DELIVERY_MARKER).touch()
    assert tasks.delivery_status(delivery, require_marker=True, settle_seconds=0).complete


def test_a_file_that_changes_while_settling_is_not_complete(tmp_path: Path) -> None:
    """Size and modification time must hold still for ``settle_seconds`` (a writer may pause)."""
    delivery = tmp_path / "delivery"
    delivery.mkdir()
    copy_delivery(delivery)
    payments = delivery / "payments.parquet"
    stamp = payments.stat().st_mtime_ns
    touch = threading.Timer(0.2, os.utime, (payments,), {"ns": (stamp, stamp + 10**9)})
    touch.start()
    try:
        status = tasks.delivery_status(delivery, settle_seconds=1.0)
    finally:
        touch.join()
    assert not status.complete
    assert status.reason == "still being written: payments.parquet"
    assert tasks.delivery_status(delivery, settle_seconds=0.1).complete  # now it holds still


def test_validation_outcome_round_trips_through_json() -> None:
    outcome = ValidationOutcome(
        suite="payments",
        success=False,
        critical_failures=("payments.cpr.regex",),
        warnings=("payments.volume",),
        statistics={"evaluated_expectations": 3, "successful_expectations": 1},
        rows_total=10,
        rows_validated=10,
        gx_version="1.24.0",
        seconds=0.25,
        expectations=(
            ExpectationOutcome("payments.cpr.regex", "regex", "cpr", "critical", False, "1", "d"),
        ),
        gx_result={"success": False, "results": [{"a": 1}]},
    )
    doc = json.loads(json.dumps(outcome.to_json()))
    assert ValidationOutcome.from_json(doc) == outcome


def test_a_step_without_prepare_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(KontrolError, match="prepare step has not run"):
        tasks.run_step("apply_rules", tmp_path / "nowhere")


# --- whole months ---------------------------------------------------------------------


@pytest.mark.slow
def test_backfill_rerun_and_republish_are_idempotent(tmp_path: Path) -> None:
    """Two months on the DAG's register, then October's publish and the whole month again."""
    out = tmp_path / "out"
    register = out / "register"
    september = run_month(FIXTURE, out, date(2026, 9, 30), register)
    october = run_month(FIXTURE, out, OCTOBER, register)
    assert september["publish_dir"] == str(out / "2026-09-30")
    assert october["publish_dir"] == str(out / "2026-10-31")
    assert september["run_id"] != october["run_id"]
    assert september["run_id"].startswith("2026-09-30-")
    # the October run compared volumes with September's publication
    run_doc = json.loads((out / ".work" / "2026-10-31" / "run.json").read_text())
    assert run_doc["previous_rows"] is not None
    # ... and its cases per rule with September's (the volume warnings, issue 12)
    assert run_doc["previous_run"]["as_of"] == "2026-09-30"
    assert run_doc["previous_run"]["cases_per_rule"] == september["cases_per_rule"]
    october_manifest = json.loads((out / "2026-10-31" / "manifest.json").read_text())
    assert october_manifest["case_volume"]["previous_run_as_of"] == "2026-09-30"
    # XCom values are small and hold no cpr
    persons = set(pl.read_parquet(FIXTURE / "persons.parquet")["cpr"].to_list())
    text = json.dumps([september, october])
    assert not [cpr for cpr in persons if cpr in text]

    published = out / "2026-10-31"
    before = {p.name: p.read_bytes() for p in published.iterdir() if p.is_file()}
    # October continues September's cases on the register
    assert "continuing" in set(pl.read_parquet(published / "cases.parquet")["status"])
    # publish again (a retried or cleared task): same result, nothing moved
    assert tasks.run_step("publish", out / ".work" / "2026-10-31") == october
    # the whole month again (its first application is in the register): the same files
    assert run_month(FIXTURE, out, OCTOBER, register) == october
    assert {p.name: p.read_bytes() for p in published.iterdir() if p.is_file()} == before
    assert [r["as_of"] for r in store.load(register).applied_runs] == ["2026-09-30", "2026-10-31"]
    # after publication the work directory holds no data
    assert sorted(p.name for p in (out / ".work" / "2026-10-31").iterdir()) == [
        "published.json",
        "run.json",
    ]


@pytest.mark.slow
def test_a_failed_month_keeps_the_last_good_publication(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_month(FIXTURE, out, OCTOBER)
    published = out / "2026-10-31"
    before = {p.name: p.read_bytes() for p in published.iterdir() if p.is_file()}

    broken = tmp_path / "broken"
    shutil.copytree(FIXTURE, broken)
    income = pl.read_parquet(broken / "income.parquet")
    income.with_columns(
        pl.when(pl.int_range(pl.len()) % 50 == 0)
        .then(pl.lit("1234"))
        .otherwise("employer_cvr")
        .alias("employer_cvr")
    ).write_parquet(broken / "income.parquet")
    with pytest.raises(KontrolError, match="more than the allowed"):
        run_month(broken, out, OCTOBER)

    assert {p.name: p.read_bytes() for p in published.iterdir() if p.is_file()} == before
    failed = published / "failed-run"
    assert "more than the allowed" in (failed / "error.txt").read_text()
    assert pl.read_parquet(failed / "rejects" / "income.parquet").height >= income.height // 50
    assert (failed / "validation" / "index.html").is_file()
    # the next run of the month starts over from an empty work directory
    assert run_month(FIXTURE, out, OCTOBER)["cases"] > 0
    assert sorted(os.listdir(out / ".work" / "2026-10-31")) == [
        "published.json",
        "run.json",
    ]
