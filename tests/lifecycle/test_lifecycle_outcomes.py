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
    store.save(
        directory, store.Register(cases, [{"run_id": kept["run_id"][0], "as_of": SEP.isoformat()}])
    )
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
    assert "row 3, column case_id: not a case of this register" in problems
    assert "row 4, column outcome: not one of founded, unfounded, no_action" in problems
    assert "row 5, column closed_date: not a date (YYYY-MM-DD or DD-MM-YYYY)" in problems
    assert "row 6, column repayment_dkk: negative amount" in problems
    assert "row 6, column future_saving_dkk: more than 2 decimals" in problems
    assert "row 6, column case_id: the same case as row 2" in problems
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


# --- what caseworkers' spreadsheets save (issue 11 items 2, 7, 14, 17, 21) -------------

TODAY = date(2026, 11, 30)
CPR = "0101801234"


def refused(directory: Path, file: Path) -> list[str]:
    with pytest.raises(OutcomesRefused) as error:
        store.import_outcomes(directory, file, today=TODAY)
    return error.value.problems


def test_a_formula_without_its_saved_value_is_refused_never_a_null_amount(
    register: tuple[Path, list[str]], tmp_path: Path
) -> None:
    directory, ids = register
    before = snapshot_bytes(directory)
    workbook = openpyxl.Workbook()  # openpyxl saves formulas without a calculated value
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["case_id", "outcome", "closed_date", "repayment_dkk"])
    sheet.append([ids[0], "founded", "2026-10-21", "=1000+234.5"])
    file = tmp_path / "outcomes.xlsx"
    workbook.save(file)
    assert refused(directory, file) == [
        "row 2, column repayment_dkk: a formula saved without its value"
    ]
    assert snapshot_bytes(directory) == before


def test_a_formula_with_its_saved_value_is_imported(
    register: tuple[Path, list[str]], tmp_path: Path
) -> None:
    import xlsxwriter

    directory, ids = register
    file = tmp_path / "outcomes.xlsx"
    workbook = xlsxwriter.Workbook(file)
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["case_id", "outcome", "closed_date", "repayment_dkk"])
    sheet.write_row(1, 0, [ids[0], "founded", "2026-10-21"])
    sheet.write_formula(1, 3, "=1000+234.5", None, 1234.5)  # as Excel saves it: with a value
    workbook.close()
    assert store.import_outcomes(directory, file, today=TODAY) == 1
    row = store.load(directory).cases.filter(pl.col("case_id") == ids[0]).row(0, named=True)
    assert row["repayment_dkk"] == Decimal("1234.50")


def test_no_cell_value_reaches_the_error_output(
    register: tuple[Path, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory, ids = register
    file = tmp_path / "outcomes.csv"
    file.write_text(
        f"case_id,outcome,closed_date,repayment_dkk,{CPR}\n"
        f"{CPR},founded,2026-10-10,,\n"
        f"{ids[0]},{CPR},{CPR},{CPR},\n"
        f"{ids[1]},founded,010180-1234,010180-1234,\n",
        encoding="utf-8",
    )
    assert main(["outcomes", "import", "--register", str(directory), str(file)]) == 1
    err = capsys.readouterr().err
    assert "row 2, column case_id: not a case of this register" in err
    assert "row 3, column outcome: not one of founded, unfounded, no_action" in err
    assert "row 4, column repayment_dkk: not a decimal number" in err
    assert "unknown column(s): column 5" in err
    assert CPR not in err and "010180" not in err


def test_danish_excel_semicolon_csv_with_bom_is_accepted(
    register: tuple[Path, list[str]], tmp_path: Path
) -> None:
    directory, ids = register
    file = tmp_path / "outcomes.csv"
    text = (
        "case_id;outcome;closed_date;repayment_dkk;future_saving_dkk\r\n"
        f"{ids[0]};founded;10-10-2026;1.234,50;12,5\r\n"
        f"{ids[1]};unfounded;11.10.2026;;\r\n"
    )
    file.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert store.import_outcomes(directory, file, today=TODAY) == 2
    cases = store.load(directory).cases
    row = cases.filter(pl.col("case_id") == ids[0]).row(0, named=True)
    assert row["closed_date"] == date(2026, 10, 10)
    assert row["repayment_dkk"] == Decimal("1234.50")
    assert row["future_saving_dkk"] == Decimal("12.50")
    assert cases.filter(pl.col("case_id") == ids[1])["closed_date"][0] == date(2026, 10, 11)


@pytest.mark.parametrize(
    ("encoding", "bom", "separator"),
    [
        ("cp1252", b"", ";"),  # Danish Excel "CSV (semikolonsepareret)"
        ("utf-16-le", b"\xff\xfe", "\t"),  # Excel "Unicode-tekst"
        ("utf-16-le", b"", ","),
        ("utf-16-be", b"\xfe\xff", ","),
    ],
)
def test_cp1252_and_utf16_exports_are_read(
    register: tuple[Path, list[str]], tmp_path: Path, encoding: str, bom: bytes, separator: str
) -> None:
    directory, ids = register
    rows = [
        ["case_id", "outcome", "closed_date", "repayment_dkk"],
        [ids[0], "founded", "2026-10-10", "100"],
        [ids[1], "no_action", "2026-10-11", ""],
    ]
    text = "".join(separator.join(row) + "\r\n" for row in rows)
    file = tmp_path / "outcomes.csv"
    file.write_bytes(bom + text.encode(encoding))
    assert store.import_outcomes(directory, file, today=TODAY) == 2
    # a non-ASCII cell in such a file is a defect of its row and column, not a crash
    bad = text.replace("no_action", "ingen handling – afsluttet æøå")
    file.write_bytes(bom + bad.encode(encoding))
    assert refused(directory, file) == [
        "row 3, column outcome: not one of founded, unfounded, no_action"
    ]


@pytest.mark.parametrize(
    ("name", "content", "defect"),
    [
        ("outcomes.xlsx", b"PK\x03\x04 not really a workbook", "not a readable XLSX workbook"),
        ("outcomes.xlsx", b"", "not a readable XLSX workbook"),
        ("outcomes.csv", b"\x00\x01\x02\x03\x00\x00\xff\x00\x10", "not a text file"),
        ("outcomes.csv", b"case_id,outcome\x81\x8d\n", "not readable as text"),
    ],
)
def test_an_unreadable_file_is_one_line_naming_it(
    register: tuple[Path, list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: bytes,
    defect: str,
) -> None:
    directory, _ = register
    before = snapshot_bytes(directory)
    file = tmp_path / name
    file.write_bytes(content)
    assert main(["outcomes", "import", "--register", str(directory), str(file)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"kontrol: error: {name}: {defect}")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert snapshot_bytes(directory) == before


def test_closed_dates_in_the_future_or_before_the_case_are_refused(
    register: tuple[Path, list[str]], tmp_path: Path
) -> None:
    directory, ids = register
    file = tmp_path / "outcomes.csv"
    file.write_text(
        HEADER
        + f"{ids[0]},founded,2099-07-01,,\n"
        + f"{ids[1]},unfounded,1990-01-01,,\n"
        + f"{ids[2]},no_action,2026-09-29,,\n"
        + f"{ids[2]},no_action,2026-12-01,,\n",
        encoding="utf-8",
    )
    assert refused(directory, file) == [
        "row 2, column closed_date: in the future (after 2026-11-30)",
        "row 3, column closed_date: before the case was raised (in the run for 2026-09-30)",
        "row 4, column closed_date: before the case was raised (in the run for 2026-09-30)",
        "row 5, column case_id: the same case as row 4",
        "row 5, column closed_date: in the future (after 2026-11-30)",
    ]
    file.write_text(HEADER + f"{ids[2]},no_action,2026-09-30,,\n", encoding="utf-8")
    assert store.import_outcomes(directory, file, today=TODAY) == 1
