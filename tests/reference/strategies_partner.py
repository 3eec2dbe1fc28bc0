"""Hypothesis strategies for the optional partner registers (CONTRACT.md 1b, rules R08-R11).

A :class:`PartnerScenario` is a base :class:`strategies.Scenario` (the five
required extracts) plus the four optional registers, each delivered or not
(``None``), drawn around the base scenario's payment lines so that the
rules' edges are hit often:

* electricity readings for every dwelling of the pool in the months m - 2
  .. m of every line, now and then missing, valued 0, 5, 10.000 (on the
  limit), 10.001 (just over) or 250 kWh, beside low water and heat readings
  (which must not count);
* leases shared by payees and the other persons of the family (adults,
  children about to turn 18, persons missing from ``persons``), rows
  starting and ending on the line edges and the days either side;
* inspections of payees on line days (s, e, inside) and just outside, at the
  employers of the base income (which has 0.00 and 0.01 rows) and at one
  employer that never reports income;
* custody rows of 1, 13, 14, 15 and 40 days or open, chained so that rows
  touch (d / d + 1), overlap or leave a one-day gap, starting around the
  lines and around ``as_of``;
* now and then a non-default ``max_monthly_kwh`` or ``min_spell_days``.

As in ``strategies``, the strategies are built once (module constants, or
:func:`strategies.sampled` and :func:`strategies.either` per pool), not inside
each draw, with the same branches in the same order as before: the examples
are the same, draw for draw.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from reference_rules import add_months, first_of_month, window_start
from strategies import (
    ADDRESS,
    ADDRESSES,
    EMPLOYERS,
    LONG_AGO,
    Scenario,
    either,
    sampled,
    scenarios,
)

NO_INCOME_EMPLOYER = "11111111"
KWH = tuple(
    Decimal(v)
    for v in ("0.000", "0.000", "2.500", "5.000", "10.000", "10.000", "10.001", "250.000")
)
LEASES = ("L-1", "L-2")


@dataclass(frozen=True)
class PartnerScenario:
    base: Scenario
    optional: dict[str, list[dict[str, Any]] | None]
    rule_parameters: dict[str, dict[str, Any]]

    @property
    def as_of(self) -> date:
        return self.base.as_of

    @property
    def window_months(self) -> int:
        return self.base.window_months

    def rows(self) -> dict[str, list[dict[str, Any]] | None]:
        """Every extract by name; an optional register not delivered is ``None``."""
        return {**self.base.rows(), **self.optional}


def _line_days(base: Scenario) -> list[date]:
    """Days around the lines: s, e, the day either side, and the middle."""
    days: set[date] = set()
    for p in base.payments:
        s, e = p["period_start"], p["period_end"]
        days |= {
            s,
            e,
            s - timedelta(days=1),
            e + timedelta(days=1),
            s + timedelta(days=(e - s).days // 2),
        }
    return sorted(days)


def _own_days(base: Scenario, cpr: str) -> list[date]:
    """Days around ``cpr``'s own lines, those of work-excluded benefits first."""
    lines = [p for p in base.payments if p["cpr"] == cpr]
    work = [p for p in lines if p["benefit_code"] in WORK_CODES] or lines
    return _line_days(Scenario(base.as_of, base.window_months, [], [], [], work, []))


WORK_CODES = ("KONTANTHJAELP", "UDDANNELSESHJAELP", "SYGEDAGPENGE", "DAGPENGE")
AMOUNTS = tuple(Decimal(a) for a in ("0.01", "0.05", "3.33", "1000.01", "12345.67"))

# The strategies that do not depend on the example, each built once.
AMOUNT = st.sampled_from(AMOUNTS)
WORK_CODE = st.sampled_from(WORK_CODES)
DELIVERED = st.sampled_from([True, True, True, True, True, False])
CONSUMPTION = st.sampled_from(KWH)
OTHER_UTILITY = st.sampled_from(["water", "heat"])
LEASE = {
    True: st.sampled_from(LEASES[:1]) | st.just("L-1"),
    False: st.sampled_from(LEASES) | st.just("L-1"),
}
ROLE = st.sampled_from(["tenant", "co_tenant"])
INSPECTION_EMPLOYER = st.sampled_from([*EMPLOYERS, NO_INCOME_EMPLOYER])
CUSTODY_BEFORE = st.sampled_from([0, 0, 1, 13, 14, 20])
CUSTODY_LENGTH = st.sampled_from([1, 13, 14, 14, 15, 40, 40, None])
CUSTODY_TYPE = st.sampled_from(["remand", "sentence"])
CUSTODY_NEXT = st.sampled_from([1, 1, 0, 2, -3])
MAX_MONTHLY_KWH = st.sampled_from(["0", "5.000", "10.001"])
MIN_SPELL_DAYS = st.sampled_from([1, 13, 15])


@st.composite
def partner_scenarios(draw: st.DrawFn) -> PartnerScenario:
    base = draw(scenarios())
    as_of = base.as_of
    payees = sorted({p["cpr"] for p in base.payments})
    start = window_start(as_of, base.window_months)
    # Half the payees also draw a benefit that is work excluded and stops in custody,
    # so that R10 and R11 have lines to look at, and two thirds single-parent
    # supplement for R09; n = 1, 2, 16 or a full month.
    payments = list(base.payments)
    extra = [(cpr, code) for cpr in payees if draw(st.booleans()) for code in WORK_CODES[:1]]
    extra += [(cpr, "BOERNETILSKUD_ENLIG") for cpr in payees if draw(st.integers(0, 2)) > 0]
    for cpr, first_code in extra:
        in_window = [p["period_start"] for p in payments if start <= p["period_start"] <= as_of]
        month = first_of_month(draw(sampled(in_window or [as_of])))
        last = add_months(month, 1) - timedelta(days=1)
        s, e = draw(
            sampled(
                [
                    (month, last),
                    (month, last),
                    (month, month),
                    (last - timedelta(days=1), last),
                    (month + timedelta(days=15), last),
                ]
            )
        )
        payments.append(
            {
                "payment_id": f"PAYW{len(payments) + 1:05d}",
                "cpr": cpr,
                "benefit_code": first_code if first_code not in WORK_CODES else draw(WORK_CODE),
                "period_start": s,
                "period_end": e,
                "amount_dkk": draw(AMOUNT),
                "payment_type": "regular",
                "paid_date": e,
            }
        )
    # Most of the time one payee is "settled": registered at one address since long
    # ago with no later event, so R08's unbroken residence holds for their lines.
    events = list(base.residence_events)
    if payees and draw(st.integers(0, 2)) > 0:
        settled = draw(sampled(payees))
        events = [e for e in events if e["cpr"] != settled]
        events.append(
            {
                "cpr": settled,
                "event_date": LONG_AGO,
                "event_type": "address",
                "address_id": draw(ADDRESS),
                "country_code": None,
            }
        )
    # Mostly a lodger: an adult with no relations, for R09's co-lessee.
    persons = list(base.persons)
    lodger = None
    if draw(st.integers(0, 3)) > 0:
        lodger = "0101709999"
        persons.append(
            {
                "cpr": lodger,
                "birth_date": date(1970, 1, 1),
                "sex": "M",
                "citizenship": "DK",
                "municipality_code": 461,
            }
        )
    base = replace(base, payments=payments, residence_events=events, persons=persons)
    people = sorted(
        {p["cpr"] for p in base.persons}
        | {e["cpr"] for e in base.residence_events}
        | {r["related_cpr"] for r in base.relations}
        | set(payees)
    )
    near = [*_line_days(base), as_of - timedelta(days=1), as_of, as_of + timedelta(days=1)]
    near_days = sorted(set(near))

    def span(earliest: date | None = None) -> tuple[date, date | None]:
        starts = [d for d in near if earliest is None or d >= earliest] or [as_of]
        valid_from = draw(sampled([LONG_AGO, *starts]))
        ends = [d for d in near if d > valid_from]
        if not ends or draw(st.booleans()):
            return valid_from, None
        return valid_from, draw(sampled(ends))

    optional: dict[str, list[dict[str, Any]] | None] = {}

    # --- utility_readings: (address_id, utility, month) is a key ---
    readings: dict[tuple[str, str, date], dict[str, Any]] | None = None
    if draw(DELIVERED):
        readings = {}
        line_months = {first_of_month(p["period_start"]) for p in base.payments}
        months = sorted({add_months(m, k) for m in line_months for k in (-2, -1, 0)})
        for address in ADDRESSES:
            for month in months:
                if draw(st.integers(0, 14)) == 0:  # missing reading: not zero use
                    continue
                key = (address, "electricity", month)
                readings[key] = {
                    "address_id": address,
                    "utility": "electricity",
                    "month": month,
                    "consumption": draw(CONSUMPTION),
                }
                if draw(st.integers(0, 5)) == 0:
                    utility = draw(OTHER_UTILITY)
                    readings[(address, utility, month)] = {
                        "address_id": address,
                        "utility": utility,
                        "month": month,
                        "consumption": Decimal("0.000"),
                    }
    optional["utility_readings"] = None if readings is None else list(readings.values())

    # --- tenancies: (lease_id, cpr, valid_from) is a key ---
    tenancies: dict[tuple[str, str, date], dict[str, Any]] | None = None
    if draw(DELIVERED):
        tenancies = {}
        members = [*payees, *draw(st.lists(sampled(people), max_size=4))]
        if lodger is not None:
            members.append(lodger)
        for cpr in members:
            # the lodger mostly shares the first lease (L-1), where payees often are
            lease = draw(LEASE[cpr == lodger])
            valid_from, valid_to = (LONG_AGO, None) if draw(st.integers(0, 2)) == 0 else span()
            tenancies[(lease, cpr, valid_from)] = {
                "lease_id": lease,
                "address_id": draw(ADDRESS),
                "cpr": cpr,
                "role": draw(ROLE),
                "valid_from": valid_from,
                "valid_to": valid_to,
            }
    optional["tenancies"] = None if tenancies is None else list(tenancies.values())

    # --- inspections: (inspection_id, cpr) is a key ---
    inspections: list[dict[str, Any]] | None = None
    if draw(DELIVERED):
        inspections = []
        for cpr in payees:
            own = either(_own_days(base, cpr), near_days)
            for _ in range(draw(st.integers(0, 4))):
                inspections.append(
                    {
                        "inspection_id": f"INS{len(inspections) + 1:04d}",
                        "inspection_date": draw(own),
                        "employer_cvr": draw(INSPECTION_EMPLOYER),
                        "cpr": cpr,
                    }
                )
    optional["inspections"] = inspections

    # --- custody: (cpr, start_date) is a key ---
    custody: dict[tuple[str, date], dict[str, Any]] | None = None
    if draw(DELIVERED):
        custody = {}
        for cpr in payees:
            own_days = _own_days(base, cpr)
            start = draw(either(own_days, near_days)) - timedelta(days=draw(CUSTODY_BEFORE))
            for _ in range(draw(st.integers(1, 3))):
                length = draw(CUSTODY_LENGTH)
                end = None if length is None else start + timedelta(days=length - 1)
                custody[(cpr, start)] = {
                    "cpr": cpr,
                    "custody_type": draw(CUSTODY_TYPE),
                    "start_date": start,
                    "end_date": end,
                }
                if end is None:
                    break
                # the next row touches (d + 1), overlaps (d) or leaves a gap (d + 2)
                start = end + timedelta(days=draw(CUSTODY_NEXT))
                if start <= max(s for c, s in custody if c == cpr):
                    start = max(s for c, s in custody if c == cpr) + timedelta(days=1)
    optional["custody"] = None if custody is None else list(custody.values())

    parameters: dict[str, dict[str, Any]] = {}
    if draw(st.integers(0, 5)) == 0:
        parameters["R08"] = {"max_monthly_kwh": draw(MAX_MONTHLY_KWH)}
    if draw(st.integers(0, 5)) == 0:
        parameters["R11"] = {"min_spell_days": draw(MIN_SPELL_DAYS)}
    return PartnerScenario(base, optional, parameters)
