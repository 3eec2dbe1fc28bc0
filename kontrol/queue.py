"""From rule cases to the published case queue (CONTRACT.md section 5).

* ``case_id`` is ``HMAC-SHA256(KONTROL_CASE_KEY, "rule_id|cpr|anchor_date")``
  in hex, truncated to 32 characters (128 bits). It is stable for the same
  ``(rule_id, cpr, anchor_date)`` under the same key, and without the key it
  cannot be computed from a cpr, so case ids can be logged and put in reports.
* ``run_id`` is derived from what determines the output: the input files'
  sha256, the configuration, the as-of date, the rule catalogue version and
  the code version. Identical runs therefore write byte-identical queues.
* ``priority`` comes from :func:`kontrol.scoring.prioritise`, the one
  place the ordering is defined: amount at stake x rule weight x
  (1 + score_weight x anomaly_score), ties by amount, rule id and case id,
  numbered 1..N without gaps. With the default ``score_weight`` 0 that is
  amount at stake descending, then rule id, then case id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import date

import polars as pl

from kontrol.errors import ConfigError
from kontrol.rules.spec import CASE_SCHEMA
from kontrol.scoring import ScoringConfig, attach_scores, prioritise, rule_weights

CASE_KEY_ENV = "KONTROL_CASE_KEY"
#: Used only with the explicit ``--demo-key`` flag, on synthetic data.
DEMO_CASE_KEY = "kontrol-demo-key-for-synthetic-data-only"
MIN_KEY_LENGTH = 16

#: The queue's columns and types, in order (CONTRACT.md section 5): the rule
#: engine's case columns between the case id and what this module adds.
QUEUE_SCHEMA = pl.Schema(
    {
        "case_id": pl.String(),
        **CASE_SCHEMA,
        "anomaly_score": pl.Float64(),
        "priority": pl.Int32(),
        "run_id": pl.String(),
        #: :data:`kontrol.lifecycle.STATUSES`: ``new`` or ``continuing`` (last, so the
        #: contract's column order stays).
        "status": pl.String(),
    }
)
#: The queue's ``status`` values (see :mod:`kontrol.lifecycle.register`).
QUEUE_STATUSES = ("new", "continuing")


def case_key_from_env(environ: Mapping[str, str], *, demo: bool) -> bytes:
    """The HMAC key: from ``KONTROL_CASE_KEY``, or the demo key only when asked for."""
    if demo:
        return DEMO_CASE_KEY.encode()
    key = environ.get(CASE_KEY_ENV, "")
    if not key:
        raise ConfigError(
            f"{CASE_KEY_ENV} is not set: the case key is required to compute case ids. "
            "Set it from the municipality's secret store, or pass --demo-key on synthetic data."
        )
    if not key.strip():
        raise ConfigError(
            f"{CASE_KEY_ENV} is blank (only whitespace): set the municipality's secret case key"
        )
    if len(key.strip()) < MIN_KEY_LENGTH:
        raise ConfigError(
            f"{CASE_KEY_ENV} is too short: use at least {MIN_KEY_LENGTH} characters "
            "(surrounding whitespace not counted)"
        )
    return key.encode()


def case_id(key: bytes, rule_id: str, cpr: str, anchor_date: date) -> str:
    message = f"{rule_id}|{cpr}|{anchor_date.isoformat()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def run_id_for(
    as_of: date,
    input_sha256: Mapping[str, str],
    config_json: str,
    catalogue_version: str,
    code_version: str,
) -> str:
    """``<as_of>-<12 hex>``: readable, sortable by month, and a digest of everything."""
    material = json.dumps(
        {
            "as_of": as_of.isoformat(),
            "inputs": dict(sorted(input_sha256.items())),
            "config": config_json,
            "catalogue": catalogue_version,
            "code": code_version,
        },
        sort_keys=True,
    )
    return f"{as_of.isoformat()}-{hashlib.sha256(material.encode()).hexdigest()[:12]}"


def assemble_queue(
    cases: pl.DataFrame,
    key: bytes,
    run_id: str,
    scored: pl.DataFrame | None = None,
    scoring_config: ScoringConfig | None = None,
) -> pl.DataFrame:
    """Add case ids, anomaly scores, priorities and the run id; order the queue.

    Takes the collected rule output (a few thousand to a few hundred thousand
    rows); computing the HMAC per case in Python is linear in cases, not in
    payment lines. ``scored`` is the scoring stage's ``cpr, anomaly_score,
    score_explanation``; without it every score is null.
    """
    cases = cases.cast({name: QUEUE_SCHEMA[name] for name in cases.columns if name in QUEUE_SCHEMA})
    ids = [
        case_id(key, rule, cpr, anchor)
        for rule, cpr, anchor in zip(
            cases["rule_id"].to_list(),
            cases["cpr"].to_list(),
            cases["anchor_date"].to_list(),
            strict=True,
        )
    ]
    with_ids = cases.with_columns(
        pl.Series("case_id", ids, dtype=pl.String()),
        pl.lit(None, dtype=pl.Float64()).alias("anomaly_score"),
        pl.lit(run_id).alias("run_id"),
        pl.lit("new").alias("status"),
    )
    if scored is not None:
        with_ids = attach_scores(with_ids, scored)
    ranked = prioritise(with_ids, rule_weights(), scoring_config or ScoringConfig())
    return ranked.select([pl.col(name).cast(dtype) for name, dtype in QUEUE_SCHEMA.items()])
