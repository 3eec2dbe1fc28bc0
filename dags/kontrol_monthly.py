"""``kontrol_monthly``: the monthly kontrol run as an Airflow 3 DAG.

Task graph (each task body is a few lines calling :mod:`kontrol.tasks`, the
same functions ``kontrol run`` calls in one process)::

    wait_for_delivery >> prepare >> load_extract[persons, residence_events,
    relations, payments, income] >> validate_delivery >> apply_rules >> score
    >> assemble >> validate_queue >> write_manifest >> publish  --(Asset)-->
    kontrol_case_export

* **Parameters** (validated by their JSON schema): ``extracts_dir`` (default:
  Variable ``kontrol_deliveries_root`` / ``YYYY-MM`` of as_of), ``out_dir``
  (default: Variable ``kontrol_out_root``), ``as_of`` (default: the last day
  of the data interval's month), ``window_months`` (default: configuration,
  12), ``config_file``, ``demo_key`` (synthetic data only), ``require_marker``.
* **Layout**: the month publishes to ``out_dir/<as_of>/`` (cases.parquet,
  manifest.json, rejects/, validation/, fairness/; ``failed-run/`` after a
  failed gate) and works in ``out_dir/.work/<as_of>/`` (same filesystem, so
  publication is by atomic rename). ``prepare`` empties the work directory,
  so re-running the month starts clean; each month has its own directories,
  so a backfill of several months publishes each one separately. The case
  register (statuses, outcomes, suppression; ``kontrol.lifecycle``) is
  ``out_dir/register/``, updated by ``publish`` after the month's files are in
  place; a month that died in between is recorded by the next ``prepare``.
  Months should run in order (``max_active_runs=1``): a case's status depends
  on the earlier months' publications.
* **Failures**: a data error (:class:`kontrol.errors.KontrolError`: a
  structural defect, too many rejects, a failed critical expectation, a bad
  configuration or a missing case key) fails the task at once with
  ``AirflowFailException``, without retries; anything else (I/O, memory,
  a killed worker) is retried. Nothing is published until ``publish``, so a
  failed run leaves the last good publication intact.
* **XCom** carries paths, counts, names and the run id only: never data,
  never a cpr value, never the case key.
* **Parse time**: this module imports only Airflow and the standard
  library; kontrol (Polars, Great Expectations, scikit-learn) is imported
  inside the task bodies, and nothing reads a file or a Variable here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import pendulum
from airflow.sdk import (
    Asset,
    CronDataIntervalTimetable,
    Param,
    PokeReturnValue,
    chain,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException

from kontrol.airflow_ops import REGISTER_POOL, FailureNotifier, publish_deadline, sensor_timed_out

log = logging.getLogger(__name__)

TIMEZONE = "Europe/Copenhagen"
#: The published case queue of each month. Downstream DAGs (the export to the case
#: system) are scheduled on it; each event's ``extra`` names the month's files.
CASE_QUEUE = Asset(name="kontrol_case_queue", uri="kontrol://case-queue", group="kontrol")
#: The production source of the case key (its password field), e.g. from a secrets backend.
CASE_KEY_CONN_ID = "kontrol_case_key"
#: The five extracts of CONTRACT.md section 1 and the four optional ones of section 1b,
#: one mapped load task each (an optional one not delivered loads nothing). The same as
#: kontrol.schema.ALL_EXTRACT_NAMES (a test checks), written out so that parsing imports no kontrol.
EXTRACTS = [
    "persons",
    "residence_events",
    "relations",
    "payments",
    "income",
    "utility_readings",
    "tenancies",
    "inspections",
    "custody",
]
DELIVERIES_ROOT_VARIABLE = "kontrol_deliveries_root"
#: The case register across months (kontrol.lifecycle), under the output root.
REGISTER_DIR = "register"
OUT_ROOT_VARIABLE = "kontrol_out_root"

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "kontrolgruppe-data",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=1),
    "on_failure_callback": [FailureNotifier()],  # kontrol.airflow_ops: Connection kontrol_alerts
}
#: The tasks that read or write the case register run one at a time across all runs
#: (scheduled, triggered, backfilled, cleared): the one-slot pool.
REGISTER_TASK_ARGS: dict[str, Any] = {"pool": REGISTER_POOL}
#: And a month's ``assemble`` (statuses from the register) waits until the month before has
#: published and recorded its cases; its ``publish`` until the month before has published.
IN_MONTH_ORDER: dict[str, Any] = {"depends_on_past": True}
SENSOR_TIMEOUT = timedelta(days=7)

PARAMS = {
    "extracts_dir": Param(
        None,
        type=["null", "string"],
        minLength=1,
        description="The delivery directory (five Parquet files). "
        f"Default: Variable {DELIVERIES_ROOT_VARIABLE} / YYYY-MM of as_of.",
    ),
    "out_dir": Param(
        None,
        type=["null", "string"],
        minLength=1,
        description="Output root; the month publishes to out_dir/<as_of>/. "
        f"Default: Variable {OUT_ROOT_VARIABLE}.",
    ),
    "as_of": Param(
        None,
        type=["null", "string"],
        format="date",
        description="Run date YYYY-MM-DD. Default: the last day of the data interval's month.",
    ),
    "window_months": Param(
        None,
        type=["null", "integer"],
        minimum=1,
        maximum=120,
        description="Months in the window. Default: the configuration's (12).",
    ),
    "config_file": Param(
        None,
        type=["null", "string"],
        minLength=1,
        description="YAML or JSON configuration file (as for kontrol run --config).",
    ),
    "demo_key": Param(
        False,
        type="boolean",
        description="Use the fixed, public demo case key. Synthetic data only.",
    ),
    "require_marker": Param(
        False,
        type="boolean",
        description="Wait for the delivery's _SUCCESS marker instead of stable, readable files.",
    ),
}


@contextmanager
def _data_errors_fail_fast() -> Iterator[None]:
    """A :class:`KontrolError` is a defect in the data or the setup: retrying cannot help."""
    from kontrol.errors import KontrolError

    try:
        yield
    except KontrolError as error:
        raise AirflowFailException(f"{type(error).__name__}: {error}") from error


def _resolved_params() -> dict[str, Any]:
    """The run's parameters with their defaults filled in (paths, dates, flags: no data)."""
    from airflow.sdk import Variable

    from kontrol import tasks

    context = get_current_context()
    params = context["params"]
    if params["as_of"]:
        as_of = date.fromisoformat(params["as_of"])
    else:
        start = context.get("data_interval_start")
        run_after = pendulum.instance(context["dag_run"].run_after).in_timezone(TIMEZONE)
        as_of = tasks.default_as_of(
            start.in_timezone(TIMEZONE).date() if start is not None else None, run_after.date()
        )

    def required(param: str, variable: str) -> str:
        value = params[param] or Variable.get(variable, default=None)
        if not value:
            raise AirflowFailException(f"param {param} not given and Variable {variable} not set")
        return str(value)

    extracts_dir = params["extracts_dir"] or str(
        Path(required("extracts_dir", DELIVERIES_ROOT_VARIABLE)) / as_of.strftime("%Y-%m")
    )
    out_dir = required("out_dir", OUT_ROOT_VARIABLE)
    return {
        "extracts_dir": extracts_dir,
        "out_dir": out_dir,
        "as_of": as_of.isoformat(),
        "window_months": params["window_months"],
        "config_file": params["config_file"],
        "demo_key": bool(params["demo_key"]),
        "require_marker": bool(params["require_marker"]),
    }


def _case_key(demo: bool) -> bytes:
    """The HMAC key: the demo key, else Connection ``kontrol_case_key``, else the environment."""
    import os

    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException
    from airflow.sdk.log import mask_secret

    from kontrol.errors import KontrolError
    from kontrol.queue import CASE_KEY_ENV, case_key_from_env

    if demo:
        return case_key_from_env({}, demo=True)
    try:
        secret = Connection.get(CASE_KEY_CONN_ID).password
    except AirflowNotFoundException:
        secret = None
    environ = {CASE_KEY_ENV: secret} if secret else dict(os.environ)
    try:
        key = case_key_from_env(environ, demo=False)
    except KontrolError as error:
        raise AirflowFailException(
            f"no usable case key: set the password of the Airflow Connection {CASE_KEY_CONN_ID} "
            f"(or {CASE_KEY_ENV} in the workers' environment); on synthetic data only, trigger "
            f"with the param demo_key=true. ({error})"
        ) from error
    mask_secret(key.decode())
    return key


@dag(
    dag_id="kontrol_monthly",
    description="Monthly register matching: the Kontrolgruppe's prioritised case queue",
    schedule=CronDataIntervalTimetable("0 0 1 * *", timezone=TIMEZONE),
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(days=8),
    default_args=DEFAULT_ARGS,
    params=PARAMS,
    tags=["kontrol", "monthly", "case-queue"],
    doc_md=__doc__,
    deadline=publish_deadline(),  # kontrol.airflow_ops: a month not published in time
)
def kontrol_monthly() -> None:
    @task.sensor(
        poke_interval=timedelta(minutes=15).total_seconds(),
        timeout=SENSOR_TIMEOUT.total_seconds() + timedelta(minutes=30).total_seconds(),
        mode="reschedule",
        execution_timeout=timedelta(minutes=5),
    )
    def wait_for_delivery() -> PokeReturnValue:
        """All five files there and complete: the _SUCCESS marker, or stable readable files."""
        from kontrol import tasks

        run = _resolved_params()
        status = tasks.delivery_status(run["extracts_dir"], require_marker=run["require_marker"])
        log.info("delivery %s: %s", run["extracts_dir"], status.reason)
        if not status.complete:  # after SENSOR_TIMEOUT: fail, naming every missing file
            sensor_timed_out(get_current_context(), SENSOR_TIMEOUT, run, EXTRACTS, status.reason)
        return PokeReturnValue(is_done=status.complete, xcom_value=run)

    @task(execution_timeout=timedelta(minutes=10), **REGISTER_TASK_ARGS)
    def prepare(run: dict[str, Any]) -> dict[str, Any]:
        """Fail fast (case key, output root, configuration, the extracts); empty the work dir."""
        from kontrol import tasks

        as_of = date.fromisoformat(run["as_of"])
        _case_key(bool(run["demo_key"]))  # before any work: names the Connection and the param
        with _data_errors_fail_fast():
            tasks.check_output_root(run["out_dir"])
            config = tasks.config_from(run["config_file"], run["window_months"])
            return tasks.prepare(
                run["extracts_dir"],
                tasks.publish_dir_for(run["out_dir"], as_of),
                as_of,
                tasks.work_dir_for(run["out_dir"], as_of),
                config,
                previous_manifest=tasks.previous_manifest(run["out_dir"], as_of),
                register_dir=Path(run["out_dir"]) / REGISTER_DIR,
            )

    @task(execution_timeout=timedelta(hours=1), map_index_template="{{ extract }}")
    def load_extract(work_dir: str, extract: str) -> dict[str, Any]:
        """Load, check and validate one extract (clean rows, rejects, GX outcome)."""
        from kontrol import tasks

        get_current_context()["extract"] = extract  # type: ignore[typeddict-unknown-key]
        with _data_errors_fail_fast():
            return tasks.load_extract(work_dir, extract)

    @task(execution_timeout=timedelta(hours=1))
    def validate_delivery(work_dir: str) -> dict[str, Any]:
        """Whole-delivery checks, then the gate: too many rejects or a critical failure."""
        from kontrol import tasks

        with _data_errors_fail_fast():
            return tasks.validate_delivery(work_dir)

    @task(execution_timeout=timedelta(hours=2))
    def apply_rules(work_dir: str) -> dict[str, Any]:
        from kontrol import tasks

        with _data_errors_fail_fast():
            return tasks.apply_rules(work_dir)

    @task(execution_timeout=timedelta(hours=1))
    def score(work_dir: str) -> dict[str, Any]:
        from kontrol import tasks

        with _data_errors_fail_fast():
            return tasks.score(work_dir)

    # wait_for_downstream: a month classifies its cases only after the month before has
    # published and recorded them (publish is made a direct downstream of assemble below)
    @task(
        execution_timeout=timedelta(minutes=30),
        wait_for_downstream=True,
        **REGISTER_TASK_ARGS,
        **IN_MONTH_ORDER,
    )
    def assemble(work_dir: str) -> dict[str, Any]:
        """Case ids (HMAC with the case key), scores, priority, run id, fairness report."""
        from kontrol import tasks

        demo = bool(get_current_context()["params"]["demo_key"])
        with _data_errors_fail_fast():
            return tasks.assemble(work_dir, _case_key(demo))

    @task(execution_timeout=timedelta(minutes=30))
    def validate_queue(work_dir: str) -> dict[str, Any]:
        from kontrol import tasks

        with _data_errors_fail_fast():
            return tasks.validate_queue(work_dir)

    @task(execution_timeout=timedelta(minutes=10), **REGISTER_TASK_ARGS)
    def write_manifest(work_dir: str) -> dict[str, Any]:
        from kontrol import tasks

        with _data_errors_fail_fast():
            return tasks.write_manifest(work_dir)

    @task(
        execution_timeout=timedelta(minutes=10),
        outlets=[CASE_QUEUE],
        **REGISTER_TASK_ARGS,
        **IN_MONTH_ORDER,
    )
    def publish(work_dir: str) -> dict[str, Any]:
        """Atomic renames into out_dir/<as_of>/, manifest last; emits the case-queue Asset."""
        from kontrol import tasks

        with _data_errors_fail_fast():
            published = tasks.publish(work_dir)
        get_current_context()["outlet_events"][CASE_QUEUE].extra = published
        return published

    # XComArgs at parse time (the decorators' typing says otherwise)
    prepared: Any = prepare(cast(Any, wait_for_delivery()))
    work_dir = prepared["work_dir"]
    loaded = load_extract.partial(work_dir=work_dir).expand(extract=EXTRACTS)
    assembled: Any = assemble(work_dir)
    published: Any = publish(work_dir)
    chain(
        loaded,
        validate_delivery(work_dir),
        apply_rules(work_dir),
        score(work_dir),
        assembled,
        validate_queue(work_dir),
        write_manifest(work_dir),
        published,
    )
    assembled >> published  # for assemble's wait_for_downstream (months in order)


kontrol_monthly()
