"""Volume is a signal: a rule's case count against the previous run and the recipients.

Why: a wrong threshold, a new rule or a bad delivery month shows first as a
rule finding far more cases than it usually does. Such a run is not wrong
by the contract, so it is not stopped; but the team and the auditor must see
it before they open thousands of cases. Each rule of this run is checked
two ways (thresholds in :class:`kontrol.config.VolumeConfig`):

* **growth**: more than ``max_growth_ratio`` (3) times the rule's cases in
  the previous run. A rule with 0 cases last run is compared as if it had 1
  (so 0 -> 3 is quiet, 0 -> 4 warns, exactly like 1 -> 4). A rule the
  previous run did not evaluate (an optional register was not delivered,
  or an older manifest without the rule) has no previous count: no growth
  is claimed. The first run (no previous manifest) checks no growth.
* **share**: more than ``max_share_of_recipients`` of the run's recipients,
  the persons with a positive net payment line in the window (the
  ``recipients`` dataset, the population the scorer learns from; every case
  needs such a line, so a rule's share is at most 1).

Counts are the published queue's, ``cases_per_rule`` of the manifest, in this
run and the previous one alike, so the comparison is like with like.

Each warning names the rule and its declared parameters with the values in
force (and the previous run's, where they differ): the first thing to
check when a rule's volume jumps. Counts and parameters only, never a cpr.
Pure functions over counts; :func:`kontrol.tasks.validate_queue` calls them,
the validation report and the manifest show the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kontrol.config import VolumeConfig

__all__ = ["CaseVolume", "PreviousRun", "RuleVolume", "check_case_volume", "previous_run_from"]


@dataclass(frozen=True)
class PreviousRun:
    """What the volume check needs from the previous run's ``manifest.json``."""

    as_of: str
    #: Published cases per *evaluated* rule (a rule not evaluated is absent).
    cases_per_rule: dict[str, int]
    #: Rule id -> parameter name -> value, as the manifest records them.
    rule_parameters: dict[str, dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "cases_per_rule": dict(self.cases_per_rule),
            "rule_parameters": {k: dict(v) for k, v in self.rule_parameters.items()},
        }


def previous_run_from(manifest: Mapping[str, Any] | None) -> PreviousRun | None:
    """The previous run's counts from its manifest (or the run spec's copy); None if unknown.

    A manifest without ``cases_per_rule`` (unreadable, or not kontrol's) gives
    None: the growth check is then not made, rather than made against nothing.
    """
    if manifest is None:
        return None
    try:
        counts = {str(rule): int(n) for rule, n in manifest["cases_per_rule"].items()}
        parameters = {
            str(rule): dict(values) for rule, values in manifest.get("rule_parameters", {}).items()
        }
        return PreviousRun(str(manifest["as_of"]), counts, parameters)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


@dataclass(frozen=True)
class RuleVolume:
    """One rule's volume in this run, and what it warns about (empty: nothing)."""

    rule_id: str
    cases: int
    #: Cases in the previous run, or None (no previous run, or the rule not evaluated there).
    previous_cases: int | None
    share_of_recipients: float | None
    parameters: dict[str, Any]
    warnings: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "previous_cases": self.previous_cases,
            "share_of_recipients": (
                round(self.share_of_recipients, 6) if self.share_of_recipients is not None else None
            ),
            "parameters": dict(self.parameters),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class CaseVolume:
    """Every evaluated rule's volume in this run; the ``case_volume`` dataset."""

    recipients: int
    previous_as_of: str | None
    max_growth_ratio: float
    max_share_of_recipients: float
    rules: tuple[RuleVolume, ...]

    @property
    def warnings(self) -> list[str]:
        return [warning for rule in self.rules for warning in rule.warnings]

    def to_json(self) -> dict[str, Any]:
        return {
            "recipients": self.recipients,
            "previous_run_as_of": self.previous_as_of,
            "max_growth_ratio": self.max_growth_ratio,
            "max_share_of_recipients": self.max_share_of_recipients,
            "rules": {rule.rule_id: rule.to_json() for rule in self.rules},
            "warnings": self.warnings,
        }


def check_case_volume(
    cases_per_rule: Mapping[str, int],
    recipients: int,
    previous: PreviousRun | None,
    parameters: Mapping[str, Mapping[str, Any]],
    names: Mapping[str, str],
    limits: VolumeConfig,
) -> CaseVolume:
    """Each evaluated rule's cases against the previous run and the recipients.

    ``cases_per_rule`` lists the rules evaluated in this run (a rule not
    evaluated is not checked); ``parameters`` each rule's parameters in force
    (JSON values, as in the manifest); ``names`` each rule's name for the message.
    """
    rules = []
    for rule_id, cases in cases_per_rule.items():
        in_force = dict(parameters.get(rule_id, {}))
        before = previous.cases_per_rule.get(rule_id) if previous is not None else None
        previous_as_of = previous.as_of if previous is not None else None
        share = cases / recipients if recipients > 0 else None
        found = []
        if before is not None and cases > limits.max_growth_ratio * max(before, 1):
            found.append(
                f"{cases} cases, more than {_number(limits.max_growth_ratio)}x the "
                f"{before} of the previous run ({previous_as_of}) "
                "(volume.max_growth_ratio"
                + (", a rule with 0 cases counted as 1)" if before == 0 else ")")
            )
        if share is not None and share > limits.max_share_of_recipients:
            found.append(
                f"{cases} cases for {recipients} recipients ({_percent(share)}), above "
                f"{_percent(limits.max_share_of_recipients)} (volume.max_share_of_recipients)"
            )
        earlier = previous.rule_parameters.get(rule_id) if previous is not None else None
        context = f"parameters in force: {_describe(in_force)}"
        if earlier is not None and earlier != in_force:
            context += f"; previous run: {_describe(earlier)}"
        label = f"{rule_id} ({names[rule_id]})" if rule_id in names else rule_id
        warnings = tuple(f"case volume: {label}: {what}; {context}" for what in found)
        rules.append(RuleVolume(rule_id, cases, before, share, in_force, warnings))
    return CaseVolume(
        recipients=recipients,
        previous_as_of=previous.as_of if previous is not None else None,
        max_growth_ratio=limits.max_growth_ratio,
        max_share_of_recipients=limits.max_share_of_recipients,
        rules=tuple(rules),
    )


def _describe(parameters: Mapping[str, Any]) -> str:
    if not parameters:
        return "none (the rule declares no parameters)"
    return ", ".join(f"{name}={value}" for name, value in sorted(parameters.items()))


def _number(value: float) -> str:
    return f"{value:g}"


def _percent(share: float) -> str:
    return f"{share * 100:.2f} %"
