"""Confidence intervals for the fairness report: closed formulas, no random numbers.

Both are deterministic, so the report (and the manifest that carries it) is
byte-identical across identical runs.

* :func:`rate_ci`: the exact binomial (Clopper-Pearson) 95 % interval of a
  group's selection rate, ``selected / recipients``, from
  :func:`scipy.stats.binomtest`.
* :func:`ratio_ci`: the 95 % interval of the ratio of a group's selection rate
  to the overall rate, by the log method (Katz): ``exp(log r +- 1.96 se)``
  with ``se`` from the delta method. The group is part of the whole, so the
  two rates are not independent; the overall rate is written as
  ``w p1 + (1 - w) p2`` (``p1`` the group, ``p2`` everyone else, ``w`` the
  group's share of recipients) and

      Var(log r) = (1/p1 - w/p0)^2 p1 (1-p1)/n1 + ((1-w)/p0)^2 p2 (1-p2)/n2.

  With no selected person in the group (or everyone selected, in the group or
  in the rest), 0.5 is added to those selected and 1 to those counted
  (Haldane-Anscombe), as usual for the Katz interval.
"""

from __future__ import annotations

import math

from scipy.stats import binomtest

Z95 = 1.959963984540054  # the 97.5 % quantile of the standard normal


def rate_ci(selected: int, recipients: int) -> tuple[float, float] | None:
    """Exact binomial (Clopper-Pearson) 95 % interval of ``selected / recipients``."""
    if recipients <= 0:
        return None
    ci = binomtest(selected, recipients).proportion_ci(confidence_level=0.95, method="exact")
    return float(ci.low), float(ci.high)


def _corrected(x: int, n: int) -> tuple[float, float]:
    return (x + 0.5, n + 1.0) if x in (0, n) else (float(x), float(n))


def ratio_ci(
    selected: int, recipients: int, total_selected: int, total_recipients: int
) -> tuple[float, float] | None:
    """95 % interval (log method, delta variance) of the group's rate over the overall rate."""
    n1, n2 = recipients, total_recipients - recipients
    x2 = total_selected - selected
    if n1 <= 0 or total_selected <= 0 or n2 < 0 or x2 < 0:
        return None
    c1, m1 = _corrected(selected, n1)
    p1 = c1 / m1
    if n2 == 0:  # the group is everyone: the ratio is 1 exactly
        return 1.0, 1.0
    c2, m2 = _corrected(x2, n2)
    p2 = c2 / m2
    w = n1 / (n1 + n2)
    p0 = w * p1 + (1 - w) * p2
    var = (1 / p1 - w / p0) ** 2 * p1 * (1 - p1) / m1 + ((1 - w) / p0) ** 2 * p2 * (1 - p2) / m2
    log_r = math.log(p1 / p0)
    half = Z95 * math.sqrt(var)
    return math.exp(log_r - half), math.exp(log_r + half)
