"""kontrol_monthly end to end under the CeleryExecutor, on TWO workers.

`scripts/airflow.sh start` with AIRFLOW__CORE__EXECUTOR=CeleryExecutor, Redis
127.0.0.1:6379 (an empty db number of its own) as the broker, PostgreSQL (a fresh
database) as the metadata DB and the Celery result backend, and two workers started
with `scripts/airflow.sh worker NAME`, each one task at a time. Both workers must take
tasks, and the published queue must equal `kontrol run`'s bytes. The workers share this
machine's filesystem: the same-path POSIX filesystem the README asks of real hosts.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
from airflow_deployment import (
    AIRFLOW,
    REPO,
    deployment,
    expected_task_instances,
    redis_database,
    require_services,
)

pytestmark = [pytest.mark.slow, pytest.mark.services]

FIXTURE = REPO / "fixtures" / "delivery"
AS_OF = "2026-10-31"
WORKERS = ("kontrol-w1", "kontrol-w2")


def test_a_month_runs_on_two_celery_workers(tmp_path: Path) -> None:
    require_services()
    cli_out = tmp_path / "cli-out"
    reference = subprocess.Popen(
        [str(AIRFLOW.parent / "kontrol"), "--quiet", "run", "--extracts", str(FIXTURE),
         "--out", str(cli_out), "--as-of", AS_OF, "--demo-key"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    variables = {
        "KONTROL_DELIVERIES_ROOT": str(tmp_path / "deliveries"),
        "KONTROL_OUT_ROOT": str(tmp_path / "out"),
        "KONTROL_EXPORT_DIR": str(tmp_path / "export"),
    }
    started = time.monotonic()
    with redis_database() as redis_db:
        celery = {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+postgresql://postgres@127.0.0.1:5432/{database}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
        }
        with deployment(tmp_path, "celery", variables, celery) as deployed:
            deployed.wait_unpaused("kontrol_monthly")
            deployed.fail_catchup_run("kontrol_monthly")  # it would wait for a delivery
            for name in WORKERS:
                deployed.start_worker(name)
            conf = {
                "extracts_dir": str(FIXTURE),
                "out_dir": str(tmp_path / "out-celery"),
                "as_of": AS_OF,
                "demo_key": True,
            }
            run_id = deployed.trigger("kontrol_monthly", conf, "manual__celery")
            state = deployed.wait_run("kontrol_monthly", run_id, 900)
            elapsed = time.monotonic() - started
            assert state == "success", deployed.task_states("kontrol_monthly", run_id)
            states = deployed.task_states("kontrol_monthly", run_id)
            assert len(states) == expected_task_instances() and set(states.values()) == {
                "success"
            }, states

            taken = {}
            for name in WORKERS:
                log = (deployed.home / "logs" / f"worker-{name}.log").read_text(errors="replace")
                taken[name] = len(re.findall(r"execute_workload\[[0-9a-f-]+\] received", log))
            print(f"celery: {elapsed:.0f} s from start; tasks taken per worker: {taken}")
            assert all(count > 0 for count in taken.values()), taken
            assert sum(taken.values()) >= expected_task_instances()

    assert reference.wait(timeout=300) == 0, reference.stderr.read() if reference.stderr else ""
    published = tmp_path / "out-celery" / AS_OF
    for name in ("cases.parquet", "manifest.json"):
        assert (published / name).read_bytes() == (cli_out / name).read_bytes(), name
