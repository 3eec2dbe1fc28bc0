"""Operations hooks for the kontrol DAGs: alerts, the publish deadline, the register pool.

Imported by ``dags/kontrol_monthly.py`` at parse time, so it imports only
Airflow and the standard library (never the pipeline: no Polars, no Great
Expectations); the alert logic is :mod:`kontrol.alerts` (standard library
only). It lives in the package, not in ``dags/``, so that every Airflow
component imports it by the same name: the triggerer runs the deadline
callback, the workers the failure notifier.

* :class:`FailureNotifier`: every task's ``on_failure_callback``; it sends
  the failure to the Connection ``kontrol_alerts`` (webhook or SMTP).
* :func:`publish_deadline`: a ``DeadlineAlert`` that fires when a month's run
  has not finished (published) by day ``[kontrol] publish_deadline_day`` of
  the month it runs in (environment ``AIRFLOW__KONTROL__PUBLISH_DEADLINE_DAY``;
  ``make airflow`` sets 10). The triggerer runs the callback.
* :data:`REGISTER_POOL`: the one-slot pool around the tasks that read or write
  the case register (created by ``make airflow``).
"""

from __future__ import annotations

import logging
from datetime import UTC, timedelta
from typing import Any

from airflow.sdk import BaseNotifier
from airflow.sdk.definitions.callback import AsyncCallback
from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

log = logging.getLogger(__name__)

#: One slot: the tasks touching the case register never run side by side, across runs
#: (scheduled, triggered, backfilled or cleared months).
REGISTER_POOL = "kontrol_register"
REGISTER_POOL_DESCRIPTION = "kontrol: one task at a time touches the case register"


class FailureNotifier(BaseNotifier):
    """On a task's failure: an alert to Connection ``kontrol_alerts`` (logged if it is unset)."""

    def notify(self, context: Any) -> None:
        from kontrol.alerts import notify_failure

        try:
            notify_failure(context)
        except Exception:  # the task's own failure is what matters; never mask it
            log.exception("the failure alert could not be sent")


def publish_deadline_day() -> float | None:
    """``[kontrol] publish_deadline_day``: days after the run is queued (a float, for tests).

    Unset or 0: no deadline. ``make airflow`` sets 10 unless told otherwise. It
    is off by default because ``airflow dags test`` (the demo, the end-to-end
    test) cannot run a DAG with a deadline to success in Airflow 3.3: its
    ``update_state`` looks the alerts up by the unserialized DAG's values.
    """
    from airflow.sdk.configuration import conf

    day = conf.getfloat("kontrol", "publish_deadline_day", fallback=0.0)
    return day if day > 0 else None


def publish_deadline() -> list[DeadlineAlert]:
    """The month must publish by ``publish_deadline_day`` days after its run was queued.

    A scheduled month is queued at 00:00 on the 1st of the next month
    (Europe/Copenhagen), so 10 means "published by the end of the 10th". A
    successful run removes its deadline; a missed one calls
    :func:`kontrol.alerts.deadline_missed` in the triggerer. An empty list when
    no deadline is configured.
    """
    day = publish_deadline_day()
    if day is None:
        return []
    return [
        DeadlineAlert(
            reference=DeadlineReference.DAGRUN_QUEUED_AT,
            interval=timedelta(days=day),
            callback=AsyncCallback(
                "kontrol.alerts.deadline_missed", kwargs={"publish_by_day": day}
            ),
            name="kontrol_publish_deadline",
        )
    ]


def missing_delivery_files(
    extracts_dir: str, extracts: list[str], require_marker: bool
) -> list[str]:
    """Every file the delivery still lacks (the marker only when it is required)."""
    from pathlib import Path

    directory = Path(extracts_dir)
    names = [f"{name}.parquet" for name in extracts]
    if require_marker:
        names.append("_SUCCESS")
    return [name for name in names if not (directory / name).is_file()]


def sensor_timed_out(
    context: Any, timeout: timedelta, run: dict[str, Any], extracts: list[str], reason: str
) -> None:
    """Fail the delivery sensor once it has waited ``timeout``, naming every missing file.

    Called by the sensor on an unsuccessful poke; a no-op before the timeout.
    (The sensor's own timeout is set a little later, as a backstop, so this
    message is the one a data engineer sees.)
    """
    from datetime import datetime

    from airflow.sdk.exceptions import AirflowSensorTimeout

    ti = context["ti"]
    first = ti.get_first_reschedule_date(context) or ti.start_date
    now = datetime.now(UTC)
    if first is None or now - first <= timeout:
        return
    directory = run["extracts_dir"]
    missing = missing_delivery_files(directory, extracts, bool(run.get("require_marker")))
    what = (
        f"missing: {', '.join(missing)}"
        if missing
        else f"all files present but the delivery is not complete: {reason}"
    )
    raise AirflowSensorTimeout(
        f"the delivery for as_of {run['as_of']} in {directory} was not complete after "
        f"{timeout.days} days; {what}"
    )
