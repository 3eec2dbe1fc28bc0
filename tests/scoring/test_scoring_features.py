"""Each declared feature's value on tiny inline registers, and the declaration's hygiene."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from kontrol.extracts import Extracts
from kontrol.scoring import FEATURES, PROTECTED_COLUMNS, SOURCE_COLUMNS, person_features
from kontrol.window import window_for

AS_OF = date(2026, 10, 31)  # window 2025-11-01 .. 2026-10-31, second half from 2026-05-01
A, B, C, F = "0101900001", "0202900002", "0303900003", "0404900004"
MONEY = pl.Decimal(12, 2)


def _pay(
    cpr: str, code: str, start: date, end: date, amount: str, kind: str = "regular"
) -> dict[str, Any]:
    return {
        "payment_id": f"{cpr}{code}{start}{kind}{amount}",
        "cpr": cpr,
        "benefit_code": code,
        "period_start": start,
        "period_end": end,
        "amount_dkk": Decimal(amount),
        "payment_type": kind,
        "paid_date": end,
    }


def _ev(
    cpr: str, day: date, kind: str, addr: str | None, country: str | None = None
) -> dict[str, Any]:
    return {
        "cpr": cpr,
        "event_date": day,
        "event_type": kind,
        "address_id": addr,
        "country_code": country,
    }


def tiny() -> Extracts:
    payments = [
        _pay(A, "KONTANTHJAELP", date(2025, 10, 1), date(2025, 10, 31), "10000.00"),  # before
        _pay(A, "KONTANTHJAELP", date(2025, 11, 1), date(2025, 11, 30), "10000.00"),
        _pay(A, "KONTANTHJAELP", date(2025, 12, 1), date(2025, 12, 31), "10000.00"),
        _pay(A, "KONTANTHJAELP", date(2026, 6, 1), date(2026, 6, 30), "10000.00"),
        _pay(A, "KONTANTHJAELP", date(2026, 7, 1), date(2026, 7, 31), "10000.00"),
        _pay(A, "KONTANTHJAELP", date(2026, 7, 1), date(2026, 7, 31), "-2000.00", "correction"),
        _pay(A, "BOLIGSTOTTE", date(2026, 8, 1), date(2026, 8, 31), "3000.00"),
        _pay(B, "FOLKEPENSION", date(2026, 9, 1), date(2026, 9, 30), "10000.00"),
        _pay(B, "FOLKEPENSION", date(2026, 9, 1), date(2026, 9, 30), "-10000.00", "correction"),
        _pay(B, "FOLKEPENSION", date(2026, 10, 1), date(2026, 10, 31), "5000.00"),
        _pay(F, "BOLIGSTOTTE", date(2026, 1, 1), date(2026, 1, 31), "1000.00"),
    ]
    events = [
        _ev(A, date(2020, 1, 1), "address", "A1"),
        _ev(A, date(2026, 3, 1), "address", "A2"),
        _ev(A, date(2026, 9, 1), "address", "A3"),
        _ev(B, date(2026, 5, 1), "address", "A3"),
        _ev(C, date(2015, 1, 1), "address", "A3"),
        _ev(C, date(2026, 11, 5), "address", "A7"),  # after as_of: ignored
        _ev(F, date(2019, 1, 1), "address", "A9"),
        _ev(F, date(2026, 2, 1), "emigrated", None, "SE"),
    ]
    relations = [
        {
            "cpr": A,
            "related_cpr": C,
            "relation": "spouse",
            "valid_from": date(2026, 2, 1),
            "valid_to": None,
        },
        {
            "cpr": A,
            "related_cpr": "0505100005",
            "relation": "child",
            "valid_from": date(2010, 5, 5),
            "valid_to": None,
        },
        {
            "cpr": A,
            "related_cpr": B,
            "relation": "spouse",
            "valid_from": date(2019, 1, 1),
            "valid_to": date(2026, 1, 1),
        },
    ]
    income = [
        {
            "cpr": A,
            "employer_cvr": "11111111",
            "month": date(2025, 12, 1),
            "gross_income_dkk": Decimal("5000.00"),
        },
        {
            "cpr": A,
            "employer_cvr": "11111111",
            "month": date(2026, 6, 1),
            "gross_income_dkk": Decimal("100.00"),
        },
        {
            "cpr": A,
            "employer_cvr": "22222222",
            "month": date(2026, 6, 1),
            "gross_income_dkk": Decimal("900.00"),
        },
        {
            "cpr": A,
            "employer_cvr": "22222222",
            "month": date(2026, 7, 1),
            "gross_income_dkk": Decimal("0.00"),
        },
        {
            "cpr": A,
            "employer_cvr": "22222222",
            "month": date(2026, 9, 1),
            "gross_income_dkk": Decimal("900.00"),
        },
    ]
    persons = [
        {
            "cpr": p,
            "birth_date": date(1990, 1, 1),
            "sex": "K",
            "citizenship": "DK",
            "municipality_code": 461,
        }
        for p in (A, B, C, F)
    ]
    return Extracts(
        persons=pl.LazyFrame(persons, schema_overrides={"municipality_code": pl.Int16}),
        residence_events=pl.LazyFrame(
            events, schema_overrides={"address_id": pl.String, "country_code": pl.String}
        ),
        relations=pl.LazyFrame(relations, schema_overrides={"valid_to": pl.Date}),
        payments=pl.LazyFrame(payments, schema_overrides={"amount_dkk": MONEY}),
        income=pl.LazyFrame(income, schema_overrides={"gross_income_dkk": MONEY}),
    )


@pytest.fixture(scope="module")
def values() -> dict[str, dict[str, float]]:
    frame = person_features(tiny(), AS_OF, 12).collect()
    return {row["cpr"]: row for row in frame.iter_rows(named=True)}


def test_only_recipients_are_rows(values: dict[str, dict[str, float]]) -> None:
    assert sorted(values) == [A, B, F]  # C has no payment; nobody else appears


@pytest.mark.parametrize(
    ("cpr", "feature", "expected"),
    [
        (A, "distinct_benefits", 2),
        (A, "total_amount_dkk", 41000.0),  # 10000 + 10000 + 10000 + 8000 + 3000
        (A, "amount_change", round(1000 / 41000, 6)),  # (21000 - 20000) / 41000
        (A, "months_paid", 5),
        (A, "corrections", 1),
        (A, "correction_share", round(1 / 6, 6)),
        (A, "address_moves", 2),  # A2, A3 in the window; A1 before it
        (A, "residence_status_changes", 0),
        (A, "residents_at_address", 3),  # A, B and C live at A3 on as_of
        (A, "household_changes", 2),  # a spouse relation started, another ended
        (A, "income_months_on_benefit", 2),  # 2025-12 and 2026-06; 2026-07 is 0, 2026-09 unpaid
        (B, "distinct_benefits", 1),
        (B, "total_amount_dkk", 5000.0),  # the reversed September line is not a line
        (B, "amount_change", 1.0),
        (B, "corrections", 1),
        (B, "correction_share", round(1 / 3, 6)),
        (B, "address_moves", 1),
        (B, "household_changes", 0),
        (F, "residence_status_changes", 1),
        (F, "residents_at_address", 0),  # abroad on as_of: at no Danish address
        (F, "amount_change", -1.0),
    ],
)
def test_feature_value(
    values: dict[str, dict[str, float]], cpr: str, feature: str, expected: float
) -> None:
    assert values[cpr][feature] == pytest.approx(expected)


def test_every_feature_is_tested() -> None:
    tested = {
        "distinct_benefits", "total_amount_dkk", "amount_change", "months_paid", "corrections",
        "correction_share", "address_moves", "residence_status_changes", "residents_at_address",
        "household_changes", "income_months_on_benefit",
    }  # fmt: skip
    assert {f.name for f in FEATURES} == tested


def test_declarations_never_reference_protected_columns() -> None:
    window = window_for(AS_OF, 12)
    for feature in FEATURES:
        roots = set(feature.expr(window).meta.root_names())
        assert not roots & PROTECTED_COLUMNS, feature.name
        assert feature.reason and feature.template
        assert feature.source in SOURCE_COLUMNS
    for name, (extract, columns) in SOURCE_COLUMNS.items():
        assert extract != "persons", name
        assert not set(columns) & PROTECTED_COLUMNS, name


def test_features_survive_without_protected_columns() -> None:
    """Dropping every protected column from the input changes nothing: none is read."""
    ex = tiny()
    stripped = Extracts(
        persons=ex.persons.select("cpr"),
        residence_events=ex.residence_events.drop("country_code"),
        relations=ex.relations,
        payments=ex.payments,
        income=ex.income,
    )
    assert (
        person_features(stripped, AS_OF, 12)
        .collect()
        .equals(person_features(ex, AS_OF, 12).collect())
    )


def test_the_rule_stages_net_lines_give_the_same_features() -> None:
    """The scorer may reuse the staged net lines (pipeline.score does): same frame, exactly."""
    from kontrol.window import net_lines

    ex = tiny()
    staged = net_lines(ex.payments, window_for(AS_OF, 12))  # all its columns, as staged
    assert (
        person_features(ex, AS_OF, 12, lines=staged)
        .collect()
        .equals(person_features(ex, AS_OF, 12).collect())
    )


def test_the_rule_stages_timeline_gives_the_same_features() -> None:
    """The scorer may reuse the staged timeline for the address facts: same frame, exactly."""
    from kontrol.timeline import person_states
    from kontrol.window import net_lines

    ex = tiny()
    staged = net_lines(ex.payments, window_for(AS_OF, 12))
    timeline = person_states(ex.residence_events, AS_OF)  # all its columns, as staged
    assert (
        person_features(ex, AS_OF, 12, lines=staged, timeline=timeline)
        .collect()
        .equals(person_features(ex, AS_OF, 12).collect())
    )


@pytest.mark.parametrize("months", [1, 12, 64, 65, 120])
def test_month_counts_are_exact_for_every_window_length(months: int) -> None:
    """The months are counted as bits, one 64-bit word per 64 window months."""
    frame = person_features(tiny(), AS_OF, months).collect()
    window = window_for(AS_OF, months)
    lines = (
        tiny()
        .payments.filter(window.contains("period_start"))
        .group_by("cpr", "benefit_code", "period_start", "period_end")
        .agg(pl.col("amount_dkk").sum())
        .filter(pl.col("amount_dkk") > 0)
        .collect()
    )
    expected = dict(
        lines.group_by("cpr").agg(pl.col("period_start").dt.month_start().n_unique()).iter_rows()
    )
    assert dict(frame.select("cpr", "months_paid").iter_rows()) == {
        cpr: float(n) for cpr, n in expected.items()
    }
