"""The extracts of a delivery, declared once (CONTRACT.md sections 1 and 1b).

Everything that knows what a delivery looks like reads it from here: the
loader's structural checks, its row checks and reject reasons, the synthetic
generator's output types, and (later) the Great Expectations suites. A check is
therefore written exactly once, as a typed *constraint* object, and compiled
to whichever engine needs it. Adding a check means adding one constraint to
one extract below.

Why constraints are objects and not bare Polars expressions: an auditor's
report and the loader must agree on what was checked. A ``MatchesRegex`` can be
compiled to a Polars predicate for the loader and to
``expect_column_values_to_match_regex`` for GX; a bare expression could not.

Choices where the contract is silent (also in README, "Reading the contract"):

* A **null or duplicate key** (``persons.cpr``, ``(residence_events.cpr,
  event_date)``, ``payments.payment_id``) is a *broken key*: a structural defect
  that fails the run. A malformed but present cpr is a row defect.
* A **null in a column the contract does not call nullable** is a row defect
  ("missing value"), because a row without e.g. a ``period_start`` cannot be
  placed in time by any rule.
* Integer and decimal columns accept *narrower* physical types (for example
  ``int8`` for ``municipality_code``, ``decimal(10,2)`` for an amount) because
  they convert losslessly; anything else is a wrong type.
* ``relations.valid_to`` on or before ``valid_from`` is a row defect: such a
  relation never holds on any day, so it is a delivery error, not a fact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from kontrol import catalogue

# --- value domains ------------------------------------------------------------

#: 10 digits DDMMYYSSSS whose first six are a plausible day and month.
#: Modulus 11 is deliberately not checked (CONTRACT.md section 1).
CPR_PATTERN = r"^(0[1-9]|[12][0-9]|3[01])(0[1-9]|1[0-2])[0-9]{6}$"
CVR_PATTERN = r"^[0-9]{8}$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"

EVENT_TYPES = ("address", "emigrated", "immigrated", "disappeared", "died")
RESIDENT_EVENT_TYPES = ("address", "immigrated")
RELATION_TYPES = ("child", "spouse")
PAYMENT_TYPES = ("regular", "correction")
SEXES = ("M", "K")

MONEY = pl.Decimal(12, 2)
CASE_MONEY = pl.Decimal(14, 2)


# --- constraints ----------------------------------------------------------------


@dataclass(frozen=True)
class Constraint:
    """One row-level check. ``reason`` is what a data engineer reads in rejects."""

    column: str
    reason: str

    def valid(self) -> pl.Expr:  # pragma: no cover - abstract
        """Polars predicate: True where the row passes, False where it fails.

        Nulls in the checked column count as passing; missing values are the
        job of :class:`NotNull`, so that each defect is reported once.
        """
        raise NotImplementedError


@dataclass(frozen=True)
class NotNull(Constraint):
    reason: str = "missing value"

    def valid(self) -> pl.Expr:
        return pl.col(self.column).is_not_null()


@dataclass(frozen=True)
class MatchesRegex(Constraint):
    pattern: str = ""

    def valid(self) -> pl.Expr:
        return pl.col(self.column).str.contains(self.pattern).fill_null(True)


@dataclass(frozen=True)
class InSet(Constraint):
    values: tuple[str, ...] = ()

    def valid(self) -> pl.Expr:
        return pl.col(self.column).is_in(list(self.values)).fill_null(True)


@dataclass(frozen=True)
class AtLeast(Constraint):
    """``column >= minimum``, optionally only where ``when`` holds."""

    minimum: int = 0
    when: pl.Expr | None = field(default=None, compare=False)
    when_text: str = ""

    def valid(self) -> pl.Expr:
        ok = (pl.col(self.column) >= self.minimum).fill_null(True)
        return ok if self.when is None else ok | ~self.when.fill_null(False)


@dataclass(frozen=True)
class RequiredWhen(Constraint):
    """``column`` must be present on rows where ``when`` holds."""

    when: pl.Expr = field(default_factory=lambda: pl.lit(False), compare=False)
    when_text: str = ""

    def valid(self) -> pl.Expr:
        return pl.col(self.column).is_not_null() | ~self.when.fill_null(False)


@dataclass(frozen=True)
class ColumnPair(Constraint):
    """A comparison between two columns of the same row, given as an expression."""

    other: str = ""
    predicate: pl.Expr = field(default_factory=lambda: pl.lit(True), compare=False)
    predicate_text: str = ""

    def valid(self) -> pl.Expr:
        return self.predicate.fill_null(True)


@dataclass(frozen=True)
class FirstOfMonth(Constraint):
    def valid(self) -> pl.Expr:
        return (pl.col(self.column).dt.day() == 1).fill_null(True)


# --- extracts -------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    nullable: bool
    meaning: str
    protected: bool = False


@dataclass(frozen=True)
class ExtractSpec:
    name: str
    register: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    constraints: tuple[Constraint, ...]
    #: False for the optional partner registers of CONTRACT.md section 1b: a
    #: delivery may leave the file out; when delivered it is checked like the rest.
    required: bool = True

    @property
    def file_name(self) -> str:
        return catalogue.delivery_file(self.name)

    @property
    def schema(self) -> pl.Schema:
        return pl.Schema({c.name: c.dtype for c in self.columns})

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def all_constraints(self) -> tuple[Constraint, ...]:
        """Not-null checks for every non-nullable, non-key column, then the rest.

        Key columns are excluded: a null key is a structural defect, checked
        with the key's uniqueness rather than row by row.
        """
        not_null = tuple(
            NotNull(column=c.name)
            for c in self.columns
            if not c.nullable and c.name not in self.key
        )
        return not_null + self.constraints


def _cpr(column: str) -> MatchesRegex:
    return MatchesRegex(
        column=column,
        reason="malformed cpr (expected 10 digits DDMMYYSSSS)",
        pattern=CPR_PATTERN,
    )


def _country(column: str) -> MatchesRegex:
    return MatchesRegex(
        column=column,
        reason="malformed country code (expected ISO 3166-1 alpha-2)",
        pattern=COUNTRY_PATTERN,
    )


PERSONS = ExtractSpec(
    name="persons",
    register="CPR, persons known to the municipality",
    columns=(
        Column("cpr", pl.String(), False, "unique key"),
        Column("birth_date", pl.Date(), False, "date of birth"),
        Column("sex", pl.String(), False, "M or K; protected", protected=True),
        Column("citizenship", pl.String(), False, "ISO 3166-1 alpha-2; protected", protected=True),
        Column("municipality_code", pl.Int16(), False, "three-digit municipality code"),
    ),
    key=("cpr",),
    constraints=(
        _cpr("cpr"),
        InSet(column="sex", reason="unknown sex (expected M or K)", values=SEXES),
        _country("citizenship"),
    ),
)

RESIDENCE_EVENTS = ExtractSpec(
    name="residence_events",
    register="CPR, address and residence-status history",
    columns=(
        Column("cpr", pl.String(), False, "person"),
        Column("event_date", pl.Date(), False, "the day the event takes effect"),
        Column("event_type", pl.String(), False, ", ".join(EVENT_TYPES)),
        Column("address_id", pl.String(), True, "DAR address id"),
        Column("country_code", pl.String(), True, "ISO alpha-2 destination or origin"),
    ),
    key=("cpr", "event_date"),
    constraints=(
        _cpr("cpr"),
        InSet(column="event_type", reason="unknown event_type", values=EVENT_TYPES),
        RequiredWhen(
            column="address_id",
            reason="address_id missing (required for address and immigrated events)",
            when=pl.col("event_type").is_in(list(RESIDENT_EVENT_TYPES)),
            when_text="event_type in (address, immigrated)",
        ),
        _country("country_code"),
    ),
)

RELATIONS = ExtractSpec(
    name="relations",
    register="CPR, children and spouses",
    columns=(
        Column("cpr", pl.String(), False, "person"),
        Column("related_cpr", pl.String(), False, "the related person"),
        Column("relation", pl.String(), False, "child or spouse"),
        Column("valid_from", pl.Date(), False, "first day it holds"),
        Column("valid_to", pl.Date(), True, "first day it no longer holds; null = holds"),
    ),
    key=(),
    constraints=(
        _cpr("cpr"),
        _cpr("related_cpr"),
        InSet(column="relation", reason="unknown relation", values=RELATION_TYPES),
        ColumnPair(
            column="valid_to",
            reason="valid_to not after valid_from (the relation would never hold)",
            other="valid_from",
            predicate=pl.col("valid_to") > pl.col("valid_from"),
            predicate_text="valid_to > valid_from",
        ),
    ),
)


def benefit_code_constraint(codes: Sequence[str]) -> InSet:
    return InSet(column="benefit_code", reason="unknown benefit_code", values=tuple(codes))


PAYMENTS_BASE_CONSTRAINTS: tuple[Constraint, ...] = (
    _cpr("cpr"),
    InSet(column="payment_type", reason="unknown payment_type", values=PAYMENT_TYPES),
    ColumnPair(
        column="period_end",
        reason="period_end before period_start",
        other="period_start",
        predicate=pl.col("period_end") >= pl.col("period_start"),
        predicate_text="period_end >= period_start",
    ),
    ColumnPair(
        column="period_end",
        reason="period_end in another month than period_start",
        other="period_start",
        predicate=pl.col("period_end").dt.truncate("1mo")
        == pl.col("period_start").dt.truncate("1mo"),
        predicate_text="month(period_end) == month(period_start)",
    ),
    AtLeast(
        column="amount_dkk",
        reason="negative regular payment",
        minimum=0,
        when=pl.col("payment_type") != "correction",
        when_text="payment_type != correction",
    ),
)


def payments_spec(benefit_codes: Sequence[str]) -> ExtractSpec:
    """The payments extract; its allowed codes come from the configured benefit table."""
    return ExtractSpec(
        name="payments",
        register="benefit payment ledger (municipal and Udbetaling Danmark)",
        columns=(
            Column("payment_id", pl.String(), False, "unique key"),
            Column("cpr", pl.String(), False, "recipient"),
            Column("benefit_code", pl.String(), False, "code from the benefit table"),
            Column("period_start", pl.Date(), False, "first day covered"),
            Column("period_end", pl.Date(), False, "last day covered, same month"),
            Column("amount_dkk", MONEY, False, "negative only for corrections"),
            Column("payment_type", pl.String(), False, "regular or correction"),
            Column("paid_date", pl.Date(), False, "date paid"),
        ),
        key=("payment_id",),
        constraints=(*PAYMENTS_BASE_CONSTRAINTS, benefit_code_constraint(benefit_codes)),
    )


INCOME = ExtractSpec(
    name="income",
    register="eIndkomst, monthly income per employer",
    columns=(
        Column("cpr", pl.String(), False, "income recipient"),
        Column("employer_cvr", pl.String(), False, "8-digit CVR number"),
        Column("month", pl.Date(), False, "first day of the income month"),
        Column("gross_income_dkk", MONEY, False, ">= 0"),
    ),
    key=(),
    constraints=(
        _cpr("cpr"),
        MatchesRegex(
            column="employer_cvr",
            reason="malformed employer_cvr (expected 8 digits)",
            pattern=CVR_PATTERN,
        ),
        FirstOfMonth(column="month", reason="month is not the first day of a month"),
        AtLeast(column="gross_income_dkk", reason="negative gross income", minimum=0),
    ),
)


#: The delivery's extracts, in order; declared with their files in the dataset catalogue.
EXTRACT_NAMES = catalogue.EXTRACTS


def extract_specs(benefit_codes: Sequence[str]) -> dict[str, ExtractSpec]:
    """All five extracts, keyed by name, in delivery order."""
    return {
        "persons": PERSONS,
        "residence_events": RESIDENCE_EVENTS,
        "relations": RELATIONS,
        "payments": payments_spec(benefit_codes),
        "income": INCOME,
    }


# --- optional partner registers (CONTRACT.md section 1b, version 2) -------------------

UTILITIES = ("electricity", "water", "heat")
TENANCY_ROLES = ("tenant", "co_tenant")
CUSTODY_TYPES = ("remand", "sentence")
CONSUMPTION = pl.Decimal(12, 3)

UTILITY_READINGS = ExtractSpec(
    name="utility_readings",
    register="utility companies: metered consumption per dwelling and month",
    columns=(
        Column("address_id", pl.String(), False, "DAR address id of the dwelling"),
        Column("utility", pl.String(), False, ", ".join(UTILITIES)),
        Column("month", pl.Date(), False, "first day of the month the total covers"),
        Column("consumption", CONSUMPTION, False, "kWh (electricity, heat) or m3 (water), >= 0"),
    ),
    key=("address_id", "utility", "month"),
    constraints=(
        InSet(column="utility", reason="unknown utility", values=UTILITIES),
        FirstOfMonth(column="month", reason="month is not the first day of a month"),
        AtLeast(column="consumption", reason="negative consumption", minimum=0),
    ),
    required=False,
)

TENANCIES = ExtractSpec(
    name="tenancies",
    register="housing associations: the persons on each lease",
    columns=(
        Column("lease_id", pl.String(), False, "the housing association's lease number"),
        Column("address_id", pl.String(), False, "DAR address id of the dwelling"),
        Column("cpr", pl.String(), False, "a person on the lease"),
        Column("role", pl.String(), False, ", ".join(TENANCY_ROLES)),
        Column("valid_from", pl.Date(), False, "first day it holds"),
        Column("valid_to", pl.Date(), True, "first day it no longer holds; null = holds"),
    ),
    key=("lease_id", "cpr", "valid_from"),
    constraints=(
        _cpr("cpr"),
        InSet(column="role", reason="unknown role", values=TENANCY_ROLES),
        ColumnPair(
            column="valid_to",
            reason="valid_to not after valid_from (the row would never hold)",
            other="valid_from",
            predicate=pl.col("valid_to") > pl.col("valid_from"),
            predicate_text="valid_to > valid_from",
        ),
    ),
    required=False,
)

INSPECTIONS = ExtractSpec(
    name="inspections",
    register="the municipality's company inspections: persons met at work",
    columns=(
        Column("inspection_id", pl.String(), False, "the inspection"),
        Column("inspection_date", pl.Date(), False, "the day of the inspection"),
        Column("employer_cvr", pl.String(), False, "8-digit CVR of the company inspected"),
        Column("cpr", pl.String(), False, "a person met working there"),
    ),
    key=("inspection_id", "cpr"),
    constraints=(
        _cpr("cpr"),
        MatchesRegex(
            column="employer_cvr",
            reason="malformed employer_cvr (expected 8 digits)",
            pattern=CVR_PATTERN,
        ),
    ),
    required=False,
)

CUSTODY = ExtractSpec(
    name="custody",
    register="police and prison service: periods of deprivation of liberty",
    columns=(
        Column("cpr", pl.String(), False, "person"),
        Column("custody_type", pl.String(), False, ", ".join(CUSTODY_TYPES)),
        Column("start_date", pl.Date(), False, "first day deprived of liberty"),
        Column("end_date", pl.Date(), True, "last day (inclusive); null = still held"),
    ),
    key=("cpr", "start_date"),
    constraints=(
        _cpr("cpr"),
        InSet(column="custody_type", reason="unknown custody_type", values=CUSTODY_TYPES),
        ColumnPair(
            column="end_date",
            reason="end_date before start_date",
            other="start_date",
            predicate=pl.col("end_date") >= pl.col("start_date"),
            predicate_text="end_date >= start_date",
        ),
    ),
    required=False,
)

#: The optional registers, keyed by name, in contract order.
OPTIONAL_SPECS: dict[str, ExtractSpec] = {
    spec.name: spec for spec in (UTILITY_READINGS, TENANCIES, INSPECTIONS, CUSTODY)
}

OPTIONAL_EXTRACT_NAMES: tuple[str, ...] = tuple(OPTIONAL_SPECS)
#: Every extract a delivery may hold: the five required ones, then the optional ones.
ALL_EXTRACT_NAMES: tuple[str, ...] = (*EXTRACT_NAMES, *OPTIONAL_EXTRACT_NAMES)


def all_extract_specs(benefit_codes: Sequence[str]) -> dict[str, ExtractSpec]:
    """Required and optional extracts, keyed by name, in :data:`ALL_EXTRACT_NAMES` order."""
    return {**extract_specs(benefit_codes), **OPTIONAL_SPECS}
