"""The legal-basis texts the rules cite, written once and shared by the rule modules.

The texts are CONTRACT.md's defaults, for the municipality's legal team to
confirm. Each rule cites the provision it rests on, then (via :func:`basis`)
the general basis for the data matching and for repayment, which every
``legal_basis`` carries.

Example: ``basis(RESIDENCE, EMIGRATION)`` is R02's ``legal_basis``: "Opholdskrav:
aktivloven § 5 ... CPR-loven § 24 ... Samkøring: retssikkerhedsloven § 11 a
... Tilbagebetaling: aktivloven § 91 ...".
"""

from __future__ import annotations

MATCHING = (
    "Samkøring: retssikkerhedsloven § 11 a (oplysninger fra andre myndigheder, også til"
    " generel kontrol) og Udbetaling Danmark-loven § 12 a."
)
REPAYMENT = "Tilbagebetaling: aktivloven § 91 og tilbagebetalingsreglerne i ydelsens egen lov."
RESIDENCE = (
    "Opholdskrav: aktivloven § 5 (ingen hjælp under ophold i udlandet), børnetilskudsloven"
    " § 5 stk. 1 nr. 2 (barnet skal faktisk opholde sig i Danmark), boligstøtte forudsætter"
    " fast bopæl."
)
EMIGRATION = "CPR-loven § 24: ophold i udlandet i mere end 6 måneder er udrejse."
SINGLE = (
    "Enlig forsørger: børnetilskudsloven § 2 stk. 2 (den, der lever i et samlivsforhold,"
    " er ikke enlig)."
)


def basis(*parts: str) -> str:
    """The rule's own provisions, then the general basis for matching and repayment."""
    return " ".join((*parts, MATCHING, REPAYMENT))
