"""Anomaly scoring and prioritisation of the case queue.

Scoring decides the order in which caseworkers look, never whether a case
exists: the rules find the cases; this package only orders them and says, in
words, what is unusual about each recipient. It is built so that an auditor
can check three things by reading it:

1. **What a score is made of**: :data:`FEATURES`, declared once, each with a
   reason; behaviour and register events over the window only. No protected
   attribute is read (:data:`PROTECTED_COLUMNS`, checked by tests).
2. **How the score is computed**: an Isolation Forest fitted per run on all
   benefit recipients (flagged or not), seeded, single-threaded
   (:mod:`kontrol.scoring.model`).
3. **How the queue is ordered**: :func:`prioritise`, one formula, documented
   and configurable (:mod:`kontrol.scoring.priority`).

The fairness report (:mod:`kontrol.scoring.fairness`) is the one place that
reads sex and citizenship, after the queue is final.

Typical use in the pipeline's assemble stage::

    features = person_features(extracts, as_of, config.window_months).collect(engine="streaming")
    scored = score(features, config.scoring, cases["cpr"])
    cases = attach_scores(cases, scored)           # anomaly_score + evidence.score_explanation
    queue = prioritise(cases, rule_weights(), config.scoring)
    report = fairness_report(queue, features.select("cpr"), extracts.persons)
"""

from __future__ import annotations

from kontrol.scoring.config import ScoringConfig
from kontrol.scoring.fairness import fairness_report, render_fairness_html
from kontrol.scoring.features import (
    FEATURE_NAMES,
    FEATURES,
    PROTECTED_COLUMNS,
    SOURCE_COLUMNS,
    Feature,
    person_features,
)
from kontrol.scoring.model import SCORE_SCHEMA, score
from kontrol.scoring.priority import (
    EXPLANATION_KEY,
    attach_scores,
    prioritise,
    priority_value,
    rule_weights,
)

__all__ = [
    "EXPLANATION_KEY",
    "FEATURES",
    "FEATURE_NAMES",
    "PROTECTED_COLUMNS",
    "SCORE_SCHEMA",
    "SOURCE_COLUMNS",
    "Feature",
    "ScoringConfig",
    "attach_scores",
    "fairness_report",
    "person_features",
    "prioritise",
    "priority_value",
    "render_fairness_html",
    "rule_weights",
    "score",
]
