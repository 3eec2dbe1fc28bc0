"""Publication as a whole: one atomic switch, file modes, and no leftovers (issue 11, 3-6).

Most checks run on tiny directories through :mod:`kontrol.io` directly; the
end-to-end ones (a real ``kill -9``, a good run after leftovers, the modes
of a real publication) share one published run of the fixture.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from kontrol import catalogue, io, tasks
from kontrol.cli import main

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "delivery"
AS_OF = "2026-10-31"
NAMES = ("rejects", "cases.parquet", "manifest.json")
CPR = frozenset({"rejects", "cases.parquet"})


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def staged(root: Path, label: str) -> Path:
    """A tiny publication: a queue, a manifest and a rejects directory, all saying ``label``."""
    publication = root / f"staged-{label}" / catalogue.PUBLICATION_DIR
    (publication / "rejects").mkdir(parents=True)
    (publication / "rejects" / "income.parquet").write_text(label)
    (publication / "cases.parquet").write_text(label)
    (publication / "manifest.json").write_text(label)
    return publication


def seen(out: Path) -> dict[str, str]:
    """What a reader of the contract paths sees."""
    return {
        "cases": (out / "cases.parquet").read_text(),
        "manifest": (out / "manifest.json").read_text(),
        "rejects": (out / "rejects" / "income.parquet").read_text(),
    }


# --- atomic publication ---------------------------------------------------------------


def test_each_run_is_one_directory_put_in_force_by_one_switch(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = io.publish_release(staged(tmp_path, "one"), out, "run-1", NAMES)
    assert seen(out) == dict.fromkeys(("cases", "manifest", "rejects"), "one")
    second = io.publish_release(staged(tmp_path, "two"), out, "run-2", NAMES)
    assert seen(out) == dict.fromkeys(("cases", "manifest", "rejects"), "two")
    # the contract paths are fixed links through `current`; `previous` keeps the rollback
    assert os.readlink(out / "cases.parquet") == "current/cases.parquet"
    assert os.readlink(out / "current") == f".releases/{second.name}"
    assert os.readlink(out / "previous") == f".releases/{first.name}"
    assert (out / "previous" / "cases.parquet").read_text() == "one"
    # a third publication drops the oldest; the same run id twice gets its own directory
    third = io.publish_release(staged(tmp_path, "three"), out, "run-2", NAMES)
    assert third.name == "run-2.1"
    assert sorted(os.listdir(out / ".releases")) == ["run-2", "run-2.1"]


def test_a_crash_before_the_switch_leaves_the_previous_publication_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    io.publish_release(staged(tmp_path, "old"), out, "run-1", NAMES)

    def killed(target: str, link: Path) -> None:
        raise KeyboardInterrupt("killed between the release rename and the switch")

    with monkeypatch.context() as patch:
        patch.setattr(io, "_symlink_atomically", killed)
        with pytest.raises(KeyboardInterrupt):
            io.publish_release(staged(tmp_path, "new"), out, "run-2", NAMES)
    # every contract path still shows the old publication, never a mix
    assert seen(out) == dict.fromkeys(("cases", "manifest", "rejects"), "old")
    assert (out / ".releases" / "run-2").is_dir()  # the orphan, holding cpr ...
    assert io.remove_leftovers(out, keep=tmp_path / "nothing") == []
    assert sorted(os.listdir(out / ".releases")) == ["run-1"]  # ... goes with the next run


def test_an_older_flat_layout_becomes_links(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "rejects").mkdir(parents=True)
    (out / "rejects" / "income.parquet").write_text("flat")
    (out / "cases.parquet").write_text("flat")
    io.publish_release(staged(tmp_path, "new"), out, "run-1", NAMES)
    assert seen(out) == dict.fromkeys(("cases", "manifest", "rejects"), "new")
    assert (out / "rejects").is_symlink()
    io.remove_leftovers(out, keep=tmp_path / "nothing")
    assert not [n for n in os.listdir(out) if n.endswith((".retired", ".tmp"))]


# --- file modes -----------------------------------------------------------------------


def test_cpr_files_are_owner_only_and_the_rest_follows_the_umask(tmp_path: Path) -> None:
    publication = staged(tmp_path, "x")
    with umask(0o022):
        io.set_modes(publication, CPR, None)
    assert io.mode_of(publication / "cases.parquet") == 0o600
    assert io.mode_of(publication / "rejects") == 0o700
    assert io.mode_of(publication / "rejects" / "income.parquet") == 0o600
    assert io.mode_of(publication / "manifest.json") == 0o644
    assert io.mode_of(publication) == 0o755
    with umask(0o077):  # never wider than the umask allows
        io.set_modes(publication, CPR, None)
    assert io.mode_of(publication / "manifest.json") == 0o600
    assert io.mode_of(publication) == 0o700


def test_a_configured_group_may_read_cpr_files(tmp_path: Path) -> None:
    publication = staged(tmp_path, "x")
    gid = os.getgid()
    with umask(0o027):
        io.set_modes(publication, CPR, gid)
    assert io.mode_of(publication / "cases.parquet") == 0o640
    assert io.mode_of(publication / "rejects") == 0o750
    assert (publication / "cases.parquet").stat().st_gid == gid
    with umask(0o077):  # the umask still wins: no group bits
        io.set_modes(publication, CPR, gid)
    assert io.mode_of(publication / "cases.parquet") == 0o600


def test_every_write_is_created_owner_only(tmp_path: Path) -> None:
    with umask(0o022):
        io.write_text("x", tmp_path / "a.txt")
        io.write_parquet(pl.DataFrame({"cpr": ["0101011234"]}), tmp_path / "b.parquet")
        io.write_text("x", tmp_path / "c.txt", private=False)
    assert io.mode_of(tmp_path / "a.txt") == 0o600
    assert io.mode_of(tmp_path / "b.parquet") == 0o600
    assert io.mode_of(tmp_path / "c.txt") == 0o644


def test_an_unknown_group_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("output:\n  group: no-such-group-kontrol\n")
    args = ["--quiet", "run", "--extracts", str(FIXTURE), "--out", str(tmp_path / "out")]
    code = main([*args, "--as-of", AS_OF, "--demo-key", "--config", str(config)])
    assert code == 2
    assert "no group 'no-such-group-kontrol'" in capsys.readouterr().err


# --- leftovers --------------------------------------------------------------------------


def test_the_dag_removes_other_months_staged_data(tmp_path: Path) -> None:
    out = tmp_path / "out"
    september = tasks.work_dir_for(out, date(2026, 9, 30))
    (september / "clean").mkdir(parents=True)
    (september / "clean" / "persons.parquet").write_text("cpr values")
    (september / "run.json").write_text("{}")
    october = date(2026, 10, 31)
    tasks.prepare(
        FIXTURE,
        tasks.publish_dir_for(out, october),
        october,
        tasks.work_dir_for(out, october),
        tasks.config_from(None, None),
    )
    assert sorted(os.listdir(september)) == ["run.json"]


@pytest.fixture
def published(fixture_run: Path) -> Path:
    """The session's run of the fixture delivery, made under umask 022 (tests/conftest.py)."""
    return fixture_run


def test_a_real_publication_has_owner_only_cpr_files(published: Path) -> None:
    release = (published / "current").resolve()
    for name in catalogue.published_names():
        path = release / name
        holds_cpr = name in catalogue.cpr_names()
        if path.is_dir():
            assert io.mode_of(path) == (0o700 if holds_cpr else 0o755), name
            for inner in path.rglob("*"):
                assert io.mode_of(inner) == (0o600 if holds_cpr else 0o644), inner
        else:
            assert io.mode_of(path) == (0o600 if holds_cpr else 0o644), name
    assert io.mode_of(published / "cases.parquet") == 0o600  # through the link


def plant_leftovers(out: Path) -> list[Path]:
    stale = out / f"{catalogue.STAGING_PREFIX}2026-10-31-killed"
    (stale / "clean").mkdir(parents=True)
    (stale / "clean" / "persons.parquet").write_text("cpr values")
    retired = out / ".rejects.retired"
    retired.mkdir()
    (retired / "income.parquet").write_text("cpr values")
    failed = out / catalogue.FAILED_RUN_DIR / "rejects"
    failed.mkdir(parents=True)
    (failed / "income.parquet").write_text("cpr values")
    orphan = out / catalogue.RELEASES_DIR / "2026-10-31-orphan"
    orphan.mkdir()
    (orphan / "cases.parquet").write_text("cpr values")
    return [stale, retired, failed.parent, orphan]


def test_a_good_run_removes_what_earlier_runs_left(published: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(published, out, symlinks=True)
    leftovers = plant_leftovers(out)
    assert main(["--quiet", "run", "--extracts", str(FIXTURE), "--out", str(out),
                 "--as-of", AS_OF, "--demo-key"]) == 0  # fmt: skip
    assert [p for p in leftovers if p.exists()] == []
    run_id = json.loads((out / "manifest.json").read_text())["run_id"]
    # the same inputs again: a release of its own, the previous one kept for rollback
    assert sorted(os.listdir(out / catalogue.RELEASES_DIR)) == [run_id, f"{run_id}.1"]
    assert (out / "cases.parquet").read_bytes() == (published / "cases.parquet").read_bytes()


def test_a_failed_run_removes_them_too(published: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(published, out, symlinks=True)
    before = (out / "cases.parquet").read_bytes()
    leftovers = plant_leftovers(out)
    broken = tmp_path / "broken"
    shutil.copytree(FIXTURE, broken)
    (broken / "relations.parquet").unlink()
    assert main(["--quiet", "run", "--extracts", str(broken), "--out", str(out),
                 "--as-of", AS_OF, "--demo-key"]) == 1  # fmt: skip
    assert [p for p in leftovers if p.exists()] == []
    assert (out / "cases.parquet").read_bytes() == before


def test_kill_9_mid_run_leaves_staged_data_that_the_next_run_removes(
    published: Path, tmp_path: Path
) -> None:
    """A real SIGKILL while the run is staging data (cpr values) into its staging directory."""
    out = tmp_path / "out"
    shutil.copytree(published, out, symlinks=True)
    before = (out / "cases.parquet").read_bytes()
    command = [sys.executable, "-m", "kontrol", "--quiet", "run", "--extracts", str(FIXTURE),
               "--out", str(out), "--as-of", AS_OF, "--demo-key"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    staged_data: list[Path] = []
    while time.monotonic() < deadline and process.poll() is None and not staged_data:
        staged_data = list(out.glob(f"{catalogue.STAGING_PREFIX}*/clean/*.parquet"))
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert staged_data, "never saw staged data"
    assert list(out.glob(f"{catalogue.STAGING_PREFIX}*"))  # what the kill left
    assert (out / "cases.parquet").read_bytes() == before  # the publication is untouched
    # the next run, good or failed, removes it
    broken = tmp_path / "broken"
    broken.mkdir()
    assert main(["--quiet", "run", "--extracts", str(broken), "--out", str(out),
                 "--as-of", AS_OF, "--demo-key"]) == 1  # fmt: skip
    assert list(out.glob(f"{catalogue.STAGING_PREFIX}*")) == []
    assert (out / "cases.parquet").read_bytes() == before


def test_the_case_register_is_owner_only(tmp_path: Path) -> None:
    from kontrol.lifecycle import store

    register = tmp_path / "register"
    with umask(0o022):
        store.mark_pending(register, "2026-10-31-000000000000", date(2026, 10, 31), tmp_path)
    assert io.mode_of(register) == 0o700
    assert io.mode_of(register / store.PENDING_FILE) == 0o600


def test_kontrol_load_writes_owner_only_rejects(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects"
    with umask(0o022):
        args = ["--quiet", "load", "--extracts", str(FIXTURE), "--rejects-out", str(rejects)]
        assert main(args) == 0
    assert io.mode_of(rejects) == 0o700
    assert {io.mode_of(p) for p in rejects.iterdir()} == {0o600}
