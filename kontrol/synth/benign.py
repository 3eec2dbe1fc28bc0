"""Opt-in *unfounded* cases: register contradictions that fire a rule but are benign.

The base generator's cases are all founded (every injected positive is a
real overpayment), so the order of a queue cannot be evaluated on it: there
is nothing to put last. With ``synthesize(..., unfounded_rate=r)`` about
``r`` of each chunk's persons get one of the scenarios below, which fire a
rule (checked by the same oracle as the positives) but would be closed by a
caseworker as unfounded. Ground truth then gains a ``founded`` column.

**How these labels relate to the scoring features (read this before
trusting an evaluation).** The scenarios were written from known, common
reasons for false positives in register matching, before any scores were
looked at, and they were *not* tuned to the features. Their behaviour
points both ways:

* some look *more* unusual than fraud: an income already offset shows up as
  a correction (``corrections``), a homeless recipient registered as
  disappeared later gets an address (``address_moves``, status changes),
  an emigration registered in error is annulled by a return;
* some look *quieter*: a one-off holiday-pay (feriepenge) income month, a
  few days of overlap at a sygedagpenge/dagpenge hand-over, a partner whose
  move-out is registered late.

Their amounts come from the same ranges as the founded scenarios' amounts;
some mechanisms are naturally short (a few overlapping days, one income
month), which an amount-only ranking already exploits. Households are
chosen like the founded ones, by type and age only, never by sex or
citizenship. So an evaluation on this data tests one hypothesis, stated
here, not a truth about real fraud: whether these documented benign
mechanisms are, *on the whole*, less unusual than the generator's founded
scenarios. Real labels (closed cases with outcomes) are what a real
evaluation needs.
"""

from __future__ import annotations

from kontrol.synth.calendar import NO_DAY
from kontrol.synth.model import BOLIG, BU, COUNTRY, DAGP, DIED, DISAPPEARED, FOLK, IMMIGRATED, SYG
from kontrol.synth.scenarios import (
    POS,
    Builder,
    Household,
    Scenario,
    _bte,
    _other,
    _setup,
    _single,
    _tested_whole,
)

#: An (unused) employer number standing for FerieKonto, which reports holiday pay.
FERIEKONTO_CVR = 55_555_555


def r01_unf_emigration_annulled(b: Builder, hh: Household, p: int) -> None:
    """Spouse and children registered as emigrated in error; re-registered at home weeks later."""
    _setup(b, hh, married=True)
    c = b.cal
    q = _other(hh, p)
    code, amt = b.tested(p)
    i = b.month(c.window_index + 1, c.months - 4)
    b.spell(p, code, c.span_start - 200, NO_DAY, amt)
    b.spell(p, BU, c.span_start - 200, NO_DAY, b.bu_amount(hh.kids))
    for m in [q, *hh.kids]:
        b.emigrate(m, b.cal.ms(i) + 2)
    back = b.cal.ms(i + 2) + 1
    for m in [q, *hh.kids]:
        b.event(m, back, IMMIGRATED, b.home_addr, COUNTRY["DE"])


def r02_unf_registry_error(b: Builder, hh: Household, p: int) -> None:
    """An emigration registered in error (a move processed as an emigration), later corrected."""
    _single(b, hh)
    c = b.cal
    code, amt = b.tested(p)
    b.spell(p, code, c.span_start - 100, NO_DAY, amt)
    b.spell(p, BOLIG, c.span_start - 100, NO_DAY, b.kr(900, 4000))
    i = b.month(c.window_index, c.months - 4)
    b.emigrate(p, b.mid(i))
    b.event(p, b.mid(i + 1 + int(b.rng.integers(0, 2))), IMMIGRATED, b.home_addr, COUNTRY["SE"])


def r03_unf_being_recovered(b: Builder, hh: Household, p: int) -> None:
    """Died late in a month; the next month's pension had been issued and is reclaimed from the
    estate (part booked as a correction, the rest under recovery)."""
    _single(b, hh)
    c = b.cal
    i = b.month(c.window_index, c.months - 3)
    rows = b.spell(p, FOLK, c.span_start - 100, c.me(i + 1), b.kr(7000, 20000))
    b.event(p, c.me(i) - int(b.rng.integers(0, 5)), DIED)
    r = b.line_in(rows, i + 1)
    b.correct(r, -(b.pay[r][4] * int(b.rng.integers(3, 8)) // 10))


def r04_unf_offset(b: Builder, hh: Household, p: int) -> None:
    """Income declared in advance; the month's help was reduced (offset) by a correction."""
    _single(b, hh)
    rows = _tested_whole(b, p)
    m = b.month(b.cal.window_index, b.cal.months - 2)
    income = b.kr(2000, 8000)
    b.earn(p, m, income)
    r = b.line_in(rows, m)
    b.correct(r, -min(income, b.pay[r][4] - 100))


def r04_unf_holiday_pay(b: Builder, hh: Household, p: int) -> None:
    """Holiday pay (feriepenge) from an earlier job, paid once and reported in eIndkomst."""
    _single(b, hh)
    _tested_whole(b, p)
    b.earn(p, b.month(b.cal.window_index, b.cal.months - 1), b.kr(1500, 9000), FERIEKONTO_CVR)


def r05_unf_late_move(b: Builder, hh: Household, p: int) -> None:
    """The other parent moved out when the supplement started, but registered the move late."""
    _setup(b, hh, married=False)
    c = b.cal
    q = _other(hh, p)
    k = b.month(c.window_index, c.months - 5)
    _bte(b, p, hh.kids, c.ms(k))
    b.move(q, b.mid(k + 1 + int(b.rng.integers(0, 3))))


def r06_unf_handover(b: Builder, hh: Household, p: int) -> None:
    """Sygedagpenge end and dagpenge start; the hand-over date differs by a few days."""
    _single(b, hh)
    c = b.cal
    k = b.month(c.window_index, c.months - 2)
    end = c.ms(k) + int(b.rng.integers(8, 20))
    b.spell(p, SYG, c.span_start - 100, end, b.kr(12000, 19728))
    b.spell(p, DAGP, end - int(b.rng.integers(1, 5)), NO_DAY, b.kr(12000, 19728))


def r07_unf_homeless(b: Builder, hh: Household, p: int) -> None:
    """A homeless recipient registered as disappeared keeps meeting the jobcenter; later gets an
    address again."""
    _single(b, hh)
    c = b.cal
    _tested_whole(b, p)
    i = b.month(c.window_index, c.months - 4)
    b.event(p, b.mid(i), DISAPPEARED)
    b.move(p, b.mid(i + 2 + int(b.rng.integers(0, 2))))


BENIGN: tuple[Scenario, ...] = (
    Scenario(
        "R01", POS, "family_minor", "unfounded: emigration annulled", r01_unf_emigration_annulled
    ),
    Scenario(
        "R02", POS, "single", "unfounded: emigration registered in error", r02_unf_registry_error
    ),
    Scenario(
        "R03",
        POS,
        "single_pensioner",
        "unfounded: being recovered from the estate",
        r03_unf_being_recovered,
    ),
    Scenario("R04", POS, "single", "unfounded: income offset by a correction", r04_unf_offset),
    Scenario("R04", POS, "single", "unfounded: holiday pay", r04_unf_holiday_pay),
    Scenario("R05", POS, "family_minor", "unfounded: move-out registered late", r05_unf_late_move),
    Scenario("R06", POS, "single", "unfounded: hand-over overlap of a few days", r06_unf_handover),
    Scenario("R07", POS, "single", "unfounded: homeless, still in contact", r07_unf_homeless),
)

#: Scenario descriptions of :data:`BENIGN`, to label ground-truth rows.
UNFOUNDED_DESCRIPTIONS = frozenset(s.description for s in BENIGN)
