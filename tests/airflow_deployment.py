"""A real Airflow deployment for tests: `scripts/airflow.sh` (what `make airflow` runs).

Real services only: a fresh PostgreSQL database (own unique name, dropped at
teardown) on 127.0.0.1:5432 as the metadata DB, the LocalExecutor or the
CeleryExecutor (Redis 127.0.0.1:6379, own db number, flushed at teardown),
free ports for the API server and the log servers. Every process is started
in its own session and stopped by its process group id, TERM then KILL.
Waits are bounded; a timeout fails the test with the components' log tails.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "airflow.sh"
VENV_BIN = Path(sys.executable).parent
AIRFLOW = VENV_BIN / "airflow"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS = ("127.0.0.1", 6379)
#: A fixed test key (>= 16 characters), never used for real data.
TEST_CASE_KEY = "kontrol-test-case-key-0123456789"
TERMINAL = {"success", "failed"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: How a machine gets the services (README "Tested under a real scheduler").
HOW_TO_GET = {
    "PostgreSQL": "on Debian: sudo apt-get install postgresql, and trust for user postgres "
    "on 127.0.0.1 in pg_hba.conf",
    "Redis": "on Debian: sudo apt-get install redis-server",
}


def services_available() -> str | None:
    """None if PostgreSQL and Redis answer on this machine, else why not (one line)."""
    for host, port, name in ((PG["host"], PG["port"], "PostgreSQL"), (*REDIS, "Redis")):
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError as error:
            return (
                f"the services tests need {name} at {host}:{port}, which is not reachable "
                f"({error}): {HOW_TO_GET[name]} (README, 'Tested under a real scheduler')"
            )
    return None


def require_services() -> None:
    """Fail (never skip) with one line when PostgreSQL or Redis is missing."""
    reason = services_available()
    if reason:
        pytest.fail(reason, pytrace=False)


def _pg_admin(sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(dbname="postgres", **PG)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@contextmanager
def postgres_database(label: str) -> Iterator[str]:
    """A new, uniquely named database; dropped (with its connections) afterwards."""
    name = f"kontrol_test_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _redis(db: int, *command: str) -> Any:
    import redis

    client = redis.Redis(host=REDIS[0], port=REDIS[1], db=db, socket_timeout=5)
    try:
        return client.execute_command(*command)
    finally:
        client.close()


@contextmanager
def redis_database() -> Iterator[int]:
    """An empty Redis db number (15 down to 1), claimed with a marker key, flushed afterwards."""
    import redis

    for db in range(15, 0, -1):
        client = redis.Redis(host=REDIS[0], port=REDIS[1], db=db, socket_timeout=5)
        try:
            if client.dbsize() == 0 and client.set("kontrol-test-claim", str(os.getpid()), nx=True):
                break
        finally:
            client.close()
    else:
        raise RuntimeError("no empty Redis db number between 1 and 15")
    try:
        yield db
    finally:
        _redis(db, "FLUSHDB")


@dataclass
class Deployment:
    """One running `scripts/airflow.sh start` (plus Celery workers) and its environment."""

    home: Path
    env: dict[str, str]
    database: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    # --- running airflow ---------------------------------------------------------

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(AIRFLOW), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, f"airflow {' '.join(args)}:\n{done.stderr[-3000:]}"
        return done

    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        """One statement on the metadata DB, committed; its rows (none for an update)."""
        import psycopg2

        conn = psycopg2.connect(dbname=self.database, **PG)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(query, params)
                return list(cur.fetchall()) if cur.description is not None else []
        finally:
            conn.close()

    def logs(self) -> str:
        parts = []
        for path in sorted((self.home / "logs").glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()[-25:]
            parts.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(parts)

    def wait(self, condition: Any, timeout: float, what: str, interval: float = 2.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    pytest.fail(f"{name} exited ({proc.returncode}) while waiting for {what}\n"
                                f"{self.logs()}")  # fmt: skip
            value = condition()
            if value:
                return value
            time.sleep(interval)
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{self.logs()}")

    def wait_unpaused(self, dag_id: str, timeout: float = 600) -> None:
        import psycopg2

        def unpaused() -> bool:
            try:
                return self.sql("select is_paused from dag where dag_id = %s", dag_id) == [(False,)]
            except psycopg2.errors.UndefinedTable:  # the script is still migrating the DB
                return False

        self.wait(unpaused, timeout, f"{dag_id} parsed and unpaused")

    def fail_catchup_run(self, dag_id: str, timeout: float = 180) -> str:
        """Mark failed the scheduled run that unpausing creates (``catchup=False``: the last
        complete month), as the UI's "mark failed" does, so that only the tests' own runs
        do work. Deleting it would not do: the scheduler creates it again.

        Its sensor finds no delivery (the tests place theirs after this), so nothing of it
        has run but a poke. A run without a logical date (a triggered one) does not depend
        on it; a backfill re-runs it if it falls in the backfill's months
        (``--reprocess-behavior failed``).
        """
        rows = self.wait(
            lambda: self.sql(
                "select run_id from dag_run where dag_id = %s and run_type = 'scheduled'", dag_id
            ),
            timeout,
            f"the scheduled run that unpausing {dag_id} creates",
        )
        [(run_id,)] = rows
        script = (
            "import sys\n"
            "from airflow.api.common.mark_tasks import set_dag_run_state_to_failed\n"
            "from airflow.models.dagbag import DBDagBag\n"
            "from airflow.utils.session import create_session\n"
            "with create_session() as session:\n"
            "    dag = DBDagBag().get_latest_version_of_dag(sys.argv[1], session=session)\n"
            "    set_dag_run_state_to_failed(dag=dag, run_id=sys.argv[2], commit=True,"
            " session=session)\n"
        )
        done = subprocess.run(
            [str(VENV_BIN / "python"), "-c", script, dag_id, str(run_id)],
            env=self.env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        assert self.run_state(dag_id, str(run_id)) == "failed"
        # A backfill over this run's month clears it, and Airflow 3.3 cannot clear a run whose
        # queued-at deadline is still pending (TypeError in _recalculate_dagrun_queued_at_
        # deadlines: apache/airflow#70368). So its pending deadline is marked missed first:
        # the workaround the README gives under "Known issue" (no alert is sent for it).
        self.sql(
            "update deadline set missed = true where not missed and dagrun_id = "
            "(select id from dag_run where dag_id = %s and run_id = %s)",
            dag_id,
            str(run_id),
        )
        return str(run_id)

    def trigger(self, dag_id: str, conf: Mapping[str, Any], run_id: str) -> str:
        self.cli("dags", "trigger", dag_id, "-c", json.dumps(conf), "-r", run_id)
        return run_id

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        rows = self.sql(
            "select state from dag_run where dag_id = %s and run_id = %s", dag_id, run_id
        )
        return rows[0][0] if rows else None

    def wait_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        state: str = self.wait(
            lambda: s if (s := self.run_state(dag_id, run_id)) in TERMINAL else None,
            timeout,
            f"{dag_id} run {run_id} to finish",
        )
        return state

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        rows = self.sql(
            "select task_id, map_index, state from task_instance where dag_id = %s and run_id = %s",
            dag_id,
            run_id,
        )
        return {(t if m < 0 else f"{t}[{m}]"): s for t, m, s in rows}

    def start_worker(self, name: str) -> None:
        self.processes[f"worker {name}"] = _spawn(
            [str(SCRIPT), "worker", name], self.env, self.home / "logs" / f"worker-{name}.log"
        )


def _spawn(argv: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            argv, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(proc: subprocess.Popen[bytes], grace: float = 30) -> None:
    """TERM the process group we started, then KILL what is left of it."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group (task processes)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


@contextmanager
def deployment(
    tmp: Path,
    label: str,
    variables: Mapping[str, str],
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Deployment]:
    """`scripts/airflow.sh start` on a fresh PostgreSQL database, torn down afterwards."""
    require_services()  # make test runs them: a missing service fails, no silent skip
    home = tmp / "airflow-home"
    home.mkdir(parents=True)
    with postgres_database(label) as database:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "KONTROL"))},
            # .venv/bin deliberately NOT on PATH: the script must cope
            "PATH": os.pathsep.join(
                p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != VENV_BIN
            ),
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": (
                f"postgresql+psycopg2://postgres@127.0.0.1:5432/{database}"
            ),
            "KONTROL_AIRFLOW_PORT": str(free_port()),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__CORE__PARALLELISM": "2",
            "AIRFLOW__API__WORKERS": "1",
            # the scheduler creates runs from the calendar and from Asset events, as in
            # production (use_job_schedule=False would switch off both: no export runs)
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "KONTROL_CASE_KEY": TEST_CASE_KEY,
            **variables,
            # "{database}" in a value: this deployment's database (e.g. Celery's result backend)
            **{k: v.format(database=database) for k, v in (extra_env or {}).items()},
        }
        deployed = Deployment(home, env, database)
        deployed.processes["scripts/airflow.sh start"] = _spawn(
            [str(SCRIPT), "start"], env, home / "logs" / "make-airflow.log"
        )
        try:
            yield deployed
        finally:
            for proc in reversed(list(deployed.processes.values())):
                _stop(proc)


def expected_task_instances() -> int:
    """Task instances of one kontrol_monthly run: the sensor, then the step table's steps.

    A step mapped per extract runs once per extract the DAG maps over (all nine: the
    optional ones too, each skipping itself when not delivered), so the count follows
    the table and the catalogue instead of a number written here.
    """
    from kontrol.catalogue import ALL_EXTRACTS
    from kontrol.steps import STEPS

    return 1 + sum(len(ALL_EXTRACTS) if step.per_extract else 1 for step in STEPS)
