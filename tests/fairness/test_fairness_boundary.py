"""Only kontrol/fairness/ reads protected attributes; scoring never does (a small AST test).

A module reads a column by naming it in a string (``pl.col("sex")``,
``select("cpr", "sex")``), so the test looks at every string constant.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
KONTROL = REPO / "kontrol"
PROTECTED = {"sex", "citizenship"}
#: Besides the fairness package: the schema declares the columns, synth generates them.
ALLOWED = ("kontrol/fairness/", "kontrol/schema.py", "kontrol/synth/")
#: Scoring reads none of these (country codes and birth dates included).
SCORING_BANNED = PROTECTED | {"birth_date", "country_code", "country"}
DENY_LISTS = {"PROTECTED_COLUMNS"}  # naming a column in a deny-list is not reading it


def _strings(source: str) -> set[tuple[int, str]]:
    tree = ast.parse(source)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in DENY_LISTS for t in targets):
                skipped |= {id(inner) for inner in ast.walk(node)}
    return {
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skipped
    }


def _imports(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return found


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def test_only_the_fairness_package_reads_sex_or_citizenship() -> None:
    found = [
        f"{_rel(p)}:{line} {value!r}"
        for p in sorted(KONTROL.rglob("*.py"))
        if not _rel(p).startswith(ALLOWED)
        for line, value in _strings(p.read_text(encoding="utf-8"))
        if value in PROTECTED
    ]
    assert found == []
    assert (KONTROL / "fairness" / "__init__.py").exists()
    assert not (KONTROL / "scoring" / "fairness.py").exists()


def test_scoring_and_rules_never_read_protected_attributes_or_import_fairness() -> None:
    found = [
        f"{_rel(p)}:{line} {value!r}"
        for p in sorted((KONTROL / "scoring").rglob("*.py"))
        for line, value in _strings(p.read_text(encoding="utf-8"))
        if value in SCORING_BANNED
    ]
    assert found == []
    readers = [*(KONTROL / "scoring").rglob("*.py"), *(KONTROL / "rules").rglob("*.py")]
    importers = [
        _rel(p)
        for p in sorted([*readers, KONTROL / "queue.py"])
        for m in _imports(p.read_text(encoding="utf-8"))
        if m == "kontrol.fairness" or m.startswith("kontrol.fairness.")
    ]
    assert importers == []


def test_the_checks_see_a_violation() -> None:
    probe = "import kontrol.fairness\nX = pl.col('sex')\nPROTECTED_COLUMNS = {'citizenship'}\n"
    assert {v for _, v in _strings(probe)} == {"sex"}
    assert "kontrol.fairness" in _imports(probe)
