"""The benefit table of CONTRACT.md section 2, as data.

The municipality's legal team confirms these flags per installation, so they
are defaults that a ``--config`` file may override (see :mod:`kontrol.config`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Benefit(BaseModel):
    """One benefit and the three properties the rules depend on."""

    model_config = ConfigDict(frozen=True)

    code: str
    name_da: str
    residence_required: bool
    income_replacement: bool
    income_tested: bool


DEFAULT_BENEFITS: tuple[Benefit, ...] = (
    Benefit(
        code="KONTANTHJAELP",
        name_da="kontanthjælp",
        residence_required=True,
        income_replacement=True,
        income_tested=True,
    ),
    Benefit(
        code="UDDANNELSESHJAELP",
        name_da="uddannelseshjælp",
        residence_required=True,
        income_replacement=True,
        income_tested=True,
    ),
    Benefit(
        code="SYGEDAGPENGE",
        name_da="sygedagpenge",
        residence_required=True,
        income_replacement=True,
        income_tested=False,
    ),
    Benefit(
        code="DAGPENGE",
        name_da="arbejdsløshedsdagpenge",
        residence_required=True,
        income_replacement=True,
        income_tested=False,
    ),
    Benefit(
        code="FOLKEPENSION",
        name_da="folkepension",
        residence_required=False,
        income_replacement=True,
        income_tested=False,
    ),
    Benefit(
        code="FOERTIDSPENSION",
        name_da="førtidspension",
        residence_required=False,
        income_replacement=True,
        income_tested=False,
    ),
    Benefit(
        code="BOLIGSTOTTE",
        name_da="boligstøtte",
        residence_required=True,
        income_replacement=False,
        income_tested=False,
    ),
    Benefit(
        code="BOERNE_UNGEYDELSE",
        name_da="børne- og ungeydelse",
        residence_required=True,
        income_replacement=False,
        income_tested=False,
    ),
    Benefit(
        code="BOERNETILSKUD_ENLIG",
        name_da="ordinært/ekstra børnetilskud til enlige forsørgere",
        residence_required=True,
        income_replacement=False,
        income_tested=False,
    ),
    Benefit(
        code="OEKONOMISK_FRIPLADS",
        name_da="økonomisk friplads",
        residence_required=True,
        income_replacement=False,
        income_tested=False,
    ),
)
