"""Importing outcomes: validated whole, applied all at once, into the register on disk."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from lifecycle.lifecycle_helpers import make_queue

from kontrol.cli import main
from kontrol.lifecycle import apply_run, classify, empty_register, store
from kontrol.lifecycle.outcomes import OutcomesRefused

SEP = date(2026, 9, 30)
HEADER = "case_id,outcome,closed_date,repayment_dkk,future_saving_dkk\n"


@pytest.fixture
def register(tmp_path: Path) -> tuple[Path, list[str]]:
    """A register on disk holding three open cases."""
    queue = make_queue(
        [
            {"rule_id": "R01", "cpr": "0101801234", "anchor_date": date(2026, 4, 1)},
            {"rule_id": "R02", "cpr": "0101801234", "anchor_date": date(2026, 4, 1)},
            {"rule_id": "R03", "cpr": "0202805678", "anchor_date": date(2026, 5, 1)},
        ],
        SEP,
    )
    kept, _ = classify(queue, empty_register(), SEP, 6)
    directory = tmp_path / "register"
    cases = apply_run(empty_register(), kept, None, kept["run_id"][0], SEP)
    store.save(directory, store.Register(cases, [{"run_id": kept["run_id"][0], "as_of": "x"}]))
    return directory, kept["case_id"].to_list()


def snapshot_bytes(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in directory.rglob("*")
        if p.is_file() and p.name != ".lock"
    }


def test_csv_import_closes_cases_with_decimal_money(
    register: tuple[Path, list[str]], tmp_path: Path
) -> None:
    directory, ids = register
    file = tmp_path / "outcomes.csv"
    file.write_text(
        HEADER
        + f"{ids[0]},founded,2026-10-10,12345.67,0.10\n"
        + f"{ids[1]},unfounded,2026-10-11,,\n",
        encoding="utf-8",
    )
    assert main(["--quiet", "outcomes", "import", "--register", str(directory), str(file)]) == 0
    cases = store.load(directory).cases
    founded = cases.filter(pl.col("case_id") == ids[0]).row(0, named=True)
    assert founded["outcome"] == "founded"
    assert founded["closed_date"] == date(2026, 10, 10)
    assert founded["repayment_dkk"] == Decimal("12345.67")
    assert founded["future_saving_dkk"] == Decimal("0.10")
    assert cases.schema["repayment_dkk"] == pl.Decimal(14, 2)
    unfounded = cases.filter(pl.col("case_id") == ids[1]).row(0, named=True)
    assert unfounded["outcome"] == "unfounded" and unfounded["repayment_dkk"] is None
    assert cases.filter(pl.col("case_id") == ids[2])["outcome"][0] is None
    assert store.load(directory).imports[0]["rows"] == 2


def test_xlsx_import(register: tuple[Path, list[str]], tmp_path: Path) -> None:
    directory, ids = register
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["case_id", "outcome", "closed_date", "repayment_dkk"])
    sheet.append([ids[2], "no_action", datetime(2026, 10, 20), None])
    sheet.append([ids[0], "founded", "2026-10-21", 1234.5])
    file = tmp_path / "outcomes.xlsx"
    workbook.save(file)
    assert store.import_outcomes(directory, file) == 2
    cases = store.load(directory).cases
    row = cases.filter(pl.col("case_id") == ids[0]).row(0, named=True)
    assert row["repayment_dkk"] == Decimal("1234.50")
    assert cases.filter(pl.col("case_id") == ids[2])["closed_date"][0] == date(2026, 10, 20)


def test_a_bad_file_imports_nothing_and_names_every_row_and_column(
    register: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory, ids = register
    before = snapshot_bytes(directory)
    file = tmp_path / "outcomes.csv"
    file.write_text(
        HEADER
        + f"{ids[0]},founded,2026-10-10,100.00,\n"  # good, but must not be imported
        + "ffffffffffffffffffffffffffffffff,founded,2026-10-10,,\n"
        + f"{ids[1]},maybe,2026-10-10,,\n"
        + f"{ids[2]},unfounded,10/10/2026,,\n"
        + f"{ids[0]},founded,2026-10-10,-5.00,1.234\n",
        encoding="utf-8",
    )
    with pytest.raises(OutcomesRefused) as refused:
        store.import_outcomes(directory, file)
    problems = refused.value.problems
    assert "row 3, column case_id: unknown case id 'ffffffffffffffffffffffffffffffff'" in problems
    assert any(p.startswith("row 4, column outcome: 'maybe'") for p in problems)
    assert any(p.startswith("row 5, column closed_date: not a date") for p in problems)
    assert "row 6, column repayment_dkk: negative amount -5.00" in problems
    assert "row 6, column future_saving_dkk: more than 2 decimals: 1.234" in problems
    assert any(p.startswith("row 6, column case_id:") and "row 2" in p for p in problems)
    assert snapshot_bytes(directory) == before  # nothing imported, not even row 2

    assert main(["--quiet", "outcomes", "import", "--register", str(directory), str(file)]) == 1
    err = capsys.readouterr().err
    assert "nothing imported" in err and "row 4, column outcome" in err
    assert snapshot_bytes(directory) == before


def test_missing_columns_and_unknown_register(
    register: tuple[Path, list[str]], tmp_path: Path
) -> None:
    directory, _ = register
    file = tmp_path / "outcomes.csv"
    file.write_text("case_id,closed_date\nx,2026-01-01\n", encoding="utf-8")
    with pytest.raises(OutcomesRefused, match="missing column"):
        store.import_outcomes(directory, file)
    assert main(["outcomes", "import", "--register", str(tmp_path / "none"), str(file)]) == 2
