"""Households and persons of one chunk: who lives with whom, ages, sex, citizenship.

Everything later (addresses, relations, benefits, the injected cases) is
derived from this table, so the protected attributes are drawn here once and
independently of anything the rules look at: sex 50/50 (couples mostly M+K),
citizenship from :data:`~kontrol.synth.model.CITIZENSHIP_SHARES` per household.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kontrol.synth.calendar import Calendar, IntArray, month_of, month_start_of_month
from kontrol.synth.model import CIT_P

# household types
SINGLE_YOUNG, SINGLE_ADULT, SINGLE_PENSIONER, COUPLE, COUPLE_PENSIONER, FAMILY, SINGLE_PARENT = (
    range(7)
)
HH_NAMES = (
    "single_young",
    "single_adult",
    "single_pensioner",
    "couple",
    "couple_pensioner",
    "family",
    "single_parent",
)
#: Shares of *households* (a single-parent unit counts the absent parent too).
HH_P = np.array([0.14, 0.16, 0.16, 0.12, 0.11, 0.24, 0.07])
HH_P = HH_P / HH_P.sum()

# roles
ADULT1, ADULT2, CHILD_ROLE, ABSENT = range(4)

MUNICIPALITY = 461
OTHER_MUNICIPALITIES = np.array([101, 147, 751, 851, 479, 480, 410], dtype=np.int64)

YEAR = 365.25


@dataclass
class Population:
    """Persons of a chunk, with their household index and role in it."""

    chunk: int
    cpr: IntArray  # DDMMYYSSSS as an integer (zero-padded on output)
    birth: IntArray
    sex: IntArray  # 0 = M, 1 = K
    cit: IntArray  # index into CIT_CODES
    muni: IntArray
    hh: IntArray
    role: IntArray
    hh_type: IntArray  # per household
    hh_first: IntArray  # per household: index of its first person
    hh_size: IntArray

    @property
    def n(self) -> int:
        return len(self.cpr)

    @property
    def n_households(self) -> int:
        return len(self.hh_type)


def _ages(rng: np.random.Generator, hh_type: IntArray, n_kids: IntArray) -> list[IntArray]:
    """Ages in days per household slot: adult1, adult2/absent, then kids (0 if absent)."""
    h = len(hh_type)
    u = rng.random((h, 8))
    kids = np.zeros((h, 3))
    fam = hh_type == FAMILY
    sp = hh_type == SINGLE_PARENT
    kids[fam] = u[fam, :3] * 25.0
    kids[sp] = u[sp, :3] * 18.0
    slot = np.arange(3)[None, :]
    kids = np.where(slot < n_kids[:, None], kids, 0.0)
    oldest = kids.max(axis=1)
    pens = 65.5 + 32.0 * rng.beta(1.2, 2.5, h)
    a1 = np.select(
        [
            hh_type == SINGLE_YOUNG,
            hh_type == SINGLE_ADULT,
            (hh_type == SINGLE_PENSIONER) | (hh_type == COUPLE_PENSIONER),
            hh_type == COUPLE,
        ],
        [18.0 + 12.0 * u[:, 3], 30.0 + 36.9 * u[:, 3], pens, 25.0 + 41.9 * u[:, 3]],
        default=np.minimum(oldest + 20.0 + 18.0 * u[:, 3], 64.0),
    )
    a2 = a1 + rng.normal(-1.0, 3.0, h)
    a2 = np.where(hh_type >= FAMILY, np.maximum(a2, oldest + 18.5), a2)
    a2 = np.clip(a2, 18.5, 98.0)
    # a couple of pensioners may have one partner below pension age; fine
    ages = [a1, a2, kids[:, 0], kids[:, 1], kids[:, 2]]
    return [np.floor(a * YEAR).astype(np.int64) for a in ages]


def _cpr_numbers(birth: IntArray, chunk: int, n_chunks: int) -> tuple[IntArray, IntArray]:
    """DDMMYY from the birth date and a serial SSSS unique over the whole delivery.

    SSSS = rank * n_chunks + chunk, where rank counts earlier persons of this
    chunk with the same DDMMYY: chunks interleave and can never collide, and
    no global state is needed (chunks stay independent); the serial is then
    scrambled by a fixed bijection of 0..9999. In the rare case the
    serial would exceed 9999 the birth date moves one day and we retry.
    """
    birth = birth.copy()
    for _ in range(1000):
        d = birth.astype("datetime64[D]")
        year = d.astype("datetime64[Y]").astype(np.int64) + 1970
        mon = month_of(birth)
        mday = birth - month_start_of_month(mon) + 1
        month = mon - (year - 1970) * 12 + 1
        ddmmyy = mday * 10000 + month * 100 + year % 100
        order = np.argsort(ddmmyy, kind="stable")
        sorted_keys = ddmmyy[order]
        first = np.searchsorted(sorted_keys, sorted_keys, side="left")
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order)) - first
        serial = rank * n_chunks + chunk
        over = serial > 9999
        if not over.any():
            # a fixed bijection of 0..9999 so serials do not all look like 0000, 0001, ...
            return ddmmyy * 10000 + (serial * 7919 + 4711) % 10000, birth
        birth[over] -= 1
    raise RuntimeError("could not assign unique cpr numbers")  # pragma: no cover


def build_population(
    rng: np.random.Generator, cal: Calendar, n: int, chunk: int, n_chunks: int
) -> Population:
    """Exactly ``n`` persons in whole households (singles fill the remainder)."""
    h0 = int(n / 2.0) + 16
    hh_type = rng.choice(7, size=h0, p=HH_P).astype(np.int64)
    n_kids = np.zeros(h0, dtype=np.int64)
    fam = hh_type == FAMILY
    sp = hh_type == SINGLE_PARENT
    n_kids[fam] = rng.choice([1, 2, 3], size=int(fam.sum()), p=[0.38, 0.45, 0.17])
    n_kids[sp] = rng.choice([1, 2, 3], size=int(sp.sum()), p=[0.55, 0.35, 0.10])
    n_adults = np.where(hh_type >= COUPLE, 2, 1)
    size = n_adults + n_kids
    keep = np.cumsum(size) <= n
    hh_type, n_kids, n_adults, size = hh_type[keep], n_kids[keep], n_adults[keep], size[keep]
    rest = n - int(size.sum())
    if rest > 0:
        fill = rng.choice([SINGLE_YOUNG, SINGLE_ADULT], size=rest).astype(np.int64)
        hh_type = np.concatenate([hh_type, fill])
        n_kids = np.concatenate([n_kids, np.zeros(rest, dtype=np.int64)])
        n_adults = np.concatenate([n_adults, np.ones(rest, dtype=np.int64)])
        size = np.concatenate([size, np.ones(rest, dtype=np.int64)])
    h = len(hh_type)
    ages = _ages(rng, hh_type, n_kids)
    jitter = rng.integers(0, 365, size=(h, 5))
    slot_age = np.stack(ages, axis=1)
    hh_first = np.cumsum(size) - size
    hh = np.repeat(np.arange(h), size)
    pos = np.arange(n) - hh_first[hh]
    na = n_adults[hh]
    role = np.where(pos == 0, ADULT1, np.where(pos < na, ADULT2, CHILD_ROLE))
    role = np.where((role == ADULT2) & (hh_type[hh] == SINGLE_PARENT), ABSENT, role)
    slot = np.where(pos < na, pos, 2 + pos - na)
    age_days = slot_age[hh, slot]
    birth = cal.as_of - age_days - np.where(age_days > 365, jitter[hh, slot], 0) // 1
    birth = np.minimum(birth, cal.as_of)

    # sex: singles 50/50; couples M+K (2 % same-sex, random which is which);
    # single parents 80 % mothers, the absent parent of the other sex; children 51 % boys
    u = rng.random(n)
    coin = rng.random(h) < 0.5
    same_sex = rng.random(h) < 0.02
    couple_like = hh_type[hh] >= COUPLE
    a1_sex = np.where(hh_type == SINGLE_PARENT, rng.random(h) < 0.8, coin).astype(np.int64)
    sex = (u < 0.5).astype(np.int64)
    sex = np.where(couple_like & (role == ADULT1), a1_sex[hh], sex)
    partner = np.where(same_sex[hh], a1_sex[hh], 1 - a1_sex[hh])
    sex = np.where(couple_like & ((role == ADULT2) | (role == ABSENT)), partner, sex)
    sex = np.where(role == CHILD_ROLE, (u < 0.49).astype(np.int64), sex)

    k = len(CIT_P)
    c1 = rng.choice(k, size=h, p=CIT_P)
    c2 = np.where(rng.random(h) < 0.8, c1, rng.choice(k, size=h, p=CIT_P))
    kid_cit = np.where((c1 == 0) | (c2 == 0), 0, c1)
    cit = np.where(role == ADULT1, c1[hh], np.where(role == CHILD_ROLE, kid_cit[hh], c2[hh]))

    hh_muni = np.where(
        rng.random(h) < 0.97,
        MUNICIPALITY,
        OTHER_MUNICIPALITIES[rng.integers(0, len(OTHER_MUNICIPALITIES), h)],
    )
    muni = hh_muni[hh]
    cpr, birth = _cpr_numbers(birth.astype(np.int64), chunk, n_chunks)
    return Population(
        chunk=chunk,
        cpr=cpr,
        birth=birth,
        sex=sex.astype(np.int64),
        cit=cit.astype(np.int64),
        muni=muni.astype(np.int64),
        hh=hh.astype(np.int64),
        role=role.astype(np.int64),
        hh_type=hh_type,
        hh_first=hh_first.astype(np.int64),
        hh_size=size.astype(np.int64),
    )
