"""Only kontrol.io touches files (issue 10, item 2): an AST scan of kontrol/.

Why: one module owns atomic writes, file modes and the catalogue's paths, so
a file that holds cpr values cannot be created world-readable, or half
written, by a module that opened it itself. Everything else hands frames or
paths to :mod:`kontrol.io`. A violation names the file, the line and the call.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KONTROL = REPO / "kontrol"
ALLOWED = {"kontrol/io.py"}

#: Methods that open, read, write, create or remove a file, whatever they are called on.
FILE_METHODS = {
    "read_text",
    "write_text",
    "read_bytes",
    "write_bytes",
    "open",
    "mkdir",
    "rmdir",
    "unlink",
    "chmod",
    "touch",
    "symlink_to",
    "write_parquet",
    "write_csv",
    "write_ipc",
    "write_excel",
    "write_ndjson",
    "sink_parquet",
    "sink_csv",
    "sink_ipc",
    "to_parquet",
    "to_csv",
}
#: Module-level functions that touch files, per module alias as kontrol imports them.
MODULE_CALLS = {
    "pl": lambda name: name.startswith(("read_", "scan_", "write_")),
    "polars": lambda name: name.startswith(("read_", "scan_", "write_")),
    "pq": lambda name: True,
    "json": lambda name: name in {"load", "dump"},
    "os": lambda name: (
        name
        in {"open", "replace", "rename", "remove", "unlink", "makedirs", "mkdir", "rmdir", "chmod"}
    ),
    "shutil": lambda name: True,
    "tempfile": lambda name: True,
    "openpyxl": lambda name: name.startswith("load"),
}


#: Polars writers that return the text when given no file.
IN_MEMORY = {"write_csv", "write_json", "write_ndjson"}


def _no_file_argument(call: ast.Call) -> bool:
    return not call.args and all(k.arg != "file" for k in call.keywords)


def violations(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                modules.append(node.module)
            for module in modules:
                if module.split(".")[0] in {"shutil", "tempfile"}:
                    found.append(f"{node.lineno}: import {module}")
            continue
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name) and function.id == "open":
            found.append(f"{node.lineno}: open()")
        elif isinstance(function, ast.Attribute):
            receiver = function.value
            owner = receiver.id if isinstance(receiver, ast.Name) else None
            if owner == "io":  # kontrol.io itself (``from kontrol import io``)
                continue
            if owner in MODULE_CALLS:
                if MODULE_CALLS[owner](function.attr):
                    found.append(f"{node.lineno}: {owner}.{function.attr}()")
            elif function.attr in IN_MEMORY and _no_file_argument(node):
                continue  # polars returns the text: nothing is written
            elif function.attr in FILE_METHODS:
                found.append(f"{node.lineno}: .{function.attr}()")
    return found


def test_only_kontrol_io_touches_files() -> None:
    found = {}
    for path in sorted(KONTROL.rglob("*.py")):
        name = path.relative_to(REPO).as_posix()
        if name in ALLOWED:
            continue
        if problems := violations(path):
            found[name] = problems
    assert found == {}


def test_the_scan_sees_each_kind_of_access(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import shutil\n"
        "open('x')\n"
        "path.write_text('x')\n"
        "pl.scan_parquet(path)\n"
        "frame.write_parquet(path)\n"
        "json.load(handle)\n"
        "json.loads(text)\n"
        "io.write_json(doc, path)\n"
        "pl.col('a')\n"
        "frame.write_csv(path)\n"
        "frame.write_csv(file=path, separator=';')\n"
        "frame.write_csv(separator=';')\n",
        encoding="utf-8",
    )
    assert violations(probe) == [
        "1: import shutil",
        "2: open()",
        "3: .write_text()",
        "4: pl.scan_parquet()",
        "5: .write_parquet()",
        "6: json.load()",
        "10: .write_csv()",
        "11: .write_csv()",
    ]
