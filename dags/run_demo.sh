#!/usr/bin/env bash
# The kontrol_monthly DAG on the bundled synthetic delivery, with no Airflow server:
# a throwaway AIRFLOW_HOME with an embedded SQLite metadata DB, `airflow db migrate`,
# then `airflow dags test` (the scheduler loop in one process, every task for real).
#
#   dags/run_demo.sh                 # writes out/airflow-demo/2026-10-31/
#   VENV=/path/to/venv DEMO_OUT=/tmp/x DEMO_AS_OF=2026-10-31 dags/run_demo.sh
#
# Needs only the repository's .venv (make setup). The full Airflow log goes to
# $DEMO_OUT/airflow-dags-test.log (it contains paths and counts, no cpr values).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$REPO/.venv}"
DEMO_OUT="${DEMO_OUT:-$REPO/out/airflow-demo}"
DEMO_AS_OF="${DEMO_AS_OF:-2026-10-31}"
EXTRACTS="${DEMO_EXTRACTS:-$REPO/fixtures/delivery}"

mkdir -p "$DEMO_OUT"
DEMO_OUT="$(cd "$DEMO_OUT" && pwd)"
LOG="$DEMO_OUT/airflow-dags-test.log"

AIRFLOW_HOME="$(mktemp -d "${TMPDIR:-/tmp}/kontrol-airflow-home.XXXXXX")"
trap 'rm -rf "$AIRFLOW_HOME"' EXIT
export AIRFLOW_HOME
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DAGS_FOLDER="$REPO/dags"
export AIRFLOW__CORE__PARALLELISM=4
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$AIRFLOW_HOME/airflow.db"

started=$(date +%s)
echo "airflow: temporary AIRFLOW_HOME $AIRFLOW_HOME (SQLite), migrating the metadata DB ..."
"$VENV/bin/airflow" db migrate >"$LOG" 2>&1 || { tail -n 40 "$LOG"; exit 1; }

conf=$(printf '{"extracts_dir": "%s", "out_dir": "%s", "as_of": "%s", "demo_key": true}' \
    "$EXTRACTS" "$DEMO_OUT" "$DEMO_AS_OF")
echo "airflow: dags test kontrol_monthly -c '$conf'"
if ! "$VENV/bin/airflow" dags test kontrol_monthly -c "$conf" >>"$LOG" 2>&1; then
    echo "airflow: the run failed; the failing task's error:" >&2
    grep -E "AirflowFailException|Error:|error\]" "$LOG" | tail -n 10 >&2 || true
    echo "full log: $LOG" >&2
    exit 1
fi
grep -E "\[DAG TEST\] end task" "$LOG" | sed -E 's/.*end task task_id=([a-z_]+) map_index=(-?[0-9]+).*/  done: \1 \2/' \
    | sed 's/ -1$//' || true

PUBLISHED="$DEMO_OUT/$DEMO_AS_OF"
echo "airflow: run finished in $(($(date +%s) - started)) s"
echo "case list:         $PUBLISHED/cases.html (and cases.xlsx)"
echo "case queue:        $PUBLISHED/cases.parquet"
echo "validation report: $PUBLISHED/validation/index.html"
echo "fairness report:   $PUBLISHED/fairness/index.html"
echo "manifest:          $PUBLISHED/manifest.json"
echo "rejects:           $PUBLISHED/rejects"
echo "rule performance:  $PUBLISHED/rule_performance.html"
echo "airflow log:       $LOG"
"$VENV/bin/kontrol" cases --out "$PUBLISHED" --top 3
