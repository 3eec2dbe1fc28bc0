"""The register across `kontrol run`s over the committed synthetic delivery."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from kontrol.cli import main
from kontrol.lifecycle import store
from kontrol.rules import CATALOGUE

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "delivery"
SEP, OCT = "2026-09-30", "2026-10-31"


def run_cli(out: Path, as_of: str, register: Path | None, *extra: str) -> int:
    args = ["--quiet", "run", "--extracts", str(FIXTURE), "--out", str(out), "--as-of", as_of]
    if register is not None:
        args += ["--register", str(register)]
    return main([*args, "--demo-key", *extra])


def queue(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "cases.parquet")


@pytest.fixture
def two_months(fixture_months: dict[str, Path]) -> dict[str, Path]:
    """September then October on one register, once per session (tests/conftest.py). Read only."""
    return fixture_months


def test_first_run_is_all_new_then_continuing_keeps_the_case_id(
    two_months: dict[str, Path],
) -> None:
    sep, octo = queue(two_months["sep"]), queue(two_months["oct"])
    assert sep.height > 0 and set(sep["status"]) == {"new"}
    both = octo.join(sep, on=["rule_id", "cpr"], suffix="_sep")
    assert both.height > 0
    assert (both["status"] == "continuing").all()
    assert both["case_id"].equals(both["case_id_sep"])
    moved = both.filter(pl.col("anchor_date") != pl.col("anchor_date_sep"))
    assert moved.height > 0, "the fixture should move some anchors with the window"
    only_oct = octo.join(sep, on=["rule_id", "cpr"], how="anti")
    assert set(only_oct["status"]) <= {"new"}
    assert octo["priority"].to_list() == list(range(1, octo.height + 1))
    register = store.load(two_months["register"])
    assert [r["run_id"] for r in register.applied_runs] == [
        json.loads((two_months[m] / "manifest.json").read_text())["run_id"] for m in ("sep", "oct")
    ]
    # the register carries October's anchor and amount under September's id
    updated = register.cases.join(
        moved.select("case_id", "anchor_date", "amount_at_stake_dkk"), on="case_id"
    )
    assert updated["anchor_date"].equals(updated["anchor_date_right"])
    assert updated["amount_at_stake_dkk"].equals(updated["amount_at_stake_dkk_right"])
    assert not (two_months["register"] / store.PENDING_FILE).exists()


def test_without_register_every_case_is_new(fixture_run: Path) -> None:
    assert set(queue(fixture_run)["status"]) == {"new"}
    assert pl.read_parquet(fixture_run / "suppressed.parquet").height == 0


def test_rule_performance_in_manifest_and_html_without_cpr(two_months: dict[str, Path]) -> None:
    out = two_months["oct"]
    manifest = json.loads((out / "manifest.json").read_text())
    performance = manifest["rule_performance"]
    raised = sum(stats["raised"] for stats in performance["rules"].values())
    assert raised == store.load(two_months["register"]).cases.height
    assert set(performance["rules"]) == {spec.rule_id for spec in CATALOGUE}
    assert manifest["lifecycle"]["statuses"]["continuing"] > 0
    page = (out / "rule_performance.html").read_text()
    assert "<table>" in page and "http://" not in page and "https://" not in page
    cprs = set(pl.read_parquet(FIXTURE / "persons.parquet")["cpr"].to_list())
    text = page + (out / "manifest.json").read_text()
    assert not [cpr for cpr in cprs if cpr in text]


def test_crash_between_queue_and_register_is_repaired_by_the_next_run(
    two_months: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register = tmp_path / "register"
    shutil.copytree(two_months["root"] / "register-after-sep", register)

    def die(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("killed between publishing and updating the register")

    with monkeypatch.context() as patch:
        patch.setattr(store, "apply_publication", die)
        # the CLI reports the unexpected error in one line (traceback in a log file)
        assert run_cli(tmp_path / "oct", OCT, register) == 1
    # the queue is published, the register does not know it yet
    assert queue(tmp_path / "oct").equals(queue(two_months["oct"]))
    assert len(store.load(register).applied_runs) == 1
    assert (register / store.PENDING_FILE).is_file()

    # the next run (here: November) first records October, so October's cases continue
    assert run_cli(tmp_path / "nov", "2026-11-30", register) == 0
    runs = [r["as_of"] for r in store.load(register).applied_runs]
    assert runs == [SEP, OCT, "2026-11-30"]
    assert not (register / store.PENDING_FILE).exists()
    octo, nov = queue(two_months["oct"]), queue(tmp_path / "nov")
    continued = nov.join(octo, on=["rule_id", "cpr"], suffix="_oct")
    assert continued.height > 0
    assert (continued["status"] == "continuing").all()
    assert continued["case_id"].equals(continued["case_id_oct"])


def test_a_pending_run_that_never_published_is_dropped(tmp_path: Path) -> None:
    register = tmp_path / "register"
    store.mark_pending(register, "2026-10-31-000000000000", date(2026, 10, 31), tmp_path / "x")
    assert store.recover(register) is None
    assert not (register / store.PENDING_FILE).exists()
    assert store.load(register).applied_runs == []


def test_outcomes_suppress_and_close_cases_in_the_next_run(
    two_months: dict[str, Path], tmp_path: Path
) -> None:
    register = tmp_path / "register"
    shutil.copytree(two_months["root"] / "register-after-sep", register)
    sep = queue(two_months["sep"]).sort("priority")
    unfounded, founded = sep.row(0, named=True), sep.row(1, named=True)
    file = tmp_path / "outcomes.csv"
    file.write_text(
        "case_id,outcome,closed_date,repayment_dkk,future_saving_dkk\n"
        f"{unfounded['case_id']},unfounded,2026-10-05,,\n"
        f"{founded['case_id']},founded,2026-10-06,1000.00,250.50\n",
        encoding="utf-8",
    )
    assert main(["--quiet", "outcomes", "import", "--register", str(register), str(file)]) == 0
    assert run_cli(tmp_path / "oct", OCT, register) == 0
    octo = queue(tmp_path / "oct")
    suppressed = pl.read_parquet(tmp_path / "oct" / "suppressed.parquet")
    pair = (unfounded["rule_id"], unfounded["cpr"])
    assert pair not in set(octo.select("rule_id", "cpr").rows())
    row = suppressed.filter(pl.col("closed_case_id") == unfounded["case_id"]).row(0, named=True)
    assert row["suppressed_until"] == date(2027, 4, 5)
    assert "unfounded" in row["reason"]
    # the founded case is never raised again under its id
    assert founded["case_id"] not in set(octo["case_id"])
    manifest = json.loads((tmp_path / "oct" / "manifest.json").read_text())
    stats = manifest["rule_performance"]["rules"][founded["rule_id"]]
    assert stats["closed"] >= 1 and stats["founded"] == 1
    assert stats["repayment_dkk"] == "1000.00" and stats["future_saving_dkk"] == "250.50"
    assert manifest["lifecycle"]["suppressed"] == suppressed.height


def test_control_sample_is_published_recorded_and_deterministic(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("lifecycle:\n  control_sample_size: 5\n", encoding="utf-8")
    register = tmp_path / "register"
    assert run_cli(tmp_path / "a", OCT, register, "--config", str(config)) == 0
    assert run_cli(tmp_path / "b", OCT, None, "--config", str(config)) == 0
    sample = pl.read_parquet(tmp_path / "a" / "control_sample.parquet")
    assert sample.height == 5
    assert set(sample["status"]) == {"control_sample"}
    assert sample.equals(pl.read_parquet(tmp_path / "b" / "control_sample.parquet"))
    assert not set(sample["cpr"]) & set(queue(tmp_path / "a")["cpr"])
    assert "CONTROL" not in set(queue(tmp_path / "a")["rule_id"])

    file = tmp_path / "outcomes.csv"
    ids = sample["case_id"].to_list()
    file.write_text(
        "case_id,outcome,closed_date\n"
        f"{ids[0]},founded,2026-11-10\n{ids[1]},no_action,2026-11-10\n",
        encoding="utf-8",
    )
    assert main(["--quiet", "outcomes", "import", "--register", str(register), str(file)]) == 0
    assert run_cli(tmp_path / "nov", "2026-11-30", register, "--config", str(config)) == 0
    manifest = json.loads((tmp_path / "nov" / "manifest.json").read_text())
    assert manifest["rule_performance"]["base_rate"] == 0.5
    assert manifest["rule_performance"]["control_sample"]["raised"] == 10


# --- one writer, months in order (issue 11 item 1, issue 14 item 1) ---------------------


def publication(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_kontrol_run_refuses_a_month_before_the_last_applied_one(
    two_months: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    register = tmp_path / "register"
    shutil.copytree(two_months["register"], register)
    out = tmp_path / "sep"
    shutil.copytree(two_months["sep"], out)
    before, registered = publication(out), publication(register)
    capsys.readouterr()
    assert run_cli(out, SEP, register) == 1
    err = capsys.readouterr().err
    assert err == (
        f"kontrol: error: {register}: month {SEP} is before the last month applied to this "
        f"case register ({OCT}); months are applied in order\n"
    )
    assert publication(out) == before
    assert {k: v for k, v in publication(register).items() if k != ".lock"} == {
        k: v for k, v in registered.items() if k != ".lock"
    }


def test_rerunning_the_latest_month_keeps_cases_closed_since_out(
    two_months: dict[str, Path], tmp_path: Path
) -> None:
    """September again, after caseworkers closed two of September's own cases."""
    register = tmp_path / "register"
    shutil.copytree(two_months["root"] / "register-after-sep", register)
    sep = queue(two_months["sep"]).sort("priority")
    unfounded, founded = sep.row(0, named=True), sep.row(1, named=True)
    closed = [unfounded["case_id"], founded["case_id"]]
    file = tmp_path / "outcomes.csv"
    file.write_text(
        "case_id,outcome,closed_date\n"
        f"{unfounded['case_id']},unfounded,2026-10-05\n"
        f"{founded['case_id']},founded,2026-10-06\n",
        encoding="utf-8",
    )
    assert main(["--quiet", "outcomes", "import", "--register", str(register), str(file)]) == 0
    height = store.load(register).cases.height

    out = tmp_path / "sep"
    shutil.copytree(two_months["sep"], out)
    assert run_cli(out, SEP, register) == 0  # September again
    again = queue(out)
    pairs = set(again.select("rule_id", "cpr").rows())
    assert (unfounded["rule_id"], unfounded["cpr"]) not in pairs
    assert (founded["rule_id"], founded["cpr"]) not in pairs
    suppressed = pl.read_parquet(out / "suppressed.parquet")
    assert sorted(suppressed["closed_case_id"]) == sorted(closed)
    # the others keep their ids and statuses
    kept = sep.filter(~pl.col("case_id").is_in(closed))
    assert sorted(again.select("case_id", "status").rows()) == sorted(
        kept.select("case_id", "status").rows()
    )
    after = store.load(register)
    assert [r["as_of"] for r in after.applied_runs] == [SEP]
    assert after.cases.height == height
    assert sorted(after.cases.filter(pl.col("outcome").is_not_null())["case_id"]) == sorted(closed)
    open_cases = after.cases.filter(pl.col("outcome").is_null())
    assert open_cases.select("rule_id", "cpr").is_duplicated().sum() == 0


def start_run(out: Path, as_of: str, register: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "kontrol", "--quiet", "run", "--extracts", str(FIXTURE)]
    command += ["--out", str(out), "--as-of", as_of, "--register", str(register), "--demo-key"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_holder(register: Path, process: subprocess.Popen[str], seconds: float = 20) -> None:
    """Until ``process`` holds the register lock (or ``seconds`` passed, or it ended)."""
    deadline = time.monotonic() + seconds
    lock = register / store.LOCK_FILE
    while time.monotonic() < deadline and process.poll() is None:
        if lock.is_file() and f"pid {process.pid} " in lock.read_text(encoding="utf-8"):
            return
        time.sleep(0.05)


def waiting_for(lock: Path, process: subprocess.Popen[str], seconds: float = 60) -> bool:
    """Whether ``process`` has ``lock`` open while this process holds it: it waits for it.

    Read from Linux's ``/proc/PID/fd``: the register lock is taken by polling
    a non-blocking ``flock``, so the waiter shows only as a holder of the open file.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            for fd in Path(f"/proc/{process.pid}/fd").iterdir():
                if Path(os.readlink(fd)) == lock:
                    return True
        except OSError:  # the process ended, or one of its descriptors closed meanwhile
            pass
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_concurrent_runs_on_one_register_take_turns(tmp_path: Path) -> None:
    """Real `kontrol run` processes started together (issue 11 item 1).

    Whichever gets the register first runs first: September then October
    (October continues September's cases), or October then September, which
    is refused as out of order and publishes nothing. Never both at once.
    """
    register = tmp_path / "register"
    september = start_run(tmp_path / "sep", SEP, register)
    wait_for_holder(register, september, seconds=3)  # a head start, not a guarantee
    october = start_run(tmp_path / "oct", OCT, register)
    errors = {}
    for name, process in (("sep", september), ("oct", october)):
        _, errors[name] = process.communicate(timeout=900)
    assert october.returncode == 0, errors["oct"]
    octo = queue(tmp_path / "oct")
    applied = [r["as_of"] for r in store.load(register).applied_runs]
    if september.returncode == 0:
        sep = queue(tmp_path / "sep")
        assert set(sep["status"]) == {"new"}
        both = octo.join(sep, on=["rule_id", "cpr"], suffix="_sep")
        assert both.height > 0 and (both["status"] == "continuing").all()
        assert both["case_id"].equals(both["case_id_sep"])
        assert applied == [SEP, OCT]
    else:  # October got there first
        assert september.returncode == 1
        assert (
            errors["sep"]
            .strip()
            .splitlines()[-1]
            .endswith(
                f"month {SEP} is before the last month applied to this case register ({OCT}); "
                "months are applied in order"
            )
        )
        assert not (tmp_path / "sep" / "cases.parquet").exists()
        assert applied == [OCT]
    cases = store.load(register).cases
    open_cases = cases.filter(pl.col("outcome").is_null() & (pl.col("kind") == "case"))
    assert open_cases.select("rule_id", "cpr").is_duplicated().sum() == 0

    # September again while another writer holds the register (as a run of the next
    # month would): it waits for the lock, then fails clearly (exit 1, one line) and
    # publishes nothing. The holder is this process, so the wait is certain.
    before = publication(tmp_path / "sep")  # whatever September published above
    with store.exclusive(register, "kontrol run 2026-11-30"):
        late = start_run(tmp_path / "sep", SEP, register)
        assert waiting_for(register / store.LOCK_FILE, late), "September should wait its turn"
    _, late_err = late.communicate(timeout=900)
    assert late.returncode == 1
    assert late_err.strip().splitlines()[-1] == (
        f"kontrol: error: {register}: month {SEP} is before the last month applied to this "
        f"case register ({OCT}); months are applied in order"
    )
    assert "Traceback" not in late_err
    assert publication(tmp_path / "sep") == before
