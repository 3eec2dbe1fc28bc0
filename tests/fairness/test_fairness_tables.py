"""Fairness tables on tiny inline frames: rates, intervals, flags, suppression, age bands."""

from __future__ import annotations

import json
import math
import re
from datetime import date

import numpy as np
import polars as pl
import pytest
from scipy.stats import binomtest

from kontrol.fairness import (
    AGE_BANDS,
    FLAG_HIGH,
    FLAG_LOW,
    age_band,
    fairness_report,
    is_flagged,
    rate_ci,
    ratio_ci,
    render_fairness_html,
)

AS_OF = date(2026, 10, 31)


def _cprs(n: int, start: int = 0) -> list[str]:
    return [f"{i:010d}" for i in range(start, start + n)]


def _population(
    k: int, m: int, *, citizenship: str = "DK", birth: date = date(1980, 5, 5)
) -> pl.LazyFrame:
    cprs = _cprs(k + m)
    return pl.LazyFrame(
        {
            "cpr": cprs,
            "sex": ["K"] * k + ["M"] * m,
            "citizenship": [citizenship] * (k + m),
            "birth_date": [birth] * (k + m),
        }
    )


def _queue(rows: list[tuple[str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "cpr": [c for c, _ in rows],
            "rule_id": [r for _, r in rows],
            "priority": list(range(1, len(rows) + 1)),
        }
    )


@pytest.fixture
def two_rules() -> dict:  # type: ignore[type-arg]
    """100 recipients, 40 K and 60 M; rule A selects 20 K and 15 M, rule B 10 M and no K."""
    persons = _population(40, 60)
    cprs = _cprs(100)
    rows = [(c, "A") for c in cprs[:20] + cprs[40:55]] + [(c, "B") for c in cprs[55:65]]
    rules = {"A": {"name": "rule a", "reads": ["payments"]}, "B": {}, "C": {}}
    return fairness_report(
        _queue(rows), pl.DataFrame({"cpr": cprs}), persons, as_of=AS_OF, rules=rules
    )


def _by_group(rows: list[dict]) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r["group"]: r for r in rows}


def test_rates_shares_and_ratios_overall_and_per_rule(two_rules: dict) -> None:  # type: ignore[type-arg]
    report = two_rules
    overall = _by_group(report["attributes"]["sex"])
    # overall: K 20/40 selected, M 25/60 (15 by A, 10 by B); 45/100
    assert report["selected"] == 45 and report["recipients"] == 100
    assert overall["K"]["selection_rate"] == 0.5 and overall["M"]["selection_rate"] == 0.4167
    assert overall["K"]["share_of_recipients"] == 0.4
    assert overall["K"]["rate_ratio"] == round(0.5 / 0.45, 3)
    rule_a = _by_group(report["rules"]["A"]["attributes"]["sex"])
    assert report["rules"]["A"]["selected"] == 35
    assert rule_a["K"]["selected"] == 20 and rule_a["K"]["selection_rate"] == 0.5
    assert rule_a["M"]["selection_rate"] == 0.25
    assert rule_a["K"]["rate_ratio"] == round(0.5 / 0.35, 3)
    assert rule_a["M"]["rate_ratio"] == round(0.25 / 0.35, 3)
    rule_b = _by_group(report["rules"]["B"]["attributes"]["sex"])
    assert rule_b["K"]["selected"] == 0 and rule_b["K"]["selection_rate"] == 0.0
    assert rule_b["K"]["rate_ratio"] == 0.0
    # C is evaluated but found nothing: its table is there, with zeros, and no ratio
    rule_c = _by_group(report["rules"]["C"]["attributes"]["sex"])
    assert rule_c["K"]["selected"] == 0 and rule_c["K"]["rate_ratio"] is None
    assert list(report["rules"]) == ["A", "B", "C"]
    assert report["rules"]["A"]["reads"] == ["payments"]
    json.dumps(report)


def test_rate_interval_is_the_exact_binomial_interval(two_rules: dict) -> None:  # type: ignore[type-arg]
    for x, n in ((20, 40), (0, 60), (60, 60), (15, 60), (1, 1000)):
        ci = binomtest(x, n).proportion_ci(confidence_level=0.95, method="exact")
        assert rate_ci(x, n) == pytest.approx((ci.low, ci.high), abs=1e-12)
    # known values of the Clopper-Pearson interval
    low, high = rate_ci(0, 60)  # type: ignore[misc]
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 60), rel=1e-9)
    assert rate_ci(20, 40) == pytest.approx((0.338, 0.662), abs=5e-4)
    rule_a = _by_group(two_rules["rules"]["A"]["attributes"]["sex"])
    ci = binomtest(15, 60).proportion_ci(confidence_level=0.95, method="exact")
    assert rule_a["M"]["rate_ci"] == [round(ci.low, 4), round(ci.high, 4)]


def test_ratio_interval_by_the_log_method() -> None:
    # spelled out: group 20/40 of an overall 35/100 (rest 15/60)
    p1, p2, w = 20 / 40, 15 / 60, 0.4
    p0 = w * p1 + (1 - w) * p2
    var = (1 / p1 - w / p0) ** 2 * p1 * (1 - p1) / 40 + ((1 - w) / p0) ** 2 * p2 * (1 - p2) / 60
    expected = [math.exp(math.log(p1 / p0) + s * 1.959964 * math.sqrt(var)) for s in (-1, 1)]
    assert ratio_ci(20, 40, 35, 100) == pytest.approx(expected, rel=1e-6)
    assert ratio_ci(100, 100, 35, 100) is None  # inconsistent input: rest has -65 selected
    assert ratio_ci(35, 100, 35, 100) == (1.0, 1.0)  # the group is everyone
    assert ratio_ci(5, 40, 0, 100) is None  # nothing selected: no ratio
    low, high = ratio_ci(0, 40, 35, 100)  # type: ignore[misc]
    assert 0 < low < high < 1  # zero count: 0.5 added, interval still below 1


def test_ratio_interval_covers_the_true_ratio_about_95_percent() -> None:
    rng = np.random.default_rng(20261031)
    n1, p1, n2, p2 = 200, 0.10, 800, 0.08
    true = p1 / ((n1 * p1 + n2 * p2) / (n1 + n2))
    x1, x2 = rng.binomial(n1, p1, 1000), rng.binomial(n2, p2, 1000)
    hits = 0
    for a, b in zip(x1, x2, strict=True):
        ci = ratio_ci(int(a), n1, int(a + b), n1 + n2)
        assert ci is not None
        hits += ci[0] <= true <= ci[1]
    assert 0.93 <= hits / 1000 <= 0.97


@pytest.mark.parametrize(
    ("ratio", "ci", "flagged"),
    [
        (FLAG_LOW, [0.6, 0.95], False),  # on the edge: not outside
        (0.799, [0.6, 0.95], True),
        (0.799, [0.6, 1.0], False),  # interval touches 1: not excluded
        (0.5, [0.2, 1.3], False),  # wide interval
        (FLAG_HIGH, [1.1, 1.4], False),
        (1.251, [1.1, 1.4], True),
        (1.251, [1.0, 1.4], False),
        (1.0, [0.99, 1.01], False),
        (None, None, None),
    ],
)
def test_flag_edges(ratio: float | None, ci: list[float] | None, flagged: bool | None) -> None:
    assert is_flagged(ratio, ci) is flagged


def test_flags_in_the_report() -> None:
    """2 000 recipients: K 1 000 with 300 selected, M 1 000 with 100: K 1.5x, M 0.5x overall."""
    persons = _population(1000, 1000)
    cprs = _cprs(2000)
    queue = _queue([(c, "A") for c in cprs[:300] + cprs[1000:1100]])
    report = fairness_report(queue, pl.DataFrame({"cpr": cprs}), persons, as_of=AS_OF)
    sex = _by_group(report["attributes"]["sex"])
    assert sex["K"]["rate_ratio"] == 1.5 and sex["K"]["flagged"] is True
    assert sex["M"]["rate_ratio"] == 0.5 and sex["M"]["flagged"] is True
    assert sex["K"]["ratio_ci"][0] > 1 > sex["M"]["ratio_ci"][1]
    assert {(f["rule"], f["group"]) for f in report["flags"]} == {
        (None, "K"),
        (None, "M"),
        ("A", "K"),
        ("A", "M"),
    }
    citizenship = _by_group(report["attributes"]["citizenship"])
    assert citizenship["DK"]["rate_ratio"] == 1.0 and citizenship["DK"]["flagged"] is False
    page = render_fairness_html(report)
    assert "flagged</td>" in page and "not a scoring bias" in page


def test_per_rule_small_counts_are_suppressed_with_a_complement() -> None:
    """Rule A selects 5 K (below 10) and 30 M: both hidden, and every figure derived from them."""
    persons = _population(40, 60)
    cprs = _cprs(100)
    queue = _queue([(c, "A") for c in cprs[:5] + cprs[40:70]] + [(cprs[99], "B")])
    report = fairness_report(queue, pl.DataFrame({"cpr": cprs}), persons, as_of=AS_OF)
    rule_a = _by_group(report["rules"]["A"]["attributes"]["sex"])
    for group in ("K", "M"):
        assert rule_a[group]["selected"] is None
        assert rule_a[group]["selection_rate"] is None and rule_a[group]["rate_ci"] is None
        assert rule_a[group]["rate_ratio"] is None and rule_a[group]["ratio_ci"] is None
        assert rule_a[group]["flagged"] is None and rule_a[group]["recipients"] is not None
    assert rule_a["K"]["suppressed"] == ["selected"]
    # one person selected by B: the rule total is hidden too, and its single group cell
    assert report["rules"]["B"]["selected"] is None
    rule_b = _by_group(report["rules"]["B"]["attributes"]["sex"])
    assert rule_b["M"]["selected"] is None and rule_b["K"]["selected"] == 0
    page = render_fairness_html(report)
    assert "fewer than 10" in page


@pytest.mark.parametrize(
    ("birth", "band"),
    [
        (date(1997, 11, 1), "under 30"),  # 29 (30 tomorrow)
        (date(1996, 10, 31), "30-49"),  # 30 today
        (date(1976, 11, 1), "30-49"),  # 49
        (date(1976, 10, 31), "50-66"),  # 50 today
        (date(1959, 11, 1), "50-66"),  # 66
        (date(1959, 10, 31), "over 66"),  # 67 today
        (date(2026, 1, 1), "under 30"),
        (None, "unknown"),
    ],
)
def test_age_band_edges(birth: date | None, band: str) -> None:
    frame = pl.DataFrame({"birth_date": [birth]}, schema={"birth_date": pl.Date})
    assert frame.select(age_band(AS_OF).alias("band"))["band"].to_list() == [band]


def test_age_bands_in_the_report_in_order() -> None:
    births = [date(2000, 1, 1), date(1990, 1, 1), date(1970, 1, 1), date(1950, 1, 1)]
    cprs = _cprs(80)
    persons = pl.LazyFrame(
        {
            "cpr": cprs,
            "sex": ["K", "M"] * 40,
            "citizenship": ["DK"] * 80,
            "birth_date": [b for b in births for _ in range(20)],
        }
    )
    queue = _queue([(c, "A") for c in cprs[:10] + cprs[20:30] + cprs[40:50] + cprs[60:75]])
    report = fairness_report(queue, pl.DataFrame({"cpr": cprs}), persons, as_of=AS_OF)
    rows = report["attributes"]["age"]
    assert [r["group"] for r in rows] == list(AGE_BANDS)
    assert [r["selected"] for r in rows] == [10, 10, 10, 15]
    assert rows[3]["selection_rate"] == 0.75


def test_no_cpr_in_report_or_page(two_rules: dict) -> None:  # type: ignore[type-arg]
    text = json.dumps(two_rules) + render_fairness_html(two_rules)
    assert not re.search(r"\d{10}", text)
    assert "not a scoring bias" in two_rules["reading"]
    assert "rules" in two_rules["reading"]
