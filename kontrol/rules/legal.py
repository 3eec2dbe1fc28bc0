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


# --- version 2: the partner registers (CONTRACT.md section 4b) -----------------------

REGISTRATION = "Bopælsregistrering: CPR-loven § 6 (man skal være registreret, hvor man bor)."
CONSUMPTION_ACCESS = (
    "Adgang til forbrugsdata kræver sit eget hjemmelsgrundlag: fx giver"
    " boligreguleringsloven § 52 e kun adgang ved en konkret, begrundet mistanke om en bestemt"
    " bolig. Kommunen leverer kun forbrugsdata (utility_readings), hvor kommunens jurister har"
    " bekræftet et hjemmelsgrundlag for samkøringen."
)
INSPECTION = (
    "Virksomhedskontrol: retssikkerhedsloven § 12 a. Pligt til at oplyse om indtægter og"
    " arbejde: retssikkerhedsloven § 11 stk. 2."
)
CUSTODY = (
    "Frihedsberøvelse: ydelsens egne regler om udbetaling under varetægt og afsoning"
    " (ydelsen udbetales ikke, mens modtageren er frihedsberøvet)."
)
