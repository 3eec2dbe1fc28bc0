"""A detachable step in a child process (kontrol.detached, kontrol.run.run_steps).

The byte-identity of a whole run with the case list detached is checked in
``tests/test_run.py::test_same_inputs_give_byte_identical_publication``; here
the child's side: its result, its failures, and being stopped.
"""

from __future__ import annotations

import subprocess
import sys
import time
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
    # it answered, then ended cleanly: the thread watching for the parent's end does
    # not abort the interpreter's shutdown (as one blocked in sys.stdin's reader did)
    assert child._process.returncode == 0


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


def test_the_child_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    """kill -9 of the run: its case list's process must not run on into a dead staging dir.

    The parent below starts a child as DetachedStep does (stdin a pipe it never
    writes) that watches for the parent's end (``_end_with_the_parent``) and
    then sleeps; killing the parent must end the child.
    """
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "code = 'import time; from kontrol import detached; "
            'detached._end_with_the_parent(); print("watching", flush=True); time.sleep(60)\'\n'
            "child = subprocess.Popen([sys.executable, '-c', code], stdin=subprocess.PIPE)\n"
            "print(child.pid, flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,  # the child's too: it says when it watches
        text=True,
    )
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    assert parent.stdout.readline() == "watching\n"  # it has imported kontrol and watches
    assert _alive(child_pid)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid)


def test_a_detached_step_holds_the_childs_stdin_open(tmp_path: Path) -> None:
    """The pipe the child watches: open while the parent lives, closed once it is done."""
    child = DetachedStep("case_list", tmp_path)
    assert child._process.stdin is not None and not child._process.stdin.closed
    with pytest.raises(KontrolError):
        child.result()
    assert child._process.stdin.closed


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as ended: it has exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
