"""Row defects: extra, deliberately broken rows that the loader must set aside.

They are *added* rows with fresh identifiers (never edits of clean rows), drawn
from their own random stream, so removing them leaves exactly the delivery
generated with ``row_defects=0`` and the ground truth of cases is unaffected.
Each defective row breaks exactly one constraint of :mod:`kontrol.schema`, and
its expected reject reason is that constraint's ``reason`` text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import pyarrow as pa

from kontrol.schema import (
    AtLeast,
    ColumnPair,
    Constraint,
    ExtractSpec,
    InSet,
    MatchesRegex,
    RequiredWhen,
)
from kontrol.synth.calendar import Calendar, IntArray, to_date

#: (extract, defect) in the order they are handed out.
KINDS: tuple[tuple[str, str], ...] = (
    ("payments", "unknown benefit_code"),
    ("residence_events", "unknown event_type"),
    ("payments", "period_end in another month"),
    ("income", "malformed cpr"),
    ("payments", "negative regular payment"),
    ("residence_events", "address event without address_id"),
    ("persons", "malformed cpr"),
    ("relations", "malformed related_cpr"),
)


@dataclass(frozen=True)
class Reject:
    extract: str
    row_id: str
    reason: str
    defect: str


def _reason(spec: ExtractSpec, column: str, kind: type[Constraint], text: str = "") -> str:
    for c in spec.all_constraints():
        if c.column == column and isinstance(c, kind) and text in c.reason:
            return c.reason
    raise KeyError((spec.name, column, kind))  # pragma: no cover


def _broken(cpr: str) -> str:
    """A cpr that fails the pattern but stays unique: last digit replaced by 'X'."""
    return cpr[:9] + "X"


def make_defects(
    count: int,
    rng: np.random.Generator,
    cal: Calendar,
    specs: dict[str, ExtractSpec],
    tables: dict[str, pa.Table],
    first_event: IntArray,
) -> tuple[dict[str, pa.Table], list[Reject]]:
    """``count`` defective rows for the extracts of chunk 0 (at most 1 % of each)."""
    cap = {name: t.num_rows // 100 for name, t in tables.items()}
    used = dict.fromkeys(tables, 0)
    rows: dict[str, list[dict[str, object]]] = {name: [] for name in tables}
    rejects: list[Reject] = []
    cprs = tables["persons"]["cpr"].to_pylist()
    candidates = rng.permutation(np.nonzero(first_event < cal.as_of)[0])
    pick = iter(int(i) for i in candidates)
    k = 0
    for i in range(count):
        for _ in range(len(KINDS)):
            extract, defect = KINDS[k % len(KINDS)]
            k += 1
            if used[extract] < cap[extract]:
                break
        else:
            raise ValueError(
                f"row_defects={count} would reject more than 1 % of an extract; "
                "use fewer defects or more persons"
            )
        used[extract] += 1
        p = next(pick)
        cpr = cprs[p]
        spec = specs[extract]
        month = cal.months - 2
        s = to_date(cal.ms(month))
        if extract == "payments":
            pid = f"DEFECT{i:07d}"
            row: dict[str, object] = {
                "payment_id": pid,
                "cpr": cpr,
                "benefit_code": "KONTANTHJAELP",
                "period_start": s,
                "period_end": to_date(cal.me(month)),
                "amount_dkk": Decimal("1234.56"),
                "payment_type": "regular",
                "paid_date": s,
            }
            if defect == "unknown benefit_code":
                row["benefit_code"] = "SU_STIPENDIUM"
                reason = _reason(spec, "benefit_code", InSet)
            elif defect == "period_end in another month":
                row["period_start"] = to_date(cal.ms(month) + 19)
                row["period_end"] = to_date(cal.ms(month + 1) + 4)
                reason = _reason(spec, "period_end", ColumnPair, "another month")
            else:
                row["amount_dkk"] = Decimal("-1234.56")
                reason = _reason(spec, "amount_dkk", AtLeast)
            row_id = pid
        elif extract == "residence_events":
            d = to_date(int(first_event[p]) - 1)
            row = {
                "cpr": cpr,
                "event_date": d,
                "event_type": "address",
                "address_id": None,
                "country_code": None,
            }
            if defect == "unknown event_type":
                row["event_type"] = "moved_abroad"
                reason = _reason(spec, "event_type", InSet)
            else:
                reason = _reason(spec, "address_id", RequiredWhen)
            row_id = f"{cpr}|{d.isoformat()}"
        elif extract == "income":
            m = date(s.year, s.month, 1)
            row = {
                "cpr": _broken(cpr),
                "employer_cvr": "12345678",
                "month": m,
                "gross_income_dkk": Decimal("2500.00"),
            }
            reason = _reason(spec, "cpr", MatchesRegex)
            row_id = f"{_broken(cpr)}|12345678|{m.isoformat()}"
        elif extract == "persons":
            row = {
                "cpr": _broken(cpr),
                "birth_date": date(1980, 1, 1),
                "sex": "K",
                "citizenship": "DK",
                "municipality_code": 461,
            }
            reason = _reason(spec, "cpr", MatchesRegex)
            row_id = _broken(cpr)
        else:
            vfrom = date(2020, 1, 1)
            row = {
                "cpr": cpr,
                "related_cpr": _broken(cpr),
                "relation": "spouse",
                "valid_from": vfrom,
                "valid_to": None,
            }
            reason = _reason(spec, "related_cpr", MatchesRegex)
            row_id = f"{cpr}|{_broken(cpr)}|spouse|{vfrom.isoformat()}"
        rows[extract].append(row)
        rejects.append(Reject(extract, row_id, reason, defect))
    out = {
        name: pa.Table.from_pylist(r, schema=tables[name].schema) for name, r in rows.items() if r
    }
    return out, rejects
