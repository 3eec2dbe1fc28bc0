"""The benefit table of CONTRACT.md section 2 (version 2: five flags), as data.

The municipality's legal team confirms these flags per installation, so they
are defaults that a ``--config`` file may override (see :mod:`kontrol.config`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

#: The version 2 columns (CONTRACT.md section 2) and, per benefit code, the
#: contract's defaults: ``(work_excluded, stops_in_custody)``.
V2_FLAGS = ("work_excluded", "stops_in_custody")
V2_DEFAULTS: dict[str, tuple[bool, bool]] = {
    "KONTANTHJAELP": (True, True),
    "UDDANNELSESHJAELP": (True, True),
    "SYGEDAGPENGE": (True, True),
    "DAGPENGE": (True, True),
}


class Benefit(BaseModel):
    """One benefit and the properties the rules depend on.

    ``work_excluded`` (R10) and ``stops_in_custody`` (R11) are the version 2
    columns of CONTRACT.md section 2. A configuration file written for
    version 1 lists benefits without them; such an entry still loads, and
    each missing column takes the contract's default *for that code* (yes for
    the four benefits that replace income from work, no for the others; no
    for a code the contract does not know). So an installation that
    configured its benefit table for version 1 gets the same R10/R11 scope as
    one using the defaults, until its legal team says otherwise.
    """

    model_config = ConfigDict(frozen=True)

    code: str
    name_da: str
    residence_required: bool
    income_replacement: bool
    income_tested: bool
    work_excluded: bool
    stops_in_custody: bool

    @model_validator(mode="before")
    @classmethod
    def _v2_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and not all(flag in data for flag in V2_FLAGS):
            flags = V2_DEFAULTS.get(data.get("code", ""), (False, False))
            defaults = dict(zip(V2_FLAGS, flags, strict=True))
            data = {**defaults, **data}
        return data


DEFAULT_BENEFITS: tuple[Benefit, ...] = (
    Benefit(
        code="KONTANTHJAELP",
        name_da="kontanthjælp",
        residence_required=True,
        income_replacement=True,
        income_tested=True,
        work_excluded=True,
        stops_in_custody=True,
    ),
    Benefit(
        code="UDDANNELSESHJAELP",
        name_da="uddannelseshjælp",
        residence_required=True,
        income_replacement=True,
        income_tested=True,
        work_excluded=True,
        stops_in_custody=True,
    ),
    Benefit(
        code="SYGEDAGPENGE",
        name_da="sygedagpenge",
        residence_required=True,
        income_replacement=True,
        income_tested=False,
        work_excluded=True,
        stops_in_custody=True,
    ),
    Benefit(
        code="DAGPENGE",
        name_da="arbejdsløshedsdagpenge",
        residence_required=True,
        income_replacement=True,
        income_tested=False,
        work_excluded=True,
        stops_in_custody=True,
    ),
    Benefit(
        code="FOLKEPENSION",
        name_da="folkepension",
        residence_required=False,
        income_replacement=True,
        income_tested=False,
        work_excluded=False,
        stops_in_custody=False,
    ),
    Benefit(
        code="FOERTIDSPENSION",
        name_da="førtidspension",
        residence_required=False,
        income_replacement=True,
        income_tested=False,
        work_excluded=False,
        stops_in_custody=False,
    ),
    Benefit(
        code="BOLIGSTOTTE",
        name_da="boligstøtte",
        residence_required=True,
        income_replacement=False,
        income_tested=False,
        work_excluded=False,
        stops_in_custody=False,
    ),
    Benefit(
        code="BOERNE_UNGEYDELSE",
        name_da="børne- og ungeydelse",
        residence_required=True,
        income_replacement=False,
        income_tested=False,
        work_excluded=False,
        stops_in_custody=False,
    ),
    Benefit(
        code="BOERNETILSKUD_ENLIG",
        name_da="ordinært/ekstra børnetilskud til enlige forsørgere",
        residence_required=True,
        income_replacement=False,
        income_tested=False,
        work_excluded=False,
        stops_in_custody=False,
    ),
    Benefit(
        code="OEKONOMISK_FRIPLADS",
        name_da="økonomisk friplads",
        residence_required=True,
        income_replacement=False,
        income_tested=False,
        work_excluded=False,
        stops_in_custody=False,
    ),
)
