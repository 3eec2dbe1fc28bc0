"""Bad input ends in one clear line and the right exit code (issue 11), never a traceback.

Usage and configuration errors exit 2, delivery and run errors exit 1; each
message names the file, column or argument and the defect.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from builders import tiny_rows, write_delivery

from kontrol import cli, pipeline
from kontrol.cli import main
from kontrol.config import KontrolConfig
from kontrol.errors import RejectRateExceeded, StructuralDefect
from kontrol.loader import RejectSummary, raise_for_reject_rate
from kontrol.schema import extract_specs

AS_OF = "2026-10-31"


def kontrol(*argv: str) -> int:
    return main(["--quiet", *argv])


def run(extracts: Path, out: Path, *extra: str, as_of: str = AS_OF) -> int:
    return kontrol("run", "--extracts", str(extracts), "--out", str(out), "--as-of", as_of, *extra)


def the_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The one ``kontrol:`` line on stderr (log lines aside), with no traceback."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("kontrol: ")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def delivery(tmp_path: Path) -> Path:
    return write_delivery(tmp_path / "delivery", tiny_rows())


# --- configuration and arguments: exit 2 -------------------------------------------


def test_yaml_syntax_error_names_file_and_line(
    delivery: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kontrol.yaml"
    config.write_text("window_months: 12\nloader: [\n  x: 1\n")
    assert run(delivery, tmp_path / "out", "--demo-key", "--config", str(config)) == 2
    line = the_error(capsys)
    assert f"{config}: line 4, column 1: YAML syntax error" in line


def test_a_bad_setting_is_named_on_one_line(
    delivery: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kontrol.yaml"
    config.write_text("loader:\n  max_reject_share: 3\nwindow_mnths: 2\n")
    assert kontrol("load", "--extracts", str(delivery), "--config", str(config)) == 2
    line = the_error(capsys)
    assert f"{config}: loader.max_reject_share: Input should be less than or equal to 1" in line
    assert "window_mnths: Extra inputs are not permitted" in line


def test_out_that_is_a_file_is_a_usage_error(
    delivery: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    assert run(delivery, a_file, "--demo-key") == 2
    assert f"--out {a_file}: is a file, not a directory" in the_error(capsys)
    assert run(delivery, a_file / "below", "--demo-key") == 2
    assert f"lies under {a_file}, which is a file" in the_error(capsys)


def test_out_that_is_not_writable_is_a_usage_error(
    delivery: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    real_access = os.access
    # as root, os.access ignores the mode bits; ask as an ordinary account would
    monkeypatch.setattr(
        cli.os,
        "access",
        lambda path, mode: False if Path(path) == locked else real_access(path, mode),
    )
    assert run(delivery, locked / "out", "--demo-key") == 2
    assert f"--out {locked / 'out'}: {locked} is not writable" in the_error(capsys)
    assert not (locked / "out").exists()


@pytest.mark.parametrize("where", ["same", "out inside", "extracts inside"])
def test_extracts_and_out_must_be_apart(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if where == "extracts inside":
        out = tmp_path / "out"
        extracts = write_delivery(out / "delivery", tiny_rows())
    else:
        extracts = write_delivery(tmp_path / "delivery", tiny_rows())
        out = extracts if where == "same" else extracts / "out"
    before = sorted(p.name for p in extracts.iterdir())
    assert run(extracts, out, "--demo-key") == 2
    line = the_error(capsys)
    assert "--extracts" in line and "--out" in line
    assert sorted(p.name for p in extracts.iterdir()) == before


@pytest.mark.parametrize("key", [" " * 16, "\t" * 20, "  short-key  \n      "])
def test_a_blank_or_short_case_key_is_refused(
    key: str,
    delivery: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KONTROL_CASE_KEY", key)
    assert run(delivery, tmp_path / "out") == 2
    assert "KONTROL_CASE_KEY is" in the_error(capsys)
    assert not (tmp_path / "out" / "cases.parquet").exists()


# --- the delivery: exit 1 ----------------------------------------------------------


def test_reject_rate_message_does_not_hide_why_in_rounding() -> None:
    spec = extract_specs(KontrolConfig().benefit_codes)["payments"]
    summary = RejectSummary("payments", 23000, 231, {"cpr: malformed cpr": 231})
    with pytest.raises(RejectRateExceeded) as raised:
        raise_for_reject_rate(spec, summary, Decimal("0.01"))
    assert str(raised.value) == (
        "payments.parquet: column cpr: 231 of 23,000 rows rejected (1.0043%), more than the "
        "allowed 1% (230 rows); most frequent defect: malformed cpr (231 rows)"
    )
    at_limit = RejectSummary("payments", 23000, 230, {"cpr: malformed cpr": 230})
    raise_for_reject_rate(spec, at_limit, Decimal("0.01"))


def test_dictionary_strings_and_date64_are_the_contracts_types(
    delivery: Path, tmp_path: Path
) -> None:
    persons = pq.read_table(delivery / "persons.parquet")
    sex = persons.schema.get_field_index("sex")
    persons = persons.set_column(sex, "sex", persons["sex"].dictionary_encode())
    pq.write_table(persons, delivery / "persons.parquet")
    relations = pq.read_table(delivery / "relations.parquet")
    valid_from = relations.schema.get_field_index("valid_from")
    relations = relations.set_column(
        valid_from, "valid_from", relations["valid_from"].cast(pa.date64())
    )
    pq.write_table(relations, delivery / "relations.parquet")

    staging = tmp_path / "staging"
    loads = pipeline.load_delivery(delivery, staging, KontrolConfig())
    assert loads["persons"].rows_rejected == loads["relations"].rows_rejected == 0
    assert pl.read_parquet_schema(staging / "clean" / "persons.parquet")["sex"] == pl.String
    clean = pl.read_parquet(staging / "clean" / "relations.parquet")
    assert clean.schema["valid_from"] == pl.Date
    assert clean["valid_from"].to_list() == [r["valid_from"] for r in tiny_rows()["relations"]]


def test_a_time_zone_is_printed_as_stored(delivery: Path, tmp_path: Path) -> None:
    payments = pl.read_parquet(delivery / "payments.parquet")
    payments.with_columns(
        pl.col("paid_date").cast(pl.Datetime("us")).dt.replace_time_zone("Europe/Copenhagen")
    ).write_parquet(delivery / "payments.parquet")
    with pytest.raises(StructuralDefect) as raised:
        pipeline.load_delivery(delivery, tmp_path / "staging", KontrolConfig())
    assert str(raised.value) == (
        "payments.parquet: column paid_date: wrong type: expected date, "
        "found datetime[us, Europe/Copenhagen]"
    )


def corrupt_data_pages(path: Path, column: int = 0) -> None:
    """Scramble one column chunk's pages; the footer (the file's schema) stays intact."""
    chunk = pq.ParquetFile(path).metadata.row_group(0).column(column)
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    data = bytearray(path.read_bytes())
    for i in range(start + 8, start + chunk.total_compressed_size):
        data[i] ^= 0xA5
    path.write_bytes(bytes(data))


def test_corrupt_data_pages_behind_an_intact_footer(
    delivery: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt_data_pages(delivery / "payments.parquet")
    pq.read_schema(delivery / "payments.parquet")  # the footer still reads
    assert kontrol("load", "--extracts", str(delivery)) == 1
    line = the_error(capsys)
    assert line.startswith("kontrol: error: payments.parquet: column payment_id: corrupt data")


def test_strings_that_are_not_utf8_name_file_and_column(
    delivery: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    persons = pq.read_table(delivery / "persons.parquet")
    raw = [s.encode() for s in persons["citizenship"].to_pylist()]
    raw[1] = b"\xff\xfeDK"
    broken = pa.array(raw, pa.binary()).view(pa.string())  # no validation on view
    index = persons.schema.get_field_index("citizenship")
    pq.write_table(persons.set_column(index, "citizenship", broken), delivery / "persons.parquet")
    assert run(delivery, tmp_path / "out", "--demo-key") == 1
    assert the_error(capsys) == (
        "kontrol: error: persons.parquet: column citizenship: strings that are not valid UTF-8"
    )
    assert not (tmp_path / "out" / "cases.parquet").exists()


def test_a_full_disk_is_one_line_and_leaves_nothing(
    delivery: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")  # as polars raises it: no file

    monkeypatch.setattr(pl.LazyFrame, "sink_parquet", full)
    out = tmp_path / "out"
    assert run(delivery, out, "--demo-key") == 1
    line = the_error(capsys)
    assert re.fullmatch(
        rf"kontrol: error: {re.escape(str(out))}/\S+\.parquet: no space left on device; "
        "nothing was published",
        line,
    ), line
    assert not [p for p in out.rglob("*") if p.is_file() and p.suffix == ".parquet"]
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tiny tmpfs needs root")
def test_a_really_full_disk(delivery: Path, tmp_path: Path) -> None:
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(tiny)])
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        argv = ["-q", "run", "--extracts", str(delivery), "--out", str(tiny / "out")]
        done = subprocess.run(
            [sys.executable, "-m", "kontrol", *argv, "--as-of", AS_OF, "--demo-key"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 1
        assert "Traceback" not in done.stderr
        assert (
            done.stderr.strip()
            .splitlines()[-1]
            .endswith("no space left on device; nothing was published")
        )
        assert not (tiny / "out" / "cases.parquet").exists()
        assert not [p for p in (tiny / "out").iterdir() if p.name.startswith(".staging")]
    finally:
        subprocess.run(["umount", str(tiny)], check=True)


def test_an_unexpected_error_points_to_a_log_without_cpr(
    delivery: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object) -> list[str]:
        raise RuntimeError("nobody foresaw this, cpr 0203851234 in a message")

    monkeypatch.setattr(pipeline, "delivery_summary", broken)
    log = tmp_path / "logs" / "kontrol.log"
    assert main(["-q", "--log-file", str(log), "load", "--extracts", str(delivery)]) == 1
    line = the_error(capsys)
    assert line == (
        f"kontrol: internal error (RuntimeError); nothing was published; traceback in {log}; "
        "please report it"
    )
    text = log.read_text()
    assert "Traceback" in text and "RuntimeError: nobody foresaw this" in text
    assert "0203851234" not in text and "[masked]" in text
    assert log.stat().st_mode & 0o777 == 0o600


def test_without_log_file_the_traceback_goes_to_tmpdir(
    delivery: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline, "delivery_summary", lambda *args: 1 / 0)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    assert kontrol("load", "--extracts", str(delivery)) == 1
    line = the_error(capsys)
    logged = Path(line.split("traceback in ")[1].split(";")[0])
    assert logged.parent == tmp_path and "ZeroDivisionError" in logged.read_text()


# --- empty and implausible deliveries, end to end ----------------------------------


def test_an_as_of_far_after_the_data_fails_naming_the_window(
    delivery: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert run(delivery, out, "--demo-key", as_of="2040-01-31") == 1
    line = the_error(capsys)
    assert (
        "payments.parquet: no payment line in the window 2039-02-01 to 2040-01-31; "
        "the latest payment period found ends 2026-09-30" in line
    )
    assert not (out / "cases.parquet").exists()
    assert (out / "failed-run" / "error.txt").read_text().strip() in line


def test_an_empty_payments_file_fails_instead_of_publishing_an_empty_queue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = tiny_rows()
    rows["payments"] = []
    delivery = write_delivery(tmp_path / "delivery", rows)
    out = tmp_path / "out"
    assert run(delivery, out, "--demo-key") == 1
    assert "payments.parquet: file: no rows" in the_error(capsys)
    assert not (out / "cases.parquet").exists()


class Panic(BaseException):
    """Like pyo3's PanicException (a Rust panic in polars): not an ``Exception``."""


def test_a_panic_is_reported_like_any_unexpected_error(
    delivery: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def panic(*args: object) -> None:
        raise Panic("called `Option::unwrap()` on a `None` value")

    monkeypatch.setattr(pipeline, "delivery_summary", panic)
    log = tmp_path / "kontrol.log"
    assert main(["-q", "--log-file", str(log), "load", "--extracts", str(delivery)]) == 1
    assert the_error(capsys).startswith("kontrol: internal error (Panic)")
    assert "Option::unwrap()" in log.read_text()
