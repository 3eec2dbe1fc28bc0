"""The only module that touches Great Expectations; GX is imported inside functions.

``import great_expectations`` takes seconds, so nothing imports it at module
level: the Airflow DAG can import :mod:`kontrol.validation` at parse time for
free, and GX is paid for once, when a validation actually runs.

Each :class:`GxSession` is a fresh *ephemeral* context (no ``gx/`` folder,
no stores on disk): suites come from ``expectations/`` as JSON, nothing is
left over from an earlier run, nothing is written by GX. A suite is validated
by the validator a ``ValidationDefinition`` runs (``v1_validator.Validator``),
without the definition: its ``run`` adds the suite and the definition to the context's
stores and stores each result, bookkeeping nobody reads here, which took about
0.3 of the 2.4 CPU-s of a whole run on the fixture delivery. The result
documents are the same, key for key (the two keys only the definition's run
sets are added back). Not ``Batch.validate``: that loads the batch twice, and
each load fingerprints the whole DataFrame (GX pickles and hashes it: about
4.7 s for the 205,064-case queue of the 6M high-hit benchmark, 0.8 GB of
evidence). Results are asked
for in ``SUMMARY`` format with ``partial_unexpected_count = 0``: counts only,
never the offending values (which would be cpr numbers), and fast (COMPLETE
with index lists took a minute for 400k failing rows). :func:`sanitise`
removes any value list that might still appear, as a second guard.

While a suite validates, each expectation's ``configuration``, each
configuration's expectation object and each metric id are computed once
(:func:`_computed_once`): GX recomputes them tens of thousands of times per
run, which was most of the validation's CPU time on small data.
"""

from __future__ import annotations

import contextvars
import logging
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kontrol.errors import mask

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

RESULT_FORMAT: dict[str, Any] = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": 0,
    "include_unexpected_rows": False,
}

#: How GX names an in-memory DataFrame in a result's ``batch_parameters``.
DATAFRAME_PLACEHOLDER = "<DATAFRAME>"

#: Result keys that can carry row values or row positions: never kept.
VALUE_KEYS = frozenset(
    {
        "partial_unexpected_list",
        "partial_unexpected_index_list",
        "partial_unexpected_counts",
        "unexpected_list",
        "unexpected_index_list",
        "unexpected_index_query",
        "unexpected_index_column_names",
        "unexpected_rows",
        "exception_traceback",
        "details",
    }
)


def sanitise(value: Any) -> Any:
    """A deep copy without value lists; every string masked for cpr-shaped numbers."""
    if isinstance(value, dict):
        return {str(k): sanitise(v) for k, v in value.items() if k not in VALUE_KEYS}
    if isinstance(value, list | tuple):
        return [sanitise(v) for v in value]
    if isinstance(value, str):
        return mask(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return mask(str(value))


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result, safe for reports: names, counts, no values."""

    name: str
    expectation_type: str
    column: str | None
    severity: str
    success: bool
    observed: str
    description: str
    error: str | None = None
    #: What failed, in words, for the report and the error message (dates and
    #: counts, never a value of a row); set by kontrol for some delivery facts.
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "expectation_type": self.expectation_type,
            "column": self.column,
            "severity": self.severity,
            "success": self.success,
            "observed": self.observed,
            "description": self.description,
            "error": self.error,
            "detail": self.detail,
        }


def _raised(info: Any) -> str | None:
    """The exception message of a result's ``exception_info`` (flat or keyed by metric)."""
    if not isinstance(info, Mapping):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "exception")
    for nested in info.values():
        message = _raised(nested)
        if message:
            return message
    return None


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _observed(result: Mapping[str, Any]) -> str:
    if "observed_value" in result:
        value = result["observed_value"]
        if hasattr(value, "item"):  # numpy scalar
            value = value.item()
        if value is None:
            return "none"
        if isinstance(value, bool | int | float):
            return _number(value)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return ", ".join(value)  # a column list
        return mask(str(value)) if len(str(value)) <= 40 else "(not shown)"
    if "unexpected_count" in result:
        count = result.get("unexpected_count") or 0
        total = result.get("element_count") or 0
        missing = result.get("missing_count") or 0
        text = f"{_number(count)} of {_number(total)} rows unexpected"
        if missing:
            text += f" ({_number(missing)} null, not evaluated)"
        return text
    return ""


@dataclass(frozen=True)
class SuiteRun:
    expectations: tuple[ExpectationOutcome, ...]
    statistics: dict[str, int]
    gx_version: str
    gx_result: dict[str, Any]


class _Memo:
    """What GX recomputes over and over while one suite validates, computed once."""

    def __init__(self) -> None:
        #: each expectation's configuration by ``id``, with the expectation itself, so
        #: that an ``id`` reused by a later object cannot hit
        self.configurations: dict[int, tuple[Any, Any]] = {}
        #: ``IDDict.to_id`` results by :func:`_plain_key` of the dict and the arguments
        self.ids: dict[Any, Any] = {}
        #: each configuration's expectation (``to_domain_obj``) by ``id``, with the configuration
        self.expectations: dict[int, tuple[Any, Any]] = {}


#: The memo of the suite validating in this thread (context); ``None`` outside one.
_MEMO: contextvars.ContextVar[_Memo | None] = contextvars.ContextVar(
    "kontrol_gx_memo", default=None
)

_PLAIN_SCALARS = (str, int, bool, type(None))


def _plain_key(value: Any) -> Any:
    """An exact hashable key of a JSON-like value; ``TypeError`` for anything else.

    Types are part of the key (``True`` and ``1`` are equal in Python, not in
    JSON), and a float is keyed by its ``repr`` (``0.0 == -0.0``, but GX writes
    them differently; a NaN never equals itself and would never hit).
    """
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return (kind, value)
    if kind is float:
        return (float, repr(value))
    if kind is list or kind is tuple:
        return (kind, tuple(_plain_key(item) for item in value))
    if isinstance(value, dict) and all(type(k) is str for k in value):
        return (kind, tuple(sorted((k, _plain_key(v)) for k, v in value.items())))
    raise TypeError(f"not a plain JSON value: {kind.__name__}")


def _built_once_per_object(
    original: Callable[[Any], Any], table: Callable[[_Memo], dict[int, tuple[Any, Any]]]
) -> Callable[[Any], Any]:
    """``original(obj)`` once per object while a suite validates; GX's own call elsewhere."""

    def built_once(obj: Any) -> Any:
        memo = _MEMO.get()
        if memo is None:  # outside kontrol's validation: GX as it is
            return original(obj)
        built = table(memo)
        hit = built.get(id(obj))
        if hit is None or hit[0] is not obj:  # keeping obj keeps its id from being reused
            hit = built[id(obj)] = (obj, original(obj))
        return hit[1]

    built_once.kontrol_memo = True  # type: ignore[attr-defined]
    return built_once


def _id_computed_once(original: Callable[..., Any]) -> Callable[..., Any]:
    def to_id(self: Any, id_keys: Any = None, id_ignore_keys: Any = None) -> Any:
        memo = _MEMO.get()
        if memo is None:
            return original(self, id_keys, id_ignore_keys)
        try:
            key = (
                type(self),
                _plain_key(self),
                None if id_keys is None else _plain_key(sorted(id_keys)),
                None if id_ignore_keys is None else _plain_key(sorted(id_ignore_keys)),
            )
        except TypeError:  # a value kontrol's suites do not use (numpy, pandas, ...): as GX
            return original(self, id_keys, id_ignore_keys)
        if key not in memo.ids:
            memo.ids[key] = original(self, id_keys, id_ignore_keys)
        return memo.ids[key]

    to_id.kontrol_memo = True  # type: ignore[attr-defined]
    return to_id


@contextmanager
def _computed_once() -> Iterator[None]:
    """Within the block, GX builds each configuration, expectation and id once.

    Why: three pure functions of GX are recomputed tens of thousands of times
    while a suite validates, and were most of the validation's CPU time on
    small data (the fixture delivery, every Airflow task, the test suite):

    - ``Expectation.configuration`` is a property that builds a new
      ``ExpectationConfiguration`` from the pydantic model (``.dict()``) on
      every read, and validating one expectation reads it about 75 times
      (each domain, success and runtime keyword is looked up through it);
    - ``ExpectationConfiguration.to_domain_obj`` builds a new pydantic
      ``Expectation`` from a configuration, about 12 times per expectation:
      once for each metric it depends on (``registry.get_metric_kwargs``), to
      read the expectation's keywords;
    - ``IDDict.to_id`` turns a metric's keyword dict into an id through
      ``convert_to_json_serializable`` and an md5, about 46 times per
      expectation, for a few hundred distinct dicts per run.

    On the fixture delivery, GX took 11.1 CPU-s for two whole runs with
    none of these memos, 6.8 with the first and 5.8 with the first and the
    third; the second took a suite's validation on the fixture's payments,
    persons and income from 67 to 57 ms (15 %). The expectations GX validates
    are its own fresh objects (``to_domain_obj`` of a deep copy of each
    configuration, made after the suite's parameters are substituted and the
    batch id is set); nothing assigns to them or to their configurations while
    the metrics are computed and checked (only saving to a store and
    rendering do, neither of which kontrol uses); an id is memoised only for a
    dict of plain JSON values (:func:`_plain_key`), keyed exactly. So the
    results are the same: ``tests/validation/test_validation_queue.py``
    compares the documents with GX's own, on the queue and on every extract
    suite, and the fixture's publication is byte-identical. Per thread and
    context, and only inside kontrol's own validation; GX behaves as shipped
    everywhere else.
    """
    from great_expectations.core.id_dict import IDDict
    from great_expectations.expectations.expectation import Expectation
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    prop = Expectation.__dict__["configuration"]
    if not getattr(prop.fget, "kontrol_memo", False):
        Expectation.configuration = property(  # type: ignore[method-assign,assignment]
            _built_once_per_object(prop.fget, lambda memo: memo.configurations),
            doc=prop.__doc__,
        )
    to_domain_obj = ExpectationConfiguration.__dict__["to_domain_obj"]
    if not getattr(to_domain_obj, "kontrol_memo", False):
        ExpectationConfiguration.to_domain_obj = _built_once_per_object(  # type: ignore[method-assign,assignment]
            to_domain_obj, lambda memo: memo.expectations
        )
    if not getattr(IDDict.__dict__["to_id"], "kontrol_memo", False):
        IDDict.to_id = _id_computed_once(IDDict.__dict__["to_id"])  # type: ignore[method-assign]
    token = _MEMO.set(_Memo())
    try:
        yield
    finally:
        _MEMO.reset(token)


def _keep_configuration_unserialised(context: Any) -> None:
    """Stop an ephemeral GX context from writing its configuration as YAML that no one reads.

    Why: after every data source, asset and batch definition added, GX "saves"
    the context's whole project configuration (``_save_project_config``). An
    ephemeral context saves it into an in-memory store of its own
    (``EphemeralDataContextVariables``), serialised to YAML through
    marshmallow and ruamel, and never reads it back: the live configuration
    object is what the context uses. The YAML grows with every asset, so a
    fixture run spent about 0.45 CPU-s, a sixth of its validation, in 33 such
    saves. Only this session's own ephemeral context is changed (an instance
    attribute); a file or cloud context would persist its configuration, and
    is refused here.
    """
    from great_expectations.data_context import EphemeralDataContext

    if not isinstance(context, EphemeralDataContext):  # pragma: no cover - get_context's mode
        raise TypeError(f"expected an ephemeral GX context, got {type(context).__name__}")
    context._save_project_config = _configuration_kept_in_memory  # type: ignore[method-assign]


def _configuration_kept_in_memory() -> None:
    """The ephemeral context's save: its configuration object is already the live state."""


class GxSession:
    """One ephemeral GX context with one pandas data source, for a few suite runs.

    Each suite gets one DataFrame asset of its own name, created on its first run.
    """

    def __init__(self) -> None:
        from kontrol import progress

        # before the import: GX logs hundreds of INFO lines while it is imported
        # (``_docs_decorators``) and its context's housekeeping after; operators need none
        progress.quiet_third_party()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig
        from great_expectations.validator.v1_validator import Validator

        self._gx = gx
        self._validator = Validator
        self.version = str(gx.__version__)
        self._context = gx.get_context(mode="ephemeral")
        _keep_configuration_unserialised(self._context)
        self._context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self._source = self._context.data_sources.add_pandas("kontrol")
        self._definitions: dict[str, Any] = {}

    def run(
        self, suite_doc: Mapping[str, Any], frame: pd.DataFrame, parameters: Mapping[str, Any]
    ) -> SuiteRun:
        gx = self._gx
        name = str(suite_doc["name"])
        definition = self._definitions.get(name)
        if definition is None:
            asset = self._source.add_dataframe_asset(name)
            definition = asset.add_batch_definition_whole_dataframe(name)
            self._definitions[name] = definition
        validator = self._validator(
            batch_definition=definition,
            batch_parameters={"dataframe": frame},
            result_format=RESULT_FORMAT,
        )
        with warnings.catch_warnings(), _computed_once():
            warnings.simplefilter("ignore")
            result = validator.validate_expectation_suite(
                gx.ExpectationSuite(**suite_doc), expectation_parameters=dict(parameters)
            )
        outcomes = []
        for item in result.results:
            config = item.expectation_config
            if config is None:  # pragma: no cover - GX always attaches the configuration
                raise RuntimeError(f"suite {suite_doc['name']}: a result without its expectation")
            meta = dict(config.meta or {})
            error = _raised(item.exception_info)
            kwargs = config.kwargs
            column = kwargs.get("column") or kwargs.get("column_A")
            outcomes.append(
                ExpectationOutcome(
                    name=str(meta.get("name", config.type)),
                    expectation_type=str(config.type),
                    column=str(column) if column else None,
                    severity=str(meta.get("severity", "critical")),
                    success=bool(item.success) and error is None,
                    observed=_observed(item.result or {}),
                    description=str(meta.get("description", "")),
                    error=mask(error.splitlines()[0][:300]) if error else None,
                )
            )
        # GX groups results by column; the report follows the suite's own order.
        order = {e["meta"]["name"]: i for i, e in enumerate(suite_doc["expectations"])}
        outcomes.sort(key=lambda o: order.get(o.name, len(order)))
        stats = {k: int(v) for k, v in result.statistics.items() if k != "success_percent"}
        document = deterministic(sanitise(result.to_json_dict()))
        document["meta"]["expectation_suite_name"] = suite_doc["name"]
        # what ``ValidationDefinition.run`` records beside the validator's own meta: kept, so
        # that the documents auditors already hold read the same
        document["meta"].setdefault("batch_parameters", {"dataframe": DATAFRAME_PLACEHOLDER})
        document["meta"].setdefault("checkpoint_id", None)
        document["suite_name"] = suite_doc["name"]
        return SuiteRun(tuple(outcomes), stats, self.version, document)


#: Keys of a GX result that differ between identical runs: wall-clock times,
#: uuids (run, validation, each expectation's id). Dropped, so that two
#: identical runs give a byte-identical ``validation/`` (timings go to the log).
UNSTABLE_KEYS = frozenset({"id", "run_id", "validation_id", "validation_time", "ge_load_time"})


def deterministic(value: Any) -> Any:
    """``value`` without :data:`UNSTABLE_KEYS`."""
    if isinstance(value, dict):
        return {k: deterministic(v) for k, v in value.items() if k not in UNSTABLE_KEYS}
    if isinstance(value, list):
        return [deterministic(v) for v in value]
    return value
