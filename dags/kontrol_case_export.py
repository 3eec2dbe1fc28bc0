"""``kontrol_case_export``: each published case queue to the case system's drop folder.

Scheduled on the ``kontrol_case_queue`` Asset that ``kontrol_monthly``'s
``publish`` task emits. For every publication not yet exported it writes
``kontrol-cases_<YYYY-MM>_<run_id>.xlsx`` and ``.csv`` (UTF-8 with BOM, ``;``,
decimal comma: what Danish Excel opens) to the drop folder, Variable
``kontrol_export_dir`` (:mod:`kontrol.export`). Files are 0600: they hold cpr.

* **Every event.** The task exports the publications its triggering events
  name *and* every other unexported publication in the same output roots
  (and under Variable ``kontrol_out_root``): when two months publish close
  together, whether Airflow gives them one export run or two, both are
  exported, each to its own files.
* **Idempotent per run id**: a run id whose two files exist is skipped, so a
  retry, a cleared task or a second export run writes nothing twice.
* XCom and the log carry run ids, months, counts and paths, never a cpr.
"""

from __future__ import annotations

import logging
from typing import Any

import pendulum
from airflow.sdk import Asset, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

log = logging.getLogger(__name__)

#: The same Asset as in kontrol_monthly.py (an Asset is identified by name and uri).
CASE_QUEUE = Asset(name="kontrol_case_queue", uri="kontrol://case-queue", group="kontrol")
EXPORT_DIR_VARIABLE = "kontrol_export_dir"
OUT_ROOT_VARIABLE = "kontrol_out_root"


@dag(
    dag_id="kontrol_case_export",
    description="Export each published kontrol case queue to the case system's drop folder",
    schedule=[CASE_QUEUE],
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/Copenhagen"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "kontrolgruppe-data", "retries": 2},
    tags=["kontrol", "case-queue"],
    doc_md=__doc__,
)
def kontrol_case_export() -> None:
    @task
    def export_cases() -> list[dict[str, Any]]:
        from pathlib import Path

        from airflow.sdk import Variable

        from kontrol.export import export_pending

        drop = Variable.get(EXPORT_DIR_VARIABLE, default=None)
        if not drop:
            raise AirflowFailException(f"Variable {EXPORT_DIR_VARIABLE} (drop folder) is not set")
        events = get_current_context()["triggering_asset_events"][CASE_QUEUE]
        roots = {Path(str(e.extra["publish_dir"])).parent for e in events if e.extra}
        out_root = Variable.get(OUT_ROOT_VARIABLE, default=None)
        if out_root:
            roots.add(Path(out_root))
        log.info("%d event(s); looking for unexported publications in %s", len(events), roots)
        exported = [e.as_dict() for e in export_pending(sorted(roots), Path(drop))]
        for item in exported:
            log.info(
                "%s run %s (%s cases): %s",
                "exported" if item["written"] else "already exported",
                item["run_id"],
                item["cases"],
                item["csv_path"],
            )
        return exported

    export_cases()


kontrol_case_export()
