"""The person-state timeline: state on day t and where a person lives."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from builders import SPECS
from hypothesis import given, settings
from hypothesis import strategies as st

from kontrol.timeline import person_states, residence_spells, state_on

AS_OF = date(2026, 10, 31)


def events(*rows: tuple[str, date, str, str | None, str | None]) -> pl.LazyFrame:
    return pl.LazyFrame(rows, schema=SPECS["residence_events"].schema, orient="row")


def states(frame: pl.LazyFrame, cpr: str, *days: date, as_of: date = AS_OF) -> list[str]:
    points = pl.LazyFrame({"cpr": [cpr] * len(days), "day": list(days)})
    result = state_on(points, person_states(frame, as_of), "day").collect()
    assert result["day"].to_list() == list(days), "points keep their order"
    return result["state"].to_list()


EMIGRANT = events(
    ("0101801234", date(2020, 3, 1), "address", "A", None),
    ("0101801234", date(2026, 2, 20), "emigrated", None, "SE"),
    ("0101801234", date(2026, 8, 1), "immigrated", "B", "SE"),
)


def test_state_changes_on_the_event_day_itself() -> None:
    assert states(EMIGRANT, "0101801234", date(2026, 2, 19), date(2026, 2, 20)) == [
        "resident",
        "abroad",
    ]


def test_return_after_emigration_is_resident_again_from_the_return_day() -> None:
    assert states(EMIGRANT, "0101801234", date(2026, 7, 31), date(2026, 8, 1)) == [
        "abroad",
        "resident",
    ]


def test_before_the_first_event_the_state_is_unknown() -> None:
    assert states(EMIGRANT, "0101801234", date(2020, 2, 29), date(2020, 3, 1)) == [
        "unknown",
        "resident",
    ]


def test_person_without_events_is_unknown() -> None:
    assert states(EMIGRANT, "0202021234", date(2026, 5, 1)) == ["unknown"]


def test_events_after_as_of_do_not_count() -> None:
    frame = events(
        ("0101801234", date(2020, 3, 1), "address", "A", None),
        ("0101801234", date(2026, 11, 1), "died", None, None),
    )
    assert states(frame, "0101801234", date(2026, 11, 15)) == ["resident"]
    assert states(frame, "0101801234", date(2026, 11, 15), as_of=date(2026, 11, 1)) == ["dead"]


def test_event_on_as_of_counts() -> None:
    frame = events(
        ("0101801234", date(2020, 3, 1), "address", "A", None),
        ("0101801234", AS_OF, "disappeared", None, None),
    )
    assert states(frame, "0101801234", AS_OF) == ["disappeared"]


def test_the_last_state_holds_open_ended() -> None:
    frame = events(("0101801234", date(2026, 1, 1), "died", None, None))
    assert states(frame, "0101801234", date(2026, 1, 1), date(2030, 1, 1)) == ["dead", "dead"]


def test_event_details_are_attached() -> None:
    points = pl.LazyFrame({"cpr": ["0101801234"], "day": [date(2026, 3, 1)]})
    row = state_on(points, person_states(EMIGRANT, AS_OF), "day").collect().row(0, named=True)
    assert row["valid_from"] == date(2026, 2, 20)
    assert row["event_type"] == "emigrated"
    assert row["country_code"] == "SE"
    assert row["address_id"] is None


def test_keep_unknown_false_drops_points_without_state() -> None:
    points = pl.LazyFrame(
        {"cpr": ["0101801234", "0202021234"], "day": [date(2026, 3, 1), date(2026, 3, 1)]}
    )
    result = state_on(points, person_states(EMIGRANT, AS_OF), "day", keep_unknown=False)
    assert result.collect()["cpr"].to_list() == ["0101801234"]


def test_lives_at_until_the_day_before_the_next_event() -> None:
    frame = events(
        ("0101801234", date(2020, 3, 1), "address", "A", None),
        ("0101801234", date(2022, 6, 15), "address", "B", None),
    )
    spells = residence_spells(person_states(frame, AS_OF)).collect()
    assert spells.rows() == [
        ("0101801234", "A", date(2020, 3, 1), date(2022, 6, 15)),
        ("0101801234", "B", date(2022, 6, 15), None),
    ]


def test_abroad_has_no_address() -> None:
    spells = residence_spells(person_states(EMIGRANT, AS_OF)).collect()
    assert spells["address_id"].to_list() == ["A", "B"]


EVENT_TYPES = ["address", "emigrated", "immigrated", "disappeared", "died"]
EXPECTED_STATE = {
    "address": "resident",
    "immigrated": "resident",
    "emigrated": "abroad",
    "disappeared": "disappeared",
    "died": "dead",
}


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    offsets=st.lists(st.integers(0, 60), min_size=0, max_size=6, unique=True),
    kinds=st.lists(st.sampled_from(EVENT_TYPES), min_size=6, max_size=6),
    probes=st.lists(st.integers(-5, 70), min_size=1, max_size=8),
)
def test_state_matches_the_contract_definition(
    offsets: list[int], kinds: list[str], probes: list[int]
) -> None:
    """State on t = the type of the last event with event_date <= t (and <= as_of)."""
    start = date(2026, 9, 1)
    as_of = start + timedelta(days=50)
    rows = [
        (
            "0101801234",
            start + timedelta(days=offset),
            kind,
            "A" if kind in ("address", "immigrated") else None,
            None,
        )
        for offset, kind in zip(sorted(offsets), kinds, strict=False)
    ]
    days = [start + timedelta(days=probe) for probe in probes]
    expected = []
    for day in days:
        counted = [row for row in rows if row[1] <= day and row[1] <= as_of]
        expected.append(EXPECTED_STATE[counted[-1][2]] if counted else "unknown")
    assert states(events(*rows), "0101801234", *days, as_of=as_of) == expected


@pytest.mark.parametrize("day", [date(2026, 1, 1), date(2026, 12, 31)])
def test_events_on_the_first_and_last_day_of_a_year(day: date) -> None:
    frame = events(("0101801234", day, "emigrated", None, "NO"))
    assert states(frame, "0101801234", day - timedelta(days=1), day, as_of=date(2027, 1, 1)) == [
        "unknown",
        "abroad",
    ]
