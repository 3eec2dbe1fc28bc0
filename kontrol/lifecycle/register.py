"""The case register as a frame, and the pure transitions of a case across runs."""

from __future__ import annotations

import calendar
import hashlib
from datetime import date
from typing import Any

import polars as pl

from kontrol.queue import QUEUE_SCHEMA

MONEY = pl.Decimal(14, 2)
FOUNDED = "founded"
UNFOUNDED = "unfounded"
NO_ACTION = "no_action"
OUTCOMES = (FOUNDED, UNFOUNDED, NO_ACTION)
#: Outcomes that suppress the (rule_id, cpr) for ``suppress_months``.
SUPPRESSING = (UNFOUNDED, NO_ACTION)
CASE_KIND = "case"
CONTROL_KIND = "control_sample"
CONTROL_RULE_ID = "CONTROL"
CONTROL_STATUS = "control_sample"
LEGAL_BASIS_SUPPRESSION = "Udbetaling Danmark-loven § 11 a"

#: One row per case ever published (and per control-sample draw). Open while
#: ``outcome`` is null.
REGISTER_SCHEMA = pl.Schema(
    {
        "case_id": pl.String(),
        "kind": pl.String(),
        "rule_id": pl.String(),
        "cpr": pl.String(),
        "anchor_date": pl.Date(),
        "period_start": pl.Date(),
        "period_end": pl.Date(),
        "amount_at_stake_dkk": MONEY,
        "first_run_id": pl.String(),
        "first_as_of": pl.Date(),
        "last_run_id": pl.String(),
        "last_as_of": pl.Date(),
        "outcome": pl.String(),
        "closed_date": pl.Date(),
        "repayment_dkk": MONEY,
        "future_saving_dkk": MONEY,
    }
)

SUPPRESSED_SCHEMA = pl.Schema(
    {
        "case_id": pl.String(),
        "rule_id": pl.String(),
        "cpr": pl.String(),
        "anchor_date": pl.Date(),
        "amount_at_stake_dkk": MONEY,
        "closed_case_id": pl.String(),
        "outcome": pl.String(),
        "closed_date": pl.Date(),
        "suppressed_until": pl.Date(),
        "reason": pl.String(),
        "run_id": pl.String(),
    }
)


def empty_register() -> pl.DataFrame:
    return pl.DataFrame(schema=REGISTER_SCHEMA)


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def rekeyed_case_id(closed_case_id: str, as_of: date) -> str:
    """A fresh case id for a case coming back after its closed case (same keyed id).

    Derived from the closed case's keyed id, so it is as unguessable from a
    cpr as that one, and deterministic for the month.
    """
    material = f"{closed_case_id}|reopened|{as_of.isoformat()}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


def _earlier(register: pl.DataFrame, as_of: date) -> list[dict[str, Any]]:
    """The register cases that decide this month's statuses and suppressions.

    Cases first published by a month before ``as_of``, and the closed cases
    of ``as_of`` itself: a re-run of a month (whose own application is undone
    first, see :func:`undo_month`) keeps out the cases closed since its first
    attempt, and an open case of its own first attempt never makes it
    ``continuing``.
    """
    return register.filter(
        (pl.col("kind") == CASE_KIND)
        & (
            (pl.col("first_as_of") < as_of)
            | ((pl.col("first_as_of") == as_of) & pl.col("outcome").is_not_null())
        )
    ).to_dicts()


def classify(
    queue: pl.DataFrame, register: pl.DataFrame, as_of: date, suppress_months: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The run's queue with ``status`` and lifecycle case ids, and the suppressed cases.

    ``queue`` is the assembled queue (keyed case ids, priority 1..N). Returns
    the queue without the suppressed cases (priority renumbered 1..N in the
    same order) and ``SUPPRESSED_SCHEMA`` rows.
    """
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in _earlier(register, as_of):
        by_pair.setdefault((row["rule_id"], row["cpr"]), []).append(row)
    known_ids = {row["case_id"] for rows in by_pair.values() for row in rows}

    ids: list[str] = []
    statuses: list[str] = []
    keep: list[bool] = []
    suppressed: list[dict[str, Any]] = []
    for row in queue.sort("priority").iter_rows(named=True):
        candidates = by_pair.get((row["rule_id"], row["cpr"]), [])
        open_cases = [c for c in candidates if c["outcome"] is None]
        if open_cases:
            first = max(open_cases, key=lambda c: (c["first_as_of"], c["case_id"]))
            ids.append(first["case_id"])
            statuses.append("continuing")
            keep.append(True)
            continue
        reason = _suppression(row, candidates, as_of, suppress_months)
        if reason is not None:
            closed, until, text = reason
            suppressed.append(
                {
                    "case_id": row["case_id"],
                    "rule_id": row["rule_id"],
                    "cpr": row["cpr"],
                    "anchor_date": row["anchor_date"],
                    "amount_at_stake_dkk": row["amount_at_stake_dkk"],
                    "closed_case_id": closed["case_id"],
                    "outcome": closed["outcome"],
                    "closed_date": closed["closed_date"],
                    "suppressed_until": until,
                    "reason": text,
                    "run_id": row["run_id"],
                }
            )
            ids.append(row["case_id"])
            statuses.append("new")
            keep.append(False)
            continue
        new_id = row["case_id"]
        while new_id in known_ids:  # the same anchor as a closed case, after suppression
            new_id = rekeyed_case_id(new_id, as_of)
        ids.append(new_id)
        statuses.append("new")
        keep.append(True)

    ordered = queue.sort("priority").with_columns(
        pl.Series("case_id", ids, dtype=pl.String()),
        pl.Series("status", statuses, dtype=pl.String()),
    )
    kept = ordered.filter(pl.Series(keep, dtype=pl.Boolean())).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int32()).alias("priority")
    )
    kept = kept.select([pl.col(n).cast(t) for n, t in QUEUE_SCHEMA.items()])
    return kept, pl.DataFrame(suppressed, schema=SUPPRESSED_SCHEMA)


def _suppression(
    row: dict[str, Any], candidates: list[dict[str, Any]], as_of: date, suppress_months: int
) -> tuple[dict[str, Any], date | None, str] | None:
    """The closed case that suppresses ``row``, its end date and the reason; or None."""
    windows = [
        (c, add_months(c["closed_date"], suppress_months))
        for c in candidates
        if c["outcome"] in SUPPRESSING
    ]
    active = [(c, until) for c, until in windows if as_of < until]
    if active:
        closed, until = max(active, key=lambda pair: (pair[1], pair[0]["case_id"]))
        return (
            closed,
            until,
            f"closed {closed['outcome']} on {closed['closed_date'].isoformat()}: not raised "
            f"again before {until.isoformat()} ({LEGAL_BASIS_SUPPRESSION})",
        )
    for closed in candidates:
        if closed["outcome"] == FOUNDED and row["period_end"] <= closed["period_end"]:
            return (
                closed,
                None,
                f"closed founded on {closed['closed_date'].isoformat()}: no flagged line "
                f"after {closed['period_end'].isoformat()}, the same case is not raised again",
            )
    return None


def apply_run(
    register: pl.DataFrame,
    queue: pl.DataFrame,
    control_sample: pl.DataFrame | None,
    run_id: str,
    as_of: date,
) -> pl.DataFrame:
    """The register after a published run: new cases added, continuing cases updated.

    The caller records ``run_id`` as applied; applying the same run again
    leaves the same register (updates overwrite with the same values, ids
    already present are not added twice).
    """
    return apply_month(register, queue, control_sample, run_id, as_of)[0]


def apply_month(
    register: pl.DataFrame,
    queue: pl.DataFrame,
    control_sample: pl.DataFrame | None,
    run_id: str,
    as_of: date,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`apply_run`, and the rows it updated as they were before (to undo the month).

    The second frame (``REGISTER_SCHEMA``) holds the open cases of earlier
    months this run updated, with their values before the update:
    :func:`undo_month` puts them back.
    """
    rows = {row["case_id"]: row for row in register.to_dicts()}
    before: list[dict[str, Any]] = []
    for case in queue.iter_rows(named=True):
        current = rows.get(case["case_id"])
        update = {
            "rule_id": case["rule_id"],
            "cpr": case["cpr"],
            "anchor_date": case["anchor_date"],
            "period_start": case["period_start"],
            "period_end": case["period_end"],
            "amount_at_stake_dkk": case["amount_at_stake_dkk"],
            "last_run_id": run_id,
            "last_as_of": as_of,
        }
        if current is None:
            rows[case["case_id"]] = {
                **dict.fromkeys(REGISTER_SCHEMA.names()),
                **update,
                "case_id": case["case_id"],
                "kind": CASE_KIND,
                "first_run_id": run_id,
                "first_as_of": as_of,
            }
        elif current["outcome"] is None:
            if current["first_as_of"] < as_of and current["last_as_of"] != as_of:
                before.append(dict(current))
            current.update(update)
    if control_sample is not None:
        for drawn in control_sample.iter_rows(named=True):
            if drawn["case_id"] not in rows:
                rows[drawn["case_id"]] = {
                    **dict.fromkeys(REGISTER_SCHEMA.names()),
                    "case_id": drawn["case_id"],
                    "kind": CONTROL_KIND,
                    "rule_id": CONTROL_RULE_ID,
                    "cpr": drawn["cpr"],
                    "anchor_date": drawn["anchor_date"],
                    "first_run_id": run_id,
                    "first_as_of": as_of,
                    "last_run_id": run_id,
                    "last_as_of": as_of,
                }
    frame = pl.DataFrame(list(rows.values()), schema=REGISTER_SCHEMA)
    undo = pl.DataFrame(before, schema=REGISTER_SCHEMA).sort("case_id")
    return frame.sort("first_as_of", "case_id"), undo


def undo_month(register: pl.DataFrame, undo: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The register without month ``as_of``'s application, but with the outcomes since.

    ``as_of`` must be the latest month applied and ``undo`` what
    :func:`apply_month` returned for it. The month's new cases still open are
    removed, the open cases it updated get their earlier values back. A case
    closed since (an outcome was imported) is kept as it was closed: the
    caseworker decided on what that month published.
    """
    previous = {row["case_id"]: row for row in undo.to_dicts()}
    rows = []
    for row in register.to_dicts():
        if row["outcome"] is None:
            if row["first_as_of"] == as_of:
                continue
            if row["last_as_of"] == as_of and row["case_id"] in previous:
                row = previous[row["case_id"]]
        rows.append(row)
    return pl.DataFrame(rows, schema=REGISTER_SCHEMA).sort("first_as_of", "case_id")
