"""DAG integrity: the DAG files parse, fast, without kontrol, with the expected shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kontrol import steps

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
DAG_FILE = DAGS / "kontrol_monthly.py"

#: The step table's dependencies (from the datasets each step reads), plus the sensor.
EXPECTED_UPSTREAM = {
    "wait_for_delivery": set(),
    **steps.upstream(),
    steps.STEPS[0].name: {"wait_for_delivery"},
}


def airflow_env(home: Path) -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The DAG folder parsed in this process, with a throwaway AIRFLOW_HOME."""
    saved = dict(os.environ)
    os.environ.update(airflow_env(tmp_path_factory.mktemp("airflow-home")))
    try:
        from airflow.dag_processing.dagbag import DagBag

        yield DagBag(dag_folder=str(DAGS))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_no_import_errors(dagbag: Any) -> None:
    assert dagbag.import_errors == {}
    assert {"kontrol_monthly", "kontrol_case_export"} <= set(dagbag.dags)


def test_dag_settings(dagbag: Any) -> None:
    dag = dagbag.dags["kontrol_monthly"]
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert {"kontrol", "monthly"} <= set(dag.tags)
    assert dag.owner == "kontrolgruppe-data"
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"
    assert dag.timetable.expression == "0 0 1 * *"
    for task in dag.tasks:
        assert task.owner == "kontrolgruppe-data"
        assert task.retries >= 1, task.task_id
        assert task.retry_delay >= timedelta(minutes=1), task.task_id
        assert task.execution_timeout is not None, task.task_id
        assert task.execution_timeout <= timedelta(hours=2), task.task_id


def test_params_are_validated_by_their_schema(dagbag: Any) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    params = dagbag.dags["kontrol_monthly"].params
    assert set(params) == {
        "extracts_dir",
        "out_dir",
        "as_of",
        "window_months",
        "config_file",
        "demo_key",
        "require_marker",
        "settle_seconds",
    }
    as_of = params.get_param("as_of")
    assert as_of.schema["format"] == "date"
    assert as_of.resolve("2026-10-31") == "2026-10-31"
    assert as_of.resolve(None) is None  # default: from the data interval
    with pytest.raises(ParamValidationError):
        as_of.resolve("2026-13-01")
    window = params.get_param("window_months")
    assert window.resolve(6) == 6
    with pytest.raises(ParamValidationError):
        window.resolve(0)
    with pytest.raises(ParamValidationError):
        params.get_param("demo_key").resolve("yes")
    assert params["demo_key"] is False
    assert params["settle_seconds"] == 2
    with pytest.raises(ParamValidationError):
        params.get_param("settle_seconds").resolve(-1)
    with pytest.raises(ParamValidationError):  # one poke must end within its 5 minutes
        params.get_param("settle_seconds").resolve(121)


def test_tasks_and_dependencies_equal_the_step_table(dagbag: Any) -> None:
    dag = dagbag.dags["kontrol_monthly"]
    assert {t.task_id: set(t.upstream_task_ids) for t in dag.tasks} == EXPECTED_UPSTREAM
    # a sanity check of the derivation itself: the gate comes before the rules
    assert "validate_delivery" in EXPECTED_UPSTREAM["apply_rules"]
    assert "write_manifest" in EXPECTED_UPSTREAM["publish"]
    for step in steps.STEPS:
        task = dag.get_task(step.name)
        assert task.execution_timeout == timedelta(minutes=step.timeout_minutes)
    assert type(dag.get_task("wait_for_delivery")).__name__ == "DecoratedSensorOperator"
    sensor = dag.get_task("wait_for_delivery")
    assert sensor.mode == "reschedule"
    # the sensor itself fails after 7 days naming the missing files; its timeout is a backstop
    assert timedelta(days=7).total_seconds() < sensor.timeout <= timedelta(days=8).total_seconds()


def test_register_tasks_run_one_at_a_time_and_in_month_order(dagbag: Any) -> None:
    dag = dagbag.dags["kontrol_monthly"]
    pooled = {t.task_id for t in dag.tasks if t.pool == "kontrol_register"}
    # from the step table's declarations, and these are the steps that read or write it
    assert pooled == {s.name for s in steps.STEPS if s.register}
    assert pooled == {"prepare", "apply_register", "rule_performance", "publish"}
    apply, publish = dag.get_task("apply_register"), dag.get_task("publish")
    # a month's apply_register waits for the month before's apply_register and publish
    assert apply.depends_on_past and apply.wait_for_downstream
    assert "publish" in apply.downstream_task_ids
    assert publish.depends_on_past
    others = {t.task_id for t in dag.tasks if t.depends_on_past}
    assert others == {"apply_register", "publish"}
    assert {t.task_id for t in dag.tasks if t.wait_for_downstream} == {"apply_register"}


def test_alerts_on_failure_and_at_the_publish_deadline(
    dagbag: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kontrol.airflow_ops import FailureNotifier, publish_deadline

    dag = dagbag.dags["kontrol_monthly"]
    for task in dag.tasks:
        assert [type(c) for c in task.on_failure_callback] == [FailureNotifier], task.task_id
    assert not dag.deadline  # off unless configured (make airflow sets day 10)
    monkeypatch.setenv("AIRFLOW__KONTROL__PUBLISH_DEADLINE_DAY", "10")
    [deadline] = publish_deadline()
    assert deadline.interval == timedelta(days=10)
    assert deadline.callback.path == "kontrol.alerts.deadline_missed"
    assert type(deadline.reference).__name__ == "DagRunQueuedAtDeadline"


def test_one_mapped_load_task_per_extract(dagbag: Any) -> None:
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    from kontrol.schema import ALL_EXTRACT_NAMES

    mapped_steps = [s.name for s in steps.STEPS if s.per_extract]
    assert mapped_steps == ["load_extract"]
    load = dagbag.dags["kontrol_monthly"].get_task("load_extract")
    assert isinstance(load, MappedOperator)
    mapped = load.op_kwargs_expand_input.value  # type: ignore[attr-defined]
    assert list(mapped["extract"]) == list(ALL_EXTRACT_NAMES)
    assert set(load.partial_kwargs["op_kwargs"]) == {"work_dir"}  # from prepare, by XCom


def test_case_queue_asset_links_publish_and_export(dagbag: Any) -> None:
    from airflow.sdk import Asset

    publish = dagbag.dags["kontrol_monthly"].get_task("publish")
    assets = [o for o in publish.outlets if isinstance(o, Asset)]
    assert [a.name for a in assets] == ["kontrol_case_queue"]
    export = dagbag.dags["kontrol_case_export"]
    condition = export.timetable.asset_condition
    assert [a for a in condition.objects if isinstance(a, Asset)] == assets
    assert export.catchup is False


def test_parsing_imports_only_the_step_table(tmp_path: Path) -> None:
    """Parse the DAG file in a fresh interpreter and see what it imported."""
    script = textwrap.dedent(
        f"""
        import json, sys, time
        import airflow.sdk  # Airflow's own import cost is not the DAG's
        from airflow.dag_processing.dagbag import DagBag
        started = time.perf_counter()
        bag = DagBag(dag_folder={str(DAG_FILE)!r})
        seconds = time.perf_counter() - started
        heavy = ("polars", "great_expectations", "kontrol", "sklearn", "pyarrow", "pandas")
        print(json.dumps({{
            "seconds": seconds,
            "errors": {{str(k): v for k, v in bag.import_errors.items()}},
            "dags": sorted(bag.dags),
            "imported": sorted(m for m in sys.modules if m.split(".")[0] in heavy),
        }}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, **airflow_env(tmp_path / "home"), "PYTHONPATH": ""},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    assert result["dags"] == ["kontrol_monthly"]
    # the step table (plain data) and the standard-library-only hooks of kontrol (alerts),
    # never the pipeline (tests/test_boundaries.py)
    assert {"kontrol.catalogue", "kontrol.steps"} <= set(result["imported"])
    assert set(result["imported"]) <= {
        "kontrol",
        "kontrol.airflow_ops",
        "kontrol.alerts",
        "kontrol.catalogue",
        "kontrol.steps",
    }
    # no wall-clock assertion (a loaded machine makes it flaky; timings belong in
    # benchmarks/): what keeps parsing fast is what it imports, asserted above
