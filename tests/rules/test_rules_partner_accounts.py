"""R08-R11 cases read in Danish by the case list, and the v1 guarantee.

The accounts are built from the queue row alone (its columns and evidence),
exactly as the case list does; here the rows come straight from the engine.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl

from kontrol.caselist.account import case_account
from kontrol.config import KontrolConfig
from kontrol.rules import CATALOGUE, evaluate_rules

AS_OF = "2026-06-15"


def _account(d, rule: str):
    case = d.case(AS_OF, rule)
    return case_account({**case, "priority": 1, "case_id": "c1"})


def test_r08_account_names_address_readings_and_the_legal_basis_caveat(d) -> None:
    p = d.person("1985-04-01")
    d.lives(p, "2019-05-01", "A")
    for month, kwh in (("2026-01-01", "2.5"), ("2026-02-01", "0"), ("2026-03-01", "10")):
        d.reading("A", month, kwh)
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="12000.00")
    account = _account(d, "R08")
    assert account.rule_name == "Intet elforbrug på den registrerede adresse"
    assert account.summary.startswith(
        "Højst 10 kWh elforbrug pr. måned i tre måneder i træk på den registrerede adresse (A);"
        " modtager fortsat kontanthjælp: 1 måned, 12.000,00 kr."
    )
    assert "kommunens jurister har bekræftet" in account.summary
    assert "kommunens jurister har bekræftet" in account.legal_basis
    texts = [e.text for e in account.timeline]
    assert texts[0].startswith("Modtageren registreret som bosat på adresse A")
    assert "Elforbrug 2,500 kWh i januar 2026 på adresse A" in texts[1]
    assert account.lines[0].note == (
        "Elforbrug på adresse A: januar 2026: 2,500 kWh, februar 2026: 0 kWh, marts 2026: 10 kWh"
    )


def test_r09_account_names_the_lease_and_the_other_adult(d) -> None:
    p = d.person("1985-04-01")
    a = d.person("1990-06-01")
    d.lease("L-77", p, "2025-01-01", address="B")
    d.lease("L-77", a, "2026-04-20", role="co_tenant", address="B")
    d.payment(p, "BOERNETILSKUD_ENLIG", "2026-04-01", amount="1500.00")
    account = _account(d, "R09")
    assert account.summary.startswith(
        "På lejekontrakt (L-77) med en anden voksen, der ikke er modtagerens barn eller"
        " forælder siden 20.04.2026; modtager fortsat ordinært/ekstra børnetilskud"
    )
    (event,) = account.timeline
    assert event.when == date(2026, 4, 20) and event.until == date(2026, 4, 30)
    assert f"CPR-nr. {a}, født 01.06.1990" in event.text
    assert "som medlejer; modtageren står som lejer" in event.text


def test_r10_account_names_inspection_employer_and_income(d) -> None:
    p = d.person("1985-04-01")
    d.payment(p, "KONTANTHJAELP", "2026-03-01", amount="12400.00")
    d.inspection(p, "2026-03-10", "12345678").inspection(p, "2026-03-24", "12345678")
    d.income(p, "2026-03-01", "0.00", cvr="12345678")
    account = _account(d, "R10")
    assert account.summary == (
        "Truffet i arbejde ved virksomhedskontrol 2 dage uden indberettet løn fra den"
        " kontrollerede virksomhed, mens kontanthjælp blev udbetalt: 800,00 kr. på spil."
    )
    assert account.timeline[0].text == (
        "Truffet i arbejde ved virksomhedskontrol hos CVR-nr. 12345678; eIndkomst fra denne"
        " arbejdsgiver for marts 2026: indberettet 0,00 kr."
    )
    assert account.lines[0].amount == Decimal("800.00")
    assert "på spil 2/31 af beløbet" in account.lines[0].note


def test_r11_account_names_the_spells(d) -> None:
    p = d.person("1985-04-01")
    d.payment(p, "DAGPENGE", "2026-03-01", amount="3100.00")
    d.custody(p, "2026-02-20", "2026-03-05", "remand").custody(p, "2026-03-06", None, "sentence")
    account = _account(d, "R11")
    assert account.summary == (
        "Frihedsberøvet fra 20.02.2026; arbejdsløshedsdagpenge udbetalt for 31 dage under"
        " frihedsberøvelsen: 3.100,00 kr."
    )
    (event,) = account.timeline
    assert event.text == (
        "Frihedsberøvet i 116 dage (afsoning og varetægt)"
        " (fortsat frihedsberøvet på opgørelsesdagen)"
    )
    assert (event.when, event.until) == (date(2026, 2, 20), date(2026, 6, 15))


def test_a_v1_delivery_gives_exactly_the_v1_cases(d) -> None:
    """No optional register delivered: R08-R11 are not evaluated, R01-R07 unchanged."""
    m = d.person("1985-04-01")
    f = d.person("1984-01-01")
    c = d.person("2015-05-05")
    for x in (m, f, c):
        d.lives(x, "2010-01-01", "A")
    d.emigrates(f, "2026-02-20").emigrates(c, "2026-02-20")
    d.marry(m, f).child(m, c).child(f, c)
    d.payment(m, "KONTANTHJAELP", "2026-03-01", amount="12000.00")
    d.payment(m, "SYGEDAGPENGE", "2026-03-22", amount="5000.00")
    d.payment(f, "BOLIGSTOTTE", "2026-03-01", amount="3000.00")
    d.income(m, "2026-03-01", "9700.00")
    config = KontrolConfig()
    v1 = tuple(spec for spec in CATALOGUE if not spec.reads)
    assert [spec.rule_id for spec in v1] == [f"R0{i}" for i in range(1, 8)]
    everything = evaluate_rules(d.extracts(), date(2026, 6, 15), config).collect()
    only_v1 = evaluate_rules(d.extracts(), date(2026, 6, 15), config, catalogue=v1).collect()
    assert everything.height > 0
    assert everything.equals(only_v1)
    assert not everything.filter(pl.col("rule_id") >= "R08").height


def test_partner_rules_declarations() -> None:
    """Legal basis, scope and the registers read, as CONTRACT.md 2 and 4b set them."""
    by_id = {spec.rule_id: spec for spec in CATALOGUE}
    assert "CPR-loven § 6" in by_id["R08"].legal_basis
    assert "boligreguleringsloven § 52 e" in by_id["R08"].legal_basis
    assert "kommunens jurister har bekræftet" in by_id["R08"].legal_basis
    assert "aktivloven § 5" in by_id["R08"].legal_basis
    assert "børnetilskudsloven § 2 stk. 2" in by_id["R09"].legal_basis
    assert "retssikkerhedsloven § 12 a" in by_id["R10"].legal_basis
    assert "retssikkerhedsloven § 11 stk. 2" in by_id["R10"].legal_basis
    assert "frihedsberøve" in by_id["R11"].legal_basis
    assert [by_id[r].reads for r in ("R08", "R09", "R10", "R11")] == [
        ("utility_readings",),
        ("tenancies",),
        ("inspections", "income"),
        ("custody",),
    ]
    config = KontrolConfig()
    scope = {r: by_id[r].benefits_in_scope.resolve(config) for r in ("R08", "R09", "R10", "R11")}
    assert "BOLIGSTOTTE" in scope["R08"] and "FOLKEPENSION" not in scope["R08"]
    assert scope["R09"] == ("BOERNETILSKUD_ENLIG",)
    work = ("DAGPENGE", "KONTANTHJAELP", "SYGEDAGPENGE", "UDDANNELSESHJAELP")
    assert scope["R10"] == scope["R11"] == work
