"""The optional random control sample: recipients with no rule hit, seeded by the run id."""

from __future__ import annotations

import hashlib
import random
from datetime import date

import polars as pl

from kontrol.lifecycle.register import CONTROL_RULE_ID, CONTROL_STATUS
from kontrol.queue import case_id

CONTROL_SAMPLE_SCHEMA = pl.Schema(
    {
        "case_id": pl.String(),
        "rule_id": pl.String(),
        "cpr": pl.String(),
        "anchor_date": pl.Date(),
        "status": pl.String(),
        "run_id": pl.String(),
    }
)


def draw_control_sample(
    recipients: pl.DataFrame,
    rule_cases: pl.DataFrame,
    size: int,
    run_id: str,
    as_of: date,
    key: bytes,
) -> pl.DataFrame:
    """``size`` recipients (or all, if fewer) with no rule hit, drawn with a run-id seed.

    The candidates are sorted first, so the draw depends only on the set of
    recipients and the run id. Case ids are keyed like the queue's
    (rule ``CONTROL``, anchor = as_of).
    """
    flagged = set(rule_cases["cpr"].to_list()) if rule_cases.height else set()
    candidates = sorted(set(recipients["cpr"].to_list()) - flagged)
    seed = int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:8], "big")
    drawn = sorted(random.Random(seed).sample(candidates, min(size, len(candidates))))
    return pl.DataFrame(
        {
            "case_id": [case_id(key, CONTROL_RULE_ID, cpr, as_of) for cpr in drawn],
            "rule_id": [CONTROL_RULE_ID] * len(drawn),
            "cpr": drawn,
            "anchor_date": [as_of] * len(drawn),
            "status": [CONTROL_STATUS] * len(drawn),
            "run_id": [run_id] * len(drawn),
        },
        schema=CONTROL_SAMPLE_SCHEMA,
    )
