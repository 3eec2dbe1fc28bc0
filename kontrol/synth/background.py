"""The clean background town, vectorised: addresses, relations, benefits, income.

"Clean" means no rule R01-R07 may fire on it, by construction:

* every residence-requiring payment stops the day before its recipient
  emigrates, disappears or dies (R02, R07, R03); other benefits stop at death
  or disappearance. Payments never start before a person's first register
  event, so no line falls on an *unknown* state;
* only singles emigrate alone; couples and families emigrate together on one
  day, and single-parent units never emigrate, so nobody resident has a
  household entirely abroad (R01);
* a person has at most one income-replacement spell at a time: dagpenge may be
  followed by kontanthjælp from the next day, and every such spell ends the day
  before folkepension starts (R06);
* income rows are never generated in a month with an income-tested line
  except small jobs of at most 1,000.00 DKK (R04);
* børnetilskud til enlige is paid only from the first day of the month after
  (or of) the other parent's move-out, and never to a cohabiting parent (R05).

Background corrections (full and partial reversals, top-ups) hit lines that
no rule flags, so they cannot change a case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kontrol.synth.calendar import (
    NO_DAY,
    Calendar,
    IntArray,
    birthday,
    month_of,
    month_start_of_month,
)
from kontrol.synth.model import (
    ADDRESS,
    BOLIG,
    BTE,
    BU,
    CHILD,
    CIT_TO_COUNTRY,
    CORRECTION,
    COUNTRY,
    DAGP,
    DESTINATIONS,
    DIED,
    DISAPPEARED,
    EMIGRATED,
    FOERTID,
    FOLK,
    FRI,
    IMMIGRATED,
    INCOME_TESTED,
    KONTANT,
    RESIDENCE_REQUIRED,
    SPOUSE,
    SYG,
    UDD,
    explode,
)
from kontrol.synth.population import (
    ABSENT,
    CHILD_ROLE,
    COUPLE,
    COUPLE_PENSIONER,
    FAMILY,
    SINGLE_ADULT,
    SINGLE_PARENT,
    SINGLE_PENSIONER,
    SINGLE_YOUNG,
    Population,
)

# labour-market status of an adult at the start of the span
NONE_CAT, EMPLOYED, STUDENT, CAT_UDD, CAT_DAGP, CAT_KONT, CAT_FTP, IDLE, PENSIONER = range(9)
LOW_INCOME = (STUDENT, CAT_UDD, CAT_KONT, CAT_FTP, IDLE, PENSIONER)

DEST_IDX = np.array([COUNTRY[c] for c in DESTINATIONS], dtype=np.int64)


def _kr(rng: np.random.Generator, lo: float, hi: float, size: int) -> IntArray:
    """Random amounts in øre, uniform in [lo, hi] kroner."""
    return rng.integers(int(lo * 100), int(hi * 100) + 1, size=size).astype(np.int64)


@dataclass
class Addresses:
    """Address index layout of a chunk: X, Y (move), Z (separation) per household, W per person."""

    n_households: int
    n_persons: int

    def x(self, h: IntArray) -> IntArray:
        return h

    def y(self, h: IntArray) -> IntArray:
        return self.n_households + h

    def z(self, h: IntArray) -> IntArray:
        return 2 * self.n_households + h

    def w(self, p: IntArray) -> IntArray:
        return 3 * self.n_households + p

    @property
    def used(self) -> int:
        return 3 * self.n_households + self.n_persons


@dataclass
class Background:
    events: dict[str, IntArray]
    relations: dict[str, IntArray]
    payments: dict[str, IntArray]
    income: dict[str, IntArray]
    addresses: Addresses


def _hh_max(values: IntArray, hh: IntArray, mask: np.ndarray, h: int, init: int) -> IntArray:
    out = np.full(h, init, dtype=np.int64)
    np.maximum.at(out, hh[mask], values[mask])
    return out


def build_background(rng: np.random.Generator, cal: Calendar, pop: Population) -> Background:
    """All rows of every household of the chunk (the caller drops injected households)."""
    n, h = pop.n, pop.n_households
    hh, role, birth, t = pop.hh, pop.role, pop.birth, pop.hh_type
    as_of, span0 = cal.as_of, cal.span_start
    is_kid = role == CHILD_ROLE
    addr = Addresses(h, n)
    first = pop.hh_first

    # --- household dates -------------------------------------------------------
    adult18 = _hh_max(birthday(birth, 18), hh, ~is_kid, h, -(10**6))
    youngest = _hh_max(birth, hh, np.ones(n, dtype=bool), h, -(10**6))
    f = as_of - np.floor(rng.uniform(0.2, 25.0, h) * 365.25).astype(np.int64)
    f = np.minimum(np.maximum(f, adult18), as_of)
    has_move = (rng.random(h) < 0.12) & (t != SINGLE_PARENT) & (as_of - f > 90)
    g = np.where(
        has_move, f + 30 + np.floor(rng.random(h) * (as_of - f - 60)).astype(np.int64), NO_DAY
    )
    # separation of a single-parent unit: after move-in and after the youngest child's birth
    lo_sep = np.maximum(f, youngest) + 1
    d_sep = lo_sep + np.floor(rng.random(h) * (as_of - lo_sep + 1)).astype(np.int64)
    d_sep = np.where((t == SINGLE_PARENT) & (lo_sep <= as_of), d_sep, NO_DAY)
    last_move = np.where(has_move, g, f)

    # --- exits (emigration, death, disappearance) and returns -----------------------
    u = rng.random(n)
    exit_type = np.full(n, -1, dtype=np.int64)
    ptype = t[hh]
    single = (ptype == SINGLE_YOUNG) | (ptype == SINGLE_ADULT)
    exit_type[single & (u < 0.025)] = EMIGRATED
    exit_type[single & (u >= 0.025) & (u < 0.027)] = DISAPPEARED
    exit_type[single & (u >= 0.027) & (u < 0.030)] = DIED
    exit_type[(ptype == SINGLE_PENSIONER) & (u < 0.005)] = EMIGRATED
    exit_type[(ptype == SINGLE_PENSIONER) & (u >= 0.005) & (u < 0.065)] = DIED
    exit_type[(ptype == COUPLE_PENSIONER) & (u < 0.05)] = DIED
    family_emig = ((t == FAMILY) | (t == COUPLE)) & (rng.random(h) < 0.006)
    exit_type[family_emig[hh]] = EMIGRATED
    lo = np.select(
        [exit_type == EMIGRATED, exit_type == DISAPPEARED], [span0 - 300, span0 - 400], span0
    )
    lo = np.maximum(lo, np.maximum(last_move, youngest)[hh] + 1)
    x_day = lo + np.floor(rng.random(n) * (as_of - lo + 1)).astype(np.int64)
    fam_day = x_day[first]  # a family emigrates on its first member's day
    x_day = np.where(family_emig[hh], fam_day[hh], x_day)
    exit_type = np.where(lo > as_of, -1, exit_type)
    x_day = np.where(exit_type >= 0, x_day, NO_DAY)
    dest = DEST_IDX[rng.integers(0, len(DEST_IDX), n)]
    home = CIT_TO_COUNTRY[pop.cit]
    dest = np.where((pop.cit != 0) & (rng.random(n) < 0.5), home, dest)
    dest = np.where(family_emig[hh], dest[first][hh], dest)
    ret = x_day + 60 + np.floor(rng.random(n) * 640).astype(np.int64)
    ret = np.where(
        (exit_type == EMIGRATED) & single & (rng.random(n) < 0.3) & (ret <= as_of), ret, NO_DAY
    )

    # --- residence events ------------------------------------------------------------
    first_day = np.maximum(f[hh], birth)
    first_addr = np.where(has_move[hh] & (first_day >= g[hh]), addr.y(hh), addr.x(hh))
    imm_hh = rng.random(h) < 0.6
    immigrant = (pop.cit != 0) & imm_hh[hh] & (birth < f[hh])
    idx = np.arange(n)
    ev_parts = [
        (
            idx,
            first_day,
            np.where(immigrant, IMMIGRATED, ADDRESS),
            first_addr,
            np.where(immigrant, home, -1),
        ),
    ]
    mv = has_move[hh] & (first_day < g[hh])
    ev_parts.append(
        (
            idx[mv],
            g[hh][mv],
            np.full(int(mv.sum()), ADDRESS),
            addr.y(hh[mv]),
            np.full(int(mv.sum()), -1),
        )
    )
    sep = (role == ABSENT) & (d_sep[hh] <= as_of)
    ev_parts.append(
        (
            idx[sep],
            d_sep[hh][sep],
            np.full(int(sep.sum()), ADDRESS),
            addr.z(hh[sep]),
            np.full(int(sep.sum()), -1),
        )
    )
    ex = exit_type >= 0
    ev_parts.append(
        (
            idx[ex],
            x_day[ex],
            exit_type[ex],
            np.full(int(ex.sum()), -1),
            np.where(exit_type[ex] == EMIGRATED, dest[ex], -1),
        )
    )
    rt = ret <= as_of
    ev_parts.append(
        (idx[rt], ret[rt], np.full(int(rt.sum()), IMMIGRATED), addr.w(idx[rt]), dest[rt])
    )
    events = {
        c: np.concatenate([np.asarray(p[i], dtype=np.int64) for p in ev_parts])
        for i, c in enumerate(("pidx", "day", "etype", "addr", "country"))
    }
    res_start = first_day
    res_end = np.where(ex, x_day - 1, NO_DAY)
    alive_end = np.where((exit_type == DIED) | (exit_type == DISAPPEARED), x_day - 1, NO_DAY)

    # --- relations ---------------------------------------------------------------------
    kids = idx[is_kid]
    p1 = first[hh[kids]]
    p2 = p1 + 1
    married_p = np.select(
        [t == FAMILY, t == COUPLE, t == COUPLE_PENSIONER, t == SINGLE_PARENT],
        [0.65, 0.6, 0.9, 0.6],
        0.0,
    )
    married = rng.random(h) < married_p
    span_to = np.where(t == SINGLE_PARENT, np.minimum(d_sep, as_of), as_of) - f
    vfrom = f + np.floor(rng.random(h) * np.maximum(span_to, 0) * 0.5).astype(np.int64)
    old = t == COUPLE_PENSIONER
    vfrom = np.where(
        old, np.maximum(f - np.floor(rng.random(h) * 7000).astype(np.int64), adult18), vfrom
    )
    vto = np.where(
        t == SINGLE_PARENT, d_sep + np.floor(rng.random(h) * 400).astype(np.int64), NO_DAY
    )
    death = np.where(exit_type == DIED, x_day, NO_DAY)
    first_death = np.minimum(death[first], death[np.minimum(first + 1, n - 1)])
    vto = np.where(old, first_death, vto)
    vto = np.where(vto > as_of, NO_DAY, vto)
    hm = np.nonzero(married)[0]
    a, b = first[hm], first[hm] + 1
    relations = {
        "pidx": np.concatenate([p1, p2, a, b]),
        "ridx": np.concatenate([kids, kids, b, a]),
        "rel": np.concatenate([np.full(2 * len(kids), CHILD), np.full(2 * len(hm), SPOUSE)]),
        "vfrom": np.concatenate([birth[kids], birth[kids], vfrom[hm], vfrom[hm]]),
        "vto": np.concatenate([np.full(2 * len(kids), NO_DAY), vto[hm], vto[hm]]),
    }

    # --- labour-market status ----------------------------------------------------------------
    adultlike = birthday(birth, 18) <= span0
    age_s = (span0 - birth) / 365.25
    pension_start = month_start_of_month(month_of(birthday(birth, 67)) + 1)
    u = rng.random(n)
    young = age_s < 30
    cat_young = np.select(
        [u < 0.33, u < 0.83, u < 0.88, u < 0.91], [STUDENT, EMPLOYED, CAT_UDD, CAT_DAGP], IDLE
    )
    cat_old = np.select(
        [u < 0.77, u < 0.80, u < 0.835, u < 0.895], [EMPLOYED, CAT_DAGP, CAT_KONT, CAT_FTP], IDLE
    )
    cat_old = np.where((cat_old == CAT_FTP) & (age_s < 40), EMPLOYED, cat_old)
    cat = np.where(young, cat_young, cat_old)
    cat = np.where(pension_start <= span0, PENSIONER, cat)
    cat = np.where(adultlike, cat, NONE_CAT)
    limit = np.minimum(pension_start - 1, as_of)

    spells: list[tuple[IntArray, IntArray, IntArray, IntArray, IntArray]] = []

    def spell(
        mask: np.ndarray, code: IntArray | int, start: IntArray, end: IntArray, amount: IntArray
    ) -> None:
        p = idx[mask]
        spells.append(
            (
                p,
                np.broadcast_to(np.asarray(code, dtype=np.int64), (n,))[mask],
                start[mask],
                end[mask],
                amount[mask],
            )
        )

    pens = adultlike & (pension_start <= as_of)
    spell(pens, FOLK, pension_start, np.full(n, NO_DAY), _kr(rng, 7000, 20000, n))
    whole = rng.random(n) < 0.55
    st = np.where(
        whole,
        span0 - np.floor(rng.random(n) * 400).astype(np.int64),
        span0 + np.floor(rng.random(n) * (as_of - span0)).astype(np.int64),
    )
    en = np.where(whole, NO_DAY, st + 60 + np.floor(rng.random(n) * 400).astype(np.int64))
    en = np.minimum(en, limit)
    tested_code = np.where(young, UDD, KONTANT)
    tested_amt = np.where(young, _kr(rng, 6000, 12500, n), _kr(rng, 11500, 17000, n))
    spell(cat == CAT_DAGP, DAGP, st, en, _kr(rng, 12000, 19728, n))
    follow = (cat == CAT_DAGP) & (en < limit) & (rng.random(n) < 0.3)
    spell(follow, tested_code, en + 1, limit, tested_amt)
    spell((cat == CAT_KONT) | (cat == CAT_UDD), tested_code, st, en, tested_amt)
    spell(
        cat == CAT_FTP,
        FOERTID,
        span0 - np.floor(rng.random(n) * 3000).astype(np.int64),
        limit,
        _kr(rng, 14000, 21000, n),
    )
    sick = (cat == EMPLOYED) & (rng.random(n) < 0.07)
    sst = span0 + np.floor(rng.random(n) * (as_of - span0)).astype(np.int64)
    spell(
        sick,
        SYG,
        sst,
        np.minimum(sst + 14 + np.floor(rng.random(n) * 170).astype(np.int64), limit),
        _kr(rng, 12000, 19728, n),
    )

    # --- household benefits ---------------------------------------------------------------------
    head = first
    head_cat = cat[head]
    low = np.isin(head_cat, LOW_INCOME)
    partner_low = np.where(
        t >= COUPLE, np.isin(cat[np.minimum(first + 1, n - 1)], LOW_INCOME), False
    )
    bolig_p = np.where(low, np.where(np.isin(head_cat, (STUDENT, PENSIONER)), 0.3, 0.5), 0.03)
    bolig_p = np.where(t == SINGLE_PARENT, 0.55, bolig_p)
    bolig = rng.random(h) < bolig_p
    hmask = np.zeros(n, dtype=bool)
    hmask[head[bolig]] = True
    spell(hmask, BOLIG, np.full(n, span0 - 100), np.full(n, NO_DAY), _kr(rng, 800, 4200, n))

    # per child and month: under 18 on the month's first day and born before it
    m_count = cal.months
    ms = cal.month_start
    kb = birth[kids]
    khh = hh[kids]
    after_birth = kb[:, None] < ms[None, :]
    minor = after_birth & (ms[None, :] < birthday(kb, 18)[:, None])
    rate = np.where(
        ms[None, :] < birthday(kb, 3)[:, None],
        158700,
        np.where(ms[None, :] < birthday(kb, 7)[:, None], 125600, 98800),
    )
    bu = np.zeros((h, m_count), dtype=np.int64)
    cnt = np.zeros((h, m_count), dtype=np.int64)
    daycare = np.zeros((h, m_count), dtype=np.int64)
    rows = np.repeat(khh, m_count)
    cols = np.tile(np.arange(m_count), len(kids))
    np.add.at(bu, (rows, cols), (rate * minor).ravel())
    np.add.at(cnt, (rows, cols), minor.ravel().astype(np.int64))
    in_care = ((kb[:, None] + 274) <= ms[None, :]) & (ms[None, :] < birthday(kb, 6)[:, None])
    np.add.at(daycare, (rows, cols), in_care.ravel().astype(np.int64))
    recipient = np.where(t == FAMILY, first + 1, first)

    def monthly(matrix: IntArray, households: np.ndarray, code: int) -> None:
        hsel, msel = np.nonzero((matrix > 0) & households[:, None])
        p = recipient[hsel]
        spells.append(
            (
                p,
                np.full(len(p), code, dtype=np.int64),
                ms[msel],
                cal.month_end[msel],
                matrix[hsel, msel],
            )
        )

    with_kids = (t == FAMILY) | (t == SINGLE_PARENT)
    monthly(bu, with_kids, BU)
    bte = np.where((cnt > 0) & (ms[None, :] >= d_sep[:, None]), cnt * 51400 + 58000, 0)
    monthly(bte, t == SINGLE_PARENT, BTE)
    fri_hh = with_kids & ((t == SINGLE_PARENT) | low | partner_low) & (rng.random(h) < 0.5)
    fri = np.where(daycare > 0, _kr(rng, 900, 3200, h)[:, None], 0)
    monthly(fri, fri_hh, FRI)

    sp_p = np.concatenate([s[0] for s in spells])
    sp_code = np.concatenate([s[1] for s in spells])
    lo_s = np.maximum(np.concatenate([s[2] for s in spells]), res_start[sp_p])
    hi = np.where(RESIDENCE_REQUIRED[sp_code], res_end[sp_p], alive_end[sp_p])
    hi_s = np.minimum(np.concatenate([s[3] for s in spells]), hi)
    lines = explode(cal, sp_p, sp_code, lo_s, hi_s, np.concatenate([s[4] for s in spells]))

    # --- income -------------------------------------------------------------------------------
    tested = np.zeros((n, m_count), dtype=bool)
    tl = INCOME_TESTED[lines["code"]]
    tested[lines["pidx"][tl], cal.index_of(lines["s"][tl])] = True
    works = np.isin(cat, (EMPLOYED, CAT_DAGP, CAT_KONT, CAT_UDD)) | (
        (cat == STUDENT) & (rng.random(n) < 0.7)
    )
    pens_worker = (cat == PENSIONER) & (rng.random(n) < 0.06)
    works = works | pens_worker
    last_ok = np.minimum(np.minimum(res_end, alive_end), as_of)
    allowed = (
        works[:, None]
        & (ms[None, :] >= month_start_of_month(month_of(res_start))[:, None])
        & (ms[None, :] <= last_ok[:, None])
        & ~tested
        & ((ms[None, :] < pension_start[:, None]) | pens_worker[:, None])
    )
    n_firms = max(50, n // 12)
    firms = rng.integers(10_000_000, 100_000_000, n_firms).astype(np.int64)
    n_emp = rng.choice([1, 2, 3], size=n, p=[0.76, 0.19, 0.05])
    emp = np.floor(rng.random((n, 3)) ** 2 * n_firms).astype(np.int64)
    main = np.exp(rng.normal(np.log(32000.0), 0.35, n)).clip(9000, 150000)
    main = np.where(cat == STUDENT, rng.uniform(3000, 12000, n), main)
    main = np.where(pens_worker, rng.uniform(2000, 15000, n), main)
    side = rng.uniform(1500, 9000, (n, 2))
    salary = np.concatenate([main[:, None], side], axis=1)
    pp, mm = np.nonzero(allowed)
    k = n_emp[pp]
    rp = np.repeat(np.arange(len(pp)), k)
    slot = np.arange(len(rp)) - (np.cumsum(k) - k)[rp]
    ip, im = pp[rp], mm[rp]
    noise = 1.0 + rng.normal(0.0, 0.03, len(rp))
    inc_amount = np.round(salary[ip, slot] * noise * 100).astype(np.int64)
    small_p, small_m = np.nonzero(tested & (rng.random((n, m_count)) < 0.04))
    small = _kr(rng, 100, 1000, len(small_p))
    small = np.where(rng.random(len(small_p)) < 0.2, 100000, small)
    income = {
        "pidx": np.concatenate([ip, small_p]),
        "cvr": np.concatenate([firms[emp[ip, slot]], firms[emp[small_p, 0]]]),
        "month": np.concatenate([ms[im], ms[small_m]]),
        "amount": np.concatenate([inc_amount, small]),
    }

    # --- corrections -----------------------------------------------------------------------------
    nl = len(lines["s"])
    pick = (rng.random(nl) < 0.012) & (lines["e"] + 10 <= as_of)
    kind = rng.random(nl)
    amt = lines["amount"]
    corr = np.where(
        kind < 0.35,
        -amt,
        np.where(kind < 0.75, -(amt * rng.integers(5, 50, nl) // 100), _kr(rng, 100, 1500, nl)),
    )
    pick &= corr != 0
    paid = np.minimum(lines["e"] + rng.integers(10, 75, nl), as_of)
    payments = {
        "pidx": np.concatenate([lines["pidx"], lines["pidx"][pick]]),
        "code": np.concatenate([lines["code"], lines["code"][pick]]),
        "s": np.concatenate([lines["s"], lines["s"][pick]]),
        "e": np.concatenate([lines["e"], lines["e"][pick]]),
        "amount": np.concatenate([amt, corr[pick]]),
        "ptype": np.concatenate([lines["ptype"], np.full(int(pick.sum()), CORRECTION)]),
        "paid": np.concatenate([lines["paid"], paid[pick]]),
    }
    return Background(events, relations, payments, income, addr)
