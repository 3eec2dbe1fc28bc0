"""Helpers shared by the synth tests: read a delivery back and run the oracle on it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from kontrol.schema import CPR_PATTERN
from kontrol.synth.calendar import Calendar, day
from kontrol.synth.oracle import Case, evaluate

AS_OF = date(2026, 10, 31)
SMALL_PERSONS = 3000
SMALL_SEED = 4242
SMALL_DEFECTS = 8
#: ``hit_rate`` of the high-hit town (issue 12: about 3 % of persons hit).
HIGH_HIT_RATE = 0.03


def ore(value: Decimal) -> int:
    return int(value * 100)


def clean(out: Path, name: str) -> pl.DataFrame:
    """An extract without the injected defect rows (identified via ground_truth_rejects)."""
    frame = pl.read_parquet(out / f"{name}.parquet")
    rejects = pl.read_parquet(out / "ground_truth_rejects.parquet").filter(
        pl.col("extract") == name
    )
    ids = set(rejects["row_id"].to_list())
    if not ids:
        return frame
    if name == "payments":
        return frame.filter(~pl.col("payment_id").is_in(list(ids)))
    if name in ("persons", "income", "relations"):
        col = "cpr" if name != "relations" else "related_cpr"
        return frame.filter(pl.col(col).str.contains(CPR_PATTERN))
    key = pl.concat_str([pl.col("cpr"), pl.col("event_date").cast(pl.String)], separator="|")
    return frame.filter(~key.is_in(list(ids)))


def oracle_cases(out: Path, as_of: date) -> dict[tuple[str, Any], Case]:
    cal = Calendar.build(as_of, 15)
    persons = clean(out, "persons")
    births = {c: day(b) for c, b in persons.select("cpr", "birth_date").iter_rows()}
    events = [
        (c, day(d), t, a)
        for c, d, t, a in clean(out, "residence_events")
        .select("cpr", "event_date", "event_type", "address_id")
        .iter_rows()
    ]
    relations = [
        (c, r, rel, day(f), None if t is None else day(t))
        for c, r, rel, f, t in clean(out, "relations").iter_rows()
    ]
    payments = [
        (c, code, day(s), day(e), ore(a))
        for c, code, s, e, a in clean(out, "payments")
        .select("cpr", "benefit_code", "period_start", "period_end", "amount_dkk")
        .iter_rows()
    ]
    income = [
        (c, day(m), ore(a))
        for c, m, a in clean(out, "income").select("cpr", "month", "gross_income_dkk").iter_rows()
    ]
    return evaluate(births, events, relations, payments, income, day(as_of), cal.window_start)


def truth(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "ground_truth.parquet")


def sha256_all(out: Path) -> dict[str, str]:
    import hashlib

    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.iterdir())
        if p.is_file()
    }


def parquet_schema(path: Path) -> Any:
    return pq.read_schema(path)


PARTNER_RULES = ("R08", "R09", "R10", "R11")


def partner_oracle_cases(out: Path, as_of: date) -> dict[tuple[str, Any], Case]:
    """R08-R11 by the generator's oracle over the whole delivery (background included)."""
    from kontrol.synth.oracle import evaluate_partner

    cal = Calendar.build(as_of, 15)
    persons = clean(out, "persons")
    births = {c: day(b) for c, b in persons.select("cpr", "birth_date").iter_rows()}
    events = [
        (c, day(d), t, a)
        for c, d, t, a in clean(out, "residence_events")
        .select("cpr", "event_date", "event_type", "address_id")
        .iter_rows()
    ]
    relations = [
        (c, r, rel, day(f), None if t is None else day(t))
        for c, r, rel, f, t in clean(out, "relations").iter_rows()
    ]
    payments = [
        (c, code, day(s), day(e), ore(a))
        for c, code, s, e, a in clean(out, "payments")
        .select("cpr", "benefit_code", "period_start", "period_end", "amount_dkk")
        .iter_rows()
    ]
    income = [
        (c, cvr, day(m), ore(a))
        for c, cvr, m, a in clean(out, "income")
        .select("cpr", "employer_cvr", "month", "gross_income_dkk")
        .iter_rows()
    ]
    readings = [
        (a, u, day(m), int(v * 1000))
        for a, u, m, v in pl.read_parquet(out / "utility_readings.parquet").iter_rows()
    ]
    tenancies = [
        (lease, a, c, role, day(f), None if t is None else day(t))
        for lease, a, c, role, f, t in pl.read_parquet(out / "tenancies.parquet").iter_rows()
    ]
    inspections = [
        (i, day(d), cvr, c)
        for i, d, cvr, c in pl.read_parquet(out / "inspections.parquet").iter_rows()
    ]
    custody = [
        (c, t, day(s), None if e is None else day(e))
        for c, t, s, e in pl.read_parquet(out / "custody.parquet").iter_rows()
    ]
    return evaluate_partner(
        births,
        events,
        relations,
        payments,
        income,
        day(as_of),
        cal.window_start,
        readings=readings,
        tenancies=tenancies,
        inspections=inspections,
        custody=custody,
    )
