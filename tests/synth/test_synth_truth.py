"""The ground truth is consistent with the delivery and is exactly what the rules emit."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from synth_helpers import AS_OF, clean, oracle_cases, partner_oracle_cases, truth

from kontrol.benefits import DEFAULT_BENEFITS
from kontrol.rules import CATALOGUE
from kontrol.synth import synthesize
from kontrol.synth.calendar import to_date

RULES = [spec.rule_id for spec in CATALOGUE]
WINDOW_START = date(2025, 11, 1)
REPLACEMENT = [b.code for b in DEFAULT_BENEFITS if b.income_replacement]


def test_every_rule_has_positives_and_near_misses(small_town: Path) -> None:
    gt = truth(small_town)
    for rule in RULES:
        kinds = gt.filter(pl.col("rule_id") == rule)["kind"].to_list()
        assert kinds.count("positive") >= 2, rule
        assert kinds.count("near_miss") >= 2, rule
    assert not gt.select("rule_id", "cpr").is_duplicated().any()
    persons = set(pl.read_parquet(small_town / "persons.parquet")["cpr"])
    assert set(gt["cpr"]) <= persons
    near = gt.filter(pl.col("kind") == "near_miss")
    assert (
        near.select("period_start", "period_end", "amount_at_stake_dkk", "anchor_date")
        .null_count()
        .sum_horizontal()
        .item()
        == 4 * near.height
    )
    share = gt["cpr"].n_unique() / len(persons)
    # a 3,000-person town gets both whole catalogues (R01-R07 and R08-R11) in its one chunk
    assert 0.003 <= share <= 0.03


def test_positives_lie_in_the_window(small_town: Path) -> None:
    pos = truth(small_town).filter(pl.col("kind") == "positive")
    for r in pos.iter_rows(named=True):
        assert WINDOW_START <= r["period_start"] <= r["period_end"] <= AS_OF, r
        assert r["amount_at_stake_dkk"] > 0, r
        assert r["anchor_date"] <= r["period_end"], r


def _events(out: Path) -> pl.DataFrame:
    return clean(out, "residence_events")


def test_injected_facts_are_present(small_town: Path) -> None:
    ev = _events(small_town)
    pay = clean(small_town, "payments")
    inc = clean(small_town, "income")
    rel = clean(small_town, "relations")
    pos = truth(small_town).filter(pl.col("kind") == "positive")
    for r in pos.iter_rows(named=True):
        cpr, rule, s, anchor = r["cpr"], r["rule_id"], r["period_start"], r["anchor_date"]
        own = ev.filter(pl.col("cpr") == cpr).sort("event_date")
        if rule in ("R02", "R03", "R07"):
            kind = {"R02": "emigrated", "R03": "died", "R07": "disappeared"}[rule]
            hit = own.filter((pl.col("event_type") == kind) & (pl.col("event_date") == anchor))
            assert hit.height == 1 and anchor <= s, r
            later = own.filter((pl.col("event_date") > anchor) & (pl.col("event_date") <= s))
            assert later.height == 0, r
        elif rule == "R01":
            family = rel.filter(pl.col("cpr") == cpr)["related_cpr"].to_list()
            gone = ev.filter(
                pl.col("cpr").is_in(family)
                & (pl.col("event_type") == "emigrated")
                & (pl.col("event_date") == anchor)
            )
            assert gone.height >= 1 and anchor <= s, r
            assert own.filter(pl.col("event_date") <= s)["event_type"][-1] in (
                "address",
                "immigrated",
            ), r
        elif rule == "R04":
            month_income = inc.filter((pl.col("cpr") == cpr) & (pl.col("month") == anchor))
            assert month_income["gross_income_dkk"].sum() > Decimal("1000.00"), r
        elif rule == "R05":
            lines = pay.filter(
                (pl.col("cpr") == cpr)
                & (pl.col("benefit_code") == "BOERNETILSKUD_ENLIG")
                & (pl.col("period_start") == anchor)
            )
            assert lines.height >= 1, r
        elif rule == "R06":
            codes = pay.filter(
                (pl.col("cpr") == cpr)
                & pl.col("benefit_code").is_in(REPLACEMENT)
                & (pl.col("period_start") <= anchor)
                & (pl.col("period_end") >= anchor)
            )["benefit_code"]
            assert codes.n_unique() >= 2, r


def _prorated(line: dict[str, Any], shared: int) -> Decimal:
    n = (line["period_end"] - line["period_start"]).days + 1
    value = line["amount_dkk"] * shared / n
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_r06_partial_overlap_by_hand(small_town: Path) -> None:
    """The prorated pair amount, recomputed with Decimal half-up from the lines."""
    gt = truth(small_town).filter(
        (pl.col("rule_id") == "R06") & pl.col("scenario").str.starts_with("sygedagpenge to")
    )
    assert gt.height >= 1
    pay = clean(small_town, "payments")
    for r in gt.iter_rows(named=True):
        lines = pay.filter(
            (pl.col("cpr") == r["cpr"])
            & (pl.col("period_start").dt.month_start() == r["anchor_date"].replace(day=1))
        )
        a = lines.filter(pl.col("benefit_code") == "SYGEDAGPENGE").row(0, named=True)
        b = lines.filter(pl.col("benefit_code") == "DAGPENGE").row(0, named=True)
        shared = (
            min(a["period_end"], b["period_end"]) - max(a["period_start"], b["period_start"])
        ).days + 1
        assert shared == 11

        assert r["amount_at_stake_dkk"] == min(_prorated(a, shared), _prorated(b, shared))
        assert r["anchor_date"] == b["period_start"]


@pytest.mark.parametrize("town", ["small_town", "high_hit_town"])
def test_rules_emit_exactly_the_positives(town: str, request: pytest.FixtureRequest) -> None:
    """The oracle over the whole delivery (background included) finds only the positives.

    R01-R07 by :func:`oracle_cases`, R08-R11 (the partner registers) by
    :func:`partner_oracle_cases`: every rule of the catalogue is compared. Also
    on the high-hit town (``hit_rate``), where ten times as many persons are hit.
    """
    small_town: Path = request.getfixturevalue(town)
    cases = {**oracle_cases(small_town, AS_OF), **partner_oracle_cases(small_town, AS_OF)}
    got = {
        (
            c.rule_id,
            c.person,
            to_date(c.period_start),
            to_date(c.period_end),
            Decimal(c.amount) / 100,
            to_date(c.anchor),
        )
        for c in cases.values()
    }
    pos = truth(small_town).filter((pl.col("kind") == "positive") & pl.col("rule_id").is_in(RULES))
    expected = {
        (
            r["rule_id"],
            r["cpr"],
            r["period_start"],
            r["period_end"],
            r["amount_at_stake_dkk"],
            r["anchor_date"],
        )
        for r in pos.iter_rows(named=True)
    }
    assert got == expected


def test_injection_independent_of_protected_attributes(tmp_path: Path) -> None:
    """Sanity bound only: injected persons look like the adult population by sex and citizenship."""
    out = tmp_path / "town"
    synthesize(out, persons=20_000, seed=99)
    persons = pl.read_parquet(out / "persons.parquet")
    adults = persons.filter(pl.col("birth_date") <= date(2008, 10, 31))
    injected = persons.filter(pl.col("cpr").is_in(truth(out)["cpr"].to_list()))
    assert injected.height >= 80
    for column, value in (("sex", "K"), ("citizenship", "DK")):
        share_all = (adults[column] == value).mean()
        share_injected = (injected[column] == value).mean()
        assert abs(share_all - share_injected) < 0.15, (column, share_all, share_injected)
