"""How well does the queue order put founded cases first? Amount alone vs. amount and score.

Usage::

    .venv/bin/python benchmarks/evaluate_ranking.py [--persons 200000] [--seed 7]
        [--unfounded-rate 0.005] [--work /tmp/kontrol-bench/eval]

Generates (once) a synthetic delivery with opt-in *unfounded* cases
(:mod:`kontrol.synth.benign`; read its docstring for how the labels relate
to the features), runs the rules, scores the recipients, and for several
orderings reports precision at the top k % of the queue, average precision
(founded = relevant), and the share of founded money in the top 10 %.
Also measures the scoring stages' runtime and checks that two scorings are
byte-identical.

The figures test one stated hypothesis about synthetic data, not real fraud:
see the module docstring of kontrol.synth.benign.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from kontrol.config import KontrolConfig
from kontrol.extracts import Extracts
from kontrol.queue import DEMO_CASE_KEY, case_id
from kontrol.rules import evaluate_rules
from kontrol.scoring import (
    ScoringConfig,
    attach_scores,
    fairness_report,
    person_features,
    prioritise,
    render_fairness_html,
    score,
)
from kontrol.scoring.priority import rule_weights
from kontrol.synth import synthesize

AS_OF = date(2026, 10, 31)
NAMES = ("persons", "residence_events", "relations", "payments", "income")


def _average_precision(relevant: np.ndarray) -> float:
    hits = np.cumsum(relevant)
    ranks = np.arange(1, len(relevant) + 1)
    return float((hits / ranks)[relevant].sum() / max(relevant.sum(), 1))


def metrics(ordered: pl.DataFrame) -> dict[str, float]:
    rel = ordered["founded"].to_numpy().astype(bool)
    amount = ordered["amount_at_stake_dkk"].cast(pl.Float64).to_numpy()
    n = len(rel)
    out: dict[str, float] = {"AP": round(_average_precision(rel), 4)}
    for share in (0.05, 0.10, 0.20):
        k = max(1, round(n * share))
        out[f"P@{int(share * 100)}%"] = round(float(rel[:k].mean()), 4)
    k10 = max(1, round(n * 0.10))
    out["founded_dkk_top10%"] = round(float(amount[:k10][rel[:k10]].sum() / amount[rel].sum()), 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--unfounded-rate", type=float, default=0.005)
    parser.add_argument("--work", type=Path, default=Path("/tmp/kontrol-bench/eval"))
    args = parser.parse_args()
    delivery = args.work / f"synth-{args.persons}-seed{args.seed}-unf{args.unfounded_rate}"
    if not (delivery / "ground_truth.parquet").exists():
        t = time.perf_counter()
        synthesize(delivery, args.persons, args.seed, AS_OF, unfounded_rate=args.unfounded_rate)
        print(f"generated {delivery} in {time.perf_counter() - t:.1f} s")
    extracts = Extracts(**{n: pl.scan_parquet(delivery / f"{n}.parquet") for n in NAMES})
    config = KontrolConfig()

    t0 = time.perf_counter()
    cases = evaluate_rules(extracts, AS_OF, config).collect(engine="streaming")
    t1 = time.perf_counter()
    features = person_features(extracts, AS_OF, config.window_months).collect(engine="streaming")
    t2 = time.perf_counter()
    scored = score(features, ScoringConfig(), cases["cpr"])
    t3 = time.perf_counter()
    again = score(features, ScoringConfig(), cases["cpr"])
    identical = scored.equals(again)
    t4 = time.perf_counter()
    score(features, ScoringConfig())
    t5 = time.perf_counter()
    timings = {
        "rules_s": round(t1 - t0, 2),
        "person_features_s": round(t2 - t1, 2),
        "score_cases_s": round(t3 - t2, 2),
        "score_all_recipients_s": round(t5 - t4, 2),
    }

    truth = pl.read_parquet(delivery / "ground_truth.parquet").filter(pl.col("kind") == "positive")
    ids = [
        case_id(DEMO_CASE_KEY.encode(), r, c, a)
        for r, c, a in zip(cases["rule_id"], cases["cpr"], cases["anchor_date"], strict=True)
    ]
    labelled = attach_scores(cases.with_columns(pl.Series("case_id", ids)), scored).join(
        truth.select("rule_id", "cpr", "founded"), on=["rule_id", "cpr"], how="left"
    )
    missing = labelled["founded"].null_count()
    labelled = labelled.with_columns(pl.col("founded").fill_null(True))
    weights = rule_weights()
    results: dict[str, dict[str, float]] = {}
    for w in (0.0, 0.5, 1.0, 2.0, 4.0):
        ordered = prioritise(labelled, weights, ScoringConfig(score_weight=w))
        name = "amount only (score_weight=0)" if w == 0 else f"amount x (1 + {w} x score)"
        results[name] = metrics(ordered)
    results["score only"] = metrics(
        labelled.sort(["anomaly_score", "case_id"], descending=[True, False])
    )
    rng = np.random.default_rng(0)
    random_runs = [
        metrics(labelled.sample(fraction=1.0, shuffle=True, seed=int(rng.integers(1 << 30))))
        for _ in range(20)
    ]
    results["random (mean of 20)"] = {
        k: round(float(np.mean([r[k] for r in random_runs])), 4) for k in random_runs[0]
    }
    per_label = (
        labelled.group_by("founded")
        .agg(
            pl.len().alias("cases"),
            pl.col("anomaly_score").mean().round(3).alias("mean_score"),
            pl.col("amount_at_stake_dkk").cast(pl.Float64).median().round(0).alias("median_dkk"),
        )
        .sort("founded")
    )
    per_rule = (
        labelled.group_by("rule_id", "founded")
        .agg(pl.len().alias("n"), pl.col("anomaly_score").mean().round(3).alias("mean_score"))
        .sort("rule_id", "founded")
    )
    print(f"delivery: {delivery}")
    print(
        f"recipients: {features.height:,}  cases: {cases.height:,}  "
        f"founded: {int(labelled['founded'].sum()):,}  unlabelled: {missing}"
    )
    print("timings:", json.dumps(timings))
    print("scores byte-identical on re-run:", identical)
    print(per_label)
    print(per_rule)
    default = prioritise(labelled, weights, ScoringConfig())
    report = fairness_report(default, features.select("cpr"), extracts.persons)
    (args.work / "fairness.html").write_text(render_fairness_html(report), encoding="utf-8")
    print(f"fairness report (default ordering), HTML in {args.work / 'fairness.html'}:")
    for attribute, rows in report["attributes"].items():
        for row in rows:
            print(
                f"  {attribute:<12}{row['group']:<9} recipients {row['recipients']!s:>7}"
                f"  rate {row['selection_rate']!s:>7}  ratio {row['rate_ratio']!s:>6}"
                f"  share rec/cases/top {row['share_of_recipients']!s:>6}"
                f" {row['share_of_cases']!s:>6} {row['share_of_top']!s:>6}"
                f"  mean pct {row['mean_priority_percentile']!s:>6}"
            )
    header = f"{'ordering':<32}" + "".join(f"{k:>20}" for k in next(iter(results.values())))
    print(header)
    for name, m in results.items():
        print(f"{name:<32}" + "".join(f"{v:>20}" for v in m.values()))


if __name__ == "__main__":
    main()
