"""``hit_rate`` (``kontrol synth --hit-rate``): a high-hit delivery with an exact ground truth.

The oracle's exactness on the high-hit town is checked with the small town's
in ``test_synth_truth.py``; here: the share of persons hit, kontrol's own
rules against the truth, determinism, and that the default is untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from synth_helpers import AS_OF, HIGH_HIT_RATE, SMALL_PERSONS, sha256_all, truth

from kontrol import catalogue, pipeline
from kontrol.cli import main
from kontrol.config import KontrolConfig
from kontrol.synth import MAX_HIT_RATE, synthesize

CASE_COLUMNS = ["rule_id", "cpr", "anchor_date", "period_start", "period_end"]
R01_R07 = [f"R0{n}" for n in range(1, 8)]


def hit_persons(town: Path) -> set[str]:
    return set(truth(town).filter(pl.col("kind") == "positive")["cpr"])


def test_about_the_share_asked_for_is_hit_on_top(small_town: Path, high_hit_town: Path) -> None:
    usual, high = hit_persons(small_town), hit_persons(high_hit_town)
    share = len(high) / SMALL_PERSONS
    # the usual ~0.3-1 % (a 3,000-person town gets both whole catalogues) plus ~3 %
    assert HIGH_HIT_RATE <= share - len(usual) / SMALL_PERSONS <= HIGH_HIT_RATE + 0.01
    positives = truth(high_hit_town).filter(pl.col("kind") == "positive")
    per_rule = dict(positives.group_by("rule_id").len().iter_rows())
    assert all(per_rule[rule] >= 10 for rule in R01_R07), per_rule


def test_kontrols_rules_emit_exactly_the_positives(high_hit_town: Path, tmp_path: Path) -> None:
    """The Polars rules over the high-hit delivery, loaded as a run loads it."""
    config = KontrolConfig()
    pipeline.load_delivery(high_hit_town, tmp_path, config)
    pipeline.apply_rules(tmp_path, AS_OF, config)
    found = pl.read_parquet(catalogue.path(tmp_path, "rule_cases"))
    expected = truth(high_hit_town).filter(pl.col("kind") == "positive")
    columns = [*CASE_COLUMNS, "amount_at_stake_dkk"]
    found, expected = found.select(columns), expected.select(columns)
    missing = expected.join(found, on=columns, how="anti", nulls_equal=True)
    unexpected = found.join(expected, on=columns, how="anti", nulls_equal=True)
    assert missing.height == 0, f"injected cases not found:\n{missing}"
    assert unexpected.height == 0, f"cases not in the ground truth:\n{unexpected}"
    assert found.height == expected.height > 100


def test_same_arguments_same_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    synthesize(a, persons=1500, seed=7, hit_rate=HIGH_HIT_RATE)
    synthesize(b, persons=1500, seed=7, hit_rate=HIGH_HIT_RATE)
    assert sha256_all(a) == sha256_all(b)
    assert json.loads((a / "synth.json").read_text(encoding="utf-8"))["hit_rate"] == 0.03


def test_the_default_writes_no_hit_rate_and_draws_nothing_more(tmp_path: Path) -> None:
    """``hit_rate`` 0 is the usual delivery (fixtures/delivery regenerates byte for byte too)."""
    plain, zero = tmp_path / "plain", tmp_path / "zero"
    synthesize(plain, persons=1500, seed=7)
    synthesize(zero, persons=1500, seed=7, hit_rate=0.0)
    assert sha256_all(plain) == sha256_all(zero)
    assert "hit_rate" not in json.loads((plain / "synth.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("rate", [-0.01, MAX_HIT_RATE + 0.01])
def test_a_hit_rate_out_of_range_is_a_usage_error(
    rate: float, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["synth", "--persons", "100", "--seed", "1", "--out", str(tmp_path / "t")]
    args += ["--hit-rate", str(rate)]
    assert main(args) == 2
    assert "hit_rate must be in [0, 0.1]" in capsys.readouterr().err
