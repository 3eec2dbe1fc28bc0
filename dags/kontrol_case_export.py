"""``kontrol_case_export``: an example consumer of the published case queue.

Scheduled on the ``kontrol_case_queue`` Asset that ``kontrol_monthly``'s
``publish`` task emits: it runs once per publication. A real export would
read ``cases_path`` and send the cases to the case system; this example
only logs what was published (run id, month, case count: no cpr).
"""

from __future__ import annotations

import logging
from typing import Any

import pendulum
from airflow.sdk import Asset, dag, get_current_context, task

log = logging.getLogger(__name__)

#: The same Asset as in kontrol_monthly.py (an Asset is identified by name and uri).
CASE_QUEUE = Asset(name="kontrol_case_queue", uri="kontrol://case-queue", group="kontrol")


@dag(
    dag_id="kontrol_case_export",
    description="Example: export each published kontrol case queue to the case system",
    schedule=[CASE_QUEUE],
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Copenhagen"),
    catchup=False,
    default_args={"owner": "kontrolgruppe-data", "retries": 2},
    tags=["kontrol", "case-queue"],
    doc_md=__doc__,
)
def kontrol_case_export() -> None:
    @task
    def export_cases() -> list[dict[str, Any]]:
        events = get_current_context()["triggering_asset_events"][CASE_QUEUE]
        exported = []
        for event in events:
            extra = dict(event.extra or {})
            log.info(
                "case queue %s (as of %s): %s cases at %s",
                extra.get("run_id"),
                extra.get("as_of"),
                extra.get("cases"),
                extra.get("cases_path"),
            )
            exported.append({k: extra.get(k) for k in ("run_id", "as_of", "cases", "cases_path")})
        return exported

    export_cases()


kontrol_case_export()
