"""Architecture boundaries, checked on the source (issue 10, item 6): a small AST test.

Each rule says *why* beside it. A violation names the file and the line.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

from kontrol.schema import extract_specs

REPO = Path(__file__).resolve().parents[1]
KONTROL = REPO / "kontrol"

#: Where the protected attributes may be read: the fairness report for auditors, its own package.
FAIRNESS_LOCATIONS = ("kontrol/fairness/",)
#: Declare or generate the protected columns without reading anyone's.
PROTECTED_DECLARED_IN = ("kontrol/schema.py", "kontrol/synth/")


def sources(root: Path) -> list[Path]:
    return sorted(root.rglob("*.py"))


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def under(path: Path, prefixes: tuple[str, ...]) -> bool:
    name = rel(path)
    return any(name == p or (p.endswith("/") and name.startswith(p)) for p in prefixes)


def imports(path: Path, *, top_level_only: bool = False) -> Iterator[tuple[int, str]]:
    """(line, module) for every import; ``from a import b`` yields ``a`` and ``a.b``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative import inside kontrol
                package = ".".join(rel(path).removesuffix(".py").split("/")[: -node.level])
                module = f"{package}.{module}" if module else package
            yield node.lineno, module
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"


#: Deny-lists that name what must never be read (``scoring.features.PROTECTED_COLUMNS``):
#: naming a column there is the opposite of reading it.
DENY_LISTS = {"PROTECTED_COLUMNS"}


def strings(path: Path) -> Iterator[tuple[int, str]]:
    """Every string constant, except inside an assignment to a deny-list."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id in DENY_LISTS for t in targets):
            skipped |= {id(inner) for inner in ast.walk(node)}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skipped
        ):
            yield node.lineno, node.value


def matches(module: str, forbidden: tuple[str, ...]) -> bool:
    return any(module == f or module.startswith(f + ".") for f in forbidden)


#: The DAGs' operations hooks (notifier, deadline, pool; h7): the one module of the
#: package that imports Airflow, so that every Airflow component (triggerer, workers)
#: imports them by one name. Only the DAGs import them.
AIRFLOW_HOOKS = ("kontrol/airflow_ops.py", "kontrol/alerts.py")


def test_kontrol_never_imports_airflow() -> None:
    """kontrol is a library the DAG calls; Airflow is one way to schedule it, not a dependency."""
    found = [
        f"{rel(p)}:{line} {m}"
        for p in sources(KONTROL)
        if not under(p, AIRFLOW_HOOKS)
        for line, m in imports(p)
        if matches(m, ("airflow", "kontrol.airflow_ops", "kontrol.alerts"))
    ]
    assert found == []
    # and the hooks import Airflow, the standard library and each other, never the pipeline
    hooks = [
        f"{rel(p)}:{line} {m}"
        for p in sources(KONTROL)
        if under(p, AIRFLOW_HOOKS)
        for line, m in imports(p)
        if (m.split(".")[0] == "kontrol" and not matches(m, ("kontrol.alerts",)) and m != "kontrol")
        or m.split(".")[0] in ("polars", "pyarrow", "great_expectations", "sklearn")
    ]
    assert hooks == []


def test_rules_import_no_io_gx_or_sklearn() -> None:
    """A rule is a pure function of LazyFrames: no files, no validation engine, no model."""
    forbidden = (
        "kontrol.io",
        "kontrol.pipeline",
        "kontrol.tasks",
        "kontrol.validation",
        "kontrol.scoring",
        "great_expectations",
        "sklearn",
        "pyarrow",
        "os",
        "shutil",
        "tempfile",
        "io",
        "openpyxl",
    )
    found = [
        f"{rel(p)}:{line} {m}"
        for p in sources(KONTROL / "rules")
        for line, m in imports(p)
        if matches(m, forbidden)
    ]
    assert found == []


def protected_columns() -> set[str]:
    specs = extract_specs(("X",))
    return {c.name for spec in specs.values() for c in spec.columns if c.protected}


def test_scoring_never_reads_protected_attributes_or_country_codes() -> None:
    """Scores rank cases; sex, citizenship and origin must have no way in (README principles)."""
    banned = protected_columns() | {"country_code"}
    assert {"sex", "citizenship"} <= banned
    found = [
        f"{rel(p)}:{line} {value!r}"
        for p in sources(KONTROL / "scoring")
        if not under(p, FAIRNESS_LOCATIONS)
        for line, value in strings(p)
        if value in banned
    ]
    assert found == []
    features = [
        f"{rel(p)}:{line} {m}"
        for p in sources(KONTROL / "scoring")
        if not under(p, FAIRNESS_LOCATIONS) and p.name != "__init__.py"
        for line, m in imports(p)
        if matches(m, ("kontrol.fairness", "kontrol.scoring.fairness"))
    ]
    assert features == []


def test_only_the_fairness_report_reads_protected_attributes() -> None:
    """The one reader of sex and citizenship is the auditors' fairness report."""
    protected = protected_columns()
    found = [
        f"{rel(p)}:{line} {value!r}"
        for p in sources(KONTROL)
        if not under(p, FAIRNESS_LOCATIONS + PROTECTED_DECLARED_IN)
        for line, value in strings(p)
        if value in protected
    ]
    assert found == []
    missing = [loc for loc in FAIRNESS_LOCATIONS if not (REPO / loc).exists()]
    assert missing == [], "the fairness report has moved: update FAIRNESS_LOCATIONS"


def test_dags_import_only_airflow_and_the_standard_library_at_parse_time() -> None:
    """The scheduler parses DAG files every 30 s: module level imports must be cheap.

    Allowed besides Airflow (and pendulum, Airflow's date type) and the standard library:
    the step table, which is plain data importing only the standard library, and the
    operations hooks (Airflow and the standard library only: see above).
    """
    allowed_kontrol = ("kontrol", "kontrol.steps", "kontrol.catalogue")
    found = []
    for path in sources(REPO / "dags"):
        for line, module in imports(path, top_level_only=True):
            root = module.split(".")[0]
            if root in sys.stdlib_module_names or root in ("airflow", "pendulum", "__future__"):
                continue
            if module in allowed_kontrol or matches(module, ("kontrol.airflow_ops",)):
                continue
            found.append(f"{rel(path)}:{line} {module}")
    assert found == []
    for module in ("steps", "catalogue"):
        for line, name in imports(KONTROL / f"{module}.py"):
            root = name.split(".")[0]
            assert (
                root in sys.stdlib_module_names or name in allowed_kontrol or root == ("__future__")
            ), f"kontrol/{module}.py:{line} imports {name}"


def test_the_production_pipeline_never_imports_the_synthetic_generator() -> None:
    """Synthetic data must not leak into a real run; only the ``kontrol synth`` command uses it."""
    entry_points = ("kontrol/cli.py",)  # ``kontrol synth`` imports it inside its handler
    found = [
        f"{rel(p)}:{line} {m}"
        for p in [*sources(KONTROL), *sources(REPO / "dags")]
        if not under(p, ("kontrol/synth/", *entry_points))
        for line, m in imports(p)
        if matches(m, ("kontrol.synth",))
    ]
    assert found == []
    # the CLI imports it lazily, inside the synth command only
    top = [m for _, m in imports(KONTROL / "cli.py", top_level_only=True)]
    assert not [m for m in top if matches(m, ("kontrol.synth",))]


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """The helpers see what the rules look for: imports, from-imports, string constants."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import airflow\nfrom kontrol import synth\nX = pl.col('sex')\n"
        "PROTECTED_COLUMNS = {'citizenship'}\n"
    )
    modules = {m for _, m in imports(probe)}
    assert {"airflow", "kontrol", "kontrol.synth"} <= modules
    assert matches("kontrol.synth", ("kontrol.synth",))
    assert not matches("kontrol.synthetic", ("kontrol.synth",))
    assert {v for _, v in strings(probe)} == {"sex"}
