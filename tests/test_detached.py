"""A detachable step in a child process (kontrol.detached, kontrol.run.run_steps).

The byte-identity of a whole run with the case list detached is checked in
``tests/test_run.py::test_same_inputs_give_byte_identical_publication``; here
the child's side: its result, its failures, and being stopped.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kontrol import steps
from kontrol.config import KontrolConfig, load_config
from kontrol.detached import DetachedStep
from kontrol.errors import KontrolError


def test_a_failure_in_the_child_is_raised_as_itself_with_its_traceback(tmp_path: Path) -> None:
    """No run.json: the child's KontrolError reaches the caller as a KontrolError, same text."""
    child = DetachedStep("case_list", tmp_path)
    with pytest.raises(KontrolError, match=r"no run\.json; the run's prepare step") as e:
        child.result()
    notes = "".join(getattr(e.value, "__notes__", []))
    assert "in the detached step's process" in notes
    assert "RunSpec.read" in notes


def test_a_child_that_dies_is_an_error_naming_the_step(tmp_path: Path) -> None:
    child = DetachedStep("no_such_step", tmp_path)
    child._process.kill()  # dies before it can answer
    with pytest.raises(KontrolError, match="step no_such_step: its process ended without"):
        child.result()


def test_stop_ends_a_running_child(tmp_path: Path) -> None:
    child = DetachedStep("case_list", tmp_path)
    child.stop()
    assert child._process.returncode is not None


def test_what_the_child_prints_does_not_reach_the_answer(tmp_path: Path) -> None:
    """The answer channel is the child's original stdout; print() goes to stderr."""
    code = (
        "import sys, pickle\n"
        "from kontrol import detached\n"
        "channel = detached._answer_channel()\n"
        "print('noise')\n"
        "pickle.dump(('ok', {'n': 1}), channel); channel.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert b"noise" in done.stderr
    assert b"noise" not in done.stdout


def test_only_a_step_without_key_extract_or_register_may_be_detachable() -> None:
    for broken in (
        steps.Step("a", "m.a", (), ("run_spec",), case_key=True, detachable=True),
        steps.Step("a", "m.a", (), ("run_spec",), per_extract=True, detachable=True),
        steps.Step("a", "m.a", (), ("run_spec",), register=True, detachable=True),
    ):
        with pytest.raises(ValueError, match="a detachable step takes only the work directory"):
            steps.check((broken,))
    assert [s.name for s in steps.STEPS if s.detachable] == ["case_list"]


def test_the_threshold_is_configuration_outside_the_run_id(tmp_path: Path) -> None:
    config_file = tmp_path / "kontrol.yaml"
    config_file.write_text("execution:\n  detach_from_cases: 1\n", encoding="utf-8")
    config = load_config(config_file)
    assert config.execution.detach_from_cases == 1
    assert KontrolConfig().execution.detach_from_cases == 20_000
    assert config.canonical_json() == KontrolConfig().canonical_json()
    assert "execution" not in config.model_dump()
