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

The fairness report is its own package (:mod:`kontrol.fairness`), the one
place that reads sex, citizenship and age, after the queue is final; scoring
never imports it.

Typical use in the pipeline's assemble stage::

    features = person_features(extracts, as_of, config.window_months).collect(engine="streaming")
    scored = score(features, config.scoring, cases["cpr"])
    cases = attach_scores(cases, scored)           # anomaly_score + evidence.score_explanation
    queue = prioritise(cases, rule_weights(), config.scoring)
"""

from __future__ import annotations

from kontrol.scoring.config import ScoringConfig
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
    "person_features",
    "prioritise",
    "priority_value",
    "rule_weights",
    "score",
]
