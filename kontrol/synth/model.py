"""The generator's in-memory representation of one chunk of a delivery.

Rows are held column-wise as int64 numpy arrays that point into the chunk's
person table (``pidx``), its address table (``addr``) and small vocabularies
(benefit codes, event types, countries). Strings (cpr, payment ids, address
ids) are only materialised when a chunk is converted to Arrow, because string
handling is what would make 6 million persons slow.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kontrol.benefits import DEFAULT_BENEFITS
from kontrol.schema import EVENT_TYPES, PAYMENT_TYPES, RELATION_TYPES
from kontrol.synth.calendar import Calendar, IntArray

BENEFITS = DEFAULT_BENEFITS
BENEFIT_CODES: tuple[str, ...] = tuple(b.code for b in BENEFITS)
CODE = {code: i for i, code in enumerate(BENEFIT_CODES)}
KONTANT = CODE["KONTANTHJAELP"]
UDD = CODE["UDDANNELSESHJAELP"]
SYG = CODE["SYGEDAGPENGE"]
DAGP = CODE["DAGPENGE"]
FOLK = CODE["FOLKEPENSION"]
FOERTID = CODE["FOERTIDSPENSION"]
BOLIG = CODE["BOLIGSTOTTE"]
BU = CODE["BOERNE_UNGEYDELSE"]
BTE = CODE["BOERNETILSKUD_ENLIG"]
FRI = CODE["OEKONOMISK_FRIPLADS"]

#: Per code: requires residence (used to stop background payments at emigration).
RESIDENCE_REQUIRED = np.array([b.residence_required for b in BENEFITS], dtype=bool)
INCOME_TESTED = np.array([b.income_tested for b in BENEFITS], dtype=bool)

EV = {name: i for i, name in enumerate(EVENT_TYPES)}
ADDRESS, EMIGRATED, IMMIGRATED, DISAPPEARED, DIED = (
    EV["address"],
    EV["emigrated"],
    EV["immigrated"],
    EV["disappeared"],
    EV["died"],
)
REL = {name: i for i, name in enumerate(RELATION_TYPES)}
CHILD, SPOUSE = REL["child"], REL["spouse"]
PT = {name: i for i, name in enumerate(PAYMENT_TYPES)}
REGULAR, CORRECTION = PT["regular"], PT["correction"]

#: Citizenship mix (share of persons); DK about 88 %, the rest a plausible mix
#: of the largest immigrant groups in a Danish municipality.
CITIZENSHIP_SHARES: tuple[tuple[str, float], ...] = (
    ("DK", 0.880),
    ("PL", 0.015),
    ("RO", 0.012),
    ("UA", 0.012),
    ("DE", 0.009),
    ("SY", 0.008),
    ("TR", 0.008),
    ("SE", 0.006),
    ("IQ", 0.006),
    ("NO", 0.005),
    ("LT", 0.005),
    ("GB", 0.005),
    ("IN", 0.005),
    ("PK", 0.004),
    ("SO", 0.004),
    ("AF", 0.004),
    ("IR", 0.004),
    ("BA", 0.003),
)
#: Where emigrants go (besides, for foreign citizens, home).
DESTINATIONS = ("SE", "NO", "DE", "GB", "ES", "US", "NL", "FR", "AU", "CH")
COUNTRIES: tuple[str, ...] = tuple(sorted({c for c, _ in CITIZENSHIP_SHARES} | set(DESTINATIONS)))
COUNTRY = {c: i for i, c in enumerate(COUNTRIES)}
CIT_CODES = tuple(c for c, _ in CITIZENSHIP_SHARES)
CIT_P = np.array([p for _, p in CITIZENSHIP_SHARES])
CIT_P = CIT_P / CIT_P.sum()
#: citizenship index -> country index
CIT_TO_COUNTRY = np.array([COUNTRY[c] for c in CIT_CODES], dtype=np.int64)

EVENT_COLS = ("pidx", "day", "etype", "addr", "country")
RELATION_COLS = ("pidx", "ridx", "rel", "vfrom", "vto")
PAYMENT_COLS = ("pidx", "code", "s", "e", "amount", "ptype", "paid")
INCOME_COLS = ("pidx", "cvr", "month", "amount")


def empty(cols: tuple[str, ...]) -> dict[str, IntArray]:
    return {c: np.zeros(0, dtype=np.int64) for c in cols}


def concat(parts: list[dict[str, IntArray]], cols: tuple[str, ...]) -> dict[str, IntArray]:
    if not parts:
        return empty(cols)
    return {c: np.concatenate([np.asarray(p[c], dtype=np.int64) for p in parts]) for c in cols}


def take(columns: dict[str, IntArray], keep: IntArray) -> dict[str, IntArray]:
    return {c: v[keep] for c, v in columns.items()}


@dataclass
class ChunkRows:
    """All rows of one chunk (background plus injected), column-wise."""

    events: list[dict[str, IntArray]] = field(default_factory=list)
    relations: list[dict[str, IntArray]] = field(default_factory=list)
    payments: list[dict[str, IntArray]] = field(default_factory=list)
    income: list[dict[str, IntArray]] = field(default_factory=list)


def explode(
    cal: Calendar,
    pidx: IntArray,
    code: IntArray,
    start: IntArray,
    end: IntArray,
    monthly: IntArray,
) -> dict[str, IntArray]:
    """Benefit spells -> one regular line per calendar month (part months at the ends).

    A spell ``[start, end]`` paying ``monthly`` øre a month becomes lines
    ``[max(start, month start), min(end, month end)]`` in each month it
    touches, clipped to the span ``[first month, as_of]``. A part month pays
    ``monthly * days // days_in_month`` øre (integer, never floats), so a
    whole month pays exactly ``monthly``.
    """
    start = np.maximum(start, cal.span_start)
    end = np.minimum(end, cal.as_of)
    ok = end >= start
    pidx, code, start, end, monthly = pidx[ok], code[ok], start[ok], end[ok], monthly[ok]
    m0 = cal.index_of(start)
    m1 = cal.index_of(end)
    count = m1 - m0 + 1
    total = int(count.sum())
    rep = np.repeat(np.arange(len(start)), count)
    offsets = np.cumsum(count) - count
    m = m0[rep] + (np.arange(total) - offsets[rep])
    s = np.maximum(start[rep], cal.month_start[m])
    e = np.minimum(end[rep], cal.month_end[m])
    dim = cal.month_end[m] - cal.month_start[m] + 1
    amount = monthly[rep] * (e - s + 1) // dim
    return {
        "pidx": pidx[rep],
        "code": code[rep],
        "s": s,
        "e": e,
        "amount": amount,
        "ptype": np.full(total, REGULAR, dtype=np.int64),
        "paid": s.copy(),
    }
