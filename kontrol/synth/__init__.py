"""Synthetic deliveries: a realistic town with known, injected cases.

:func:`synthesize` writes the five extracts of CONTRACT.md section 1 plus

* ``ground_truth.parquet``: one row per injected (rule_id, cpr): ``positive``
  rows carry the exact case the rules must emit for a run with ``as_of`` and a
  12-month window; ``near_miss`` rows must produce no case for that pair. The
  promise: the cases the rules emit are exactly the positives.
* ``ground_truth_rejects.parquet``: the deliberately defective rows
  (``row_defects``) with the reject reason the loader should give;
* ``synth.json``: the parameters and generator version.

**High-hit deliveries** (``hit_rate``, ``kontrol synth --hit-rate 0.03``): the
usual injection hits about 0.4 % of persons (1M persons, seed 7: 0.42 %), a normal month. A wrong
threshold or a bad delivery can hit ten times as many (issue 12), and the
run must be measured there too. ``hit_rate`` injects, on top, positive
scenarios of the R01-R07 catalogue in turn for about that share of persons,
each on a household no other scenario took, from its own random stream
``default_rng([seed, chunk, 4])``. They are the same scenarios, checked by the
same oracle, so the ground truth stays exact. With ``hit_rate`` 0 (the
default) nothing is drawn from that stream: the output is byte for byte what
it was (the generator version is unchanged).

Why chunks: the town is generated in independent chunks of at most
:data:`CHUNK_PERSONS` persons, each from its own random stream
``default_rng([seed, chunk])``, and streamed to Parquet row groups. Memory is
bounded by one chunk, and the output depends only on the arguments (no clock,
no hash randomisation), so the same arguments give byte-identical files.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from kontrol import io
from kontrol.schema import CASE_MONEY, OPTIONAL_EXTRACT_NAMES, all_extract_specs
from kontrol.synth.background import build_background
from kontrol.synth.benign import BENIGN, UNFOUNDED_DESCRIPTIONS
from kontrol.synth.calendar import Calendar
from kontrol.synth.defects import Reject, make_defects
from kontrol.synth.model import BENEFIT_CODES, take
from kontrol.synth.oracle import Case
from kontrol.synth.output import (
    arrow_schema,
    arrow_type,
    custody_table,
    date_array,
    decimal_array,
    events_table,
    income_table,
    inspections_table,
    open_writer,
    padded,
    payments_table,
    persons_table,
    readings_table,
    relations_table,
    tenancies_table,
    uuid_strings,
    write_table,
)
from kontrol.synth.population import Population, build_population
from kontrol.synth.registers import INJECT_RATE as PARTNER_INJECT_RATE
from kontrol.synth.registers import PARTNER_CATALOGUE, build_registers
from kontrol.synth.scenarios import CATALOGUE, POS, Injected, Scenario, inject

__all__ = ["GENERATOR_VERSION", "SynthSummary", "synthesize"]

GENERATOR_VERSION = "2.0.0"
CHUNK_PERSONS = 50_000
#: Injected scenarios per person (about 0.5 %); chunk 0 always gets the whole catalogue.
INJECT_RATE = 0.005
#: The scenarios ``hit_rate`` adds: the positives of the R01-R07 catalogue.
POSITIVES: tuple[Scenario, ...] = tuple(s for s in CATALOGUE if s.kind == POS)
#: ``hit_rate`` at most this: beyond it a chunk runs short of suitable households
#: (single adults: about 6,700 households per 50,000 persons, 11 of the 20 positives).
MAX_HIT_RATE = 0.1
#: The random streams of the added injections, ``default_rng([seed, chunk, stream])``.
UNFOUNDED_STREAM = 3
HIT_STREAM = 4
WINDOW_MONTHS = 12
EXTRACTS = ("persons", "residence_events", "relations", "payments", "income")
#: ``--registers``: v1 = the five required extracts only (byte-identical to generator
#: 1.0.0's delivery); v2 = also the four optional partner registers of CONTRACT.md 1b.
REGISTER_VERSIONS = ("v1", "v2")


@dataclass
class SynthSummary:
    """What was written: rows per file and ground-truth cases per rule and kind."""

    out_dir: Path
    persons: int
    seed: int
    as_of: date
    months: int
    rows: dict[str, int] = field(default_factory=dict)
    cases: dict[tuple[str, str], int] = field(default_factory=dict)
    rejects: int = 0

    def lines(self) -> list[str]:
        out = [
            f"synthetic delivery in {self.out_dir}: {self.persons} persons, seed {self.seed}, "
            f"as_of {self.as_of.isoformat()}, {self.months} months",
        ]
        out += [f"  {name:<28} {n:>12,} rows" for name, n in self.rows.items()]
        rules = sorted({r for r, _ in self.cases})
        out.append("  ground truth (positive / near_miss):")
        for r in rules:
            out.append(
                f"    {r}: {self.cases.get((r, 'positive'), 0):>6} / "
                f"{self.cases.get((r, 'near_miss'), 0):>6}"
            )
        out.append(f"  defective rows (expected rejects): {self.rejects}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _chunk_sizes(persons: int) -> list[int]:
    n = max(1, -(-persons // CHUNK_PERSONS))
    base, extra = divmod(persons, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def _sorted(cols: dict[str, np.ndarray], keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    order = np.lexsort(tuple(cols[k] for k in reversed(keys)))
    return take(cols, order)


def _merged(
    keep: np.ndarray, a: dict[str, np.ndarray], b: dict[str, np.ndarray], keys: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Background rows of the households kept, plus the injected rows, sorted by ``keys``."""
    kept = take(a, np.nonzero(keep[a["pidx"]])[0])
    return _sorted({c: np.concatenate([kept[c], b[c]]) for c in a}, keys)


def _truth_table(
    rows: list[tuple[str, str, str, str, Case | None]], with_founded: bool = False
) -> pa.Table:
    rows.sort(key=lambda r: (r[0], r[2], r[1]))
    cases = [r[4] for r in rows]
    missing = np.array([c is None for c in cases], dtype=bool)

    def days(attr: str) -> np.ndarray:
        return np.array(
            [getattr(c, attr) if c is not None else 10**7 for c in cases], dtype=np.int64
        )

    amounts = np.array(
        [c.amount if c is not None else 0 for c in cases],
        dtype=np.int64,
    )
    money = arrow_type(CASE_MONEY)
    table = pa.Table.from_arrays(
        [
            pa.array([r[0] for r in rows], pa.string()),
            pa.array([r[1] for r in rows], pa.string()),
            pa.array([r[2] for r in rows], pa.string()),
            pa.array([r[3] for r in rows], pa.string()),
            date_array(days("period_start")),
            date_array(days("period_end")),
            decimal_array(amounts, money.precision, mask=missing),
            date_array(days("anchor")),
        ],
        names=[
            "rule_id",
            "cpr",
            "kind",
            "scenario",
            "period_start",
            "period_end",
            "amount_at_stake_dkk",
            "anchor_date",
        ],
    )
    if with_founded:
        # a positive is founded unless it comes from (or is a side effect of) a benign scenario
        founded = [
            None
            if r[2] != "positive"
            else not any(r[3].endswith(d) for d in UNFOUNDED_DESCRIPTIONS)
            for r in rows
        ]
        table = table.append_column("founded", pa.array(founded, pa.bool_()))
    return table


def _with_more(
    seed: int,
    k: int,
    stream: int,
    catalogue: tuple[Scenario, ...],
    cal: Calendar,
    pop: Population,
    inj: Injected,
    count: int,
) -> Injected:
    """``inj`` plus ``count`` scenarios of ``catalogue`` on households it did not take.

    The opt-in injections (``unfounded_rate``: :data:`~kontrol.synth.benign.BENIGN`;
    ``hit_rate``: :data:`POSITIVES`), each from its own random ``stream``, so
    the default path draws exactly the same random numbers as without them.
    """
    extra = inject(
        np.random.default_rng([seed, k, stream]),
        cal,
        pop,
        count,
        0,
        inj.next_addr,
        catalogue=catalogue,
        exclude=inj.households,
    )

    def cat(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {c: np.concatenate([a[c], b[c]]) for c in a}

    return Injected(
        households=np.sort(np.concatenate([inj.households, extra.households])),
        events=cat(inj.events, extra.events),
        relations=cat(inj.relations, extra.relations),
        payments=cat(inj.payments, extra.payments),
        income=cat(inj.income, extra.income),
        truth=inj.truth + extra.truth,
        next_addr=extra.next_addr,
    )


def _rejects_table(rejects: list[Reject]) -> pa.Table:
    return pa.Table.from_arrays(
        [
            pa.array([r.extract for r in rejects], pa.string()),
            pa.array([r.row_id for r in rejects], pa.string()),
            pa.array([r.reason for r in rejects], pa.string()),
            pa.array([r.defect for r in rejects], pa.string()),
        ],
        names=["extract", "row_id", "reason", "defect"],
    )


def synthesize(
    out_dir: Path,
    persons: int,
    seed: int,
    as_of: date = date(2026, 10, 31),
    months: int = 15,
    row_defects: int = 0,
    unfounded_rate: float = 0.0,
    registers: str = "v2",
    hit_rate: float = 0.0,
) -> SynthSummary:
    """Write a synthetic delivery of ``persons`` persons into ``out_dir``.

    Payments and income cover the ``months`` calendar months ending with the
    month of ``as_of`` (cut at as_of); ``months`` must exceed the 12-month rule
    window so that window-edge scenarios have lines before the window.
    ``hit_rate`` adds positive R01-R07 scenarios for about that share of
    persons (a high-hit delivery; see the module docstring).
    """
    if persons < 1:
        raise ValueError("persons must be at least 1")
    if months <= WINDOW_MONTHS:
        raise ValueError(f"months must be at least {WINDOW_MONTHS + 1}")
    if row_defects < 0:
        raise ValueError("row_defects must be >= 0")
    if not 0.0 <= unfounded_rate < 0.5:
        raise ValueError("unfounded_rate must be in [0, 0.5)")
    if not 0.0 <= hit_rate <= MAX_HIT_RATE:
        raise ValueError(f"hit_rate must be in [0, {MAX_HIT_RATE}]")
    if registers not in REGISTER_VERSIONS:
        raise ValueError(f"registers must be one of {', '.join(REGISTER_VERSIONS)}")
    names = EXTRACTS + (OPTIONAL_EXTRACT_NAMES if registers == "v2" else ())
    out_dir = Path(out_dir)
    cal = Calendar.build(as_of, months, WINDOW_MONTHS)
    specs = all_extract_specs(BENEFIT_CODES)
    schemas = {name: arrow_schema(specs[name]) for name in names}
    sizes = _chunk_sizes(persons)
    writers = {name: open_writer(out_dir / f"{name}.parquet", schemas[name]) for name in names}
    rows = Counter[str]()
    truth: list[tuple[str, str, str, str, Case | None]] = []
    rejects: list[Reject] = []
    offset = 0
    partner_offset = 0
    try:
        for k, size in enumerate(sizes):
            rng = np.random.default_rng([seed, k])
            pop = build_population(rng, cal, size, k, len(sizes))
            bg = build_background(rng, cal, pop)
            count = max(len(CATALOGUE) if k == 0 else 0, round(INJECT_RATE * size))
            inj = inject(rng, cal, pop, count, offset, bg.addresses.used)
            offset = (offset + count) % len(CATALOGUE)
            if hit_rate > 0:
                hits = round(hit_rate * size)
                inj = _with_more(seed, k, HIT_STREAM, POSITIVES, cal, pop, inj, hits)
            if unfounded_rate > 0:
                benign = round(unfounded_rate * size)
                inj = _with_more(seed, k, UNFOUNDED_STREAM, BENIGN, cal, pop, inj, benign)
            keep = ~np.isin(pop.hh, inj.households)

            ev = _merged(keep, bg.events, inj.events, ("pidx", "day"))
            rel = _merged(keep, bg.relations, inj.relations, ("pidx", "rel", "ridx", "vfrom"))
            pay = _merged(
                keep, bg.payments, inj.payments, ("pidx", "s", "code", "ptype", "paid", "amount")
            )
            inc = _merged(keep, bg.income, inj.income, ("pidx", "month", "cvr"))

            cpr = padded(pop.cpr, 10)
            addresses = uuid_strings(np.random.default_rng([seed, k, 1]), inj.next_addr)
            partner = None
            if registers == "v2":
                partner_count = max(
                    len(PARTNER_CATALOGUE) if k == 0 else 0, round(PARTNER_INJECT_RATE * size)
                )
                partner = build_registers(
                    seed, k, cal, pop, keep, ev, pay, inc, rel, partner_count, partner_offset
                )
                partner_offset = (partner_offset + partner_count) % len(PARTNER_CATALOGUE)
                if len(partner.zero_income["pidx"]):
                    inc = _sorted(
                        {c: np.concatenate([inc[c], partner.zero_income[c]]) for c in inc},
                        ("pidx", "month", "cvr"),
                    )
            ids = padded(k * 100_000_000 + np.arange(len(pay["pidx"]), dtype=np.int64), 12, "P")
            tables = {
                "persons": persons_table(pop, cpr, schemas["persons"]),
                "residence_events": events_table(ev, cpr, addresses, schemas["residence_events"]),
                "relations": relations_table(rel, cpr, schemas["relations"]),
                "payments": payments_table(pay, ids, cpr, schemas["payments"]),
                "income": income_table(inc, cpr, schemas["income"]),
            }
            if partner is not None:
                tables["utility_readings"] = readings_table(
                    partner.readings, addresses, cal, schemas["utility_readings"]
                )
                tables["tenancies"] = tenancies_table(
                    partner.tenancies, k, addresses, cpr, partner.outsiders, schemas["tenancies"]
                )
                tables["inspections"] = inspections_table(
                    partner.inspections, k, cpr, schemas["inspections"]
                )
                tables["custody"] = custody_table(partner.custody, cpr, schemas["custody"])
            if k == 0 and row_defects:
                first_event = np.full(pop.n, 10**7, dtype=np.int64)
                np.minimum.at(first_event, ev["pidx"], ev["day"])
                extra, rejects = make_defects(
                    row_defects,
                    np.random.default_rng([seed, 0, 2]),
                    cal,
                    specs,
                    tables,
                    first_event,
                )
                for name, t in extra.items():
                    tables[name] = pa.concat_tables([tables[name], t])
            for name in names:
                write_table(writers[name], tables[name])
                rows[name] += tables[name].num_rows
            cpr_list = cpr.to_pylist()
            for t in inj.truth:
                truth.append((t.rule_id, cpr_list[t.pidx], t.kind, t.scenario, t.case))
            if partner is not None:
                for rule_id, pidx, kind, scenario, case in partner.truth:
                    truth.append((rule_id, cpr_list[pidx], kind, scenario, case))
    finally:
        for w in writers.values():
            w.close()

    gt = _truth_table(truth, with_founded=unfounded_rate > 0)
    io.write_arrow_table(
        gt, out_dir / "ground_truth.parquet", compression="zstd", compression_level=3, version="2.6"
    )
    io.write_arrow_table(
        _rejects_table(rejects),
        out_dir / "ground_truth_rejects.parquet",
        compression="zstd",
        compression_level=3,
        version="2.6",
    )
    params = {
        "generator": "kontrol.synth",
        "generator_version": GENERATOR_VERSION,
        "persons": persons,
        "seed": seed,
        "as_of": as_of.isoformat(),
        "months": months,
        "row_defects": row_defects,
        "window_months": WINDOW_MONTHS,
        "chunk_persons": CHUNK_PERSONS,
        "registers": registers,
    }
    if unfounded_rate > 0:
        params["unfounded_rate"] = unfounded_rate
    if hit_rate > 0:
        params["hit_rate"] = hit_rate
    io.write_text(json.dumps(params, indent=2, sort_keys=True) + "\n", out_dir / "synth.json")
    summary = SynthSummary(out_dir, persons, seed, as_of, months)
    summary.rows = {f"{n}.parquet": rows[n] for n in names}
    summary.rows["ground_truth.parquet"] = gt.num_rows
    cases = Counter((r[0], r[2]) for r in truth)
    summary.cases = dict(sorted(cases.items()))
    summary.rejects = len(rejects)
    return summary
