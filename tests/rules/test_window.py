"""The window and the net lines (CONTRACT.md section 3; readings 5 and 6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from kontrol.window import NET_LINE_SCHEMA, net_lines, window_for

AS_OF = "2026-06-15"


@pytest.mark.parametrize(
    ("as_of", "months", "start"),
    [
        (date(2026, 6, 15), 12, date(2025, 7, 1)),
        (date(2026, 6, 15), 1, date(2026, 6, 1)),
        (date(2026, 1, 31), 3, date(2025, 11, 1)),
        (date(2026, 12, 1), 24, date(2025, 1, 1)),
    ],
)
def test_window_is_calendar_months_ending_with_as_of_month(
    as_of: date, months: int, start: date
) -> None:
    window = window_for(as_of, months)
    assert (window.start, window.end, window.months) == (start, as_of, months)
    assert len(window.month_starts()) == months
    assert window.month_starts()[-1] == as_of.replace(day=1)


def test_window_needs_at_least_one_month() -> None:
    with pytest.raises(ValueError):
        window_for(date(2026, 6, 15), 0)


def _lines(d, as_of: str = AS_OF, months: int = 12) -> pl.DataFrame:
    return net_lines(d.extracts().payments, window_for(date.fromisoformat(as_of), months)).collect(
        engine="streaming"
    )


def test_net_line_schema(d) -> None:
    p = d.person()
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="100.00")
    lines = _lines(d)
    assert lines.schema == NET_LINE_SCHEMA
    assert lines.row(0) == (
        p,
        "KONTANTHJAELP",
        date(2026, 3, 1),
        date(2026, 3, 31),
        Decimal("100.00"),
        31,
    )


def test_window_edges(d) -> None:
    p = d.person()
    d.payment(p, "KONTANTHJAELP", "2025-07-01")  # on window start: in
    d.payment(p, "KONTANTHJAELP", "2025-06-30", "2025-06-30")  # the day before: out
    d.payment(p, "BOLIGSTOTTE", "2026-06-15", "2026-06-30")  # s on as_of: in
    d.payment(p, "DAGPENGE", "2026-06-16", "2026-06-30")  # s after as_of: out
    starts = sorted(_lines(d)["period_start"].to_list())
    assert starts == [date(2025, 7, 1), date(2026, 6, 15)]


def test_full_reversal_drops_the_line_and_partial_correction_nets(d) -> None:
    p = d.person()
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="1000.00")
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="-1000.00", payment_type="correction")
    d.payment(p, "KONTANTHJAELP", "2026-04-01", amount="1000.00")
    d.payment(p, "KONTANTHJAELP", "2026-04-01", amount="-250.50", payment_type="correction")
    # A correction paid after as_of still corrects its period (reading 6).
    d.payment(
        p,
        "KONTANTHJAELP",
        "2026-05-01",
        amount="-0.01",
        payment_type="correction",
        paid="2026-09-01",
    )
    d.payment(p, "KONTANTHJAELP", "2026-05-01", amount="500.00")
    got = {r["period_start"]: r["amount_dkk"] for r in _lines(d).to_dicts()}
    assert got == {date(2026, 4, 1): Decimal("749.50"), date(2026, 5, 1): Decimal("499.99")}


def test_fully_reversed_line_is_never_flagged(d) -> None:
    p = d.person()
    d.emigrates(p, "2026-01-10")
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="1000.00")
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="-1000.00", payment_type="correction")
    d.payment(p, "KONTANTHJAELP", "2026-04-01", amount="1000.00")
    d.payment(p, "KONTANTHJAELP", "2026-04-01", amount="-400.00", payment_type="correction")
    case = d.case(AS_OF, "R02")
    assert case["period_start"] == date(2026, 4, 1)
    assert case["amount_at_stake_dkk"] == Decimal("600.00")


def test_window_edges_reach_the_rules(d) -> None:
    p = d.person()
    d.emigrates(p, "2020-01-01")
    d.payment(p, "KONTANTHJAELP", "2025-06-01", amount="1.00")  # before window
    d.payment(p, "KONTANTHJAELP", "2025-07-01", amount="2.00")  # window start
    d.payment(p, "KONTANTHJAELP", "2026-06-15", "2026-06-30", amount="4.00")  # on as_of
    d.payment(p, "BOLIGSTOTTE", "2026-06-16", "2026-06-30", amount="8.00")  # after as_of
    case = d.case(AS_OF, "R02")
    assert case["amount_at_stake_dkk"] == Decimal("6.00")
    assert (case["period_start"], case["period_end"]) == (date(2025, 7, 1), date(2026, 6, 30))


def test_window_months_come_from_config(d) -> None:
    p = d.person()
    d.emigrates(p, "2020-01-01")
    d.payment(p, "KONTANTHJAELP", "2026-03-31", "2026-03-31", amount="1.00")
    d.payment(p, "KONTANTHJAELP", "2026-04-01", amount="2.00")
    case = d.case(AS_OF, "R02", window_months=3)
    assert case["amount_at_stake_dkk"] == Decimal("2.00")


@pytest.mark.parametrize("parts", [1, 2, 5, 12, 40])
def test_net_lines_in_parts_are_the_net_lines(d, parts: int, tmp_path) -> None:
    """Month by month (the rule stage at volume) gives exactly the lines, in another order."""
    from kontrol import io
    from kontrol.window import net_lines_in_parts

    for k, month in enumerate(range(1, 13)):
        p = d.person()
        start = f"2025-{month:02d}-01" if month >= 7 else f"2026-{month:02d}-01"
        d.payment(p, "KONTANTHJAELP", start, amount=f"{100 + k}.00")
        d.payment(p, "KONTANTHJAELP", start, amount="-100.00", payment_type="correction")
        d.payment(p, "BOLIGSTOTTE", start, amount="7.50")
    d.payment(d.person(), "DAGPENGE", "2025-06-01", amount="5.00")  # before the window
    window = window_for(date.fromisoformat(AS_OF), 12)
    payments = d.extracts().payments
    pieces = net_lines_in_parts(payments, window, parts)
    assert len(pieces) == min(parts, 12)
    io.write_parquet_parts(pieces, tmp_path / "lines.parquet")
    staged = pl.read_parquet(tmp_path / "lines.parquet")
    key = ["cpr", "benefit_code", "period_start", "period_end"]
    assert staged.schema == NET_LINE_SCHEMA
    assert staged.sort(key).equals(_lines(d).sort(key))
    assert staged.height == 23  # 12 months x 2 codes, the first month's 100.00 fully reversed
