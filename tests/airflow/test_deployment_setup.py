"""What the real-scheduler tests and `make airflow` rely on, checked without services.

* `scripts/airflow.sh` preloads kontrol into the processes that fork the task processes
  (the LocalExecutor's scheduler, a Celery worker). That is only sound if importing those
  modules starts nothing a fork would break (a thread pool would deadlock the child): a
  process that imported them forks twice, as scheduler -> worker -> task, and the
  grandchild computes with Polars, NumPy and scikit-learn.
* A missing PostgreSQL or Redis fails the services tests with one line saying how to
  get it; it never skips them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import airflow_deployment
import pytest
from airflow_deployment import REPO, require_services

FORK_TWICE = """
import os, sys
exec(sys.argv[1])  # the script's own preload: quiet third-party loggers, import the modules
import numpy as np
import polars as pl
from sklearn.ensemble import IsolationForest

def task():
    frame = pl.DataFrame({"a": list(range(200_000))}).lazy()
    groups = frame.group_by(pl.col("a") % 7).agg(pl.len()).collect()
    assert groups.height == 7, groups
    data = np.random.default_rng(0).random((500, 4))
    IsolationForest(n_estimators=20, random_state=0).fit(data).score_samples(data)
    print("task done", flush=True)

worker = os.fork()
if worker == 0:
    child = os.fork()
    if child == 0:
        task()
        os._exit(0)
    _, status = os.waitpid(child, 0)
    os._exit(os.waitstatus_to_exitcode(status))
_, status = os.waitpid(worker, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def preload_default() -> list[str]:
    script = (REPO / "scripts" / "airflow.sh").read_text(encoding="utf-8")
    match = re.search(r'^preload="\$\{KONTROL_AIRFLOW_PRELOAD-([^}]*)\}"$', script, re.M)
    assert match, "scripts/airflow.sh has no preload default"
    return match.group(1).split()


def preload_preamble() -> str:
    """The Python that ``scripts/airflow.sh`` runs before Airflow's own ``main``."""
    script = (REPO / "scripts" / "airflow.sh").read_text(encoding="utf-8")
    match = re.search(r"-c '\n(.*?)from airflow\.__main__ import main", script, re.S)
    assert match, "scripts/airflow.sh has no preload snippet"
    return match.group(1)


def test_preloaded_modules_survive_two_forks() -> None:
    """The script's preload, then scheduler -> worker -> task; and no GX chatter in its log."""
    modules = preload_default()
    assert "kontrol.tasks" in modules
    logged = "import logging; logging.basicConfig(level=logging.INFO)\n"  # as Airflow logs
    done = subprocess.run(
        [sys.executable, "-c", FORK_TWICE, logged + preload_preamble()],
        env={**os.environ, "KONTROL_AIRFLOW_PRELOAD": " ".join(modules)},
        capture_output=True,
        text=True,
        timeout=300,  # a deadlocked child would hang: the timeout fails the test
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "task done"
    assert "great_expectations" in " ".join(modules)
    assert "Skipping registering" not in done.stderr  # GX's import-time INFO lines


def test_a_missing_service_fails_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    monkeypatch.setattr(airflow_deployment, "REDIS", ("127.0.0.1", closed))
    with pytest.raises(pytest.fail.Exception) as failed:
        require_services()
    message = str(failed.value)
    assert "\n" not in message
    assert f"Redis at 127.0.0.1:{closed}" in message
    assert "sudo apt-get install redis-server" in message
