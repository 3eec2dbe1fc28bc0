"""``kontrol_monthly``: the monthly kontrol run as an Airflow 3 DAG.

Task graph: ``wait_for_delivery``, then one task per step of the step table
:data:`kontrol.steps.STEPS` (the same table ``kontrol run`` iterates in one
process). A task's upstream tasks are the steps that write the datasets it
reads (:func:`kontrol.steps.upstream`); ``load_extract`` is mapped over the
extracts of :data:`kontrol.catalogue.ALL_EXTRACTS` (an optional one the delivery
does not hold loads nothing). ``publish`` emits the case-queue Asset that
schedules ``kontrol_case_export``.

* **Parameters** (validated by their JSON schema): ``extracts_dir`` (default:
  Variable ``kontrol_deliveries_root`` / ``YYYY-MM`` of as_of), ``out_dir``
  (default: Variable ``kontrol_out_root``), ``as_of`` (default: the last day
  of the data interval's month), ``window_months`` (default: configuration,
  12), ``config_file``, ``demo_key`` (synthetic data only), ``require_marker``,
  ``settle_seconds`` (without a marker: how long the files must stay unchanged).
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
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException

from kontrol import catalogue  # plain data, standard library only
from kontrol import steps as step_table
from kontrol.airflow_ops import REGISTER_POOL, FailureNotifier, publish_deadline, sensor_timed_out

log = logging.getLogger(__name__)

TIMEZONE = "Europe/Copenhagen"
#: The published case queue of each month. Downstream DAGs (the export to the case
#: system) are scheduled on it; each event's ``extra`` names the month's files.
CASE_QUEUE = Asset(name="kontrol_case_queue", uri="kontrol://case-queue", group="kontrol")
#: The production source of the case key (its password field), e.g. from a secrets backend.
CASE_KEY_CONN_ID = "kontrol_case_key"
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
#: The step table declares them (``Step.register``); see :func:`_register_args`.
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
    # at most 2 minutes: one poke must end within the sensor's execution_timeout (5 minutes)
    "settle_seconds": Param(
        2,
        type="number",
        minimum=0,
        maximum=120,
        description="Without a _SUCCESS marker: seconds over which no file of the delivery may "
        "change size or modification time (longer for a slow network share; at most 120).",
    ),
}


@contextmanager
def _data_errors_fail_fast(work_dir: str | None) -> Iterator[None]:
    """A :class:`KontrolError` is a defect in the data or the setup: retrying cannot help.

    The run is over, so its work directory's staged data (cpr values) is
    removed at once; any other error keeps it for the retry.
    """
    from kontrol.errors import KontrolError

    try:
        yield
    except KontrolError as error:
        if work_dir is not None:
            from kontrol import tasks

            tasks.discard_work(work_dir)
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
        "settle_seconds": float(params["settle_seconds"]),
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
        status = tasks.delivery_status(
            run["extracts_dir"],
            require_marker=run["require_marker"],
            settle_seconds=run["settle_seconds"],
        )
        log.info("delivery %s: %s", run["extracts_dir"], status.reason)
        if not status.complete:  # after SENSOR_TIMEOUT: fail, naming every missing file
            sensor_timed_out(
                get_current_context(),
                SENSOR_TIMEOUT,
                run,
                list(catalogue.ALL_EXTRACTS),
                status.reason,
            )
        return PokeReturnValue(is_done=status.complete, xcom_value=run)

    first, *rest = step_table.STEPS

    @task(
        task_id=first.name,
        execution_timeout=_timeout(first),
        doc_md=first.why,
        **_register_args(first),
    )
    def prepare(run: dict[str, Any]) -> dict[str, Any]:
        """The first step takes the run's parameters; it fixes them for every later step.

        Fails fast (case key, output root, configuration, the extracts).
        """
        from kontrol import tasks

        as_of = date.fromisoformat(run["as_of"])
        _case_key(bool(run["demo_key"]))  # before any work: names the Connection and the param
        with _data_errors_fail_fast(None):
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

    # XComArgs at parse time (the decorators' typing says otherwise)
    prepared: Any = prepare(cast(Any, wait_for_delivery()))
    work_dir = prepared["work_dir"]
    made: dict[str, Any] = {first.name: prepared}
    upstream = step_table.upstream()
    for step in rest:
        operator = _step_task(step)
        if step.per_extract:
            node = operator.partial(work_dir=work_dir).expand(extract=list(catalogue.ALL_EXTRACTS))
        else:
            node = operator(work_dir)
        for name in sorted(upstream[step.name] - {first.name}):  # prepare: by XCom
            made[name] >> node
        made[step.name] = node


def _timeout(step: step_table.Step) -> timedelta:
    return timedelta(minutes=step.timeout_minutes)


def _register_args(step: step_table.Step) -> dict[str, Any]:
    """A step that touches the case register runs in the one-slot pool; a step the table
    puts in month order depends on the month before (``wait_for_downstream``: until the
    month before has published and recorded its cases, its downstream being ``publish``)."""
    args: dict[str, Any] = {}
    if step.register:
        args.update(REGISTER_TASK_ARGS)
    if step.in_month_order:
        args.update(IN_MONTH_ORDER)
    if step.wait_for_downstream:
        args["wait_for_downstream"] = True
    return args


def _step_task(step: step_table.Step) -> Any:
    """The task of one step of the table: a few lines around :func:`kontrol.tasks.run_step`."""
    announces = "published" in step.outputs
    if step.per_extract:

        @task(
            task_id=step.name,
            execution_timeout=_timeout(step),
            doc_md=step.why,
            map_index_template="{{ extract }}",
            **_register_args(step),
        )
        def per_extract(work_dir: str, extract: str) -> dict[str, Any]:
            from kontrol import tasks

            get_current_context()["extract"] = extract  # type: ignore[typeddict-unknown-key]
            with _data_errors_fail_fast(work_dir):
                return tasks.run_step(step.name, work_dir, extract=extract)

        return per_extract

    @task(
        task_id=step.name,
        execution_timeout=_timeout(step),
        doc_md=step.why,
        outlets=[CASE_QUEUE] if announces else [],
        **_register_args(step),
    )
    def once(work_dir: str) -> dict[str, Any]:
        from kontrol import tasks

        context = get_current_context()
        key = _case_key(bool(context["params"]["demo_key"])) if step.case_key else None
        with _data_errors_fail_fast(work_dir):
            result = tasks.run_step(step.name, work_dir, case_key=key)
        if announces:
            context["outlet_events"][CASE_QUEUE].extra = result
        return result

    return once


kontrol_monthly()
