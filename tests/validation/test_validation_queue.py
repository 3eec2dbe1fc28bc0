"""The case queue suite: every contract property of section 5 is critical."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from kontrol.queue import QUEUE_SCHEMA
from kontrol.validation import validate_queue

pytestmark = pytest.mark.slow


def test_a_clean_queue_passes(queue: pl.DataFrame) -> None:
    outcome = validate_queue(queue)
    assert outcome.success, outcome.critical_failures
    assert outcome.warnings == ()
    assert outcome.rows_validated == queue.height == 3


def test_an_empty_queue_passes(make_queue: Callable[[int], pl.DataFrame]) -> None:
    empty = make_queue(0)
    assert empty.schema == QUEUE_SCHEMA
    outcome = validate_queue(empty)
    assert outcome.success, outcome.critical_failures


def _money(value: str) -> pl.Expr:
    return pl.lit(Decimal(value)).cast(QUEUE_SCHEMA["amount_at_stake_dkk"])


BROKEN: dict[str, tuple[Callable[[pl.DataFrame], pl.DataFrame], set[str]]] = {
    "duplicate case_id": (
        lambda q: q.with_columns(pl.lit(q["case_id"][0]).alias("case_id")),
        {"case_id: unique"},
    ),
    "amount zero": (
        lambda q: q.with_columns(
            pl.when(pl.col("priority") == 3)
            .then(_money("0"))
            .otherwise(pl.col("amount_at_stake_dkk"))
            .alias("amount_at_stake_dkk")
        ),
        {"amount_at_stake_dkk: > 0"},
    ),
    "amount negative": (
        lambda q: q.with_columns(_money("-1.00").alias("amount_at_stake_dkk")),
        {"amount_at_stake_dkk: > 0"},
    ),
    "priority gap": (
        lambda q: q.with_columns(
            pl.when(pl.col("priority") == 3)
            .then(4)
            .otherwise(pl.col("priority"))
            .cast(pl.Int32)
            .alias("priority")
        ),
        {"priority: in 1..N"},
    ),
    "priority repeated": (
        lambda q: q.with_columns(pl.lit(1, dtype=pl.Int32).alias("priority")),
        {"priority: unique", "priority: sorted"},
    ),
    "score above 1": (
        lambda q: q.with_columns(pl.lit(1.5).alias("anomaly_score")),
        {"anomaly_score: in [0, 1]"},
    ),
    "score below 0": (
        lambda q: q.with_columns(pl.lit(-0.1).alias("anomaly_score")),
        {"anomaly_score: in [0, 1]"},
    ),
    "unknown rule": (
        lambda q: q.with_columns(pl.lit("R99").alias("rule_id")),
        {"rule_id: known"},
    ),
    "empty evidence": (
        lambda q: q.with_columns(pl.lit("").alias("evidence")),
        {"evidence: not empty", "evidence: JSON"},
    ),
    "empty legal basis": (
        lambda q: q.with_columns(pl.lit("").alias("legal_basis")),
        {"legal_basis: not empty"},
    ),
    "missing column": (
        lambda q: q.drop("run_id"),
        {
            "columns",
            "run_id: type",
            "run_id: not null",
            "run_id: format",
            "run_id: one run",
        },
    ),
}


@pytest.mark.parametrize("defect", sorted(BROKEN))
def test_a_broken_queue_fails_critically(queue: pl.DataFrame, defect: str) -> None:
    break_it, expected = BROKEN[defect]
    outcome = validate_queue(break_it(queue))
    assert not outcome.success
    assert set(outcome.critical_failures) == expected
    assert outcome.warnings == ()


def test_scores_in_range_or_null_pass(queue: pl.DataFrame) -> None:
    scored = queue.with_columns(pl.Series("anomaly_score", [0.0, None, 1.0]))
    assert validate_queue(scored).success


def test_computing_gx_configurations_and_ids_once_changes_no_result(
    queue: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kontrol has GX compute each configuration and metric id once per validation (engine.py).

    It also keeps GX from serialising its ephemeral context's configuration to
    YAML after each asset is added. The documents are the same as GX's own,
    which recomputes them on every read and serialises on every addition: on a
    queue that fails several expectations, one of which cannot even be evaluated.
    """
    from contextlib import nullcontext

    from great_expectations.core.id_dict import IDDict
    from great_expectations.data_context import EphemeralDataContext
    from great_expectations.expectations.expectation import Expectation

    from kontrol.validation import engine

    broken = BROKEN["missing column"][0](BROKEN["amount zero"][0](BROKEN["unknown rule"][0](queue)))
    memoised = [validate_queue(q).to_json() for q in (queue, broken)]
    configuration, to_id = Expectation.__dict__["configuration"].fget, IDDict.__dict__["to_id"]
    assert getattr(configuration, "kontrol_memo", False) and getattr(to_id, "kontrol_memo", False)
    calls = {"configuration": 0, "to_id": 0, "save": 0}

    def counted(name: str, original: Any) -> Any:
        def call(*args: Any) -> Any:
            calls[name] += 1
            return original(*args)

        return call

    monkeypatch.setattr(
        EphemeralDataContext,
        "_save_project_config",
        counted("save", EphemeralDataContext._save_project_config),
    )
    assert validate_queue(queue).success
    assert calls["save"] == 0  # the session's context does not serialise its configuration

    monkeypatch.setattr(
        Expectation, "configuration", property(counted("configuration", configuration))
    )
    monkeypatch.setattr(IDDict, "to_id", counted("to_id", to_id))
    monkeypatch.setattr(engine, "_computed_once", nullcontext)
    monkeypatch.setattr(engine, "_keep_configuration_unserialised", lambda context: None)
    as_shipped = [validate_queue(q).to_json() for q in (queue, broken)]
    # GX's own calls, as shipped: about 75 and 46 per expectation
    assert calls["configuration"] > 1000 and calls["to_id"] > 1000
    assert calls["save"] >= 2 * 3  # the data source, the asset and its batch definition
    for ours, theirs in zip(memoised, as_shipped, strict=True):
        ours.pop("seconds"), theirs.pop("seconds")
        assert ours == theirs
    assert not memoised[1]["success"] and memoised[1]["gx_result"]["results"]


def test_gx_memos_change_no_extract_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same for every extract suite, on the fixture delivery, clean and broken.

    These suites take parameters (the benefit codes, row ranges), which GX
    substitutes into the configurations before it validates: the memos must
    see the substituted ones. Payments are broken twice over, an unknown
    benefit code and a malformed cpr, so failing expectations are compared too.
    """
    from contextlib import nullcontext
    from pathlib import Path

    from kontrol.config import KontrolConfig
    from kontrol.schema import all_extract_specs
    from kontrol.validation import _delivery_parameters, checks, committed_suites, engine

    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "delivery"
    config = KontrolConfig()
    suites, parameters = committed_suites(), _delivery_parameters(config, config.validation)
    specs = all_extract_specs(config.benefit_codes)
    frames = [(name, pl.scan_parquet(fixture / f"{name}.parquet")) for name in specs]
    every_7th = pl.int_range(pl.len()) % 7 == 0
    broken = dict(frames)["payments"].with_columns(
        pl.when(every_7th).then(pl.lit("UKENDT")).otherwise("benefit_code").alias("benefit_code"),
        pl.when(every_7th).then(pl.lit("12345")).otherwise("cpr").alias("cpr"),
    )
    frames.append(("payments", broken))
    samples = [  # as validate_extract gives them to GX: with the row checks' columns
        (name, checks.gx_sample(frame, specs[name], config.validation.sample_rows).frame)
        for name, frame in frames
    ]

    def validate_all() -> list[engine.SuiteRun]:
        session = engine.GxSession()
        return [session.run(suites[n], frame.to_pandas(), parameters) for n, frame in samples]

    memoised = validate_all()
    monkeypatch.setattr(engine, "_computed_once", nullcontext)
    as_shipped = validate_all()
    assert len(memoised) == 10
    for ours, theirs in zip(memoised, as_shipped, strict=True):
        assert ours == theirs
    assert all(not e.error for run in memoised for e in run.expectations)
    failed = {e.name: e.observed for e in memoised[-1].expectations if not e.success}
    for name in (
        "benefit_code: unknown benefit_code",
        "cpr: malformed cpr (expected 10 digits DDMMYYSSSS)",
    ):
        assert int(failed[name].split(" of ")[0].replace(",", "")) > 1000, failed


def test_plain_keys_tell_apart_what_json_tells_apart() -> None:
    from kontrol.validation.engine import _plain_key

    distinct = [True, 1, 1.0, "1", 0.0, -0.0, None, [1], (1,), {"a": 1}, {"a": True}]
    keys = [_plain_key(value) for value in distinct]
    assert len(set(keys)) == len(distinct)
    assert _plain_key({"b": [1, "x"], "a": None}) == _plain_key({"a": None, "b": [1, "x"]})
    with pytest.raises(TypeError):
        _plain_key(Decimal("1"))
    with pytest.raises(TypeError):
        _plain_key({1: "not a JSON key"})
