#!/usr/bin/env bash
# `make airflow`: a local Airflow deployment of the kontrol DAGs, in the foreground.
#
#   scripts/airflow.sh            scheduler, dag-processor, triggerer and API server (Ctrl-C stops all)
#   scripts/airflow.sh setup      only: migrate the metadata DB, pool, Variables, Connections
#   scripts/airflow.sh worker N   a Celery worker named N (with AIRFLOW__CORE__EXECUTOR=CeleryExecutor)
#   scripts/airflow.sh env        print the environment the components run with (no secrets)
#
# Configuration, all optional (see README "Airflow, deployed"):
#   AIRFLOW_HOME                      default <repo>/.airflow (git-ignored; holds the DB and secrets)
#   AIRFLOW__DATABASE__SQL_ALCHEMY_CONN  default SQLite in AIRFLOW_HOME (trial only); for real use
#                                     postgresql+psycopg2://USER:PASSWORD@HOST:5432/DBNAME
#   AIRFLOW__CORE__EXECUTOR           default LocalExecutor; CeleryExecutor needs the [celery] settings
#   KONTROL_AIRFLOW_HOST / _PORT      the API server, default 127.0.0.1:8080 (0.0.0.0 to expose it)
#   KONTROL_DELIVERIES_ROOT, KONTROL_OUT_ROOT, KONTROL_EXPORT_DIR
#                                     set the Variables kontrol_deliveries_root, kontrol_out_root,
#                                     kontrol_export_dir (else what is already set is kept)
#   KONTROL_CASE_KEY                  sets the Connection kontrol_case_key (its password)
#   KONTROL_ALERTS_URI                sets the Connection kontrol_alerts, e.g. https://host/hook
#   KONTROL_AIRFLOW_PRELOAD           modules imported once by the processes that fork the task
#                                     processes (LocalExecutor scheduler, Celery worker); default
#                                     "kontrol.tasks great_expectations", "" to switch it off
#
# The DAGs are unpaused only when what they need exists: kontrol_monthly needs both roots and
# the case key Connection, kontrol_case_export the export folder. Otherwise they stay paused
# and the script says what is missing. Works without .venv/bin on PATH.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$REPO/.venv}"
[ -x "$VENV/bin/airflow" ] || { echo "no $VENV/bin/airflow: run 'make setup' first" >&2; exit 2; }
export PATH="$VENV/bin:$PATH"  # the components start each other by name

export AIRFLOW_HOME="${AIRFLOW_HOME:-$REPO/.airflow}"
mkdir -p "$AIRFLOW_HOME/logs"
chmod 700 "$AIRFLOW_HOME"

host="${KONTROL_AIRFLOW_HOST:-127.0.0.1}"
port="${KONTROL_AIRFLOW_PORT:-8080}"
case "$host" in 0.0.0.0 | "::") local_host=127.0.0.1 ;; *) local_host="$host" ;; esac

: "${AIRFLOW__CORE__DAGS_FOLDER:=$REPO/dags}"
: "${AIRFLOW__CORE__LOAD_EXAMPLES:=False}"
: "${AIRFLOW__CORE__EXECUTOR:=LocalExecutor}"
: "${AIRFLOW__CORE__PARALLELISM:=4}"  # else the LocalExecutor forks 32 workers
: "${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN:=sqlite:///$AIRFLOW_HOME/airflow.db}"
: "${AIRFLOW__API__HOST:=$host}"
: "${AIRFLOW__API__PORT:=$port}"
: "${AIRFLOW__API__BASE_URL:=http://$local_host:$port}"
: "${AIRFLOW__CORE__EXECUTION_API_SERVER_URL:=http://$local_host:$port/execution/}"
: "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS:=admin:admin}"
: "${AIRFLOW__KONTROL__PUBLISH_DEADLINE_DAY:=10}"  # alert when a month is not published by the 10th
# Tasks report to the API server; on a busy machine its answers can take seconds.
: "${AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT:=60}"
export AIRFLOW__CORE__DAGS_FOLDER AIRFLOW__CORE__LOAD_EXAMPLES AIRFLOW__CORE__EXECUTOR \
    AIRFLOW__CORE__PARALLELISM AIRFLOW__DATABASE__SQL_ALCHEMY_CONN AIRFLOW__API__HOST \
    AIRFLOW__API__PORT AIRFLOW__API__BASE_URL AIRFLOW__CORE__EXECUTION_API_SERVER_URL \
    AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS AIRFLOW__KONTROL__PUBLISH_DEADLINE_DAY \
    AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT

# One JWT secret for every component (the API server signs, the workers present tokens),
# kept in AIRFLOW_HOME (0600) unless given.
if [ -z "${AIRFLOW__API_AUTH__JWT_SECRET:-}" ]; then
    secret_file="$AIRFLOW_HOME/jwt_secret"
    if [ ! -s "$secret_file" ]; then
        (umask 077 && "$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(48))' >"$secret_file")
    fi
    AIRFLOW__API_AUTH__JWT_SECRET="$(cat "$secret_file")"
    export AIRFLOW__API_AUTH__JWT_SECRET
fi

# A task process is a fork of the LocalExecutor's scheduler (or of a Celery worker). Imported
# there once, kontrol, Polars, scikit-learn and Great Expectations cost a task nothing; imported
# in each task they cost 7-12 s of CPU, about 200 s a month over 23 tasks. The scheduler grows
# by about 250 MB. Nothing runs at import (no thread pool is started:
# tests/airflow/test_deployment_setup.py forks twice and computes); the DAG files stay thin.
preload="${KONTROL_AIRFLOW_PRELOAD-kontrol.tasks great_expectations}"
preloaded() {  # sets cmd: airflow "$@", with the preload modules imported first
    if [ -z "$preload" ]; then
        cmd=(airflow "$@")
        return
    fi
    cmd=(env KONTROL_AIRFLOW_PRELOAD="$preload" "$VENV/bin/python" -c '
import importlib, os, sys
from kontrol.progress import quiet_third_party
quiet_third_party()  # before GX is imported: its import logs hundreds of INFO lines
for name in os.environ.pop("KONTROL_AIRFLOW_PRELOAD").split():
    importlib.import_module(name)
from airflow.__main__ import main
sys.argv[0] = "airflow"
sys.exit(main())
' "$@")
}

airflow_quiet() {  # an airflow command, its output to the setup log unless it fails
    local log="$AIRFLOW_HOME/logs/setup.log"
    if ! airflow "$@" >>"$log" 2>&1; then
        echo "airflow $1 $2 failed; the end of $log:" >&2
        tail -n 30 "$log" >&2
        return 1
    fi
}

setup() {
    echo "airflow: metadata DB ${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN%%:*}, migrating ..."
    airflow_quiet db migrate
    # The pool, Variables and Connections in one interpreter; secrets come from the environment,
    # never from the command line (no argv in ps).
    "$VENV/bin/python" - <<'PY'
import os
import sys

from airflow.models import Connection, Pool, Variable
from airflow.utils.session import create_session

Pool.create_or_update_pool(
    "kontrol_register", 1, "kontrol: one task at a time touches the case register",
    include_deferred=False,
)

VARIABLES = {
    "kontrol_deliveries_root": "KONTROL_DELIVERIES_ROOT",
    "kontrol_out_root": "KONTROL_OUT_ROOT",
    "kontrol_export_dir": "KONTROL_EXPORT_DIR",
}
for key, env in VARIABLES.items():
    if os.environ.get(env):
        Variable.set(key, os.path.abspath(os.environ[env]))
        print(f"airflow: Variable {key} = {os.path.abspath(os.environ[env])}")


def put_connection(conn: Connection) -> None:
    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == conn.conn_id).delete()
        session.add(conn)
    print(f"airflow: Connection {conn.conn_id} set")


if os.environ.get("KONTROL_CASE_KEY"):
    put_connection(Connection(conn_id="kontrol_case_key", conn_type="generic",
                              password=os.environ["KONTROL_CASE_KEY"],
                              description="kontrol: the case id HMAC key"))
if os.environ.get("KONTROL_ALERTS_URI"):
    put_connection(Connection(conn_id="kontrol_alerts", uri=os.environ["KONTROL_ALERTS_URI"]))


def variable_set(key: str) -> bool:
    return Variable.get(key, default_var=None) not in (None, "")


with create_session() as session:
    connections = {c for (c,) in session.query(Connection.conn_id).all()}
monthly = [f"Variable {v}" for v in ("kontrol_deliveries_root", "kontrol_out_root")
           if not variable_set(v)]
if "kontrol_case_key" not in connections:
    monthly.append("Connection kontrol_case_key")
export = [] if variable_set("kontrol_export_dir") else ["Variable kontrol_export_dir"]
with open(os.path.join(os.environ["AIRFLOW_HOME"], "unpause"), "w") as out:
    out.write(("kontrol_monthly\n" if not monthly else "")
              + ("kontrol_case_export\n" if not export else ""))
for dag_id, missing in (("kontrol_monthly", monthly), ("kontrol_case_export", export)):
    if missing:
        print(f"airflow: {dag_id} stays PAUSED until these exist: {', '.join(missing)} "
              "(see README 'Airflow, deployed')", file=sys.stderr)
if "kontrol_alerts" not in connections:
    print("airflow: no Connection kontrol_alerts: failure and deadline alerts are only logged",
          file=sys.stderr)
PY
}

unpause_when_parsed() {  # the DAGs exist in the DB only once the dag-processor has parsed them
    "$VENV/bin/python" - "$AIRFLOW_HOME/unpause" <<'PY'
import sys
import time

from airflow.models.dag import DagModel
from airflow.utils.session import create_session

wanted = open(sys.argv[1]).read().split()
deadline = time.monotonic() + 300
while wanted and time.monotonic() < deadline:
    with create_session() as session:
        for dag_id in list(wanted):
            dag = session.get(DagModel, dag_id)
            if dag is not None:
                dag.is_paused = False
                wanted.remove(dag_id)
                print(f"airflow: unpaused {dag_id}", flush=True)
    time.sleep(2)
if wanted:
    sys.exit(f"airflow: {', '.join(wanted)} not parsed within 300 s: see logs/dag-processor.log")
PY
}

case "${1:-start}" in
setup)
    setup
    ;;
env)
    env | grep -E '^(AIRFLOW_HOME|AIRFLOW__)' | grep -v -E 'SECRET|PASSWORD|SQL_ALCHEMY_CONN=.*:[^@/]*@' | sort
    ;;
worker)
    name="${2:?usage: scripts/airflow.sh worker NAME}"
    # --skip-serve-logs: workers on this host share the log files with the API server; on
    # other hosts use remote logging, or run `airflow celery worker` with its log server
    preloaded celery worker --celery-hostname "$name@%h" --skip-serve-logs
    exec "${cmd[@]}"
    ;;
start)
    setup
    pids=()
    stop() {
        local status=$?
        trap - INT TERM EXIT
        echo "airflow: stopping ..."
        for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
        wait || true
        exit "$status"
    }
    trap stop INT TERM EXIT
    # The API server first: every task reports to its execution API, and a task started
    # before it listens would fail (and wait out a retry delay).
    airflow api-server >"$AIRFLOW_HOME/logs/api-server.log" 2>&1 &
    pids+=($!)
    api_deadline=$((SECONDS + 300))
    until (exec 3<>"/dev/tcp/$local_host/$port") 2>/dev/null; do
        if [ $SECONDS -gt $api_deadline ] || ! kill -0 "${pids[0]}" 2>/dev/null; then
            echo "airflow: the API server did not start; see $AIRFLOW_HOME/logs/api-server.log" >&2
            exit 1
        fi
        sleep 1
    done
    # One host: the API server reads task logs from the local files, so no log server
    # (it would listen on all interfaces); Celery workers on other hosts need one.
    for component in scheduler dag-processor triggerer; do
        case $component in scheduler | triggerer) args=(--skip-serve-logs) ;; *) args=() ;; esac
        case $component in scheduler) preloaded $component "${args[@]}" ;; *) cmd=(airflow $component "${args[@]}") ;; esac
        "${cmd[@]}" >"$AIRFLOW_HOME/logs/$component.log" 2>&1 &
        pids+=($!)
    done
    echo "airflow: API server, scheduler, dag-processor, triggerer started; logs in $AIRFLOW_HOME/logs/"
    echo "airflow: UI at http://$local_host:$port (user admin, password in" \
        "$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated)"
    unpause_when_parsed &
    pids+=($!)
    # Stop everything as soon as one component dies (its log says why).
    wait -n "${pids[@]:0:4}" || true
    echo "airflow: a component stopped; see $AIRFLOW_HOME/logs/" >&2
    exit 1
    ;;
*)
    echo "usage: scripts/airflow.sh [start|setup|worker NAME|env]" >&2
    exit 2
    ;;
esac
