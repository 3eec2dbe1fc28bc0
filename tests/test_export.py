"""The export to the case system's drop folder: Danish Excel CSV, workbook, 0600, idempotent."""

from __future__ import annotations

import csv
import io as stdio
import json
import shutil
import stat
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from kontrol.export import csv_bytes, export_names, export_pending, export_publication

EVIDENCE = json.dumps({"summary": "Modtager død 12.10.2025; folkepension udbetalt; 2 linjer"})


def queue(run_id: str, rows: int = 2) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "case_id": [f"{i:032x}" for i in range(rows)],
            "rule_id": ["R03", "R01"][:rows],
            "cpr": ["0101901234", "0202801234"][:rows],
            "anchor_date": [date(2025, 10, 12), date(2025, 9, 22)][:rows],
            "period_start": [date(2025, 11, 1), date(2025, 12, 1)][:rows],
            "period_end": [date(2026, 10, 31), date(2026, 10, 31)][:rows],
            "amount_at_stake_dkk": [Decimal("145354.31"), Decimal("1207703.74")][:rows],
            "benefit_codes": [["FOLKEPENSION"], ["BOERNE_UNGEYDELSE", "KONTANTHJAELP"]][:rows],
            "evidence": [EVIDENCE, "{}"][:rows],
            "legal_basis": ["Pensionsloven § 1; ophold", "Aktivloven § 5"][:rows],
            "anomaly_score": [0.968826, 0.5][:rows],
            "priority": [2, 1][:rows],
            "run_id": [run_id] * rows,
            "status": ["new", "continuing"][:rows],
        },
        schema_overrides={"amount_at_stake_dkk": pl.Decimal(14, 2), "priority": pl.Int32},
    )


def publish(root: Path, as_of: str, run_id: str) -> Path:
    directory = root / as_of
    directory.mkdir(parents=True)
    queue(run_id).write_parquet(directory / "cases.parquet")
    (directory / "cases.xlsx").write_bytes(b"PK workbook " + run_id.encode())
    manifest = {"run_id": run_id, "as_of": as_of, "cases_total": 2}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory


def test_csv_is_what_danish_excel_opens() -> None:
    data = csv_bytes(queue("2026-10-31-abc").lazy())
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads æøå right
    text = data[3:].decode("utf-8")
    assert "\r\n" in text
    rows = list(csv.reader(stdio.StringIO(text, newline=""), delimiter=";"))
    header, first, second = rows
    assert header[:6] == ["prioritet", "sags_id", "regel", "status", "cpr", "beløb_kr"]
    assert first[0] == "1" and second[0] == "2"  # in priority order
    assert first[5] == "1207703,74" and second[5] == "145354,31"  # decimal comma, no grouping
    assert second[6:9] == ["01-11-2025", "31-10-2026", "12-10-2025"]
    assert first[9] == "BOERNE_UNGEYDELSE, KONTANTHJAELP"
    assert second[10] == "0,968826"
    assert second[11] == "Modtager død 12.10.2025; folkepension udbetalt; 2 linjer"  # quoted ;
    assert second[12] == "Pensionsloven § 1; ophold"


def test_export_writes_both_files_0600_and_is_idempotent(tmp_path: Path) -> None:
    publication = publish(tmp_path / "out", "2026-10-31", "2026-10-31-aaaaaaaaaaaa")
    drop = tmp_path / "drop"
    first = export_publication(publication, drop)
    assert first is not None and first.written and first.cases == 2
    csv_name, xlsx_name = export_names("2026-10-31-aaaaaaaaaaaa", date(2026, 10, 31))
    assert csv_name == "kontrol-cases_2026-10_2026-10-31-aaaaaaaaaaaa.csv"
    assert sorted(p.name for p in drop.iterdir()) == [csv_name, xlsx_name]
    assert stat.S_IMODE(drop.stat().st_mode) == 0o700
    for path in drop.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (drop / xlsx_name).read_bytes() == (publication / "cases.xlsx").read_bytes()
    before = {p.name: p.stat().st_mtime_ns for p in drop.iterdir()}
    again = export_publication(publication, drop)
    assert again is not None and not again.written
    assert {p.name: p.stat().st_mtime_ns for p in drop.iterdir()} == before


def test_every_unexported_publication_is_exported_each_to_its_own_files(tmp_path: Path) -> None:
    """Two months published moments apart, one export run: both exported, none merged."""
    out = tmp_path / "out"
    publish(out, "2026-09-30", "2026-09-30-bbbbbbbbbbbb")
    publish(out, "2026-10-31", "2026-10-31-cccccccccccc")
    (out / ".work").mkdir()
    (out / "register").mkdir()
    drop = tmp_path / "drop"
    exported = export_pending([out], drop)
    assert [(e.as_of, e.run_id, e.written) for e in exported] == [
        ("2026-09-30", "2026-09-30-bbbbbbbbbbbb", True),
        ("2026-10-31", "2026-10-31-cccccccccccc", True),
    ]
    assert len(list(drop.iterdir())) == 4
    # a second export run (the other event's) writes nothing again
    assert [e.written for e in export_pending([out], drop)] == [False, False]


def test_a_publication_in_progress_is_left_for_its_own_event(tmp_path: Path) -> None:
    out = tmp_path / "out"
    publication = publish(out, "2026-10-31", "2026-10-31-dddddddddddd")
    # the queue of a re-run is in place, its manifest (published last) not yet
    queue("2026-10-31-eeeeeeeeeeee").write_parquet(publication / "cases.parquet")
    assert export_publication(publication, tmp_path / "drop") is None
    shutil.rmtree(publication)
    assert export_pending([out], tmp_path / "drop") == []


@pytest.mark.parametrize("missing", ["manifest.json", "cases.xlsx"])
def test_an_incomplete_publication_is_not_exported(tmp_path: Path, missing: str) -> None:
    publication = publish(tmp_path / "out", "2026-10-31", "2026-10-31-ffffffffffff")
    (publication / missing).unlink()
    assert export_publication(publication, tmp_path / "drop") is None
