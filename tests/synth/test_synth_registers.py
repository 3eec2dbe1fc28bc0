"""The optional partner registers (CONTRACT.md 1b) of the synthetic town and their R08-R11 truth."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
from synth_helpers import (
    AS_OF,
    PARTNER_RULES,
    SMALL_PERSONS,
    SMALL_SEED,
    partner_oracle_cases,
    sha256_all,
    truth,
)

from kontrol.schema import OPTIONAL_SPECS
from kontrol.synth import synthesize
from kontrol.synth.calendar import to_date

WINDOW_START = date(2025, 11, 1)


def test_every_partner_rule_has_positives_and_near_misses(small_town: Path) -> None:
    gt = truth(small_town)
    for rule in PARTNER_RULES:
        kinds = gt.filter(pl.col("rule_id") == rule)["kind"].to_list()
        assert kinds.count("positive") >= 2, rule
        assert kinds.count("near_miss") >= 3, rule
    scenarios = set(gt.filter(pl.col("rule_id").is_in(PARTNER_RULES))["scenario"])
    for needle in (
        "without a reading",
        "10.001 kWh",
        "moved in within the three months",
        "turns 18 only after as_of",
        "own child turns 18",
        "ends the day the lodger's begins",
        "not in persons",
        "income 0.00",
        "declared income that month",
        "no work-excluded line covers",
        "not work-excluded",
        "touching a sentence",
        "open remand, at least 14 days",
        "a 13-day spell",
        "gap of one day",
        "open remand of 13 days",
    ):
        assert any(needle in s for s in scenarios), needle


def test_optional_files_have_the_declared_schemas(small_town: Path) -> None:
    for name, spec in OPTIONAL_SPECS.items():
        frame = pl.read_parquet(small_town / spec.file_name)
        assert frame.schema == spec.schema, name
        assert frame.height > 0, name
        if spec.key:
            assert not frame.select(spec.key).is_duplicated().any(), name


def test_background_is_realistic(small_town: Path) -> None:
    readings = pl.read_parquet(small_town / "utility_readings.parquet")
    per = readings.group_by("utility").agg(
        pl.col("address_id").n_unique().alias("dwellings"),
        pl.col("consumption").median().alias("median"),
    )
    dwellings = dict(per.select("utility", "dwellings").iter_rows())
    addresses = pl.read_parquet(small_town / "residence_events.parquet")["address_id"].n_unique()
    assert dwellings["electricity"] > 0.8 * addresses
    assert dwellings["water"] < dwellings["electricity"]
    medians = dict(per.select("utility", "median").iter_rows())
    assert Decimal(100) < medians["electricity"] < Decimal(400)
    assert medians["water"] < Decimal(10)  # most water readings are at most 10: m³, not kWh
    tenancies = pl.read_parquet(small_town / "tenancies.parquet")
    assert set(tenancies["role"]) == {"tenant", "co_tenant"}
    assert tenancies.filter(pl.col("role") == "co_tenant").height > 50
    custody = pl.read_parquet(small_town / "custody.parquet")
    length = (custody["end_date"] - custody["start_date"]).dt.total_days() + 1
    assert (length < 14).sum() >= 5  # short remand spells
    inspections = pl.read_parquet(small_town / "inspections.parquet")
    income = pl.read_parquet(small_town / "income.parquet").filter(pl.col("gross_income_dkk") > 0)
    declared = inspections.with_columns(month=pl.col("inspection_date").dt.month_start()).join(
        income, on=["cpr", "employer_cvr", "month"], how="semi"
    )
    assert declared.height >= 0.6 * inspections.height  # most meet declared workers


def test_partner_rules_emit_exactly_the_positives(small_town: Path) -> None:
    """The oracle over the whole delivery finds exactly the positives: the background is clean."""
    cases = partner_oracle_cases(small_town, AS_OF)
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
    pos = truth(small_town).filter(
        (pl.col("kind") == "positive") & pl.col("rule_id").is_in(PARTNER_RULES)
    )
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
    for r in pos.iter_rows(named=True):
        assert WINDOW_START <= r["period_start"] <= r["period_end"] <= AS_OF, r


def _half_up(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_r10_two_days_prorated_by_hand(small_town: Path) -> None:
    """k = 2 distinct flagged days (three inspections, two on the first day), rounded half up."""
    gt = truth(small_town).filter(pl.col("scenario").str.starts_with("met on two days"))
    assert gt.height >= 1
    pay = pl.read_parquet(small_town / "payments.parquet")
    for r in gt.iter_rows(named=True):
        line = pay.filter(
            (pl.col("cpr") == r["cpr"])
            & (pl.col("period_start") == r["period_start"])
            & pl.col("benefit_code").is_in(
                ["KONTANTHJAELP", "UDDANNELSESHJAELP", "SYGEDAGPENGE", "DAGPENGE"]
            )
        )
        amount = line["amount_dkk"].sum()
        n = (r["period_end"] - r["period_start"]).days + 1
        assert r["amount_at_stake_dkk"] == _half_up(amount * 2 / n)


def test_r11_touching_spells_make_one_spell(small_town: Path) -> None:
    gt = truth(small_town).filter(pl.col("scenario").str.starts_with("remand of 6 days"))
    custody = pl.read_parquet(small_town / "custody.parquet")
    assert gt.height >= 1
    for r in gt.iter_rows(named=True):
        spells = custody.filter(pl.col("cpr") == r["cpr"]).sort("start_date")
        assert spells["custody_type"].to_list() == ["remand", "sentence"]
        first, second = spells.rows(named=True)
        assert (second["start_date"] - first["end_date"]).days == 1
        assert (second["end_date"] - first["start_date"]).days + 1 == 14
        assert r["anchor_date"] == first["start_date"]


def test_v1_registers_give_the_version_1_delivery(tmp_path: Path, small_town: Path) -> None:
    out = tmp_path / "v1"
    synthesize(
        out, persons=SMALL_PERSONS, seed=SMALL_SEED, as_of=AS_OF, row_defects=8, registers="v1"
    )
    assert not any((out / spec.file_name).exists() for spec in OPTIONAL_SPECS.values())
    v1, v2 = sha256_all(out), sha256_all(small_town)
    for name in ("persons", "residence_events", "relations", "payments"):
        assert v1[f"{name}.parquet"] == v2[f"{name}.parquet"], name
    # v2 only adds income rows of 0.00 (R10's edge), which no v1 rule counts
    inc1 = pl.read_parquet(out / "income.parquet")
    inc2 = pl.read_parquet(small_town / "income.parquet")
    extra = inc2.join(inc1, on=inc1.columns, how="anti")
    assert extra.height == inc2.height - inc1.height >= 1
    assert (extra["gross_income_dkk"] == 0).all()
    t1 = truth(out)
    t2 = truth(small_town).filter(~pl.col("rule_id").is_in(PARTNER_RULES))
    assert t1.equals(t2)
