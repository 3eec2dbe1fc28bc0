"""The rule catalogue, version 1 (CONTRACT.md section 4), declared as data.

Adding a rule means one :class:`RuleSpec` here, one flag function, and its
tests; the engine and the registry test pick it up from :data:`CATALOGUE`.
Bump :data:`CATALOGUE_VERSION` (semantic versioning) whenever a rule's
meaning, scope or defaults change: the manifest records it so an auditor can
tell which rules produced a case queue.

The legal-basis texts are the contract's defaults, for the municipality's
legal team to confirm; each rule cites the residence or household provision
it rests on, then the general basis for the matching and for repayment.
"""

from __future__ import annotations

from kontrol.rules.household import flag_r05
from kontrol.rules.income import R04Parameters, flag_r04
from kontrol.rules.overlap import flag_r06
from kontrol.rules.residence import flag_r01, flag_r02, flag_r03, flag_r07
from kontrol.rules.spec import RuleSpec, Scope

CATALOGUE_VERSION = "1.0.0"

_MATCHING = (
    "Samkøring: retssikkerhedsloven § 11 a (oplysninger fra andre myndigheder, også til"
    " generel kontrol) og Udbetaling Danmark-loven § 12 a."
)
_REPAYMENT = "Tilbagebetaling: aktivloven § 91 og tilbagebetalingsreglerne i ydelsens egen lov."
_RESIDENCE = (
    "Opholdskrav: aktivloven § 5 (ingen hjælp under ophold i udlandet), børnetilskudsloven"
    " § 5 stk. 1 nr. 2 (barnet skal faktisk opholde sig i Danmark), boligstøtte forudsætter"
    " fast bopæl."
)
_EMIGRATION = "CPR-loven § 24: ophold i udlandet i mere end 6 måneder er udrejse."
_SINGLE = (
    "Enlig forsørger: børnetilskudsloven § 2 stk. 2 (den, der lever i et samlivsforhold,"
    " er ikke enlig)."
)


def _basis(*parts: str) -> str:
    return " ".join((*parts, _MATCHING, _REPAYMENT))


CATALOGUE: tuple[RuleSpec, ...] = (
    RuleSpec(
        rule_id="R01",
        name_da="Familie i udlandet",
        name_en="Family abroad",
        description=(
            "The recipient is registered as living in Denmark and draws a benefit that requires"
            " residence, but the whole household (spouse, children under 18 and the children's"
            " other parent) is registered as emigrated on the first day of the paid period."
            " The recipient may in fact live abroad with the family."
        ),
        legal_basis=_basis(_RESIDENCE, _EMIGRATION),
        benefits_in_scope=Scope.where("residence_required"),
        flag=flag_r01,
    ),
    RuleSpec(
        rule_id="R02",
        name_da="Udbetalt under ophold i udlandet",
        name_en="Paid while abroad",
        description=(
            "A benefit that requires residence in Denmark was paid for a period that begins"
            " while the recipient is registered as emigrated."
        ),
        legal_basis=_basis(_RESIDENCE, _EMIGRATION),
        benefits_in_scope=Scope.where("residence_required"),
        flag=flag_r02,
    ),
    RuleSpec(
        rule_id="R03",
        name_da="Udbetalt efter dødsfald",
        name_en="Paid after death",
        description=(
            "A benefit was paid for a period that begins after the recipient is registered as dead."
        ),
        legal_basis=_basis(),
        benefits_in_scope=Scope.every(),
        flag=flag_r03,
    ),
    RuleSpec(
        rule_id="R04",
        name_da="Indkomst under indkomstafhængig ydelse",
        name_en="Income while on an income-tested benefit",
        description=(
            "In a month where the recipient was paid an income-tested benefit, eIndkomst shows"
            " gross income above the threshold. The amount at stake is the smaller of the"
            " benefit and the income for that month."
        ),
        legal_basis=_basis(),
        benefits_in_scope=Scope.where("income_tested"),
        flag=flag_r04,
        parameters=R04Parameters,
        item_kind="month",
    ),
    RuleSpec(
        rule_id="R05",
        name_da="Børnetilskud til enlige trods samliv",
        name_en="Single-parent supplement while living with the other parent or a spouse",
        description=(
            "Single-parent child supplement was paid for a period in which the recipient"
            " lived at the same address as a spouse or as the other parent of one of the"
            " recipient's children."
        ),
        legal_basis=_basis(_SINGLE),
        benefits_in_scope=Scope.only("BOERNETILSKUD_ENLIG"),
        flag=flag_r05,
    ),
    RuleSpec(
        rule_id="R06",
        name_da="Overlappende indkomsterstattende ydelser",
        name_en="Overlapping income-replacement benefits",
        description=(
            "Two different income-replacement benefits were paid to the same person for"
            " overlapping days. The amount at stake is, per overlapping pair, the smaller of"
            " the two benefits' shares for the shared days."
        ),
        legal_basis=_basis(),
        benefits_in_scope=Scope.where("income_replacement"),
        flag=flag_r06,
        item_kind="pair",
    ),
    RuleSpec(
        rule_id="R07",
        name_da="Udbetalt til forsvundet person",
        name_en="Paid while disappeared",
        description=(
            "A benefit that requires residence in Denmark was paid for a period that begins"
            " while the recipient is registered in CPR as disappeared (status 70, whereabouts"
            " unknown)."
        ),
        legal_basis=_basis(_RESIDENCE),
        benefits_in_scope=Scope.where("residence_required"),
        flag=flag_r07,
    ),
)
