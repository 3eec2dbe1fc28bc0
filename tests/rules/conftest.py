"""A tiny delivery builder for rule tests: a few persons, events and lines, inline.

Tests say what the register shows, in the contract's words::

    d.person(P, born="1985-04-01")
    d.event(P, "2020-01-01", "address", address="A")
    d.payment(P, "KONTANTHJAELP", "2026-03-01", amount="10000.00")
    cases = d.cases("2026-06-15", rule="R02")

Frames are built with the extracts' declared dtypes (kontrol.schema), so the
rules see exactly what the loader would hand them.
"""

from __future__ import annotations

import calendar
import itertools
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from kontrol.config import KontrolConfig
from kontrol.extracts import Extracts
from kontrol.rules import CATALOGUE, flag_items
from kontrol.rules.engine import collect_rules
from kontrol.schema import (
    INCOME,
    OPTIONAL_SPECS,
    PERSONS,
    RELATIONS,
    RESIDENCE_EVENTS,
    payments_spec,
)

DateLike = date | str


def as_date(value: DateLike) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def cpr_for(born: date, serial: int) -> str:
    return f"{born:%d%m%y}{serial:04d}"


@dataclass
class Delivery:
    persons: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    income_rows: list[dict[str, Any]] = field(default_factory=list)
    #: Rows of the optional partner registers (CONTRACT.md 1b); a register is
    #: delivered once it has a row or is named in ``delivered``.
    optional_rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in OPTIONAL_SPECS}
    )
    delivered: set[str] = field(default_factory=set)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # --- registers --------------------------------------------------------------

    def person(self, born: DateLike = "1980-01-01", cpr: str | None = None) -> str:
        """Add a person to persons; returns the cpr (derived from the birth date)."""
        birth = as_date(born)
        number = cpr or cpr_for(birth, next(self._ids))
        self.persons.append(
            {
                "cpr": number,
                "birth_date": birth,
                "sex": "K",
                "citizenship": "DK",
                "municipality_code": 461,
            }
        )
        return number

    def event(
        self,
        cpr: str,
        day: DateLike,
        event_type: str,
        address: str | None = None,
        country: str | None = None,
    ) -> Delivery:
        self.events.append(
            {
                "cpr": cpr,
                "event_date": as_date(day),
                "event_type": event_type,
                "address_id": address,
                "country_code": country,
            }
        )
        return self

    def lives(self, cpr: str, day: DateLike, address: str) -> Delivery:
        return self.event(cpr, day, "address", address=address)

    def emigrates(self, cpr: str, day: DateLike, country: str = "SE") -> Delivery:
        return self.event(cpr, day, "emigrated", country=country)

    def relation(
        self,
        cpr: str,
        related: str,
        relation: str,
        valid_from: DateLike = "2000-01-01",
        valid_to: DateLike | None = None,
    ) -> Delivery:
        self.relations.append(
            {
                "cpr": cpr,
                "related_cpr": related,
                "relation": relation,
                "valid_from": as_date(valid_from),
                "valid_to": None if valid_to is None else as_date(valid_to),
            }
        )
        return self

    def child(
        self,
        parent: str,
        child: str,
        valid_from: DateLike = "2000-01-01",
        valid_to: DateLike | None = None,
    ) -> Delivery:
        return self.relation(parent, child, "child", valid_from, valid_to)

    def marry(
        self, a: str, b: str, valid_from: DateLike = "2000-01-01", valid_to: DateLike | None = None
    ) -> Delivery:
        """A spouse relation in both directions, as CPR delivers it."""
        self.relation(a, b, "spouse", valid_from, valid_to)
        return self.relation(b, a, "spouse", valid_from, valid_to)

    # --- ledger -----------------------------------------------------------------

    def payment(
        self,
        cpr: str,
        code: str,
        start: DateLike,
        end: DateLike | None = None,
        amount: str | Decimal = "10000.00",
        payment_type: str = "regular",
        paid: DateLike | None = None,
    ) -> Delivery:
        s = as_date(start)
        self.payments.append(
            {
                "payment_id": f"P{next(self._ids):08d}",
                "cpr": cpr,
                "benefit_code": code,
                "period_start": s,
                "period_end": month_end(s) if end is None else as_date(end),
                "amount_dkk": Decimal(amount),
                "payment_type": payment_type,
                "paid_date": as_date(paid) if paid is not None else s,
            }
        )
        return self

    def income(
        self, cpr: str, month: DateLike, amount: str | Decimal, cvr: str = "12345678"
    ) -> Delivery:
        self.income_rows.append(
            {
                "cpr": cpr,
                "employer_cvr": cvr,
                "month": as_date(month),
                "gross_income_dkk": Decimal(amount),
            }
        )
        return self

    def every_rule_fires(self) -> Delivery:
        """A delivery in which every rule fires at least once."""
        m = self.person("1985-04-01")
        f = self.person("1984-01-01")
        c = self.person("2015-05-05")
        for x in (m, f, c):
            self.lives(x, "2010-01-01", "A")
        self.emigrates(f, "2026-02-20").emigrates(c, "2026-02-20")
        self.marry(m, f).child(m, c).child(f, c)
        self.payment(m, "KONTANTHJAELP", "2026-03-01", amount="12000.00")  # R01
        self.payment(m, "BOERNETILSKUD_ENLIG", "2026-01-01", amount="1500.00")  # R05
        self.payment(m, "SYGEDAGPENGE", "2026-03-22", amount="5000.00")  # R06 (with R01 line)
        self.income(m, "2026-03-01", "9700.00")  # R04
        self.payment(f, "BOLIGSTOTTE", "2026-03-01", amount="3000.00")  # R02
        self.payment(f, "BOLIGSTOTTE", "2026-04-01", amount="3000.00")
        old = self.person("1930-01-01")
        self.lives(old, "1990-01-01", "B").event(old, "2026-01-14", "died")
        self.payment(old, "FOLKEPENSION", "2026-02-01", amount="14000.00")  # R03
        gone = self.person("1990-01-01")
        self.lives(gone, "2010-01-01", "C").event(gone, "2026-03-05", "disappeared")
        self.payment(gone, "KONTANTHJAELP", "2026-04-01", amount="7000.00")  # R07
        self.payment(
            gone, "KONTANTHJAELP", "2026-04-01", amount="-7000.00", payment_type="correction"
        )
        self.payment(gone, "BOLIGSTOTTE", "2026-05-01", amount="900.00")
        # R08-R11 on the optional partner registers
        for month, kwh in (("2026-01-01", "1"), ("2026-02-01", "2"), ("2026-03-01", "3")):
            self.reading("A", month, kwh)  # R08 (m's KONTANTHJAELP for March at address A)
        lodger = self.person("1990-01-01")
        self.lease("L1", m, "2020-01-01").lease("L1", lodger, "2025-06-01", role="co_tenant")  # R09
        self.inspection(m, "2026-03-25", cvr="99999999")  # R10: no income from that employer
        self.custody(old, "2025-12-01", "2025-12-31")  # R11 with a benefit that stops in custody
        self.payment(old, "SYGEDAGPENGE", "2025-12-01", amount="6200.00")
        return self

    # --- optional partner registers (CONTRACT.md section 1b) ---------------------

    def deliver(self, *names: str) -> Delivery:
        """Deliver these optional registers even if they have no rows."""
        self.delivered.update(names)
        return self

    def _optional(self, name: str, row: dict[str, Any]) -> Delivery:
        self.optional_rows[name].append(row)
        self.delivered.add(name)
        return self

    def reading(
        self, address: str, month: DateLike, kwh: str | Decimal, utility: str = "electricity"
    ) -> Delivery:
        return self._optional(
            "utility_readings",
            {
                "address_id": address,
                "utility": utility,
                "month": as_date(month),
                "consumption": Decimal(kwh),
            },
        )

    def lease(
        self,
        lease_id: str,
        cpr: str,
        valid_from: DateLike = "2000-01-01",
        valid_to: DateLike | None = None,
        role: str = "tenant",
        address: str = "L-ADDR",
    ) -> Delivery:
        return self._optional(
            "tenancies",
            {
                "lease_id": lease_id,
                "address_id": address,
                "cpr": cpr,
                "role": role,
                "valid_from": as_date(valid_from),
                "valid_to": None if valid_to is None else as_date(valid_to),
            },
        )

    def inspection(
        self, cpr: str, day: DateLike, cvr: str = "12345678", inspection_id: str | None = None
    ) -> Delivery:
        return self._optional(
            "inspections",
            {
                "inspection_id": inspection_id or f"I{next(self._ids):06d}",
                "inspection_date": as_date(day),
                "employer_cvr": cvr,
                "cpr": cpr,
            },
        )

    def custody(
        self, cpr: str, start: DateLike, end: DateLike | None = None, kind: str = "remand"
    ) -> Delivery:
        return self._optional(
            "custody",
            {
                "cpr": cpr,
                "custody_type": kind,
                "start_date": as_date(start),
                "end_date": None if end is None else as_date(end),
            },
        )

    # --- running ----------------------------------------------------------------

    def extracts(self, config: KontrolConfig | None = None) -> Extracts:
        cfg = config or KontrolConfig()
        return Extracts(
            persons=pl.LazyFrame(self.persons, schema=PERSONS.schema),
            residence_events=pl.LazyFrame(self.events, schema=RESIDENCE_EVENTS.schema),
            relations=pl.LazyFrame(self.relations, schema=RELATIONS.schema),
            payments=pl.LazyFrame(self.payments, schema=payments_spec(cfg.benefit_codes).schema),
            income=pl.LazyFrame(self.income_rows, schema=INCOME.schema),
            **{
                name: pl.LazyFrame(self.optional_rows[name], schema=spec.schema)
                for name, spec in OPTIONAL_SPECS.items()
                if name in self.delivered
            },
        )

    def cases(
        self, as_of: DateLike, rule: str | None = None, **config: Any
    ) -> list[dict[str, Any]]:
        """Cases of a run, as dicts, optionally of one rule only.

        Evaluated as a run evaluates them (:func:`kontrol.rules.engine.collect_cases`):
        the shared inputs once, then each rule by itself on the streaming engine.
        """
        cfg = KontrolConfig.model_validate(config)
        frame = collect_rules(self.extracts(cfg), as_of_date(as_of), cfg)
        rows = frame.to_dicts()
        return [r for r in rows if rule is None or r["rule_id"] == rule]

    def case(self, as_of: DateLike, rule: str, **config: Any) -> dict[str, Any]:
        """The single case of ``rule`` (fails unless there is exactly one)."""
        found = self.cases(as_of, rule, **config)
        assert len(found) == 1, f"expected one {rule} case, got {found}"
        case = found[0]
        case["evidence_json"] = json.loads(case["evidence"])
        return case

    def items(self, as_of: DateLike, rule: str, **config: Any) -> pl.DataFrame:
        """One rule's flagged items (the shared shape)."""
        cfg = KontrolConfig.model_validate(config)
        spec = next(s for s in CATALOGUE if s.rule_id == rule)
        return flag_items(spec, self.extracts(cfg), as_of_date(as_of), cfg).collect()


def as_of_date(value: DateLike) -> date:
    return as_date(value)


@pytest.fixture
def d() -> Delivery:
    """A fresh, empty delivery to fill in."""
    return Delivery()
