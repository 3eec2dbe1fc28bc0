"""The step table and the dataset catalogue: sound, complete, and the only step sequence."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from kontrol import catalogue, steps, tasks

REPO = Path(__file__).resolve().parents[1]


def test_the_table_is_sound() -> None:
    steps.check()
    assert steps.STEPS[0].inputs == ()  # the first step takes the run's parameters
    assert steps.STEPS[-1].outputs == ("published",)


def test_every_dataset_is_written_by_exactly_one_step_once() -> None:
    writers: dict[str, list[str]] = {}
    for step in steps.STEPS:
        for dataset in step.outputs:
            writers.setdefault(dataset, []).append(step.name)
    assert {d: w for d, w in writers.items() if len(w) != 1} == {}
    assert set(writers) == {entry.name for entry in catalogue.CATALOGUE}
    # the three that were written more than once before the table existed
    assert writers["cases"] == ["apply_register"]
    assert writers["run_id"] == ["identify_run"]
    assert writers["cases_html"] == writers["cases_xlsx"] == ["case_list"]
    assert writers["manifest"] == ["write_manifest"]


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (
            (
                steps.Step("a", "m.a", inputs=(), outputs=("run_spec",)),
                steps.Step("b", "m.b", inputs=(), outputs=("run_spec",)),
            ),
            "written by both a and b",
        ),
        (
            (steps.Step("a", "m.a", inputs=("cases",), outputs=("run_spec",)),),
            "reads 'cases' before any step writes it",
        ),
        ((steps.Step("a", "m.a", inputs=(), outputs=("nonsense",)),), "no dataset 'nonsense'"),
    ],
)
def test_the_check_refuses_a_broken_table(broken: tuple[steps.Step, ...], message: str) -> None:
    with pytest.raises((ValueError, KeyError), match=message):
        steps.check(broken)


def test_every_step_function_exists_with_the_arguments_the_table_promises() -> None:
    for step in steps.STEPS[1:]:
        module, _, name = step.function.rpartition(".")
        assert module == "kontrol.tasks", step.name
        function = getattr(tasks, name)
        parameters = list(inspect.signature(function).parameters)
        expected = ["work_dir"]
        if step.per_extract:
            expected.append("extract")
        if step.case_key:
            expected.append("case_key")
        assert parameters == expected, step.name
        assert function.__doc__, f"{step.name}: say why"


def test_upstream_follows_the_datasets() -> None:
    upstream = steps.upstream()
    assert upstream["prepare"] == set()
    assert upstream["apply_rules"] == {"prepare", "load_extract", "validate_delivery"}
    assert upstream["case_list"] == {"prepare", "apply_register", "identify_run"}


def test_no_step_sequence_is_written_outside_the_table() -> None:
    """Calling two or more step functions by name is writing a sequence: use the table."""
    names = {step.function.rpartition(".")[2] for step in steps.STEPS[1:]}
    pattern = re.compile(r"\btasks\.(" + "|".join(sorted(names)) + r")\(")
    offenders = {}
    sources = [*REPO.glob("kontrol/**/*.py"), *REPO.glob("dags/*.py"), *REPO.glob("tests/**/*.py")]
    for path in sources:
        if path == REPO / "kontrol" / "tasks.py":
            continue
        called = set(pattern.findall(path.read_text(encoding="utf-8")))
        if len(called) > 1:
            offenders[str(path.relative_to(REPO))] = sorted(called)
    assert offenders == {}


def test_catalogue_names_and_paths() -> None:
    assert len({entry.file for entry in catalogue.CATALOGUE}) == len(catalogue.CATALOGUE)
    work = Path("/w")
    assert catalogue.path(work, "cases") == work / "publication" / "cases.parquet"
    assert catalogue.path(work, "clean", extract="income") == work / "clean" / "income.parquet"
    assert catalogue.published_names() == (
        "rejects",
        "validation",
        "fairness",
        "suppressed.parquet",
        "control_sample.parquet",
        "rule_performance.html",
        "cases.html",
        "cases.xlsx",
        "cases.parquet",
        "manifest.json",
    )
    assert catalogue.cpr_names() == {
        "rejects",
        "suppressed.parquet",
        "control_sample.parquet",
        "cases.html",
        "cases.xlsx",
        "cases.parquet",
    }
    with pytest.raises(KeyError, match="no dataset"):
        catalogue.path(work, "case.parquet")


def test_step_and_catalogue_modules_import_only_the_standard_library() -> None:
    """The DAG imports them at parse time (see tests/dags/test_dag_integrity.py)."""
    for module in ("steps", "catalogue"):
        tree = ast.parse((REPO / "kontrol" / f"{module}.py").read_text(encoding="utf-8"))
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
        assert imported <= {"__future__", "dataclasses", "pathlib", "kontrol"}, module


def test_the_catalogues_extracts_are_the_schemas() -> None:
    """The DAG maps its load task over catalogue.ALL_EXTRACTS at parse time (no Polars there)."""
    from kontrol import schema

    assert catalogue.EXTRACTS == schema.EXTRACT_NAMES
    assert catalogue.OPTIONAL_EXTRACTS == schema.OPTIONAL_EXTRACT_NAMES
    assert catalogue.ALL_EXTRACTS == schema.ALL_EXTRACT_NAMES
