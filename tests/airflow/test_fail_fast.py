"""prepare's fail-fast checks and the delivery sensor's timeout message."""

from __future__ import annotations

import importlib.util
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from kontrol.errors import ConfigError
from kontrol.tasks import check_output_root

REPO = Path(__file__).resolve().parents[2]
EXTRACTS = ["persons", "residence_events", "relations", "payments", "income"]


def dag_module(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow-home"))
    spec = importlib.util.spec_from_file_location(
        "kontrol_monthly_dag", REPO / "dags" / "kontrol_monthly.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_missing_case_key_names_the_connection_and_the_param(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    module = dag_module(monkeypatch, tmp_path)
    monkeypatch.delenv("KONTROL_CASE_KEY", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_KONTROL_CASE_KEY", raising=False)
    with pytest.raises(AirflowFailException) as raised:
        module._case_key(False)
    message = str(raised.value)
    assert "Connection kontrol_case_key" in message
    assert "demo_key=true" in message
    assert "KONTROL_CASE_KEY" in message
    assert module._case_key(True)  # the demo key needs nothing


def test_the_output_root_must_be_writable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_output_root(tmp_path / "not" / "yet" / "there")  # creatable: fine
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        check_output_root(afile)
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access

    def access(path: Any, mode: int) -> bool:  # as if the workers' user could not write here
        return False if Path(path) == locked else real_access(path, mode)

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(ConfigError, match=r"no permission to write in .*locked"):
        check_output_root(locked / "out")
    check_output_root(tmp_path / "elsewhere")


def test_the_sensor_times_out_naming_every_missing_file(tmp_path: Path) -> None:
    # imported here, as Airflow below: kontrol.airflow_ops imports Airflow (about 2 CPU-s),
    # which an xdist worker that only collects this module should not pay
    from kontrol.airflow_ops import missing_delivery_files, sensor_timed_out

    delivery = tmp_path / "2026-10"
    delivery.mkdir()
    (delivery / "persons.parquet").write_bytes(b"")
    (delivery / "relations.parquet").write_bytes(b"")
    run = {"extracts_dir": str(delivery), "as_of": "2026-10-31", "require_marker": True}
    assert missing_delivery_files(str(delivery), EXTRACTS, True) == [
        "residence_events.parquet",
        "payments.parquet",
        "income.parquet",
        "_SUCCESS",
    ]

    def context(waited: timedelta) -> dict[str, Any]:
        first = datetime.now(UTC) - waited
        ti = SimpleNamespace(get_first_reschedule_date=lambda _: first, start_date=first)
        return {"ti": ti}

    from airflow.sdk.exceptions import AirflowSensorTimeout

    sensor_timed_out(context(timedelta(days=6)), timedelta(days=7), run, EXTRACTS, "waiting")
    with pytest.raises(AirflowSensorTimeout) as raised:
        sensor_timed_out(context(timedelta(days=7, hours=1)), timedelta(days=7), run, EXTRACTS, "")
    assert str(raised.value) == (
        f"the delivery for as_of 2026-10-31 in {delivery} was not complete after 7 days; "
        "missing: residence_events.parquet, payments.parquet, income.parquet, _SUCCESS"
    )
