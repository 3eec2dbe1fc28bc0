"""Builders for tiny deliveries written with the declared types (shared by tests)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from kontrol.config import KontrolConfig
from kontrol.schema import extract_specs

SPECS = extract_specs(KontrolConfig().benefit_codes)

MOTHER = "0203851234"
FATHER = "1104831235"
CHILD = "0506151236"


def tiny_rows() -> dict[str, list[dict[str, Any]]]:
    """A family of three; the father emigrates, the mother draws kontanthjælp."""
    return {
        "persons": [
            {
                "cpr": MOTHER,
                "birth_date": date(1985, 3, 2),
                "sex": "K",
                "citizenship": "DK",
                "municipality_code": 461,
            },
            {
                "cpr": FATHER,
                "birth_date": date(1983, 4, 11),
                "sex": "M",
                "citizenship": "DK",
                "municipality_code": 461,
            },
            {
                "cpr": CHILD,
                "birth_date": date(2015, 6, 5),
                "sex": "K",
                "citizenship": "DK",
                "municipality_code": 461,
            },
        ],
        "residence_events": [
            {
                "cpr": MOTHER,
                "event_date": date(2015, 1, 1),
                "event_type": "address",
                "address_id": "A1",
                "country_code": None,
            },
            {
                "cpr": FATHER,
                "event_date": date(2015, 1, 1),
                "event_type": "address",
                "address_id": "A1",
                "country_code": None,
            },
            {
                "cpr": FATHER,
                "event_date": date(2026, 2, 20),
                "event_type": "emigrated",
                "address_id": None,
                "country_code": "SE",
            },
            {
                "cpr": CHILD,
                "event_date": date(2015, 6, 5),
                "event_type": "address",
                "address_id": "A1",
                "country_code": None,
            },
        ],
        "relations": [
            {
                "cpr": MOTHER,
                "related_cpr": CHILD,
                "relation": "child",
                "valid_from": date(2015, 6, 5),
                "valid_to": None,
            },
            {
                "cpr": FATHER,
                "related_cpr": CHILD,
                "relation": "child",
                "valid_from": date(2015, 6, 5),
                "valid_to": None,
            },
        ],
        "payments": [
            {
                "payment_id": f"P{month}",
                "cpr": MOTHER,
                "benefit_code": "KONTANTHJAELP",
                "period_start": date(2026, month, 1),
                "period_end": date(2026, month + 1, 1) - (date(2026, 2, 2) - date(2026, 2, 1)),
                "amount_dkk": Decimal("12000.00"),
                "payment_type": "regular",
                "paid_date": date(2026, month, 1),
            }
            for month in range(1, 10)
        ],
        "income": [
            {
                "cpr": FATHER,
                "employer_cvr": "12345678",
                "month": date(2026, 1, 1),
                "gross_income_dkk": Decimal("31000.00"),
            },
        ],
    }


def write_delivery(directory: Path, rows: dict[str, list[dict[str, Any]]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, spec in SPECS.items():
        pl.DataFrame(rows[name], schema=spec.schema, orient="row").write_parquet(
            directory / spec.file_name
        )
    return directory
