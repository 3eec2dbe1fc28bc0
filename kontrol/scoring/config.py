"""Configuration of anomaly scoring and prioritisation (``KontrolConfig.scoring``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ScoringConfig(BaseModel):
    """Everything that decides the anomaly score and the queue order; recorded in the manifest.

    * ``enabled``: when false no score is computed; ``anomaly_score`` is null
      and priority is amount at stake times rule weight.
    * ``random_state``, ``n_estimators``, ``max_fit_samples``,
      ``max_samples_per_tree``: the Isolation Forest. The forest is fitted on
      a seeded sample of at most ``max_fit_samples`` recipients (sorted by
      cpr first, so the sample depends only on the data and the seed).
    * ``score_weight``: how much the anomaly score can raise a case:
      ``priority_value = amount * rule_weight * (1 + score_weight * score)``.
      0 orders by amount (times weight) alone. **Default 0**: on the
      synthetic evaluation (``benchmarks/evaluate_ranking.py``, 200k
      persons, two seeds) every positive weight lowered average precision
      slightly (0.742 -> 0.740 at 1.0, 0.735 at 4.0), so until real case
      outcomes show otherwise the score informs the caseworker (score and
      explanation in the evidence) but does not reorder the queue.
    * ``null_score``: where a case with no score goes: ``"as_zero"`` ranks it
      as if its score were 0 (by amount and weight); ``"last"`` puts all such
      cases after the scored ones.
    * ``explanation_features``: how many features each explanation lists.
    * ``min_explained_z``: a feature is only offered as an explanation when
      its robust z-score is at least this far from typical.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    random_state: int = 20261031
    n_estimators: int = Field(default=200, ge=10, le=2000)
    max_fit_samples: int = Field(default=256_000, ge=100)
    max_samples_per_tree: int = Field(default=256, ge=16)
    score_weight: float = Field(default=0.0, ge=0.0)
    null_score: Literal["as_zero", "last"] = "as_zero"
    explanation_features: int = Field(default=3, ge=0, le=20)
    min_explained_z: float = Field(default=1.0, ge=0.0)
