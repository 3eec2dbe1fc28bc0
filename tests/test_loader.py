"""The loader: structural defects fail with file, column and defect; row defects are set aside."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from builders import CHILD, MOTHER, SPECS, tiny_rows

from kontrol import catalogue, pipeline
from kontrol.config import KontrolConfig, LoaderConfig
from kontrol.errors import RejectRateExceeded, StructuralDefect

Writer = Callable[[dict[str, list[dict[str, Any]]]], Path]


def load(directory: Path, staging: Path, config: KontrolConfig | None = None) -> dict[str, Any]:
    return pipeline.load_delivery(directory, staging, config or KontrolConfig())


def test_good_delivery_loads_without_rejects(tiny_delivery: Path, tmp_path: Path) -> None:
    loads = load(tiny_delivery, tmp_path / "staging")
    assert {name: result.rows_rejected for name, result in loads.items()} == dict.fromkeys(SPECS, 0)
    assert loads["payments"].rows_loaded == 9
    extracts = pipeline.open_staged(tmp_path / "staging")
    assert extracts.payments.collect().schema == SPECS["payments"].schema
    assert re.fullmatch(r"[0-9a-f]{64}", loads["persons"].sha256)


def test_missing_file_names_the_file(tiny_delivery: Path, tmp_path: Path) -> None:
    (tiny_delivery / "income.parquet").unlink()
    with pytest.raises(StructuralDefect, match=r"^income\.parquet: file: required file missing$"):
        load(tiny_delivery, tmp_path / "staging")


def test_unreadable_file(tiny_delivery: Path, tmp_path: Path) -> None:
    (tiny_delivery / "relations.parquet").write_bytes(b"this is not parquet")
    with pytest.raises(StructuralDefect, match=r"^relations\.parquet: file: unreadable as Parquet"):
        load(tiny_delivery, tmp_path / "staging")


def test_missing_column_names_file_and_column(tiny_delivery: Path, tmp_path: Path) -> None:
    path = tiny_delivery / "payments.parquet"
    pl.read_parquet(path).drop("paid_date").write_parquet(path)
    with pytest.raises(StructuralDefect) as raised:
        load(tiny_delivery, tmp_path / "staging")
    assert str(raised.value) == (
        "payments.parquet: column paid_date: missing column (expected date)"
    )


def test_wrong_type_names_expected_and_found(tiny_delivery: Path, tmp_path: Path) -> None:
    path = tiny_delivery / "payments.parquet"
    frame = pl.read_parquet(path).with_columns(pl.col("amount_dkk").cast(pl.Float64))
    frame.write_parquet(path)
    with pytest.raises(StructuralDefect) as raised:
        load(tiny_delivery, tmp_path / "staging")
    assert str(raised.value) == (
        "payments.parquet: column amount_dkk: wrong type: expected decimal(12,2), found float64"
    )


def test_narrower_types_are_widened(tiny_delivery: Path, tmp_path: Path) -> None:
    path = tiny_delivery / "payments.parquet"
    table = pq.read_table(path)
    index = table.schema.get_field_index("amount_dkk")
    narrower = table["amount_dkk"].cast(pa.decimal128(10, 2))
    pq.write_table(table.set_column(index, "amount_dkk", narrower), path)
    load(tiny_delivery, tmp_path / "staging")
    staged = pipeline.open_staged(tmp_path / "staging").payments.collect()
    assert staged.schema["amount_dkk"] == pl.Decimal(12, 2)
    assert staged["amount_dkk"][0] == Decimal("12000.00")


def test_wider_integer_is_wrong_type(tiny_delivery: Path, tmp_path: Path) -> None:
    path = tiny_delivery / "persons.parquet"
    pl.read_parquet(path).with_columns(pl.col("municipality_code").cast(pl.Int64)).write_parquet(
        path
    )
    with pytest.raises(StructuralDefect, match="municipality_code: wrong type: expected int16"):
        load(tiny_delivery, tmp_path / "staging")


def test_duplicate_key_is_structural(delivery_writer: Writer, tmp_path: Path) -> None:
    rows = tiny_rows()
    rows["payments"].append(dict(rows["payments"][0]))
    directory = delivery_writer(rows)
    with pytest.raises(StructuralDefect) as raised:
        load(directory, tmp_path / "staging")
    assert str(raised.value) == (
        "payments.parquet: column payment_id: broken key: 2 rows share a key value with another row"
    )


def test_composite_key_duplicate(delivery_writer: Writer, tmp_path: Path) -> None:
    rows = tiny_rows()
    event = dict(rows["residence_events"][0], event_type="emigrated", address_id=None)
    rows["residence_events"].append(event)
    directory = delivery_writer(rows)
    with pytest.raises(StructuralDefect, match=r"column cpr, event_date: broken key"):
        load(directory, tmp_path / "staging")


def test_null_key_is_structural(delivery_writer: Writer, tmp_path: Path) -> None:
    rows = tiny_rows()
    rows["persons"][0]["cpr"] = None
    with pytest.raises(StructuralDefect, match=r"persons\.parquet: column cpr: broken key: 1 rows"):
        load(delivery_writer(rows), tmp_path / "staging")


def _many_payments(count: int) -> list[dict[str, Any]]:
    return [
        {
            "payment_id": f"Q{index}",
            "cpr": MOTHER,
            "benefit_code": "BOLIGSTOTTE",
            "period_start": date(2025, 1 + index % 12, 1),
            "period_end": date(2025, 1 + index % 12, 28),
            "amount_dkk": Decimal("100.00"),
            "payment_type": "regular",
            "paid_date": date(2025, 1, 1),
        }
        for index in range(count)
    ]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"cpr": "12345"}, "cpr: malformed cpr (expected 10 digits DDMMYYSSSS)"),
        ({"cpr": "3213851234"}, "cpr: malformed cpr (expected 10 digits DDMMYYSSSS)"),
        ({"benefit_code": "SU"}, "benefit_code: unknown benefit_code"),
        (
            {"period_end": date(2025, 2, 3)},
            "period_end: period_end in another month than period_start",
        ),
        (
            {"period_start": date(2025, 1, 20), "period_end": date(2025, 1, 10)},
            "period_end: period_end before period_start",
        ),
        ({"amount_dkk": Decimal("-5.00")}, "amount_dkk: negative regular payment"),
        ({"payment_type": "bonus"}, "payment_type: unknown payment_type"),
        ({"paid_date": None}, "paid_date: missing value"),
    ],
)
def test_payment_row_defects_are_rejected_with_reason(
    delivery_writer: Writer, tmp_path: Path, change: dict[str, Any], reason: str
) -> None:
    rows = tiny_rows()
    rows["payments"] = _many_payments(200)
    bad = dict(
        rows["payments"][0],
        payment_id="BAD",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 1, 31),
    )
    bad.update(change)
    rows["payments"].append(bad)
    directory = delivery_writer(rows)
    loads = load(directory, tmp_path / "staging")
    assert loads["payments"].rows_rejected == 1
    assert loads["payments"].reject_reasons == {reason: 1}
    rejects = pl.read_parquet(catalogue.path(tmp_path / "staging", "rejects", extract="payments"))
    assert rejects["payment_id"].to_list() == ["BAD"]
    assert rejects["reject_reason"].to_list() == [reason]
    clean = pipeline.open_staged(tmp_path / "staging").payments.collect()
    assert "BAD" not in clean["payment_id"].to_list()
    assert clean.height == 200


def test_negative_correction_is_not_a_defect(delivery_writer: Writer, tmp_path: Path) -> None:
    rows = tiny_rows()
    rows["payments"].append(
        dict(
            rows["payments"][0],
            payment_id="C1",
            payment_type="correction",
            amount_dkk=Decimal("-12000.00"),
        )
    )
    assert load(delivery_writer(rows), tmp_path / "staging")["payments"].rows_rejected == 0


def test_a_row_failing_two_checks_lists_both(delivery_writer: Writer, tmp_path: Path) -> None:
    rows = tiny_rows()
    rows["payments"] = _many_payments(300)
    rows["payments"].append(
        dict(rows["payments"][0], payment_id="BAD2", cpr="x", benefit_code="SU")
    )
    load(delivery_writer(rows), tmp_path / "staging")
    rejects = pl.read_parquet(catalogue.path(tmp_path / "staging", "rejects", extract="payments"))
    assert rejects["reject_reason"].to_list() == [
        "cpr: malformed cpr (expected 10 digits DDMMYYSSSS); benefit_code: unknown benefit_code"
    ]


def test_address_event_without_address_is_rejected(delivery_writer: Writer, tmp_path: Path) -> None:
    rows = tiny_rows()
    rows["residence_events"] += [
        {
            "cpr": CHILD,
            "event_date": date(2020, 1, day),
            "event_type": "address",
            "address_id": f"B{day}",
            "country_code": None,
        }
        for day in range(1, 29)
    ] * 1
    rows["residence_events"] += [
        {
            "cpr": f"0101{year:02d}0000",
            "event_date": date(2020, 1, 1),
            "event_type": "address",
            "address_id": "C",
            "country_code": None,
        }
        for year in range(0, 100)
    ] + [
        {
            "cpr": f"0201{year:02d}0000",
            "event_date": date(2020, 1, 1),
            "event_type": "address",
            "address_id": "C",
            "country_code": None,
        }
        for year in range(0, 100)
    ]
    rows["residence_events"].append(
        {
            "cpr": MOTHER,
            "event_date": date(2024, 1, 1),
            "event_type": "immigrated",
            "address_id": None,
            "country_code": "DE",
        }
    )
    rows["residence_events"].append(
        {
            "cpr": MOTHER,
            "event_date": date(2024, 6, 1),
            "event_type": "moved",
            "address_id": "X",
            "country_code": None,
        }
    )
    loads = load(delivery_writer(rows), tmp_path / "staging")
    assert loads["residence_events"].reject_reasons == {
        "address_id: address_id missing (required for address and immigrated events)": 1,
        "event_type: unknown event_type": 1,
    }


def test_reject_rate_over_one_percent_fails_and_keeps_rejects(
    delivery_writer: Writer, tmp_path: Path
) -> None:
    rows = tiny_rows()
    rows["payments"] = _many_payments(98)
    rows["payments"] += [
        dict(rows["payments"][0], payment_id=f"B{i}", benefit_code="SU") for i in range(2)
    ]
    staging = tmp_path / "staging"
    with pytest.raises(RejectRateExceeded) as raised:
        load(delivery_writer(rows), staging)
    assert str(raised.value) == (
        "payments.parquet: column benefit_code: 2 of 100 rows rejected (2%), more than the "
        "allowed 1% (1 rows); most frequent defect: unknown benefit_code (2 rows)"
    )
    assert pl.read_parquet(catalogue.path(staging, "rejects", extract="payments")).height == 2


def test_reject_rate_at_exactly_one_percent_passes(delivery_writer: Writer, tmp_path: Path) -> None:
    rows = tiny_rows()
    rows["payments"] = _many_payments(99)
    rows["payments"].append(dict(rows["payments"][0], payment_id="B0", benefit_code="SU"))
    assert load(delivery_writer(rows), tmp_path / "staging")["payments"].rows_rejected == 1


def test_reject_threshold_is_configurable(delivery_writer: Writer, tmp_path: Path) -> None:
    rows = tiny_rows()
    rows["payments"] = _many_payments(98)
    rows["payments"] += [
        dict(rows["payments"][0], payment_id=f"B{i}", benefit_code="SU") for i in range(2)
    ]
    config = KontrolConfig(loader=LoaderConfig(max_reject_share=Decimal("0.05")))
    loads = load(delivery_writer(rows), tmp_path / "staging", config)
    assert loads["payments"].rows_rejected == 2


def test_relation_never_holding_is_rejected(delivery_writer: Writer, tmp_path: Path) -> None:
    rows = tiny_rows()
    rows["relations"] = rows["relations"] * 60
    rows["relations"] = [dict(r) for r in rows["relations"]]
    rows["relations"].append(
        {
            "cpr": MOTHER,
            "related_cpr": CHILD,
            "relation": "spouse",
            "valid_from": date(2020, 1, 1),
            "valid_to": date(2020, 1, 1),
        }
    )
    loads = load(delivery_writer(rows), tmp_path / "staging")
    assert loads["relations"].reject_reasons == {
        "valid_to: valid_to not after valid_from (the relation would never hold)": 1
    }


def test_reject_reasons_carry_no_values(delivery_writer: Writer, tmp_path: Path) -> None:
    rows = tiny_rows()
    rows["payments"] = _many_payments(300)
    rows["payments"].append(dict(rows["payments"][0], payment_id="BAD", cpr="9999999999x"))
    loads = load(delivery_writer(rows), tmp_path / "staging")
    assert all("9999" not in reason for reason in loads["payments"].reject_reasons)


def test_missing_extracts_directory(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="does not exist"):
        load(tmp_path / "nowhere", tmp_path / "staging")
