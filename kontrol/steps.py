"""The step table: the run's steps, declared once, as plain data.

Each :class:`Step` names the datasets (:mod:`kontrol.catalogue`) it reads
and writes and the function that does it. Everything that needs the order
of a run derives it from this table:

* ``kontrol run`` (:func:`kontrol.run.run`) calls the steps in table order;
* the Airflow DAG (``dags/kontrol_monthly.py``) makes one task per step and
  sets each task's upstream to the steps that write the datasets it reads;
* the tests run the table, and a DAG-integrity test checks that the DAG's
  tasks and dependencies equal :func:`upstream`.

Why strings for the functions: the DAG imports this module at *parse time*
(the scheduler parses DAG files every 30 s), so it must cost nothing. This
module imports the standard library only (a boundary test checks); the
function is resolved at execution by :func:`kontrol.tasks.run_step`.

Invariants (checked by :func:`check` and the tests): every dataset is
written by exactly one step; every input is written by an earlier step (so
table order is a valid execution order); datasets come from the catalogue;
a detachable step needs nothing but the work directory (it runs in a child
process that never receives the case key) and does not touch the register.
"""

from __future__ import annotations

from dataclasses import dataclass

from kontrol import catalogue

__all__ = ["STEPS", "Step", "check", "producers", "step", "upstream"]


@dataclass(frozen=True)
class Step:
    name: str
    #: ``module.function`` in :mod:`kontrol.tasks`; resolved only when the step runs.
    function: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    #: Run once per extract of the delivery (an Airflow mapped task).
    per_extract: bool = False
    #: Receives the case key (HMAC of case ids): never stored, never in XCom.
    case_key: bool = False
    #: Reads or writes the case register: in the DAG, one such task at a time across all
    #: runs (the one-slot pool); ``kontrol run`` holds the register lock over its steps.
    register: bool = False
    #: A month's task waits for the month before's (Airflow ``depends_on_past``).
    in_month_order: bool = False
    #: ... and for that task's direct downstream tasks (``wait_for_downstream``).
    wait_for_downstream: bool = False
    #: Upper bound for one execution (the Airflow task's execution_timeout).
    timeout_minutes: int = 30
    #: In ``kontrol run``, a large run may execute this step in a child process while
    #: the steps after it go on, until one of them reads its outputs
    #: (:func:`kontrol.run.run_steps`). For single-threaded Python work that nothing
    #: after it needs soon: the second core is otherwise idle. Such a step stands in the
    #: table right after the step that writes its last input, so that it starts early.
    #: In the DAG every task is its own process, and the scheduler runs independent
    #: tasks side by side anyway.
    detachable: bool = False
    why: str = ""


STEPS: tuple[Step, ...] = (
    Step(
        "prepare",
        "kontrol.tasks.prepare",
        inputs=(),
        outputs=("run_spec",),
        register=True,
        timeout_minutes=10,
        why="An empty private work directory; the configuration and the files' structure "
        "checked before any data is read; stale leftovers of earlier runs removed.",
    ),
    Step(
        "load_extract",
        "kontrol.tasks.load_extract",
        inputs=("run_spec",),
        outputs=("clean", "rejects", "loads", "extract_outcomes"),
        per_extract=True,
        timeout_minutes=60,
        why="Load, check and validate one extract: clean rows, rejects, counts, GX outcome.",
    ),
    Step(
        "validate_delivery",
        "kontrol.tasks.validate_delivery",
        inputs=("run_spec", "clean", "loads", "extract_outcomes"),
        outputs=("delivery_outcome",),
        timeout_minutes=60,
        why="Whole-delivery checks, then the gate: too many rejects or a critical failure.",
    ),
    Step(
        "identify_run",
        "kontrol.tasks.identify_run",
        inputs=("run_spec", "loads"),
        outputs=("run_id",),
        timeout_minutes=5,
        why="The run id, from the inputs' digests and the configuration: computed once.",
    ),
    Step(
        "apply_rules",
        "kontrol.tasks.apply_rules",
        inputs=("run_spec", "clean", "delivery_outcome"),
        outputs=("net_lines", "timeline", "rule_cases"),
        timeout_minutes=120,
        why="Every rule of the catalogue over the accepted delivery.",
    ),
    Step(
        "score",
        "kontrol.tasks.score",
        inputs=("run_spec", "clean", "net_lines", "rule_cases"),
        outputs=("scores", "recipients"),
        timeout_minutes=60,
        why="Anomaly scores: they rank cases, never make one.",
    ),
    Step(
        "assemble",
        "kontrol.tasks.assemble",
        inputs=("run_spec", "rule_cases", "scores", "run_id"),
        outputs=("ranked",),
        case_key=True,
        why="Case ids (HMAC with the case key), scores and priority.",
    ),
    Step(
        "apply_register",
        "kontrol.tasks.apply_register",
        inputs=("run_spec", "ranked", "rule_cases", "recipients", "run_id"),
        outputs=("cases", "suppressed", "control_sample"),
        case_key=True,
        register=True,
        in_month_order=True,
        wait_for_downstream=True,
        why="Statuses and kept case ids from the case register, suppression, the control "
        "sample: the queue as it will be published, written once.",
    ),
    Step(
        "case_list",
        "kontrol.tasks.case_list",
        inputs=("run_spec", "cases", "run_id"),
        outputs=("cases_html", "cases_xlsx"),
        detachable=True,
        why="The caseworkers' case list: a static page and a workbook, in Danish.",
    ),
    Step(
        "fairness_report",
        "kontrol.tasks.fairness_report",
        inputs=("run_spec", "cases", "recipients", "clean"),
        outputs=("fairness", "fairness_summary"),
        why="How each group is selected and ranked, on the final queue (auditors only).",
    ),
    Step(
        "validate_queue",
        "kontrol.tasks.validate_queue",
        inputs=(
            "run_spec",
            "cases",
            "recipients",
            "extract_outcomes",
            "delivery_outcome",
            "run_id",
        ),
        outputs=("queue_outcome", "case_volume", "validation"),
        why="The queue suite, the gate, case volume warnings, the run's validation report.",
    ),
    Step(
        "rule_performance",
        "kontrol.tasks.rule_performance",
        inputs=("run_spec", "cases", "control_sample", "run_id"),
        outputs=("performance", "rule_performance"),
        register=True,
        timeout_minutes=10,
        why="Per rule: raised, closed, hit rate, money, from the register as this run leaves it.",
    ),
    Step(
        "write_manifest",
        "kontrol.tasks.write_manifest",
        inputs=(
            "run_spec",
            "run_id",
            "loads",
            "cases",
            "suppressed",
            "control_sample",
            "extract_outcomes",
            "delivery_outcome",
            "queue_outcome",
            "case_volume",
            "fairness_summary",
            "performance",
        ),
        outputs=("manifest",),
        timeout_minutes=10,
        why="The auditor's record of the run.",
    ),
    Step(
        "publish",
        "kontrol.tasks.publish",
        inputs=(
            "run_spec",
            "rejects",
            "validation",
            "fairness",
            "suppressed",
            "control_sample",
            "rule_performance",
            "cases_html",
            "cases_xlsx",
            "cases",
            "manifest",
        ),
        outputs=("published",),
        register=True,
        in_month_order=True,
        timeout_minutes=10,
        why="One atomic switch to the new publication; then the case register records it.",
    ),
)


def step(name: str) -> Step:
    for candidate in STEPS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no step {name!r} in kontrol.steps")


def producers() -> dict[str, str]:
    """Dataset name -> the one step that writes it."""
    return {dataset: s.name for s in STEPS for dataset in s.outputs}


def upstream(steps: tuple[Step, ...] = STEPS) -> dict[str, set[str]]:
    """Step name -> the steps that write a dataset it reads: the DAG's dependencies."""
    writer = {dataset: s.name for s in steps for dataset in s.outputs}
    return {s.name: {writer[dataset] for dataset in s.inputs} for s in steps}


def check(steps: tuple[Step, ...] = STEPS) -> None:
    """Raise ``ValueError`` unless the table is sound (see the module docstring)."""
    names = [s.name for s in steps]
    if len(names) != len(set(names)):
        raise ValueError(f"step names must be unique: {names}")
    written: dict[str, str] = {}
    for s in steps:
        for dataset in (*s.inputs, *s.outputs):
            catalogue.dataset(dataset)  # raises for a name the catalogue does not know
        for dataset in s.inputs:
            if dataset not in written:
                raise ValueError(f"step {s.name} reads {dataset!r} before any step writes it")
        for dataset in s.outputs:
            if dataset in written:
                raise ValueError(f"{dataset!r} is written by both {written[dataset]} and {s.name}")
            written[dataset] = s.name
        if s.detachable and (s.case_key or s.per_extract or s.register):
            raise ValueError(
                f"step {s.name}: a detachable step takes only the work directory "
                "(no case key, no extract) and leaves the case register alone"
            )
    missing = {e.name for e in catalogue.CATALOGUE} - set(written)
    if missing:
        raise ValueError(f"catalogue datasets no step writes: {sorted(missing)}")
