"""Shared fixtures: a tiny valid delivery, and the fixture delivery's runs, once per session.

The committed synthetic delivery (``fixtures/delivery``) is run by ``kontrol
run`` exactly once per test session for the plain October run
(:func:`fixture_run`, in a fresh interpreter, its log kept as
:func:`fixture_run_log`), and once for September then October on one case
register (:func:`fixture_months`). Every test that only *reads* such a
publication uses these, instead of running the pipeline again (issue 10,
item 8: they were about 25 separate runs).

Under pytest-xdist each worker is its own process, so a plain session fixture
would still run once per worker. :func:`once_per_session` builds into the
directory that all workers of one session share (the parent of each worker's
base temp directory) under an exclusive ``flock``: the first worker builds,
the others wait and reuse. A build that fails leaves no ``.done`` marker, so
the next worker tries again and reports its own failure.

These publications are shared: a test that needs to change one copies it
first. :func:`_shared_publications_unchanged` checks at the end of the
session that no test wrote into them.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from builders import tiny_rows, write_delivery

from kontrol.cli import main

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "delivery"
AS_OF = "2026-10-31"
SEP = "2026-09-30"


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Generator[None, object, object]:
    """Let pytest keep its assertion-rewritten test modules in ``__pycache__`` while collecting.

    pytest rewrites every test module's asserts before importing it, and caches the
    result only when bytecode may be written. This machine sets PYTHONDONTWRITEBYTECODE=1
    (see README "Bytecode"), so each xdist worker rewrote all test modules on every run:
    2.5 of the 7 CPU-s of a collection. Written during collection only (later imports
    follow the environment again); pytest ignores a cached file whose source changed.
    """
    previous = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        return (yield)
    finally:
        sys.dont_write_bytecode = previous


@pytest.fixture
def tiny_delivery(tmp_path: Path) -> Path:
    return write_delivery(tmp_path / "delivery", tiny_rows())


@pytest.fixture
def delivery_writer(tmp_path: Path) -> Callable[[dict[str, list[dict[str, Any]]]], Path]:
    """Write a modified copy of the tiny delivery and return its directory."""

    def write(rows: dict[str, list[dict[str, Any]]]) -> Path:
        return write_delivery(tmp_path / "delivery", rows)

    return write


def run_fixture(out: Path, as_of: str, *extra: str) -> None:
    """``kontrol run`` on the committed fixture delivery, with the demo key; must succeed."""
    args = ["--quiet", "run", "--extracts", str(FIXTURE), "--out", str(out), "--as-of", as_of]
    assert main([*args, "--demo-key", *extra]) == 0


def _shared_root(factory: pytest.TempPathFactory) -> Path:
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once_per_session(factory: pytest.TempPathFactory, name: str) -> Path:
    """``root/name``, built by ``SHARED[name]`` by the first worker of this session to ask."""
    shared = _shared_root(factory)
    root = shared / name
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / f"{name}.done").exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            SHARED[name](root)
            (shared / f"{name}.done").write_text(_digest(root))
    return root


def _digest(root: Path) -> str:
    """Every file's relative path, mode and bytes under ``root`` (links as their targets)."""
    sha = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            sha.update(f"{path.relative_to(root)} -> {os.readlink(path)}\n".encode())
        elif path.is_file():
            sha.update(f"{path.relative_to(root)} {path.stat().st_mode:o}\n".encode())
            sha.update(path.read_bytes())
    return sha.hexdigest()


def _build_fixture_run(root: Path) -> None:
    """``kontrol run`` as a user starts it: a fresh interpreter, INFO log on stderr.

    A fresh interpreter, because the log is checked too (``tests/test_progress.py``:
    one line per step, no GX chatter, no cpr), and GX's chatter comes while GX is
    *imported*, which a test process may already have done. The log is kept beside
    the publication, as ``run.log``, so the log tests need no run of their own.
    """
    command = [sys.executable, "-m", "kontrol", "run", "--extracts", str(FIXTURE)]
    command += ["--out", str(root / "out"), "--as-of", AS_OF, "--demo-key"]
    # the usual umask: files holding cpr values must be 0600 regardless
    done = subprocess.run(
        command, capture_output=True, text=True, umask=0o022, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    (root / "run.log").write_text(done.stderr, encoding="utf-8")  # the CLI logs to stderr


def _build_fixture_months(root: Path) -> None:
    register = root / "register"
    run_fixture(root / "sep", SEP, "--register", str(register))
    shutil.copytree(register, root / "register-after-sep")
    run_fixture(root / "oct", AS_OF, "--register", str(register))


#: The shared publications, by directory name, and how each is built.
SHARED: dict[str, Callable[[Path], None]] = {
    "fixture-run": _build_fixture_run,
    "fixture-months": _build_fixture_months,
}


@pytest.fixture(scope="session")
def fixture_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``OUT`` of ``kontrol run`` on the fixture delivery for 2026-10-31, no register. Read only."""
    return once_per_session(tmp_path_factory, "fixture-run") / "out"


@pytest.fixture(scope="session")
def fixture_run_log(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The INFO log (stderr) of the run behind :func:`fixture_run`."""
    return (once_per_session(tmp_path_factory, "fixture-run") / "run.log").read_text("utf-8")


@pytest.fixture(scope="session")
def fixture_months(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """September, then October, on one register. Read only: copy what you change.

    ``root/sep`` and ``root/oct`` are the two publications, ``root/register``
    the register after both, ``root/register-after-sep`` a copy taken between.
    """
    root = once_per_session(tmp_path_factory, "fixture-months")
    return {"root": root, "register": root / "register", "sep": root / "sep", "oct": root / "oct"}


@pytest.fixture(scope="session", autouse=True)
def _shared_publications_unchanged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fail the session if a test wrote into a shared publication instead of a copy."""
    yield
    shared = _shared_root(tmp_path_factory)
    for name in SHARED:
        done = shared / f"{name}.done"
        if done.exists():
            assert _digest(shared / name) == done.read_text(), (
                f"a test changed the shared publication {shared / name}; copy it first"
            )
