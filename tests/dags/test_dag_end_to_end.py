"""`airflow dags test kontrol_monthly` leaves the same case queue as `kontrol run`.

Self-contained in tmp_path: a throwaway AIRFLOW_HOME with an embedded SQLite
metadata DB, migrated first (``dags test`` needs one), the repository's
``dags/`` as the DAGs folder, and the run's outputs under tmp_path.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "fixtures" / "delivery"
AIRFLOW = Path(sys.executable).parent / "airflow"
AS_OF = "2026-10-31"


def airflow(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }
    env.pop("KONTROL_CASE_KEY", None)
    return subprocess.run(
        [str(AIRFLOW), *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_dags_test_publishes_the_same_queue_as_the_cli(tmp_path: Path, fixture_run: Path) -> None:
    home = tmp_path / "airflow-home"
    home.mkdir()
    migrated = airflow(home, "db", "migrate")
    assert migrated.returncode == 0, migrated.stderr[-2000:]

    dag_out = tmp_path / "dag-out"
    conf = {
        "extracts_dir": str(FIXTURE),
        "out_dir": str(dag_out),
        "as_of": AS_OF,
        "demo_key": True,
        # the fixture is committed, never being written: the settle's wait (2 s by default,
        # which the real-scheduler tests keep) proves nothing here
        "settle_seconds": 0,
    }
    done = airflow(home, "dags", "test", "kontrol_monthly", "-c", json.dumps(conf))
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]

    cli_out = fixture_run  # kontrol run on the same delivery and month (tests/conftest.py)

    published = dag_out / AS_OF
    for name in ("cases.parquet", "manifest.json", "fairness/fairness.json"):
        assert (published / name).read_bytes() == (cli_out / name).read_bytes(), name
    for path in (cli_out / "rejects").iterdir():
        assert (published / "rejects" / path.name).read_bytes() == path.read_bytes()
    assert (published / "validation" / "index.html").is_file()
    queue = pl.read_parquet(published / "cases.parquet")
    assert queue.height > 0

    # no cpr value in the Airflow log or in XCom
    cprs = set(pl.read_parquet(FIXTURE / "persons.parquet")["cpr"].to_list())
    cprs |= set(queue["cpr"].to_list())
    assert not [cpr for cpr in cprs if cpr in log]
    with sqlite3.connect(home / "airflow.db") as db:
        rows = db.execute("select task_id, value from xcom").fetchall()
    xcom = "\n".join(f"{task_id} {value!s}" for task_id, value in rows)
    assert "publish" in xcom
    assert not [cpr for cpr in cprs if cpr in xcom]
    # the Asset event names the published queue for downstream DAGs
    with sqlite3.connect(home / "airflow.db") as db:
        events = db.execute("select extra from asset_event").fetchall()
    assert len(events) == 1
    extra = json.loads(events[0][0])
    assert extra["cases_path"] == str(published / "cases.parquet")
    assert extra["cases"] == queue.height
    assert extra["run_id"] == queue["run_id"][0]
