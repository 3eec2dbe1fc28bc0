"""The fairness report for auditors: the one package in kontrol that reads protected attributes.

Sex, citizenship (grouped DK / EU-EEA / other) and age band (from
``birth_date`` at the as-of date) are read here and nowhere else, after the
queue is final: nothing here can flow back into a rule, a score or a
priority, and neither :mod:`kontrol.rules` nor :mod:`kontrol.scoring`
imports this package (a boundary test checks it).

:func:`fairness_report` gives, per attribute and group, the selection rate
overall and per rule with exact 95 % intervals and the ratio to the overall
rate (:mod:`kontrol.fairness.stats`); :func:`render_fairness_html` renders it
from the ``fairness.html.j2`` template of :mod:`kontrol.pages`.
"""

from __future__ import annotations

from kontrol.fairness.report import (
    AGE_BANDS,
    FLAG_HIGH,
    FLAG_LOW,
    age_band,
    citizenship_group,
    fairness_report,
    is_flagged,
    render_fairness_html,
)
from kontrol.fairness.stats import rate_ci, ratio_ci

__all__ = [
    "AGE_BANDS",
    "FLAG_HIGH",
    "FLAG_LOW",
    "age_band",
    "citizenship_group",
    "fairness_report",
    "is_flagged",
    "rate_ci",
    "ratio_ci",
    "render_fairness_html",
]
