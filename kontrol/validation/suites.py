"""Generate the GX expectation suites in ``expectations/`` from the declarations.

Every check of the loader is declared once, in :mod:`kontrol.schema`; this
module *compiles* those declarations to GX 1.x expectation configurations
(plain JSON: the committed files are exactly :func:`build_suites`'s output,
and a test fails when they drift). Run::

    .venv/bin/python -m kontrol.validation.suites --write   # regenerate expectations/
    .venv/bin/python -m kontrol.validation.suites --check   # exit 1 on drift

Compilation, per extract suite (validated on the clean staged extract):

========================  ===================================================
schema declaration        expectation
========================  ===================================================
columns (+ derived)       ``expect_table_columns_to_match_ordered_list``
column dtype              ``expect_column_values_to_be_of_type`` (pandas name)
key                       ``expect_column_values_to_not_be_null`` per part and
                          ``expect_column_values_to_be_unique`` /
                          ``expect_compound_columns_to_be_unique``
``NotNull``               ``expect_column_values_to_not_be_null``
``MatchesRegex``          ``expect_column_values_to_match_regex``
``InSet``                 ``expect_column_values_to_be_in_set`` (benefit codes
                          via the ``$PARAMETER`` ``benefit_codes``, because
                          the benefit table is configuration)
``AtLeast`` (plain)       ``expect_column_values_to_be_between``
anything else             ``expect_column_values_to_be_in_set([True])`` on the
                          derived column ``valid__<check>``, computed with the
                          constraint's own ``.valid()`` (see ``checks``)
========================  ===================================================

Why derived boolean columns rather than GX ``row_condition``: the conditions
(same calendar month, ``event_type in (...)``) would have to be restated as
pandas query strings, i.e. written a second time, and could drift from the
Polars predicate that decides rejects. A derived column is the loader's own
predicate.

The ``delivery`` suite holds the checks with no loader twin (reject share,
volumes, referential integrity, dates after ``as_of``) and the whole-extract
counts of every constraint; ``case_queue`` checks the published queue
(CONTRACT.md section 5). Every expectation carries ``meta.name`` (a stable,
unique name used in the manifest), ``meta.severity`` (``critical`` stops the
run, ``warning`` is reported) mirrored in GX's own ``severity`` field, and
``meta.description`` (why it exists).

The installed GX version is written into each suite's ``meta``: after a GX
upgrade the committed suites differ from the generator's output, and the
tests ask for a deliberate regeneration.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from kontrol import io
from kontrol.config import KontrolConfig
from kontrol.queue import QUEUE_SCHEMA, QUEUE_STATUSES
from kontrol.rules import CATALOGUE
from kontrol.schema import (
    ALL_EXTRACT_NAMES,
    CPR_PATTERN,
    AtLeast,
    Constraint,
    ExtractSpec,
    InSet,
    MatchesRegex,
    NotNull,
    all_extract_specs,
    benefit_code_constraint,
)
from kontrol.validation import checks

SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"
DELIVERY_SUITE = "delivery"
QUEUE_SUITE = "case_queue"
SUITE_NAMES = (*ALL_EXTRACT_NAMES, DELIVERY_SUITE, QUEUE_SUITE)

CRITICAL = "critical"
WARNING = "warning"

# Suite parameters (GX ``$PARAMETER``), supplied at validation time from configuration.
P_BENEFIT_CODES = "benefit_codes"
P_MAX_REJECT_SHARE = "max_reject_share"
P_VOLUME_MIN_RATIO = "volume_min_ratio"
P_VOLUME_MAX_RATIO = "volume_max_ratio"
P_CASE_COUNT = "case_count"


def p_min_rows(extract: str) -> str:
    return f"{extract}_min_rows"


def p_max_rows(extract: str) -> str:
    return f"{extract}_max_rows"


def p_allowed_empty(extract: str) -> str:
    """1 when configuration allows ``extract`` to be empty (``validation.allow_empty``), else 0."""
    return f"{extract}_allowed_empty"


P_MIN_LINES_IN_WINDOW = "payments_min_lines_in_window"


CASE_ID_PATTERN = r"^[0-9a-f]{32}$"
RUN_ID_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9a-f]{12}$"

Doc = dict[str, Any]


def installed_gx_version() -> str:
    """From package metadata: importing GX itself takes seconds."""
    return importlib.metadata.version("great_expectations")


def _param(name: str) -> dict[str, str]:
    return {"$PARAMETER": name}


def _expectation(
    type_: str, kwargs: dict[str, Any], *, name: str, severity: str, description: str
) -> Doc:
    return {
        "type": type_,
        "kwargs": kwargs,
        "severity": severity,
        "meta": {"name": name, "severity": severity, "description": description},
    }


def gx_type(dtype: pl.DataType) -> str:
    """The type name GX's pandas engine sees after ``DataFrame.to_pandas()``.

    pandas cannot tell a Date from a Datetime (both ``datetime64``) nor
    Decimal precision (values are ``decimal.Decimal`` objects, checked one by
    one); the exact Arrow types are enforced by the loader's structural check.
    """
    if isinstance(dtype, pl.String):
        return "str"
    if isinstance(dtype, pl.Date | pl.Datetime):
        return "datetime64"
    if isinstance(dtype, pl.Decimal):
        return "Decimal"
    if dtype.is_integer() or dtype.is_float():
        return str(dtype).lower()
    if isinstance(dtype, pl.Boolean):
        return "bool"
    return "object"


def _schema_expectations(
    subject: str, schema: pl.Schema, extra_columns: Sequence[str]
) -> list[Doc]:
    columns = [*schema.names(), *extra_columns]
    docs = [
        _expectation(
            "expect_table_columns_to_match_ordered_list",
            {"column_list": columns},
            name="columns",
            severity=CRITICAL,
            description=f"the {subject} has exactly the contract's columns, in order"
            + (" (then kontrol's derived check columns)" if extra_columns else ""),
        )
    ]
    docs += [
        _expectation(
            "expect_column_values_to_be_of_type",
            {"column": column, "type_": gx_type(dtype)},
            name=f"{column}: type",
            severity=CRITICAL,
            description=f"declared type {dtype}",
        )
        for column, dtype in schema.items()
    ]
    return docs


def _constraint_expectation(constraint: Constraint, benefit_codes: InSet) -> Doc:
    name = checks.check_name(constraint)
    column = constraint.column
    description = f"loader row check (kontrol.schema {type(constraint).__name__})"
    if isinstance(constraint, NotNull):
        return _expectation(
            "expect_column_values_to_not_be_null",
            {"column": column},
            name=name,
            severity=CRITICAL,
            description=description,
        )
    if isinstance(constraint, MatchesRegex):
        return _expectation(
            "expect_column_values_to_match_regex",
            {"column": column, "regex": constraint.pattern},
            name=name,
            severity=CRITICAL,
            description=description,
        )
    if isinstance(constraint, InSet):
        values: Any = (
            _param(P_BENEFIT_CODES) if constraint == benefit_codes else list(constraint.values)
        )
        return _expectation(
            "expect_column_values_to_be_in_set",
            {"column": column, "value_set": values},
            name=name,
            severity=CRITICAL,
            description=description,
        )
    if isinstance(constraint, AtLeast) and checks.is_native(constraint):
        return _expectation(
            "expect_column_values_to_be_between",
            {"column": column, "min_value": constraint.minimum},
            name=name,
            severity=CRITICAL,
            description=description,
        )
    condition = (
        getattr(constraint, "predicate_text", "")
        or getattr(constraint, "when_text", "")
        or type(constraint).__name__
    )
    return _expectation(
        "expect_column_values_to_be_in_set",
        {"column": checks.derived_column(constraint), "value_set": [True]},
        name=name,
        severity=CRITICAL,
        description=f"{description}: {condition}; evaluated by the constraint's own "
        "Polars predicate into this boolean column",
    )


def extract_suite(spec: ExtractSpec, benefit_codes: InSet) -> list[Doc]:
    """Expectations for one clean staged extract: all critical, every row must pass."""
    derived = list(checks.derived_columns(spec))
    docs = _schema_expectations(f"staged {spec.file_name}", spec.schema, derived)
    for part in spec.key:
        docs.append(
            _expectation(
                "expect_column_values_to_not_be_null",
                {"column": part},
                name=f"key {part}: not null",
                severity=CRITICAL,
                description="a null key is a broken key (structural defect)",
            )
        )
    if len(spec.key) == 1:
        docs.append(
            _expectation(
                "expect_column_values_to_be_unique",
                {"column": spec.key[0]},
                name=f"key {spec.key[0]}: unique",
                severity=CRITICAL,
                description="a duplicate key is a broken key (structural defect)",
            )
        )
    elif spec.key:
        docs.append(
            _expectation(
                "expect_compound_columns_to_be_unique",
                {"column_list": list(spec.key)},
                name=f"key ({', '.join(spec.key)}): unique",
                severity=CRITICAL,
                description="a duplicate key is a broken key (structural defect)",
            )
        )
    docs += [_constraint_expectation(c, benefit_codes) for c in spec.all_constraints()]
    return docs


def _fact(
    extract: str,
    metric: str,
    *,
    severity: str,
    description: str,
    minimum: Any = 0,
    maximum: Any = 0,
    nullable: bool = False,
) -> Doc:
    column = checks.fact_column(extract, metric)
    # ``max`` shows the observed number in GX's result; a nullable fact (no
    # reference known) uses the row-wise form, for which a null is "missing".
    type_ = "expect_column_values_to_be_between" if nullable else "expect_column_max_to_be_between"
    return _expectation(
        type_,
        {"column": column, "min_value": minimum, "max_value": maximum},
        name=column,
        severity=severity,
        description=description,
    )


def delivery_suite(specs: dict[str, ExtractSpec]) -> list[Doc]:
    """Whole-delivery facts: one expectation per measurement of :func:`checks.delivery_facts`."""
    docs: list[Doc] = []
    for name, spec in specs.items():
        docs.append(
            _fact(
                name,
                "reject_share",
                severity=CRITICAL,
                maximum=_param(P_MAX_REJECT_SHARE),
                description="CONTRACT.md section 1: more than the allowed share of rejected "
                "rows fails the run",
            )
        )
        docs.append(
            _fact(
                name,
                "staged_rows_mismatch",
                severity=CRITICAL,
                description="the staged clean file holds exactly the delivered rows minus "
                "the rejected ones",
            )
        )
        if spec.key:
            for metric in ("key_null_rows", "key_duplicate_rows"):
                docs.append(
                    _fact(
                        name,
                        metric,
                        severity=CRITICAL,
                        description=f"whole-file key check ({', '.join(spec.key)})",
                    )
                )
        for constraint in spec.all_constraints():
            docs.append(
                _fact(
                    name,
                    checks.failed_metric(constraint),
                    severity=CRITICAL,
                    description="whole-file count of staged rows failing the loader check "
                    f"'{checks.check_name(constraint)}' (must be 0: such rows are rejects)",
                )
            )
        docs.append(
            _fact(
                name,
                "rows_delivered",
                severity=WARNING,
                minimum=_param(p_min_rows(name)),
                maximum=_param(p_max_rows(name)),
                description="volume within the configured expected range",
            )
        )
        docs.append(
            _fact(
                name,
                "rows_vs_previous",
                severity=WARNING,
                minimum=_param(P_VOLUME_MIN_RATIO),
                maximum=_param(P_VOLUME_MAX_RATIO),
                nullable=True,
                description="volume compared with the previous run's delivery "
                "(null: no previous run known, not evaluated)",
            )
        )
        if spec.required:  # an optional register may well be empty (CONTRACT.md 1b)
            docs.append(
                _fact(
                    name,
                    checks.FACT_EMPTY,
                    severity=CRITICAL,
                    maximum=_param(p_allowed_empty(name)),
                    description="a required extract delivered with zero rows is a structural "
                    "defect, unless configuration allows it (validation.allow_empty)",
                )
            )
        if name in checks.SUMMED_MONEY:
            docs.append(
                _fact(
                    name,
                    checks.FACT_PERSONS_OVER_CASE_MONEY,
                    severity=CRITICAL,
                    description=f"persons whose {checks.SUMMED_MONEY[name]} lines sum, in "
                    "absolute value, beyond decimal(14,2) (999,999,999,999.99 DKK): "
                    "implausible, and a case amount could not be represented",
                )
            )
        if name == "payments":
            docs.append(
                _fact(
                    name,
                    checks.FACT_LINES_IN_WINDOW,
                    severity=CRITICAL,
                    minimum=_param(P_MIN_LINES_IN_WINDOW),
                    maximum=None,
                    description="payment lines whose period starts in the run's window: "
                    "none means the delivery or the as-of date is wrong, and an empty "
                    "queue would look like a clean month",
                )
            )
            docs.append(
                _fact(
                    name,
                    checks.FACT_STOPS_BEFORE_AS_OF_MONTH,
                    severity=WARNING,
                    description="1 when the latest payment period ends before the as-of "
                    "month: the ledger may have been cut early",
                )
            )
        if name in checks.REFERRING_EXTRACTS:
            docs.append(
                _fact(
                    name,
                    "rows_unknown_person",
                    severity=WARNING,
                    description="referential integrity: rows whose cpr is not in persons",
                )
            )
        if name in checks.AS_OF_COLUMNS:
            docs.append(
                _fact(
                    name,
                    "rows_after_as_of",
                    severity=WARNING,
                    description=f"rows whose {checks.AS_OF_COLUMNS[name]} is after the "
                    "as-of date (extract cut later than the run assumes)",
                )
            )
    return docs


def queue_suite(rule_ids: Sequence[str]) -> list[Doc]:
    """The published case queue (CONTRACT.md section 5): every expectation critical."""
    docs = _schema_expectations("case queue", QUEUE_SCHEMA, ())

    def add(type_: str, kwargs: dict[str, Any], name: str, description: str) -> None:
        docs.append(
            _expectation(type_, kwargs, name=name, severity=CRITICAL, description=description)
        )

    for column in QUEUE_SCHEMA.names():
        if column != "anomaly_score":
            add(
                "expect_column_values_to_not_be_null",
                {"column": column},
                f"{column}: not null",
                "every contract column is filled (anomaly_score may be null)",
            )
    add(
        "expect_column_values_to_be_unique",
        {"column": "case_id"},
        "case_id: unique",
        "one row per case",
    )
    add(
        "expect_column_values_to_match_regex",
        {"column": "case_id", "regex": CASE_ID_PATTERN},
        "case_id: format",
        "keyed HMAC, 32 hex characters",
    )
    add(
        "expect_column_values_to_be_in_set",
        {"column": "rule_id", "value_set": list(rule_ids)},
        "rule_id: known",
        "a rule of the catalogue (kontrol.rules.CATALOGUE)",
    )
    add(
        "expect_column_values_to_match_regex",
        {"column": "cpr", "regex": CPR_PATTERN},
        "cpr: format",
        "10 digits DDMMYYSSSS",
    )
    add(
        "expect_column_values_to_be_in_set",
        {"column": "status", "value_set": list(QUEUE_STATUSES)},
        "status: known",
        "new, or continuing an open case of the register (kontrol.lifecycle)",
    )
    add(
        "expect_column_pair_values_a_to_be_greater_than_b",
        {"column_A": "period_end", "column_B": "period_start", "or_equal": True},
        "period_end >= period_start",
        "a case covers at least one day",
    )
    add(
        "expect_column_values_to_be_between",
        {"column": "amount_at_stake_dkk", "min_value": 0, "strict_min": True},
        "amount_at_stake_dkk: > 0",
        "CONTRACT.md section 4: a case whose amount is <= 0 is not emitted",
    )
    add(
        "expect_column_values_to_be_between",
        {"column": "anomaly_score", "min_value": 0, "max_value": 1},
        "anomaly_score: in [0, 1]",
        "a score is in [0, 1] or null",
    )
    add(
        "expect_column_values_to_be_between",
        {"column": "priority", "min_value": 1, "max_value": _param(P_CASE_COUNT)},
        "priority: in 1..N",
        "with uniqueness: exactly 1..N without gaps",
    )
    add(
        "expect_column_values_to_be_unique",
        {"column": "priority"},
        "priority: unique",
        "1..N without gaps",
    )
    add(
        "expect_column_values_to_be_increasing",
        {"column": "priority", "strictly": True},
        "priority: sorted",
        "the queue is sorted by priority",
    )
    for column in ("evidence", "legal_basis"):
        add(
            "expect_column_value_lengths_to_be_between",
            {"column": column, "min_value": 1},
            f"{column}: not empty",
            "a caseworker needs the facts and the legal basis",
        )
    add(
        "expect_column_values_to_be_json_parseable",
        {"column": "evidence"},
        "evidence: JSON",
        "evidence is a JSON document",
    )
    add(
        "expect_column_values_to_match_regex",
        {"column": "run_id", "regex": RUN_ID_PATTERN},
        "run_id: format",
        "<as_of>-<12 hex>",
    )
    add(
        "expect_column_unique_value_count_to_be_between",
        {"column": "run_id", "max_value": 1},
        "run_id: one run",
        "every case of the queue comes from this run",
    )
    return docs


def _suite(name: str, expectations: list[Doc], evaluated_on: str, gx_version: str) -> Doc:
    names = [e["meta"]["name"] for e in expectations]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"suite {name}: expectation names not unique: {duplicates}")
    return {
        "name": name,
        "expectations": expectations,
        "meta": {
            "great_expectations_version": gx_version,
            "kontrol": {
                "generated_by": "kontrol.validation.suites (python -m kontrol.validation.suites "
                "--write)",
                "evaluated_on": evaluated_on,
            },
        },
        "notes": "Generated from kontrol.schema / kontrol.queue / kontrol.rules; do not edit "
        "by hand.",
    }


def build_suites(gx_version: str | None = None) -> dict[str, Doc]:
    """Every suite as a JSON document, keyed by suite name (= file stem in ``expectations/``)."""
    version = gx_version or installed_gx_version()
    # The benefit codes are configuration: compile their InSet to a parameter.
    codes = KontrolConfig().benefit_codes
    specs = all_extract_specs(codes)
    benefit_codes = benefit_code_constraint(codes)
    suites = {
        name: _suite(
            name,
            extract_suite(spec, benefit_codes),
            f"the clean staged {spec.file_name} (whole, or an even sample when large)",
            version,
        )
        for name, spec in specs.items()
    }
    suites[DELIVERY_SUITE] = _suite(
        DELIVERY_SUITE,
        delivery_suite(specs),
        "one row of whole-delivery measurements made with Polars (kontrol.validation.checks)",
        version,
    )
    suites[QUEUE_SUITE] = _suite(
        QUEUE_SUITE,
        queue_suite([rule.rule_id for rule in CATALOGUE]),
        "the whole case queue before publication",
        version,
    )
    return suites


def suite_path(name: str, directory: Path = SUITES_DIR) -> Path:
    return directory / f"{name}.json"


def load_suites(directory: Path = SUITES_DIR) -> dict[str, Doc]:
    return {name: io.read_json(suite_path(name, directory)) for name in SUITE_NAMES}


def drifted(directory: Path = SUITES_DIR) -> list[str]:
    """Names of suites whose committed file differs from the generator's output now."""
    generated = build_suites()
    out = []
    for name in SUITE_NAMES:
        path = suite_path(name, directory)
        if not path.is_file() or io.read_json(path) != generated[name]:
            out.append(name)
    return out


def write_suites(directory: Path = SUITES_DIR) -> list[Path]:
    paths = []
    for name, doc in build_suites().items():
        path = suite_path(name, directory)
        io.write_json(doc, path, private=False)  # a repository file, not a private run output
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kontrol.validation.suites")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="regenerate expectations/*.json")
    mode.add_argument("--check", action="store_true", help="exit 1 if a committed suite drifted")
    parser.add_argument("--dir", type=Path, default=SUITES_DIR)
    args = parser.parse_args(argv)
    if args.write:
        for path in write_suites(args.dir):
            print(path)
        return 0
    stale = drifted(args.dir)
    if stale:
        print(
            "stale suites: "
            + ", ".join(stale)
            + "; run python -m kontrol.validation.suites --write",
            file=sys.stderr,
        )
        return 1
    print(json.dumps({"suites": list(SUITE_NAMES), "status": "up to date"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
