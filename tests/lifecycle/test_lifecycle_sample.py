"""The random control sample: recipients without a rule hit, deterministic per run id."""

from __future__ import annotations

from datetime import date

import polars as pl
from lifecycle.lifecycle_helpers import KEY

from kontrol.lifecycle.sample import CONTROL_SAMPLE_SCHEMA, draw_control_sample

AS_OF = date(2026, 10, 31)
RECIPIENTS = pl.DataFrame({"cpr": [f"01018{n:05d}" for n in range(200)]})
FLAGGED = pl.DataFrame({"cpr": [f"01018{n:05d}" for n in range(0, 200, 3)]})


def draw(run_id: str, size: int = 10, recipients: pl.DataFrame = RECIPIENTS) -> pl.DataFrame:
    return draw_control_sample(recipients, FLAGGED, size, run_id, AS_OF, KEY)


def test_the_sample_is_deterministic_per_run_id() -> None:
    first = draw("2026-10-31-aaaaaaaaaaaa")
    assert first.schema == CONTROL_SAMPLE_SCHEMA
    assert first.height == 10
    assert first.equals(draw("2026-10-31-aaaaaaaaaaaa"))
    # the order of the recipients file does not matter
    assert first.equals(draw("2026-10-31-aaaaaaaaaaaa", recipients=RECIPIENTS.reverse()))
    assert not first["cpr"].equals(draw("2026-10-31-bbbbbbbbbbbb")["cpr"])


def test_the_sample_has_no_rule_hit_and_is_marked() -> None:
    sample = draw("2026-10-31-aaaaaaaaaaaa", size=500)
    assert sample.height == 200 - FLAGGED.height  # all candidates when fewer than asked
    assert not set(sample["cpr"]) & set(FLAGGED["cpr"])
    assert set(sample["status"]) == {"control_sample"}
    assert set(sample["rule_id"]) == {"CONTROL"}
    assert sample["case_id"].n_unique() == sample.height
    assert draw("2026-10-31-aaaaaaaaaaaa", size=0).height == 0
