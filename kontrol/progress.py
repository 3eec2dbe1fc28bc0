"""What a run's log shows: kontrol's own progress, not third-party chatter.

Why: an operator reads the log of a slow or failed run to see where it is
and where the time went. One line per step (and per extract for a
per-extract step) gives the step, its rows and its seconds;
:func:`kontrol.tasks.run_step` writes it, so ``kontrol run`` and every
Airflow task log the same lines. Rows are the counts the step returns (its
JSON-able result: counts, names and paths, never a cpr), so the line says
what the step itself measured, e.g.
``step load_extract [payments]: 0.4 s; rows_delivered=22629 rows_rejected=3 rows_loaded=22626``.

Great Expectations logs at INFO while it is imported: its
``great_expectations._docs_decorators`` logger reports "Skipping registering
function ..." for hundreds of functions, and its registry "Multiple
declarations of metric ...". At 1M persons these buried kontrol's lines
(issue 12). :func:`quiet_third_party` raises GX's loggers to WARNING; it must
run before the import, which is why ``run_step`` calls it before any step
and :class:`kontrol.validation.engine.GxSession` before it imports GX. GX's
``data_context.types.base`` sets its own logger to INFO when imported, so a
level set earlier would be overwritten there: that logger gets a filter
instead, which GX does not touch. Warnings and errors of GX still show.

Standard library only: :mod:`kontrol.tasks` imports it, and nothing here
may make a step more expensive to start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

__all__ = ["QUIET_LOGGERS", "StepTimer", "quiet_third_party", "step_line", "timed_step"]

log = logging.getLogger("kontrol.progress")

#: Third-party loggers whose INFO and DEBUG records a run's log leaves out.
QUIET_LOGGERS = ("great_expectations",)
#: Of those, loggers that set their own level when imported: quietened by a filter.
_SELF_LEVELLING = ("great_expectations.data_context.types.base",)


class _BelowWarning(logging.Filter):
    """Drops records below WARNING (a logger's own level may be reset by its library)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


def quiet_third_party() -> None:
    """Leave third-party INFO/DEBUG out of the log (idempotent; call before importing GX)."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in _SELF_LEVELLING:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _BelowWarning) for f in logger.filters):
            logger.addFilter(_BelowWarning())


def step_line(
    name: str, extract: str | None, seconds: float, result: Mapping[str, Any] | None
) -> str:
    """One step's progress line: its name (and extract), seconds, and the counts it returned.

    Only integer values of the result are shown (rows and case counts); a
    failed step (``result`` None) says so.
    """
    where = f"step {name}" + (f" [{extract}]" if extract is not None else "")
    if result is None:
        return f"{where}: failed after {seconds:.1f} s"
    counts = " ".join(
        f"{key}={value}"
        for key, value in result.items()
        if isinstance(value, int) and not isinstance(value, bool)
    )
    return f"{where}: {seconds:.1f} s" + (f"; {counts}" if counts else "")


class StepTimer:
    """Holds a step's result for :func:`timed_step` to log when the step ends."""

    result: Mapping[str, Any] | None = None


@contextmanager
def timed_step(name: str, extract: str | None = None) -> Iterator[StepTimer]:
    """Time the step in the ``with`` block and log its :func:`step_line` when it ends.

    The caller sets ``timer.result`` to the step's result; a step that raises
    is logged as failed (at WARNING: the error itself is reported by whoever
    handles it) and the exception goes on.
    """
    quiet_third_party()
    timer = StepTimer()
    started = time.perf_counter()
    try:
        yield timer
    except BaseException:
        log.warning("%s", step_line(name, extract, time.perf_counter() - started, None))
        raise
    log.info("%s", step_line(name, extract, time.perf_counter() - started, timer.result))
