"""The auditors' fairness report: groups, disclosure control, and no cpr anywhere."""

from __future__ import annotations

import json
import re
from datetime import date

import polars as pl
import pytest

from kontrol.config import KontrolConfig
from kontrol.extracts import Extracts
from kontrol.fairness import fairness_report, render_fairness_html
from kontrol.queue import DEMO_CASE_KEY, assemble_queue
from kontrol.rules import evaluate_rules
from kontrol.scoring import (
    ScoringConfig,
    attach_scores,
    person_features,
    prioritise,
    rule_weights,
    score,
)
from kontrol.synth import synthesize

AS_OF = date(2026, 10, 31)
NAMES = ("persons", "residence_events", "relations", "payments", "income")


@pytest.fixture(scope="module")
def town_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, pl.DataFrame, Extracts]:  # type: ignore[type-arg]
    out = tmp_path_factory.mktemp("fair") / "town"
    synthesize(out, persons=4000, seed=99, as_of=AS_OF)
    ex = Extracts(**{n: pl.read_parquet(out / f"{n}.parquet").lazy() for n in NAMES})
    cases = evaluate_rules(ex, AS_OF, KontrolConfig()).collect()
    base = assemble_queue(cases, DEMO_CASE_KEY.encode(), "run")
    features = person_features(ex, AS_OF, 12).collect()
    config = ScoringConfig(n_estimators=50)
    queue = prioritise(
        attach_scores(base, score(features, config, base["cpr"])), rule_weights(), config
    )
    return fairness_report(queue, features.select("cpr"), ex.persons, as_of=AS_OF), queue, ex


def test_report_has_groups_and_consistent_totals(town_report: tuple) -> None:  # type: ignore[type-arg]
    report, queue, _ = town_report
    assert report["cases"] == queue.height
    json.dumps(report)  # JSON-able, for the manifest
    sex = {r["group"]: r for r in report["attributes"]["sex"]}
    assert set(sex) <= {"K", "M", "other", "unknown"} and {"K", "M"} <= set(sex)
    citizenship = {r["group"] for r in report["attributes"]["citizenship"]}
    assert citizenship <= {"DK", "EU-EEA", "other", "unknown"}
    for rows in report["attributes"].values():
        shown = [r["recipients"] for r in rows if r["recipients"] is not None]
        if len(shown) == len(rows):
            assert sum(shown) == report["recipients"]
        for r in rows:
            for field in ("recipients", "selected", "cases", "top_cases"):
                assert r[field] is None or r[field] == 0 or r[field] >= report["min_cell"]


def test_small_counts_are_suppressed_with_a_complement(town_report: tuple) -> None:  # type: ignore[type-arg]
    _, queue, ex = town_report
    recipients = queue.select("cpr")  # tiny population: forces suppression
    report = fairness_report(
        queue, recipients, ex.persons, min_cell=25, top_share=0.05, as_of=AS_OF
    )
    for rows in report["attributes"].values():
        for field in ("recipients", "selected", "cases", "top_cases"):
            hidden = [r for r in rows if r[field] is None]
            assert len(hidden) != 1 or len(rows) == 1, (field, rows)
        for r in rows:
            if "cases" in r["suppressed"]:
                assert r["share_of_cases"] is None and r["mean_priority_percentile"] is None


def test_handmade_groups_are_merged_and_suppressed() -> None:
    cprs = [f"{i:010d}" for i in range(60)]
    citizenship = ["DK"] * 40 + ["SE"] * 12 + ["SY"] * 5 + ["IQ"] * 3
    persons = pl.LazyFrame(
        {
            "cpr": cprs,
            "sex": ["K", "M"] * 30,
            "citizenship": citizenship,
            "birth_date": [date(1980, 1, 1)] * 60,
        }
    )
    queue = pl.DataFrame({"cpr": cprs[:30] + cprs[52:], "priority": list(range(1, 39))})
    report = fairness_report(queue, pl.DataFrame({"cpr": cprs}), persons, min_cell=10, as_of=AS_OF)
    rows = {r["group"]: r for r in report["attributes"]["citizenship"]}
    assert set(rows) == {"DK", "EU-EEA", "other"}
    assert rows["other"]["recipients"] is None  # 8 persons: SY and IQ merged, still small
    assert rows["EU-EEA"]["recipients"] is None  # complementary suppression (12, next smallest)
    assert rows["DK"]["recipients"] == 40
    # other has 8 cases (hidden), EU-EEA 0: DK's 30 would reveal the 8, so it is hidden too
    assert rows["other"]["cases"] is None and rows["DK"]["cases"] is None
    assert rows["EU-EEA"]["cases"] == 0
    sex = {r["group"]: r for r in report["attributes"]["sex"]}
    assert sex["K"]["recipients"] == 30 and sex["K"]["cases"] == 19
    assert sex["K"]["selection_rate"] == round(19 / 30, 4)


def test_html_is_static_and_has_no_cpr(town_report: tuple) -> None:  # type: ignore[type-arg]
    report, queue, _ = town_report
    page = render_fairness_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "src=" not in page
    assert not re.search(r"https?://", page)  # no external asset or link
    assert "Content-Security-Policy\" content=\"default-src 'none';" in page
    assert not re.search(r"\b\d{10}\b", page)
    assert not set(queue["cpr"]) & set(re.findall(r"\d+", page))
    assert "suppressed" in page or all(
        r["suppressed"] == [] for rows in report["attributes"].values() for r in rows
    )
