"""One step of the table executing in a child process, beside the steps after it.

Why: ``kontrol run`` executes the step table in one process, and the case
list is single-threaded Python (42 s at 205,000 cases) that none of the
steps after it reads. In a child process it runs on the second core while
those steps go on (:func:`kontrol.run.run_steps` decides when).

Why a new interpreter (``python -m kontrol.detached``) and not
:mod:`multiprocessing`: ``fork`` copies a process that runs Polars' thread
pool, and a forked copy of a multithreaded process may deadlock on a lock
another thread held; ``spawn`` re-imports the caller's ``__main__`` module,
which breaks any program that calls :func:`kontrol.run.run` from a script
without an ``if __name__ == "__main__"`` guard.

The child receives only the step's name, the work directory and how to log
(the level and format of this process's root logger, so its progress line
is in the run's log): never the case key, which is why a detachable step may
not declare one (:func:`kontrol.steps.check`). It answers with one pickled
``(outcome, value)`` on its standard output; anything else it would print
goes to standard error instead. A failure in the child is raised in the
parent as the same exception, with the child's traceback as a note. The
child ends when the parent does, however it ends (its standard input, a
pipe the parent never writes, reaches end of file).
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import threading
import traceback
from pathlib import Path
from typing import Any, BinaryIO

from kontrol.errors import KontrolError

__all__ = ["DetachedStep"]


class DetachedStep:
    """Step ``name`` of the table on ``work_dir``, started in a child process at once."""

    def __init__(self, name: str, work_dir: Path) -> None:
        self.name = name
        root = logging.getLogger()
        handler = root.handlers[0] if root.handlers else None
        log_format = handler.formatter._fmt if handler and handler.formatter else None
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kontrol.detached",
                name,
                str(work_dir),
                str(root.level),
                log_format or "",
            ],
            stdin=subprocess.PIPE,  # never written: its end closes when this process ends
            stdout=subprocess.PIPE,
        )

    def result(self) -> dict[str, Any]:
        """Wait for the step: its result, or its exception raised here."""
        assert self._process.stdout is not None
        answer = self._process.stdout.read()
        self._process.stdout.close()
        code = self._process.wait()
        self._close_stdin()
        if not answer:
            raise KontrolError(
                f"step {self.name}: its process ended without a result (exit code {code})"
            )
        outcome, value = pickle.loads(answer)
        if outcome == "error":
            raise value
        result: dict[str, Any] = value
        return result

    def stop(self) -> None:
        """End the child if it still runs (the run failed elsewhere): it must not write on."""
        if self._process.poll() is None:
            self._process.terminate()
        self._process.wait()
        self._close_stdin()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def _close_stdin(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()


def _end_with_the_parent() -> None:
    """Exit as soon as the parent's end of our stdin closes: it has ended, maybe by ``kill -9``.

    Without this a killed ``kontrol run`` would leave its case list running on,
    writing into a staging directory nobody will publish, for up to a minute.
    """

    def watch() -> None:
        # the parent never writes, so this returns at its end; os.read on the descriptor,
        # not sys.stdin: a daemon thread blocked inside the buffered reader holds its lock,
        # and the interpreter's shutdown then aborts ("could not acquire lock for <stdin>")
        while os.read(0, 4096):
            pass
        os._exit(1)

    threading.Thread(target=watch, name="kontrol-parent-watch", daemon=True).start()


def _answer_channel() -> BinaryIO:
    """The parent's pipe, taken off standard output; standard output now goes to stderr."""
    sys.stdout.flush()
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    return channel


def main(argv: list[str]) -> int:
    """``python -m kontrol.detached STEP WORK_DIR LOG_LEVEL LOG_FORMAT`` (the parent's call)."""
    name, work_dir, log_level, log_format = argv
    channel = _answer_channel()
    _end_with_the_parent()
    logging.basicConfig(
        level=int(log_level), format=log_format or logging.BASIC_FORMAT, stream=sys.stderr
    )
    from kontrol import tasks  # after the channel: nothing the import prints reaches the parent

    try:
        outcome: tuple[str, Any] = ("ok", tasks.run_step(name, work_dir))
    except BaseException as error:  # sent to the parent, which raises it there
        error.add_note(
            "in the detached step's process:\n"
            + "".join(traceback.format_exception(error)).rstrip()
        )
        try:
            pickle.dumps(error)
        except Exception:
            error = KontrolError(f"step {name}: {type(error).__name__}: {error}")
        outcome = ("error", error)
    pickle.dump(outcome, channel)
    channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
