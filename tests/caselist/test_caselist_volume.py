"""The case list at volume: worklist, accounts cap, compact table, persons, money counted once."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from kontrol.caselist import case_list_totals, page, render_html
from kontrol.caselist.totals import evidence_lines
from kontrol.config import KontrolConfig
from kontrol.queue import QUEUE_SCHEMA


def _case(priority: int, cpr: str, rule: str, amount: str, items: list[Any], **ev: Any) -> dict:  # type: ignore[type-arg]
    evidence = {"rule_id": rule, "items_total": len(items), "items": items, **ev}
    return {
        "case_id": f"c{priority}",
        "rule_id": rule,
        "cpr": cpr,
        "amount_at_stake_dkk": Decimal(amount),
        "benefit_codes": ["BOLIGSTOTTE"],
        "evidence": json.dumps(evidence),
        "legal_basis": "§",
        "priority": priority,
        "run_id": "2026-10-31-x",
    }


def _line(code: str, month: int, amount: str) -> dict[str, str]:
    return {
        "benefit_code": code,
        "period_start": f"2026-{month:02d}-01",
        "period_end": f"2026-{month:02d}-28",
        "amount_dkk": amount,
    }


A, B, C = _line("BOLIGSTOTTE", 3, "100.10"), _line("BOLIGSTOTTE", 4, "200.20"), _line("X", 4, "50")


@pytest.fixture
def overlapping() -> pl.DataFrame:
    """Person P has three cases whose lines overlap; person Q one R04 and one R06-like case."""
    rows = [
        _case(1, "0101010001", "R02", "300.30", [A, B]),
        _case(
            2,
            "0202020002",
            "R04",
            "40.00",
            [{"month": "2026-03", "amount_dkk": "40.00", "lines_total": 2, "lines": [A, C]}],
        ),
        _case(3, "0101010001", "R07", "250.20", [B, C]),
        _case(4, "0101010001", "R03", "100.10", [A]),
        _case(
            5,
            "0202020002",
            "R06",
            "12.00",
            [
                {"line_1": A, "line_2": C, "amount_dkk": "12.00"},
                {"line_1": A, "line_2": B, "amount_dkk": "10.00"},
            ],
        ),
    ]
    return pl.DataFrame(rows, schema=QUEUE_SCHEMA)


def test_money_is_counted_once_per_distinct_line(overlapping: pl.DataFrame) -> None:
    t = case_list_totals(overlapping, capacity=2)
    assert t.amount_at_stake == Decimal("702.60")  # the plain sum over cases
    # P: A, B, C once = 350.30; Q: A, C (R04) and A, B, C (R06) = 350.30
    assert t.distinct_paid == Decimal("700.60") and t.distinct_lines == 6
    assert t.exact and t.truncated_cases == 0
    assert (t.persons, t.persons_with_several, t.cases_of_such_persons) == (2, 2, 5)
    assert (t.worklist_cases, t.worklist_amount) == (2, Decimal("340.30"))


def test_shortened_evidence_makes_the_total_a_lower_bound() -> None:
    lines, complete = evidence_lines(json.dumps({"items_total": 30, "items": [A, B]}))
    assert not complete and sum(lines.values()) == Decimal("300.30")
    nested = {"items_total": 1, "items": [{"lines_total": 3, "lines": [A], "amount_dkk": "1"}]}
    assert evidence_lines(json.dumps(nested))[1] is False
    # a shortened list of something else than lines (co-residents) does not matter
    other = {"items_total": 1, "items": [{**A, "co_residents_total": 9, "co_residents": []}]}
    assert evidence_lines(json.dumps(other)) == (
        {("BOLIGSTOTTE", "2026-03-01", "2026-03-28"): Decimal("100.10")},
        True,
    )


def test_page_shows_persons_together_and_both_totals(fixture_queue: pl.DataFrame) -> None:
    queue = fixture_queue.sort("priority")
    first = queue["cpr"][0]
    queue = queue.with_columns(  # the person of case 1 also has cases 5 and 9
        pl.when(pl.col("priority").is_in([5, 9])).then(pl.lit(first)).otherwise("cpr").alias("cpr")
    )
    html = render_html(queue, {}, capacity=2)
    order = re.findall(r'<tbody class="case[^"]*" data-order="\d+" data-priority="(\d+)"', html)
    assert order[:5] == ["1", "5", "9", "2", "3"]  # the person's cases follow its first case
    assert html.count("samme person: 3 sager") == 2 * 3  # list row and account, per case
    assert "(prioritet 1, 5, 9)" in html
    totals = case_list_totals(queue, 2)
    assert totals.persons == queue.height - 2 and totals.persons_with_several == 1
    assert _dkk(totals.amount_at_stake) in html and _dkk(totals.distinct_paid) in html
    assert "Udbetalt på de markerede linjer, hver linje én gang" in html
    assert html.count('data-work="1"') == 2
    assert "Månedens arbejdsliste" in html


def test_accounts_cap_compact_table_and_the_rest_are_all_accounted_for(
    grown: Callable[..., pl.DataFrame],
) -> None:
    queue = grown(60)
    html = render_html(queue, {}, capacity=15, max_accounts=10, max_compact_rows=20)
    assert html.count('<tbody class="case') == 10
    compact = re.findall(r'<li data-rule="R\d+" data-status="ny" data-amount="\d+"', html)
    assert len(compact) == 20
    assert "30 sager vises ikke på denne side" in html
    assert "cases.xlsx" in html and "cases.parquet" in html
    assert html.count('data-work="1"') == 15
    rest = page.display_order(queue).slice(30)  # the last 30 in display order
    assert f"i alt {_dkk(rest['amount_at_stake_dkk'].sum())} på spil" in html


def test_the_page_budget_moves_cases_on_and_says_so(
    grown: Callable[..., pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = grown(40)
    monkeypatch.setattr(page, "ACCOUNTS_BUDGET_BYTES", 20_000)
    monkeypatch.setattr(page, "PAGE_BUDGET_BYTES", 24_000)
    html = render_html(queue, {}, max_accounts=1000)
    full = html.count('<tbody class="case')
    compact = len(re.findall(r'<li data-rule="R\d+"', html))
    assert 0 < full < 40 and compact > 0
    rest = 40 - full - compact
    assert rest > 0 and f"{rest} sager vises ikke på denne side" in html


def test_presentation_settings_do_not_change_the_run_id() -> None:
    base = KontrolConfig()
    other = KontrolConfig.model_validate(
        {"queue": {"capacity": 5}, "caselist": {"max_accounts": 10}}
    )
    assert other.canonical_json() == base.canonical_json()
    assert other.model_dump(mode="json")["queue"] == {"capacity": 5}
    with pytest.raises(ValueError):
        KontrolConfig.model_validate({"queue": {"capacity": -1}})


def _dkk(value: Any) -> str:
    from kontrol.danish import fmt_dkk

    return fmt_dkk(Decimal(str(value)))
