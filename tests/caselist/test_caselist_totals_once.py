"""The workbook counts the totals from the evidence it parses anyway: the same totals as
:func:`case_list_totals` (which parses the JSON itself), so the page can show them after."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from kontrol.caselist import case_list_totals, write_xlsx
from kontrol.caselist.account import parse_evidence
from kontrol.caselist.totals import evidence_lines
from kontrol.rules.evidence import Evidence, case_evidence


def _with_shared_lines(queue: pl.DataFrame) -> pl.DataFrame:
    """The fixture queue, with persons of several cases whose lines repeat, and cut lists.

    Case 1's person also has cases 5 and 9, and a copy of case 1 (its lines again,
    last in priority); case 2's evidence lists fewer items than it says it has.
    """
    queue = queue.sort("priority")
    first = queue.row(0, named=True)
    changed = json.loads(first["evidence"])  # one of its lines with another amount: which counts
    _first_line(changed)["amount_dkk"] = "0.01"  # depends on the order the cases are read in
    copy = {
        **first,
        "case_id": "copy-of-1",
        "priority": queue.height + 1,
        "evidence": json.dumps(changed),
    }
    queue = pl.concat([queue, pl.DataFrame([copy], schema=queue.schema)])
    cut = json.loads(queue["evidence"][1])
    cut["items_total"] = len(cut["items"]) + 5
    return queue.with_columns(
        pl.when(pl.col("priority").is_in([5, 9]))
        .then(pl.lit(first["cpr"]))
        .otherwise("cpr")
        .alias("cpr"),
        pl.when(pl.col("priority") == 2)
        .then(pl.lit(json.dumps(cut)))
        .otherwise("evidence")
        .alias("evidence"),
    )


def _first_line(node: Any) -> dict[str, Any]:
    if isinstance(node, dict):
        if "benefit_code" in node and "amount_dkk" in node:
            return node
        node = list(node.values())
    for value in node if isinstance(node, list) else []:
        if isinstance(value, dict | list) and (found := _first_line(value)):
            return found
    return {}


def test_the_workbook_counts_the_same_totals_as_case_list_totals(
    fixture_queue: pl.DataFrame,
) -> None:
    queue = _with_shared_lines(fixture_queue)
    expected = case_list_totals(queue, 3)
    assert expected.persons_with_several == 1 and expected.cases_of_such_persons == 4
    assert expected.truncated_cases == 1
    listed = sum(len(evidence_lines(e)[0]) for e in queue["evidence"])
    assert expected.distinct_lines < listed  # case 1's lines are counted once, not twice
    assert write_xlsx(queue, io.BytesIO(), capacity=3) == expected
    # given totals are shown (and returned) as they are
    assert write_xlsx(queue, io.BytesIO(), totals=expected) is expected
    # a queue out of priority order is read re-sorted: its totals are counted first, in row order
    shuffled = queue.reverse()
    in_row_order = case_list_totals(shuffled, 3)
    assert in_row_order.distinct_paid != expected.distinct_paid  # the order tells
    assert write_xlsx(shuffled, io.BytesIO(), capacity=3) == in_row_order


def test_typed_evidence_gives_the_lines_its_json_gives(fixture_queue: pl.DataFrame) -> None:
    """Every rule's evidence, parsed with its type, lists the same lines under the same keys."""
    rules = set()
    for row in fixture_queue.iter_rows(named=True):
        typed = evidence_lines(parse_evidence(row))
        assert typed == evidence_lines(row["evidence"]), row["case_id"]
        assert all(isinstance(part, str) for key in typed[0] for part in key)
        rules.add(row["rule_id"])
    assert len(rules) >= 7


class _LooseLine(Evidence):
    """A line whose amount is a float and whose dates may be text or missing."""

    benefit_code: str
    period_start: date | None
    period_end: str
    amount_dkk: float


class _Month(Evidence):
    """An item that names a benefit and may carry an amount: a line only if its JSON has both."""

    benefit_code: str
    amount_dkk: Decimal | None = None
    lines_total: int
    lines: list[_LooseLine]


def test_typed_evidence_is_read_as_the_json_it_was_parsed_from() -> None:
    """A field the JSON lacked (a default) is not there; other types are read as in the JSON."""
    lines = [
        {"benefit_code": "A", "period_start": "2026-03-01", "period_end": "x", "amount_dkk": 1.1},
        {"benefit_code": "B", "period_start": None, "period_end": "", "amount_dkk": 2},
    ]
    items: list[dict[str, Any]] = [
        {"benefit_code": "M", "lines_total": 3, "lines": lines},  # no amount: not a line
        {"benefit_code": "N", "amount_dkk": "5.00", "lines_total": 1, "lines": lines[:1]},
    ]
    text = json.dumps(
        {
            "rule_id": "R99",
            "rule_name": "x",
            "summary": "x",
            "anchor_date": "2026-03-01",
            "period_start": "2026-03-01",
            "period_end": "2026-03-31",
            "amount_at_stake_dkk": "8.10",
            "benefit_codes": ["A"],
            "items_total": 2,
            "items_listed": 2,
            "items": items,
        }
    )
    typed = case_evidence(_Month).model_validate_json(text)
    assert typed.items[0].amount_dkk is None  # the default, not in the JSON
    found, complete = evidence_lines(typed)
    assert (found, complete) == evidence_lines(text)
    assert found == {
        ("A", "2026-03-01", "x"): Decimal("1.1"),
        ("B", "", ""): Decimal("2"),
        ("N", "", ""): Decimal("5.00"),
    }
    assert not complete  # three lines said, two listed
    # does it matter? read as the object's fields (the default included), item 0 would be a
    # line of "M" with no amount, and its three lines (one of them cut) not looked at
    assert ("A", "2026-03-01", "x") in found
