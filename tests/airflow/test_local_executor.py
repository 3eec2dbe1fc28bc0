"""kontrol_monthly under a REAL scheduler: `scripts/airflow.sh` (= `make airflow`) with the
LocalExecutor and PostgreSQL 127.0.0.1:5432 as the metadata DB (a fresh database per module).

One deployment serves the module, in this order: a triggered month whose queue must equal
`kontrol run`'s bytes (and which the export DAG, started by the Asset event, then exports), a
failing month whose alert must reach a webhook stub, the README's three-month backfill, whose
months must come out new -> continuing -> continuing with the case ids kept (then a month
before the last applied one must be refused), no cpr in any log file or metadata table, and
last a month whose delivery never comes, whose deadline alert must reach the stub.

The scheduled run that unpausing creates is marked failed first (`fail_catchup_run`), so only
these runs do work. About 5 minutes on the 2-core machine (the scheduler preloads kontrol).
"""

from __future__ import annotations

import json
import re
import shlex
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from airflow_deployment import AIRFLOW, REPO, Deployment, deployment, expected_task_instances
from alert_stubs import webhook_stub

pytestmark = [pytest.mark.slow, pytest.mark.services]

FIXTURE = REPO / "fixtures" / "delivery"
AS_OF = "2026-10-31"
BACKFILL_MONTHS = ["2026-08-31", "2026-09-30", "2026-10-31"]
RUN_TIMEOUT = 600  # s, one month under the scheduler (about 1 min on an idle 2-core machine)


@pytest.fixture(scope="module")
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with webhook_stub() as stub:
        yield stub


@pytest.fixture(scope="module")
def local(
    tmp_path_factory: pytest.TempPathFactory, webhook: tuple[str, list[dict[str, Any]]]
) -> Iterator[tuple[Deployment, Path]]:
    tmp = tmp_path_factory.mktemp("local-airflow")
    deliveries = tmp / "deliveries"
    deliveries.mkdir()
    url, _ = webhook
    variables = {
        "KONTROL_DELIVERIES_ROOT": str(deliveries),
        "KONTROL_OUT_ROOT": str(tmp / "out"),
        "KONTROL_EXPORT_DIR": str(tmp / "export"),
        "KONTROL_ALERTS_URI": f"{url}/hooks/kontrol",
    }
    # every run's publish deadline: 0.0005 days (43 s) after it is queued, so that the
    # deadline test below sees its alert (the other runs' deadline alerts are ignored)
    deadline = {"AIRFLOW__KONTROL__PUBLISH_DEADLINE_DAY": "0.0005"}
    started = time.monotonic()
    with deployment(tmp, "local", variables, deadline) as deployed:
        deployed.wait_unpaused("kontrol_monthly")
        deployed.wait_unpaused("kontrol_case_export")
        deployed.fail_catchup_run("kontrol_monthly")
        # the backfill's deliveries (Variable kontrol_deliveries_root / YYYY-MM), placed only
        # now that no scheduled run can pick one up
        for month in BACKFILL_MONTHS:
            (deliveries / month[:7]).symlink_to(FIXTURE, target_is_directory=True)
        print(f"deployment up in {time.monotonic() - started:.0f} s")
        yield deployed, tmp


@pytest.fixture(scope="module")
def cli_reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "out"
    done = subprocess.run(
        [str(AIRFLOW.parent / "kontrol"), "--quiet", "run", "--extracts", str(FIXTURE),
         "--out", str(out), "--as-of", AS_OF, "--demo-key"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def test_triggered_month_publishes_the_cli_queue_and_is_exported(
    local: tuple[Deployment, Path], cli_reference: Path
) -> None:
    deployed, tmp = local
    out = tmp / "out-triggered"
    conf = {"extracts_dir": str(FIXTURE), "out_dir": str(out), "as_of": AS_OF, "demo_key": True}
    started = time.monotonic()
    run_id = deployed.trigger("kontrol_monthly", conf, "manual__triggered")
    state = deployed.wait_run("kontrol_monthly", run_id, RUN_TIMEOUT)
    print(f"triggered month: {state} in {time.monotonic() - started:.0f} s")
    assert state == "success", deployed.task_states("kontrol_monthly", run_id)
    states = deployed.task_states("kontrol_monthly", run_id)
    assert len(states) == expected_task_instances() and set(states.values()) == {"success"}, states

    published = out / AS_OF
    for name in ("cases.parquet", "manifest.json", "fairness/fairness.json"):
        assert (published / name).read_bytes() == (cli_reference / name).read_bytes(), name

    # the Asset event starts kontrol_case_export, which drops the month's files (0600)
    queue = pl.read_parquet(published / "cases.parquet")
    run = queue["run_id"][0]
    export = tmp / "export"

    def exported() -> list[Path]:
        return sorted(export.glob(f"kontrol-cases_2026-10_{run}.*")) if export.is_dir() else []

    files = deployed.wait(lambda: len(exported()) == 2 and exported(), 300, "the export")
    assert [f.suffix for f in files] == [".csv", ".xlsx"]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert (published / "cases.xlsx").read_bytes() == files[1].read_bytes()
    text = files[0].read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and text.count(b"\r\n") == queue.height + 1


def test_a_failed_task_alerts_the_webhook(
    local: tuple[Deployment, Path], webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    deployed, tmp = local
    _, received = webhook
    before = len(received)
    conf = {
        "extracts_dir": str(FIXTURE),
        "out_dir": str(tmp / "out-failing"),
        "as_of": AS_OF,
        "config_file": str(tmp / "no-such-config.yaml"),
    }
    run_id = deployed.trigger("kontrol_monthly", conf, "manual__failing")
    assert deployed.wait_run("kontrol_monthly", run_id, 300) == "failed"
    states = deployed.task_states("kontrol_monthly", run_id)
    assert states["wait_for_delivery"] == "success" and states["prepare"] == "failed", states

    def failure_alerts() -> list[dict[str, Any]]:
        return [a for a in received[before:] if a["json"]["event"] == "task_failed"]

    deployed.wait(failure_alerts, 60, "the failure alert")
    [alert] = failure_alerts()  # prepare's data error fails at once: one alert, no retries
    assert alert["path"] == "/hooks/kontrol"
    assert alert["json"]["event"] == "task_failed"
    assert alert["json"]["subject"] == f"kontrol: kontrol_monthly.prepare failed (run {run_id})"
    assert "no-such-config.yaml" in alert["json"]["text"]


def readme_backfill_command() -> list[str]:
    """The README's backfill command, verbatim (continuation lines joined)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^ *\.venv/bin/airflow backfill create(?:.*\\\n)*.*$", readme, re.M)
    assert match, "README has no `.venv/bin/airflow backfill create` command"
    argv = shlex.split(match.group(0).replace("\\\n", " "))
    return [str(AIRFLOW), *argv[1:]]


def test_readme_backfill_runs_three_copenhagen_months_in_order(
    local: tuple[Deployment, Path], webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    deployed, tmp = local
    _, received = webhook
    command = readme_backfill_command()
    started = time.monotonic()
    done = subprocess.run(command, env=deployed.env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]

    def backfill_runs() -> list[tuple[str, str]]:
        return deployed.sql(
            "select run_id, state from dag_run where dag_id = 'kontrol_monthly' "
            "and run_type = 'backfill' order by logical_date"
        )

    def finished() -> list[tuple[str, str]] | None:
        runs = backfill_runs()
        return runs if len(runs) == 3 and all(s in ("success", "failed") for _, s in runs) else None

    runs = deployed.wait(finished, 3 * RUN_TIMEOUT, "three backfill months", interval=5)
    print(f"backfill of three months: {time.monotonic() - started:.0f} s")
    assert [s for _, s in runs] == ["success"] * 3, runs

    out = tmp / "out"
    published = sorted(p.name for p in out.iterdir() if re.fullmatch(r"\d{4}-\d\d-\d\d", p.name))
    assert published == BACKFILL_MONTHS  # the Europe/Copenhagen months, no other

    queues = [pl.read_parquet(out / month / "cases.parquet") for month in BACKFILL_MONTHS]
    assert queues[0]["status"].unique().to_list() == ["new"]
    first_id: dict[tuple[str, str], str] = {}
    months_seen: dict[tuple[str, str], list[str]] = {}
    for month, queue in zip(BACKFILL_MONTHS, queues, strict=True):
        for rule, cpr, case_id, status in queue.select(
            "rule_id", "cpr", "case_id", "status"
        ).iter_rows():
            key = (rule, cpr)
            if key in first_id:  # an open case from an earlier month: same id, continuing
                assert (status, case_id) == ("continuing", first_id[key]), (month, rule)
            else:
                assert status == "new", (month, rule)
                first_id[key] = case_id
            months_seen.setdefault(key, []).append(status)
    in_all_three = [k for k, v in months_seen.items() if v == ["new", "continuing", "continuing"]]
    assert len(in_all_three) >= 10, months_seen

    # the register: one row per (rule, cpr), the months applied once each, in order
    register_dir = out / "register"
    snapshot = json.loads((register_dir / "CURRENT.json").read_text())["snapshot"]
    folder = register_dir / "snapshots" / snapshot
    assert pl.read_parquet(folder / "cases.parquet").height == len(first_id)
    applied = json.loads((folder / "state.json").read_text())["applied_runs"]
    assert [run["as_of"] for run in applied] == BACKFILL_MONTHS

    # A month before the last one applied is refused by the register itself, at once in
    # prepare, with a message that says why (a triggered run has no logical date, so
    # Airflow's depends_on_past does not hold it back; the first month of a backfill
    # does not wait for the month before the backfill either)
    before = len(received)
    conf = {"out_dir": str(out), "as_of": BACKFILL_MONTHS[0], "demo_key": True}
    run_id = deployed.trigger("kontrol_monthly", conf, "manual__out_of_order")
    assert deployed.wait_run("kontrol_monthly", run_id, 300) == "failed"
    states = deployed.task_states("kontrol_monthly", run_id)
    assert states["prepare"] == "failed", states
    assert not [t for t, s in states.items() if s == "success" and t != "wait_for_delivery"], states

    def alert() -> list[dict[str, Any]]:
        return [a for a in received[before:] if run_id in a["json"]["subject"]]

    [message] = deployed.wait(alert, 60, "the out-of-order alert")
    assert (
        f"MonthOutOfOrder: {register_dir}: month {BACKFILL_MONTHS[0]} is before the last month "
        f"applied to this case register ({BACKFILL_MONTHS[-1]}); months are applied in order"
    ) in message["json"]["text"], message["json"]["text"]
    assert sorted(p.name for p in out.iterdir() if p.name[:1].isdigit()) == BACKFILL_MONTHS


CPR_LIKE = re.compile(r"(?<!\d)(\d{6})-?(\d{4})(?!\d)")


def fixture_cprs() -> set[str]:
    """Every cpr of the delivery (each extract's cpr columns), as 10 digits."""
    cprs: set[str] = set()
    for path in FIXTURE.glob("*.parquet"):
        frame = pl.read_parquet(path)
        for column in (c for c in frame.columns if "cpr" in c and frame[c].dtype == pl.String):
            cprs |= set(frame[column].drop_nulls().to_list())
    return cprs


def cprs_in(text: str, cprs: set[str]) -> set[str]:
    return {a + b for a, b in CPR_LIKE.findall(text)} & cprs


def test_no_cpr_in_the_logs_or_the_metadata_db(local: tuple[Deployment, Path]) -> None:
    """After the months above: no fixture cpr in any log file under AIRFLOW_HOME (task logs
    and the components'), nor in any row of any table of the metadata DB (xcom,
    rendered_task_instance_fields, dag_run.conf, asset events, callbacks, ...)."""
    deployed, tmp = local
    cprs = fixture_cprs()
    assert len(cprs) >= 3000
    # the search finds cpr values where they are: in the exported case list (positive control)
    exported = next((tmp / "export").glob("kontrol-cases_*.csv")).read_text(encoding="utf-8-sig")
    assert cprs_in(exported, cprs)

    logs = [p for p in (deployed.home / "logs").rglob("*") if p.is_file()]
    task_logs = [p for p in logs if "dag_id=kontrol_monthly" in str(p)]
    assert len(task_logs) >= expected_task_instances(), "the task logs are not where expected"
    leaks = {str(p): found for p in logs if (found := cprs_in(p.read_text(errors="replace"), cprs))}
    assert not leaks, {k: sorted(v)[:3] for k, v in leaks.items()}

    tables = [t for (t,) in deployed.sql(
        "select table_name from information_schema.tables "
        "where table_schema = 'public' and table_type = 'BASE TABLE'"
    )]  # fmt: skip
    rows: dict[str, int] = {}
    for table in tables:
        found: set[str] = set()
        texts = deployed.sql(f'select t::text from "{table}" t')
        rows[table] = len(texts)
        for (text,) in texts:
            found |= cprs_in(text, cprs)
        assert not found, (table, sorted(found)[:3])
    # the tables the issue names hold this module's runs (so the search above saw them)
    assert rows["xcom"] > 0 and rows["rendered_task_instance_fields"] > 0, rows
    assert rows["dag_run"] >= 5 and rows["task_instance"] > 0, rows
    confs = [conf for (conf,) in deployed.sql("select conf::text from dag_run")]
    assert any("extracts_dir" in (c or "") for c in confs), confs


def test_a_month_not_published_by_its_deadline_alerts_the_webhook(
    local: tuple[Deployment, Path], webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    """The DeadlineAlert's callback runs in the triggerer and reaches the webhook.

    Last in the module: the run waits for a delivery that never comes, until teardown.
    """
    deployed, tmp = local
    _, received = webhook
    conf = {"extracts_dir": str(tmp / "never-delivered"), "out_dir": str(tmp / "out-late")}
    run_id = deployed.trigger("kontrol_monthly", conf, "manual__late")

    def deadline_alerts() -> list[dict[str, Any]]:
        return [
            a
            for a in received
            if a["json"]["event"] == "deadline_missed" and run_id in a["json"]["subject"]
        ]

    started = time.monotonic()
    deployed.wait(deadline_alerts, 600, "the deadline alert")
    print(f"deadline alert {time.monotonic() - started:.0f} s after the trigger")
    [alert] = deadline_alerts()
    assert alert["json"]["subject"] == (
        f"kontrol: kontrol_monthly run {run_id} has not published by its deadline"
    )
    assert deployed.run_state("kontrol_monthly", run_id) == "running"
    assert deployed.task_states("kontrol_monthly", run_id)["wait_for_delivery"] in (
        "up_for_reschedule",
        "running",
        "queued",
        "scheduled",
    )
