"""The case lifecycle across runs: register, outcomes, suppression, rule performance.

* :mod:`.register`: pure functions on frames. :func:`~.register.classify`
  gives each case of a run's queue its ``status`` (``new``/``continuing``) and
  its case id (a continuing case keeps the id it was first published under),
  and sets aside the suppressed ones; :func:`~.register.apply_run` records a
  published run in the register (idempotent, keyed by run id).
* :mod:`.outcomes`: validate and apply an outcomes file from the case system
  (all or nothing).
* :mod:`.performance`: per rule, cases raised/closed, hit rate, money; the
  control sample's base rate beside them; a static HTML page.
* :mod:`.sample`: the optional random control sample.
* :mod:`.store`: the register on disk (through :mod:`kontrol.io`): immutable
  snapshots and an atomically replaced pointer, a lock, and the pending
  publication marker that makes "publish, then update the register" crash safe.

Design decisions (see also the README):

* A case is *open* until an outcome is imported for it. ``continuing`` = an
  open case of the register has the same ``(rule_id, cpr)``; it keeps its case
  id, and its anchor date, period and amount are updated to this run's.
* A case closed ``unfounded``/``no_action`` suppresses its ``(rule_id, cpr)``
  for ``lifecycle.suppress_months`` (6) months from its ``closed_date``
  (Udbetaling Danmark-loven § 11 a). Afterwards the pair may come back as
  ``new``; if its keyed id would be the closed case's id (same anchor date),
  it gets a fresh one derived from that id and the as-of date.
* A case closed ``founded`` "stays the same" while the rule fires for the same
  ``(rule_id, cpr)`` with no flagged line ending after the closed case's
  ``period_end`` (anchors move with the window for some rules, so the anchor
  alone cannot tell): it is suppressed. New flagged lines (a later
  ``period_end``) make a new case with a new id.
* Suppressed cases are listed in ``OUT/suppressed.parquet`` with the reason.
* Only register cases first published by an *earlier* month count, so re-running
  a month gives the same queue whatever that month's first attempt recorded.
* The control sample is not part of ``cases.parquet`` (whose contract requires
  a catalogue rule and an amount > 0): it is ``OUT/control_sample.parquet``
  (``case_id, rule_id="CONTROL", cpr, anchor_date=as_of, status="control_sample",
  run_id``) with no priority; it is recorded in the register like a case, so
  its outcomes are importable and give the base rate.
"""

from kontrol.lifecycle.register import (
    CONTROL_RULE_ID,
    CONTROL_STATUS,
    OUTCOMES,
    REGISTER_SCHEMA,
    SUPPRESSED_SCHEMA,
    add_months,
    apply_run,
    classify,
    empty_register,
)

__all__ = [
    "CONTROL_RULE_ID",
    "CONTROL_STATUS",
    "OUTCOMES",
    "REGISTER_SCHEMA",
    "SUPPRESSED_SCHEMA",
    "add_months",
    "apply_run",
    "classify",
    "empty_register",
]
