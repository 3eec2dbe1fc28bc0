"""Months in order, a re-run replacing its own month, one writer: the register on disk."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from lifecycle.lifecycle_helpers import make_queue

from kontrol import io
from kontrol.cli import main
from kontrol.lifecycle import classify, store

SEP, OCT, NOV = date(2026, 9, 30), date(2026, 10, 31), date(2026, 11, 30)
A, B, C, D = "0101801234", "0202805678", "0303809012", "0404803456"


def run_month(
    directory: Path, root: Path, cases: list[dict[str, Any]], as_of: date, tag: str = ""
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A month as a run does it: read, classify, publish, apply. (kept, suppressed)."""
    queue = make_queue(cases, as_of)
    if tag:  # another delivery for the same month: another run id
        queue = queue.with_columns(pl.lit(f"{as_of.isoformat()}-{tag}").alias("run_id"))
    kept, suppressed = classify(queue, store.cases_for_month(directory, as_of), as_of, 6)
    run_id = kept["run_id"][0] if kept.height else queue["run_id"][0]
    published = root / f"{as_of.isoformat()}{tag}"
    published.mkdir(parents=True, exist_ok=True)
    kept.write_parquet(published / "cases.parquet")
    (published / "manifest.json").write_text(json.dumps({"run_id": run_id}))
    store.mark_pending(directory, run_id, as_of, published)
    store.apply_publication(directory, run_id, as_of, published)
    return kept, suppressed


def case(rule: str, cpr: str, anchor: date) -> dict[str, Any]:
    return {"rule_id": rule, "cpr": cpr, "anchor_date": anchor}


def open_pairs(directory: Path) -> list[tuple[str, str]]:
    cases = store.load(directory).cases.filter(pl.col("outcome").is_null())
    return sorted(cases.select("rule_id", "cpr").rows())


@pytest.fixture
def after_october(tmp_path: Path) -> tuple[Path, pl.DataFrame, pl.DataFrame]:
    """September: A (R01), B (R02). October: A continuing (anchor moved), C new (R03)."""
    directory = tmp_path / "register"
    sep, _ = run_month(
        directory,
        tmp_path,
        [case("R01", A, date(2026, 4, 1)), case("R02", B, date(2026, 5, 1))],
        SEP,
    )
    octo, _ = run_month(
        directory,
        tmp_path,
        [case("R01", A, date(2026, 5, 1)), case("R03", C, date(2026, 8, 1))],
        OCT,
    )
    assert octo.sort("rule_id")["status"].to_list() == ["continuing", "new"]
    return directory, sep, octo


def snapshot_bytes(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in directory.rglob("*")
        if p.is_file() and p.name != store.LOCK_FILE
    }


def test_a_month_before_the_last_applied_one_is_refused(
    after_october: tuple[Path, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    directory, sep, _ = after_october
    before = snapshot_bytes(directory)
    expected = (
        f"{directory}: month 2026-09-30 is before the last month applied to this case register "
        "(2026-10-31); months are applied in order"
    )
    with pytest.raises(store.MonthOutOfOrder) as refused:
        store.cases_for_month(directory, SEP)
    assert str(refused.value) == expected
    with pytest.raises(store.MonthOutOfOrder):
        store.check_month(directory, SEP)
    published = tmp_path / "sep-again"
    published.mkdir()
    sep.write_parquet(published / "cases.parquet")
    (published / "manifest.json").write_text(json.dumps({"run_id": sep["run_id"][0]}))
    with pytest.raises(store.MonthOutOfOrder):
        store.mark_pending(directory, sep["run_id"][0], SEP, published)
    with pytest.raises(store.MonthOutOfOrder):  # the same month applied twice, out of turn
        store.apply_publication(directory, sep["run_id"][0], SEP, published)
    assert snapshot_bytes(directory) == before
    assert [r["as_of"] for r in store.load(directory).applied_runs] == [
        SEP.isoformat(),
        OCT.isoformat(),
    ]


def test_rerunning_the_latest_month_replaces_its_own_application(
    after_october: tuple[Path, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    directory, sep, octo = after_october
    register = store.load(directory)
    # the same month, the same delivery: nothing changes
    assert store.cases_for_month(directory, NOV).equals(register.cases)
    again, _ = run_month(
        directory,
        tmp_path,
        [case("R01", A, date(2026, 5, 1)), case("R03", C, date(2026, 8, 1))],
        OCT,
    )
    assert again.equals(octo)
    assert store.load(directory).snapshot == register.snapshot

    # a corrected delivery for October: A and C are no longer flagged, D is
    corrected, _ = run_month(directory, tmp_path, [case("R04", D, date(2026, 9, 1))], OCT, "fix")
    assert corrected["status"].to_list() == ["new"]
    after = store.load(directory)
    assert [(r["run_id"], r["as_of"]) for r in after.applied_runs] == [
        (sep["run_id"][0], SEP.isoformat()),
        ("2026-10-31-fix", OCT.isoformat()),
    ]
    rows = {row["rule_id"]: row for row in after.cases.iter_rows(named=True)}
    assert set(rows) == {"R01", "R02", "R04"}  # October's C is gone, not applied twice
    a = rows["R01"]  # back to what September left
    assert (a["anchor_date"], a["last_as_of"], a["last_run_id"]) == (
        date(2026, 4, 1),
        SEP,
        sep["run_id"][0],
    )
    assert open_pairs(directory) == [("R01", A), ("R02", B), ("R04", D)]


def write_outcomes(path: Path, rows: list[str]) -> Path:
    path.write_text("case_id,outcome,closed_date\n" + "".join(r + "\n" for r in rows))
    return path


def test_a_rerun_sees_the_outcomes_imported_since(
    after_october: tuple[Path, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    directory, _, octo = after_october
    ids = dict(zip(octo["rule_id"], octo["case_id"], strict=True))
    file = write_outcomes(
        tmp_path / "outcomes.csv",
        [f"{ids['R01']},founded,2026-11-10", f"{ids['R03']},unfounded,2026-11-12"],
    )
    assert store.import_outcomes(directory, file, today=NOV) == 2
    height = store.load(directory).cases.height

    kept, suppressed = run_month(
        directory,
        tmp_path,
        [case("R01", A, date(2026, 5, 1)), case("R03", C, date(2026, 8, 1))],
        OCT,
    )
    assert kept.height == 0  # both closed in between: they stay out
    assert sorted(suppressed["closed_case_id"]) == sorted([ids["R01"], ids["R03"]])
    after = store.load(directory)
    assert after.cases.height == height
    closed = after.cases.filter(pl.col("case_id") == ids["R03"]).row(0, named=True)
    assert (closed["outcome"], closed["first_as_of"]) == ("unfounded", OCT)
    assert [r["as_of"] for r in after.applied_runs] == [SEP.isoformat(), OCT.isoformat()]
    assert open_pairs(directory) == [("R02", B)]


def test_a_run_fails_when_the_register_changed_since_it_read_it(
    after_october: tuple[Path, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    """The DAG's steps in separate processes: an import between assemble and publish."""
    directory, _, octo = after_october
    work = tmp_path / "work"
    work.mkdir()
    store.cases_for_month(directory, NOV, work)
    file = write_outcomes(tmp_path / "o.csv", [f"{octo['case_id'][0]},no_action,2026-11-20"])
    store.import_outcomes(directory, file, today=NOV)
    before = snapshot_bytes(directory)
    with pytest.raises(store.RegisterChanged, match=r"outcomes import of o\.csv"):
        store.mark_pending(directory, "2026-11-30-x", NOV, tmp_path / "nov", work)
    with pytest.raises(store.RegisterChanged, match="run the month again"):
        store.cases_for_month(directory, NOV, work)
    assert snapshot_bytes(directory) == before


HOLD = """
import sys
from pathlib import Path
from kontrol.lifecycle import store
from kontrol.io import RegisterBusy
try:
    with store.exclusive(Path(sys.argv[1]), "child", timeout=float(sys.argv[2])):
        print("acquired", flush=True)
except RegisterBusy as error:
    print(error, file=sys.stderr)
    sys.exit(1)
"""


def test_the_lock_excludes_other_processes_and_threads_and_is_reentrant(tmp_path: Path) -> None:
    directory = tmp_path / "register"
    with store.exclusive(directory, "kontrol run 2026-10-31"):
        with store.exclusive(directory, "nested"):  # reentrant: no deadlock
            pass
        child = subprocess.run(
            [sys.executable, "-c", HOLD, str(directory), "0.3"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert child.returncode == 1
        message = child.stderr.strip().splitlines()[-1]
        assert message.startswith(f"{directory}: the case register is in use by pid {os.getpid()}")
        assert "kontrol run 2026-10-31" in message

        busy: list[BaseException] = []

        def other_thread() -> None:
            try:
                with store.exclusive(directory, "thread", timeout=0.3):
                    pass
            except io.RegisterBusy as error:
                busy.append(error)

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join(30)
        assert len(busy) == 1
    child = subprocess.run(
        [sys.executable, "-c", HOLD, str(directory), "5"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert child.returncode == 0 and child.stdout.strip() == "acquired"


def test_an_import_waits_for_the_writer_holding_the_register(
    after_october: tuple[Path, pl.DataFrame, pl.DataFrame],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    directory, _, octo = after_october
    file = write_outcomes(tmp_path / "o.csv", [f"{octo['case_id'][0]},no_action,2026-11-20"])
    done: list[int] = []
    with store.exclusive(directory, "kontrol run 2026-11-30"):
        snapshot = store.load(directory).snapshot
        thread = threading.Thread(
            target=lambda: done.append(store.import_outcomes(directory, file, today=NOV))
        )
        thread.start()
        waiting = f"held by pid {os.getpid()} on "  # the import says it waits, and for whom
        deadline = time.monotonic() + 60
        while thread.is_alive() and not any(waiting in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the import never waited for the lock"
            time.sleep(0.02)
        time.sleep(0.3)  # and a poll (every 0.2 s) later it still waits
        assert thread.is_alive() and not done
        assert store.load(directory).snapshot == snapshot
    thread.join(60)
    assert done == [1]
    assert store.load(directory).snapshot == snapshot + 1


def test_register_files_are_owner_only(
    after_october: tuple[Path, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    directory, _, _ = after_october
    previous = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh" / "register"
        store.save(fresh, store.load(directory))
        store.mark_pending(fresh, "2026-11-30-x", NOV, tmp_path / "nowhere")
    finally:
        os.umask(previous)
    modes = {
        str(p.relative_to(fresh)): stat.S_IMODE(p.stat().st_mode)
        for p in [fresh, *fresh.rglob("*")]
    }
    assert modes["."] == 0o700
    for name, mode in modes.items():
        expected = 0o700 if (fresh / name).is_dir() else 0o600
        assert mode == expected, name
    assert {"CURRENT.json", "pending.json", ".lock", "snapshots/000003/cases.parquet"} <= set(modes)


@pytest.mark.parametrize(
    ("damage", "file", "defect"),
    [
        (lambda d: (d / "CURRENT.json").write_text("{"), "CURRENT.json", "corrupt JSON"),
        (
            lambda d: (d / "snapshots/000002/state.json").write_bytes(b"\xff\xfe{"),
            "snapshots/000002/state.json",
            "corrupt JSON (not UTF-8 text)",
        ),
        (
            lambda d: (d / "snapshots/000002/cases.parquet").write_bytes(
                (d / "snapshots/000002/cases.parquet").read_bytes()[:300]
            ),
            "snapshots/000002/cases.parquet",
            "corrupt Parquet",
        ),
        (lambda d: (d / "pending.json").write_text('{"run_id": '), "pending.json", "corrupt JSON"),
    ],
)
def test_a_corrupt_register_is_one_line_naming_the_file(
    after_october: tuple[Path, pl.DataFrame, pl.DataFrame],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: Any,
    file: str,
    defect: str,
) -> None:
    directory, _, octo = after_october
    assert store.load(directory).snapshot == 2
    damage(directory)
    outcomes = write_outcomes(tmp_path / "o.csv", [f"{octo['case_id'][0]},no_action,2026-11-01"])
    code = main(["--quiet", "outcomes", "import", "--register", str(directory), str(outcomes)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"kontrol: error: {directory / file}: {defect}")
    assert err.count("\n") == 1 and "Traceback" not in err
