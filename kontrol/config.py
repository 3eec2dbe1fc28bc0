"""Typed configuration of a run.

Thresholds and the benefit table live here, not in code, so that an
installation can change them with a ``--config`` YAML/JSON file and the run
manifest can record exactly what was in force. Unknown keys are refused so a
typo in a config file fails loudly instead of silently using a default.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from kontrol import io
from kontrol.benefits import DEFAULT_BENEFITS, Benefit
from kontrol.errors import ConfigError
from kontrol.schema import EXTRACT_NAMES
from kontrol.scoring.config import ScoringConfig


class LoaderConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: CONTRACT.md section 1: more than 1 % rejected rows fails the run.
    max_reject_share: Decimal = Field(default=Decimal("0.01"), ge=0, le=1)


class LifecycleConfig(BaseModel):
    """The case register across runs (:mod:`kontrol.lifecycle`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Udbetaling Danmark-loven § 11 a: a case closed as unfounded/no_action is
    #: not raised again for this many months from its closed_date.
    suppress_months: int = Field(default=6, ge=0, le=120)
    #: Benefit recipients with no rule hit added to each run as a random control
    #: sample (``OUT/control_sample.parquet``); 0 = none.
    control_sample_size: int = Field(default=0, ge=0)


class QueueConfig(BaseModel):
    """The case queue as the team works it (presentation only: never changes a case)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The team's monthly capacity: the case list marks the first ``capacity``
    #: cases by priority as this month's worklist; 0 = no worklist.
    capacity: int = Field(default=200, ge=0)


class CaseListConfig(BaseModel):
    """``cases.html`` at volume (presentation only: never changes a case)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Cases shown with their full account; the rest in a compact table.
    max_accounts: int = Field(default=1000, ge=0)
    #: Rows of the compact table; beyond it the page says where the cases are
    #: (``cases.xlsx`` and ``cases.parquet`` hold every case).
    max_compact_rows: int = Field(default=50_000, ge=0)
    #: ``cases.xlsx`` lists every case on ``Sager``; the sheets of flagged lines
    #: and register events cover the first this many cases by priority (the
    #: workbook's ``Overblik`` says so; every case's lines are in ``cases.parquet``).
    xlsx_detail_cases: int = Field(default=10_000, ge=0)


class VolumeConfig(BaseModel):
    """When a rule's case count is a signal (:mod:`kontrol.case_volume`): warnings only.

    A wrong threshold, a new rule or a bad delivery month shows first as a
    rule finding far more cases than usual. Both limits warn (in the
    manifest, the validation report and the log); the run still publishes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Warn when a rule has more than this many times its cases of the previous
    #: run (issue 12: 3). A rule with 0 cases last run counts as 1 here, so it
    #: warns from ``max_growth_ratio + 1`` cases on (docs/contract-readings.md 31).
    max_growth_ratio: float = Field(default=3.0, ge=1)
    #: Warn when a rule's cases exceed this share of the run's recipients (persons
    #: with a positive net payment line in the window). Default 1 %: the committed
    #: fixture, built so every rule fires, stays at or below 0.33 % per rule, and at
    #: 1 % one rule alone fills a month of ``queue.capacity`` (200) in a
    #: municipality of 20,000 recipients: far beyond what a rule finds in a normal month.
    max_share_of_recipients: float = Field(default=0.01, gt=0, le=1)


class RowRange(BaseModel):
    """Expected rows of one extract's delivery; ``max`` ``None`` = no upper bound."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min: int = Field(default=1, ge=0)
    max: int | None = Field(default=None, ge=0)


class ValidationSettings(BaseModel):
    """Thresholds of the validation layer (``KontrolConfig.validation``).

    Volume plausibility is checked two ways, both warnings: against an
    absolute per-extract range (``expected_rows``; by default only "not
    empty") and against the previous run's delivered rows, when known, within
    ``[volume_min_ratio, volume_max_ratio]``. The default 0.8..1.25 is
    symmetric (1/0.8 = 1.25): monthly register volumes move by a few percent,
    so a delivery with half the usual rows, or a doubled one, stands out.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sample_rows: int = Field(default=200_000, ge=1)
    volume_min_ratio: float = Field(default=0.8, gt=0)
    volume_max_ratio: float = Field(default=1.25, gt=0)
    expected_rows: dict[str, RowRange] = Field(default_factory=dict)
    #: Extracts that may be delivered with zero rows. By default none may: an
    #: empty required extract is a structural defect that fails the run
    #: (an empty payments file would otherwise publish an empty queue as if
    #: the month were clean). Naming ``payments`` here also lets a delivery
    #: without any payment line in the window through.
    allow_empty: tuple[str, ...] = ()

    @field_validator("allow_empty")
    @classmethod
    def _known_extracts(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(names) - set(EXTRACT_NAMES))
        if unknown:
            raise ValueError(f"unknown extract(s) {unknown}; expected some of {EXTRACT_NAMES}")
        return tuple(sorted(set(names)))


#: Sections that only shape how the queue is presented: they are recorded in
#: the manifest but left out of the run id, which identifies the cases.
PRESENTATION_SECTIONS = frozenset({"queue", "caselist"})
#: Sections that only decide what the run warns about (never a case): recorded in
#: the manifest, left out of the run id for the same reason.
SIGNAL_SECTIONS = frozenset({"volume"})


class OutputConfig(BaseModel):
    """Who may read the published files that hold cpr values (README: "Who may read")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: A group whose members may read them: 0640 files, 0750 directories, owned by
    #: the group. None: the owner only (0600/0700). The umask still applies.
    group: str | None = Field(default=None, min_length=1)


class ExecutionConfig(BaseModel):
    """How ``kontrol run`` uses the machine: a deployment setting that cannot change a result."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: From this many cases in the queue, ``kontrol run`` executes the detachable steps
    #: (the case list) in a child process beside the steps after them
    #: (:func:`kontrol.run.run_steps`). The case list is single-threaded Python: at
    #: 205,000 cases it took 36-42 s while the other core was idle. A child process
    #: costs about a second before its step starts (its imports; 0.6 s measured), which
    #: a small month's case list does not win back; 0 = never detach.
    detach_from_cases: int = Field(default=20_000, ge=0)


class KontrolConfig(BaseModel):
    """Everything configurable about a run; serialised into the manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_months: int = Field(default=12, ge=1, le=120)
    benefits: tuple[Benefit, ...] = DEFAULT_BENEFITS
    loader: LoaderConfig = LoaderConfig()
    validation: ValidationSettings = ValidationSettings()
    scoring: ScoringConfig = ScoringConfig()
    lifecycle: LifecycleConfig = LifecycleConfig()
    queue: QueueConfig = QueueConfig()
    caselist: CaseListConfig = CaseListConfig()
    volume: VolumeConfig = VolumeConfig()
    #: Per-rule parameter overrides, e.g. ``{"R04": {"income_threshold_dkk": "1500.00"}}``.
    rule_parameters: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: Where and for whom the outputs are written: a deployment setting that cannot
    #: change a result, so it is left out of the manifest's configuration and the run
    #: id (``exclude``): moving a deployment must not change run ids.
    output: OutputConfig = Field(default=OutputConfig(), exclude=True)
    #: How the run uses processes: left out the same way (it cannot change a result).
    execution: ExecutionConfig = Field(default=ExecutionConfig(), exclude=True)

    @model_validator(mode="after")
    def _unique_codes(self) -> KontrolConfig:
        codes = [b.code for b in self.benefits]
        if len(codes) != len(set(codes)):
            raise ValueError("benefit codes must be unique")
        return self

    @property
    def benefit_codes(self) -> tuple[str, ...]:
        return tuple(b.code for b in self.benefits)

    def codes_where(self, flag: str) -> list[str]:
        """Benefit codes whose boolean property ``flag`` is set, e.g. ``residence_required``."""
        return sorted(b.code for b in self.benefits if getattr(b, flag))

    def canonical_json(self) -> str:
        """Deterministic serialisation of what determines the cases, for the run id.

        The presentation sections (:data:`PRESENTATION_SECTIONS`) and the
        warning thresholds (:data:`SIGNAL_SECTIONS`) are left out: a different
        worklist size or volume limit gives the same cases and the same run id.
        """
        data = self.model_dump(mode="json", exclude=set(PRESENTATION_SECTIONS | SIGNAL_SECTIONS))
        return json.dumps(data, sort_keys=True, separators=(",", ":"))


def load_config(path: Path | None, **overrides: Any) -> KontrolConfig:
    """Read a YAML or JSON config file (or none) and apply CLI overrides.

    Raises :class:`~kontrol.errors.ConfigError` with one line naming the file
    and, for a syntax error, the line; for a bad setting, the setting's path.
    """
    data: dict[str, Any] = {}
    if path is not None:
        data.update(_read_mapping(Path(path)))
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return KontrolConfig.model_validate(data)
    except ValidationError as error:
        where = f"{path}: " if path is not None else ""
        raise ConfigError(where + describe_validation_error(error)) from error


def _read_mapping(path: Path) -> dict[str, Any]:
    try:
        text = io.read_text(path)
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start})") from error
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror or error})") from error
    try:
        loaded = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise ConfigError(f"{path}: {line}YAML syntax error: {problem}") from error
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: a config file must be a mapping of settings")
    return loaded


def describe_validation_error(error: ValidationError) -> str:
    """Pydantic's errors on one line: ``setting.path: message`` for each, ``; ``-joined."""
    parts = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "configuration"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)
