"""R08: no electricity used at the registered address (CONTRACT.md section 4b).

Why: a person who draws a residence-requiring benefit while registered at a
dwelling that uses (almost) no electricity month after month may not live
there. One low month proves nothing (a holiday, a hospital stay), so the
contract asks for three consecutive months m - 2, m - 1 and m, and for the
registration itself to be unbroken over the same span: the recipient must be
*resident* at one and the same address A on every day from the first day of
m - 2 through s. A month without a reading is not a month of zero use: no
reading means *not flagged*.

The utility data are matched only where the municipality's lawyers have
confirmed a legal basis for it: the contract makes ``utility_readings``
optional, and a delivery that lacks it does not evaluate R08 at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import polars as pl
from pydantic import Field

from kontrol.danish import benefit_da, fmt_month, fmt_number, join_da
from kontrol.rules.account import AccountParts, CaseFacts, Event, Line, months_count, paid_tail
from kontrol.rules.evidence import Evidence, LineFacts, struct_of
from kontrol.rules.items import line_items, period_text
from kontrol.rules.legal import CONSUMPTION_ACCESS, REGISTRATION, RESIDENCE, basis
from kontrol.rules.spec import RuleContext, RuleParameters, RuleSpec, Scope
from kontrol.schema import CONSUMPTION
from kontrol.timeline import RESIDENT

READS = ("utility_readings",)


class R08Parameters(RuleParameters):
    """``max_monthly_kwh``: a month counts as *no use* when its reading is <= this (inclusive)."""

    max_monthly_kwh: Decimal = Field(default=Decimal("10"), ge=0, decimal_places=3)


class MonthlyReading(Evidence):
    """The dwelling's electricity total for one month (``YYYY-MM``), in kWh."""

    month: str
    consumption_kwh: Decimal


class NoElectricityLine(LineFacts):
    """A flagged line: the registered address, since when, the limit and the three readings.

    ``electricity_readings`` are the months m - 2, m - 1 and m, oldest first.
    """

    address_id: str
    registered_at_address_since: date
    max_monthly_kwh: Decimal
    electricity_readings: list[MonthlyReading]


def address_spells(timeline: pl.LazyFrame) -> pl.LazyFrame:
    """Maximal runs of days a person is *resident* at one and the same address.

    Consecutive timeline intervals at the same ``address_id`` (a second
    ``address`` event to the same dwelling, an ``immigrated`` event back to
    it the day an ``address`` interval ends) are merged: the person is
    resident at A on every day of the run, which is what R08 asks. Columns
    ``cpr, address_id, spell_from, spell_to`` with ``spell_to`` exclusive
    (null while it holds at ``as_of``).
    """
    resident = timeline.filter(pl.col("state") == RESIDENT).sort("cpr", "valid_from")
    continues = (
        (pl.col("cpr") == pl.col("cpr").shift(1))
        & (pl.col("address_id") == pl.col("address_id").shift(1))
        & (pl.col("valid_from") == pl.col("valid_to").shift(1))
    ).fill_null(False)
    return (
        resident.with_columns((~continues).cum_sum().alias("_run"))
        .group_by("cpr", "_run")
        .agg(
            pl.col("address_id").first(),
            pl.col("valid_from").min().alias("spell_from"),
            pl.col("valid_to").sort_by("valid_from").last().alias("spell_to"),
        )
        .drop("_run")
    )


def flag(ctx: RuleContext) -> pl.LazyFrame:
    """R08: a residence-requiring line whose registered dwelling used no electricity.

    For a line [s, e] with s in month m, the line is flagged when (1) P is
    *resident* at one and the same address A on every day from the first day
    of m - 2 through s (merged runs, :func:`address_spells`), and (2) for
    each of m - 2, m - 1 and m, ``utility_readings`` holds an
    ``electricity`` row for A with ``consumption <= max_monthly_kwh``
    (default 10 kWh, inclusive: 10.000 flags, 10.001 does not). A missing
    month is not zero use and keeps the line unflagged. Readings count when
    their ``month`` is on or before ``as_of``; months before the window
    count. Amount: the line's. Anchor: the first day of m - 2 of the
    earliest flagged line (the order key stays s, so ties follow reading 15).

    Example: P registered at address A since 2019-05-01 draws KONTANTHJAELP
    12,000.00 for 2026-03; A's electricity readings are 2.500 kWh (2026-01),
    0.000 kWh (2026-02) and 9.999 kWh (2026-03) → R08 case 2026-03-01..
    2026-03-31, 12,000.00 DKK, anchor 2026-01-01; evidence: A, the three
    readings, the registration since 2019-05-01. Had P moved to A on
    2026-01-02, or had the February reading been missing, nothing is flagged.
    """
    limit = ctx.params_as(R08Parameters).max_monthly_kwh
    month = pl.col("period_start").dt.truncate("1mo")
    lines = ctx.lines.with_columns(
        month.dt.offset_by("-2mo").alias("m2"),
        month.dt.offset_by("-1mo").alias("m1"),
        month.alias("m0"),
    )
    low = (
        ctx.extract("utility_readings")
        .filter(
            (pl.col("utility") == "electricity")
            & (pl.col("consumption") <= pl.lit(limit, dtype=CONSUMPTION))
        )
        .select("address_id", "month", "consumption")
        # the readings are the largest extract (6M persons: 79M rows): read once, not once
        # per month of the triple and again for each branch that uses the triples
        .cache()
    )

    def low_in(k: str) -> pl.LazyFrame:
        return low.rename({"month": k, "consumption": f"kwh_{k}"})

    # The dwellings with three consecutive low months, keyed by the last (m0): a few
    # rows. Built first and on their own, so that no plan joins the lines to the readings
    # on the months alone (Polars' join reordering did that: 22 GB at 1M persons).
    triples = (
        low_in("m0")
        .with_columns(
            pl.col("m0").dt.offset_by("-1mo").alias("m1"),
            pl.col("m0").dt.offset_by("-2mo").alias("m2"),
        )
        .join(low_in("m1"), on=["address_id", "m1"], how="inner")
        .join(low_in("m2"), on=["address_id", "m2"], how="inner")
        .cache()
    )
    spells = address_spells(
        ctx.timeline.join(lines.select("cpr").unique(), on="cpr", how="semi")
    ).join(triples.select("address_id").unique(), on="address_id", how="semi")
    resident = (
        lines.join(spells.select("cpr").unique(), on="cpr", how="semi")
        .join(spells, on="cpr", how="inner")
        .filter(
            (pl.col("spell_from") <= pl.col("m2"))
            & (pl.col("spell_to").is_null() | (pl.col("spell_to") > pl.col("period_start")))
        )
    )
    flagged = resident.join(triples, on=["address_id", "m0", "m1", "m2"], how="inner")

    def reading(k: str) -> pl.Expr:
        return struct_of(
            MonthlyReading,
            {"month": pl.col(k).dt.strftime("%Y-%m"), "consumption_kwh": pl.col(f"kwh_{k}")},
        )

    summary = pl.format(
        "Electricity use at address {} was {}, {} and {} kWh in {}, {} and {} (at most {} kWh"
        " each) while the recipient was registered there without a break since {}; {} paid"
        " for {} although the benefit requires residence",
        pl.col("address_id"),
        pl.col("kwh_m2").cast(pl.String),
        pl.col("kwh_m1").cast(pl.String),
        pl.col("kwh_m0").cast(pl.String),
        pl.col("m2").dt.strftime("%Y-%m"),
        pl.col("m1").dt.strftime("%Y-%m"),
        pl.col("m0").dt.strftime("%Y-%m"),
        pl.lit(str(limit)),
        pl.col("spell_from").cast(pl.String),
        pl.col("benefit_code"),
        period_text(),
    )
    return line_items(
        flagged,
        evidence=NoElectricityLine,
        anchor=pl.col("m2"),
        summary=summary,
        facts={
            "address_id": pl.col("address_id"),
            "registered_at_address_since": pl.col("spell_from"),
            "max_monthly_kwh": pl.lit(limit, dtype=CONSUMPTION),
            "electricity_readings": pl.concat_list(reading("m2"), reading("m1"), reading("m0")),
        },
    )


def account(case: CaseFacts, items: Sequence[NoElectricityLine]) -> AccountParts:
    """The Danish account: the address, the three readings per line, the legal-basis caveat.

    Example: "Højst 10 kWh elforbrug pr. måned i tre måneder i træk på den registrerede
    adresse (A); modtager fortsat kontanthjælp: 1 måned, 12.000,00 kr. Samkøring med
    forbrugsdata kræver et selvstændigt hjemmelsgrundlag, som kommunens jurister har
    bekræftet", timeline "Elforbrug 2,500 kWh i januar 2026 på adresse A
    (forsyningsselskabets måling)", ....
    """
    timeline: list[Event] = []
    lines: list[Line] = []
    addresses: list[str] = []
    seen: set[tuple[str, str]] = set()
    for it in items:
        if it.address_id not in addresses:
            addresses.append(it.address_id)
        kwh = ", ".join(
            f"{fmt_month(_month(r.month))}: {_kwh(r.consumption_kwh)}"
            for r in it.electricity_readings
        )
        lines.append(
            Line(
                benefit=benefit_da(it.benefit_code),
                period_start=it.period_start,
                period_end=it.period_end,
                amount=it.amount_dkk,
                note=f"Elforbrug på adresse {it.address_id}: {kwh}",
            )
        )
        for r in it.electricity_readings:
            if (it.address_id, r.month) in seen:
                continue
            seen.add((it.address_id, r.month))
            timeline.append(
                Event(
                    _month(r.month),
                    f"Elforbrug {_kwh(r.consumption_kwh)} i {fmt_month(_month(r.month))} på"
                    f" adresse {it.address_id} (forsyningsselskabets måling)",
                )
            )
    first = items[0]
    timeline.append(
        Event(
            first.registered_at_address_since,
            f"Modtageren registreret som bosat på adresse {first.address_id} uden afbrydelse",
        )
    )
    summary = (
        f"Højst {_kwh(first.max_monthly_kwh)} elforbrug pr. måned i tre måneder i træk på den"
        f" registrerede adresse ({join_da(addresses)}); "
        f"{paid_tail(case.benefits, months_count(lines, case.start, case.end), case.amount)}. "
        "Samkøring med forbrugsdata kræver et selvstændigt hjemmelsgrundlag, som kommunens"
        " jurister har bekræftet"
    )
    return AccountParts(summary, timeline, lines)


def _month(text: str) -> date:
    """``"2026-01"`` -> 2026-01-01."""
    return date.fromisoformat(f"{text}-01")


def _kwh(value: Decimal) -> str:
    """``2,500 kWh``; a whole number without decimals: ``10 kWh``."""
    whole = value == value.to_integral_value()
    return f"{fmt_number(value, 0 if whole else 3)} kWh"


RULE = RuleSpec(
    rule_id="R08",
    name_da="Intet elforbrug på den registrerede adresse",
    name_en="No electricity used at the registered address",
    description=(
        "A benefit that requires residence was paid for a month m while the recipient had"
        " been registered at the same address since the start of month m - 2, and the"
        " utility company measured at most max_monthly_kwh of electricity at that address"
        " in each of the months m - 2, m - 1 and m. A missing reading is not zero use."
        " Runs only when the municipality delivers utility readings, which needs a legal"
        " basis its lawyers have confirmed."
    ),
    legal_basis=basis(REGISTRATION, RESIDENCE, CONSUMPTION_ACCESS),
    benefits_in_scope=Scope.where("residence_required"),
    flag=flag,
    evidence=NoElectricityLine,
    account=account,
    parameters=R08Parameters,
    reads=READS,
)
