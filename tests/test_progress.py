"""The run's log (issue 12, item 3): kontrol's progress per step, no third-party chatter, no cpr.

The log is the session's fixture run's (``tests/conftest.py``), which runs in a
fresh interpreter (``python -m kontrol``), because GX's chatter comes while GX
is *imported*: in this test process another test may already have imported it,
and a quiet log here would prove nothing.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import polars as pl
import pytest

from kontrol import catalogue, progress, steps

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "delivery"


def test_each_step_logs_one_line_with_its_seconds(fixture_run_log: str) -> None:
    extracts = [name for name in catalogue.ALL_EXTRACTS if (FIXTURE / f"{name}.parquet").is_file()]
    assert len(extracts) == 9
    for step in steps.STEPS:
        for extract in extracts if step.per_extract else [None]:
            where = f"step {step.name}" + (f" [{extract}]" if extract else "")
            lines = re.findall(
                rf"kontrol\.progress: {re.escape(where)}: \d+\.\d s.*", fixture_run_log
            )
            assert len(lines) == 1, f"{where}: {lines}"
    payments = pl.read_parquet(FIXTURE / "payments.parquet").height
    assert re.search(
        rf"step load_extract \[payments\]: \d+\.\d s; rows_delivered={payments} ", fixture_run_log
    )
    assert re.search(r"step apply_rules: \d+\.\d s; rule_cases=\d+", fixture_run_log)


def test_no_great_expectations_chatter(fixture_run_log: str) -> None:
    assert "_docs_decorators" not in fixture_run_log
    assert "Skipping registering function" not in fixture_run_log
    assert not re.search(r"INFO great_expectations", fixture_run_log)
    assert "kontrol.validation: validated suite persons" in fixture_run_log  # GX did run


def test_no_cpr_in_the_log(fixture_run_log: str) -> None:
    persons = pl.read_parquet(FIXTURE / "persons.parquet")["cpr"].to_list()
    assert persons
    assert not [cpr for cpr in persons if cpr in fixture_run_log]


def test_step_line_shows_counts_only() -> None:
    result = {"extract": "payments", "delivered": True, "rows_delivered": 10, "rows_loaded": 9}
    assert (
        progress.step_line("load_extract", "payments", 1.25, result)
        == "step load_extract [payments]: 1.2 s; rows_delivered=10 rows_loaded=9"
    )
    assert progress.step_line("prepare", None, 0.04, {"extracts": ["a"]}) == "step prepare: 0.0 s"
    assert progress.step_line("score", None, 3.0, None) == "step score: failed after 3.0 s"


def test_a_failing_step_is_logged_and_raises(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with pytest.raises(ValueError), progress.timed_step("score"):
        raise ValueError("boom")
    assert [r.getMessage() for r in caplog.records if r.name == "kontrol.progress"] == [
        "step score: failed after 0.0 s"
    ]


def test_quiet_survives_a_library_resetting_its_own_level() -> None:
    """GX's ``data_context.types.base`` sets its logger to INFO when it is imported."""
    progress.quiet_third_party()
    logger = logging.getLogger("great_expectations.data_context.types.base")
    logger.setLevel(logging.INFO)
    assert not logger.filter(logging.LogRecord(logger.name, logging.INFO, "", 0, "x", (), None))
    assert logger.filter(logging.LogRecord(logger.name, logging.WARNING, "", 0, "x", (), None))
    assert logging.getLogger("great_expectations._docs_decorators").getEffectiveLevel() == (
        logging.WARNING
    )
