"""The Danish reading of a case: formatting and the per-rule summaries."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import polars as pl

from kontrol.caselist import case_accounts
from kontrol.danish import fmt_dkk


def test_tiny_queue_summaries(tiny_queue: pl.DataFrame) -> None:
    r01, r02, r06 = case_accounts(tiny_queue)
    assert r01.summary == (
        "Ægtefælle og 2 børn udrejst 20.02.2026; modtager fortsat kontanthjælp og"
        " børne- og ungeydelse: 8 måneder, 132.728,00 kr."
    ) or r01.summary == (
        "Ægtefælle og 2 børn udrejst 20.02.2026; modtager fortsat børne- og ungeydelse og"
        " kontanthjælp: 8 måneder, 132.728,00 kr."
    )
    assert r01.status == "ny"
    assert [e.when for e in r01.timeline][:3] == [date(2026, 2, 20)] * 3
    assert len(r01.lines) == 16
    assert r01.reasons[0].text == "3 korrektioner af udbetalinger i perioden (typisk: 0)"
    assert r01.reasons[1].text == "untranslated <i>text</i>"  # unknown feature: kept as is
    assert r02.summary.startswith("Udrejst 05.01.2026 til <b>X</b>; modtager fortsat boligstøtte")
    assert r02.summary.endswith("9 måneder, 1.234.567,89 kr.")
    assert r06.summary == (
        "Overlappende sygedagpenge og arbejdsløshedsdagpenge i 9 dage: 500,50 kr."
    )
    assert r06.lines[0].amount == Decimal("500.50")
    assert r06.timeline == ()


def test_status_column_is_read_when_present(tiny_queue: pl.DataFrame) -> None:
    queue = tiny_queue.with_columns(
        pl.Series("status", ["new", "continuing", None], dtype=pl.String())
    )
    assert [a.status for a in case_accounts(queue)] == ["ny", "fortsat", "ny"]


def test_every_fixture_case_gets_a_danish_summary(fixture_queue: pl.DataFrame) -> None:
    starts = {
        "R01": r"^(Ægtefælle|Barnets anden forælder|\d+ b).* udrejst \d\d\.\d\d\.\d{4}",
        "R02": r"^Udrejst \d\d\.\d\d\.\d{4} til [A-Z]{2}; modtager fortsat ",
        "R03": r"^Død \d\d\.\d\d\.\d{4}; udbetalt ",
        "R04": r"^Indkomst over 1\.000,00 kr\. i \d+ måned(er)? med ",
        "R05": r"^Bor på samme adresse som (barnets anden forælder|ægtefælle)",
        "R06": r"^Overlappende .+ og .+ i \d+ dage?: ",
        "R07": r"^Forsvundet \(CPR-status 70\) siden \d\d\.\d\d\.\d{4}; ",
        "R08": r"^Højst .* kWh elforbrug pr\. måned i tre måneder i træk på den registrerede ",
        "R09": r"^På lejekontrakt \(.+\) med en anden voksen, der ikke er modtagerens barn ",
        "R10": r"^Truffet i arbejde ved virksomhedskontrol (mindst )?\d+ dag(e)? uden ",
        "R11": r"^Frihedsberøvet fra \d\d\.\d\d\.\d{4}; ",
    }
    accounts = case_accounts(fixture_queue)
    assert [a.priority for a in accounts] == sorted(fixture_queue["priority"].to_list())
    missing = sorted({a.rule_id for a in accounts} - set(starts))
    assert not missing, f"{missing}: no expected Danish summary in {__file__}"
    assert {a.rule_id for a in accounts} == set(starts)
    for a in accounts:
        assert re.match(starts[a.rule_id], a.summary), a.summary
        assert fmt_dkk(a.amount) in a.summary
        assert "DKK" not in a.summary and "_" not in a.summary  # Danish names, not codes
        assert a.lines and all(ln.amount is not None for ln in a.lines)
        assert a.legal_basis
        if a.rule_id != "R06":
            assert a.timeline
    total = sum(
        (ln.amount or Decimal(0) for a in accounts for ln in a.lines if a.rule_id != "R04"),
        Decimal(0),
    )
    expected = sum(
        (a.amount for a in accounts if a.rule_id != "R04" and a.amount is not None), Decimal(0)
    )
    assert total == expected  # the lines add up to the amount at stake
