"""The auditors' HTML report shows every suite and never a cpr value."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from kontrol.config import KontrolConfig
from kontrol.validation import validate_delivery, validate_queue, write_report
from kontrol.validation.engine import mask, sanitise

pytestmark = pytest.mark.slow

BAD_CPRS = ("9913001234", "0101011234", "3112991234")


def _append(path: Path, rows: pl.DataFrame) -> None:
    pl.concat([pl.read_parquet(path), rows]).write_parquet(path)


def test_the_report_of_a_failing_run_contains_no_cpr(
    stage: Callable[..., Any],
    rows: dict[str, list[dict[str, Any]]],
    make_queue: Callable[[int], pl.DataFrame],
    all_cprs: tuple[str, ...],
    as_of: date,
    tmp_path: Path,
) -> None:
    # Rows with cpr values that fail checks: one rejected by the loader, and
    # several planted in the staged clean files, as a loader bug would.
    rows["payments"][0]["cpr"] = BAD_CPRS[0]
    rows["payments"].append({**rows["payments"][1], "payment_id": "PX", "cpr": BAD_CPRS[1]})
    staged = stage(rows, max_reject_share="1")
    clean = staged.staging / "clean"
    persons = pl.read_parquet(clean / "persons.parquet")
    _append(clean / "persons.parquet", persons.head(2))  # duplicate cprs
    _append(
        clean / "persons.parquet",
        persons.head(1).with_columns(pl.lit(BAD_CPRS[2]).alias("cpr"), pl.lit("X").alias("sex")),
    )
    _append(
        clean / "relations.parquet",
        pl.read_parquet(clean / "relations.parquet")
        .head(1)
        .with_columns(pl.lit(BAD_CPRS[0]).alias("related_cpr")),
    )
    outcomes = validate_delivery(staged.staging, staged.loads, as_of, KontrolConfig())

    queue = make_queue(3)
    queue = queue.with_columns(
        pl.lit(BAD_CPRS[0]).alias("cpr"),  # malformed and repeated
        pl.lit(queue["case_id"][0]).alias("case_id"),
        pl.lit(BAD_CPRS[1]).alias("evidence"),
    )
    outcomes.append(validate_queue(queue))
    assert {o.suite for o in outcomes if not o.success} >= {
        "persons",
        "relations",
        "delivery",
        "case_queue",
    }

    report_dir = tmp_path / "validation"
    index = write_report(outcomes, report_dir, {"run_id": "test", "as_of": as_of.isoformat()})
    assert index == report_dir / "index.html"
    html = index.read_text(encoding="utf-8")
    for suite in ("persons", "payments", "delivery", "case_queue"):
        assert f'id="{suite}"' in html
    assert "key cpr: unique" in html
    assert "FAILED: run stopped" in html

    files = [p for p in report_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"index.html", "case_queue.json", "persons.json"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        for cpr in (*all_cprs, *BAD_CPRS):
            assert cpr not in text, f"{path.name} contains a cpr"
            assert f"{cpr[:6]}-{cpr[6:]}" not in text
        # Nothing had to be masked: GX was never asked for values (masking is the backstop).
        assert "[masked]" not in text, path.name


def test_sanitise_drops_value_lists_and_masks_cpr_shaped_numbers() -> None:
    result = {
        "result": {
            "unexpected_count": 2,
            "partial_unexpected_list": ["0203851234"],
            "unexpected_index_list": [{"cpr": "0203851234"}],
        },
        "exception_info": {"exception_message": "bad value 020385-1234 in cpr"},
    }
    clean = sanitise(result)
    assert clean["result"] == {"unexpected_count": 2}
    assert "1234" not in clean["exception_info"]["exception_message"]
    assert mask("rows 1,234,567 of 60000000") == "rows 1,234,567 of 60000000"
