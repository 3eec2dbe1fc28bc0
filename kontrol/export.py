"""The export of published case queues to the case system's drop folder.

For each published month, two files land in the drop folder, named by the
month and the run id (``<run_id>`` already starts with the as-of date):

* ``kontrol-cases_<YYYY-MM>_<run_id>.xlsx``: the published Danish workbook
  (``cases.xlsx``), byte for byte;
* ``kontrol-cases_<YYYY-MM>_<run_id>.csv``: the queue as Danish Excel opens it
  with a double click: UTF-8 with a byte order mark, ``;`` between fields,
  decimal comma, dates ``DD-MM-YYYY``, CRLF line ends, Danish headings.

Both hold cpr values: they are written mode 0600 (atomic rename of a 0600
temporary file), in a drop folder created 0700. Exporting is idempotent per
run id: a publication whose two files exist is skipped. A publication is
exported only when its queue and its manifest name the same run (the
manifest is published last, so a publication in progress is left for its
own event).

:func:`export_pending` exports every publication not yet exported under the
given output roots, not just the one that triggered the export: two months
published milliseconds apart are both exported, each to its own files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from kontrol import io

log = logging.getLogger(__name__)

PREFIX = "kontrol-cases"
CASES_FILE = "cases.parquet"
CASES_XLSX = "cases.xlsx"
MANIFEST_FILE = "manifest.json"
#: Danish Excel: the list separator is ";" and the decimal separator ",".
SEPARATOR = ";"
BOM = "\ufeff".encode()
#: (heading, column of the CSV frame), in the case system's order.
CSV_COLUMNS = (
    ("prioritet", "priority"),
    ("sags_id", "case_id"),
    ("regel", "rule_id"),
    ("status", "status"),
    ("cpr", "cpr"),
    ("beløb_kr", "amount"),
    ("periode_start", "period_start"),
    ("periode_slut", "period_end"),
    ("ankerdato", "anchor_date"),
    ("ydelser", "benefits"),
    ("score", "score"),
    ("resumé", "summary"),
    ("retsgrundlag", "legal_basis"),
    ("kørsel", "run_id"),
)


@dataclass(frozen=True)
class Exported:
    run_id: str
    as_of: str
    cases: int
    csv_path: str
    xlsx_path: str
    written: bool  # False: it had been exported before (idempotent)

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "as_of": self.as_of,
            "cases": self.cases,
            "csv_path": self.csv_path,
            "xlsx_path": self.xlsx_path,
            "written": self.written,
        }


def export_names(run_id: str, as_of: date) -> tuple[str, str]:
    """The CSV and XLSX file names of one publication."""
    stem = f"{PREFIX}_{as_of:%Y-%m}_{run_id}"
    return f"{stem}.csv", f"{stem}.xlsx"


def _danish_decimal(column: pl.Expr) -> pl.Expr:
    return column.cast(pl.String).str.replace(".", ",", literal=True)


def _danish_date(column: pl.Expr) -> pl.Expr:
    return column.dt.strftime("%d-%m-%Y")


def csv_frame(queue: pl.LazyFrame) -> pl.LazyFrame:
    """The queue's columns as the strings Danish Excel reads (decimal comma, DD-MM-YYYY)."""
    return queue.sort("priority").select(
        pl.col("priority").cast(pl.String),
        pl.col("case_id"),
        pl.col("rule_id"),
        pl.col("status"),
        pl.col("cpr"),
        _danish_decimal(pl.col("amount_at_stake_dkk")).alias("amount"),
        _danish_date(pl.col("period_start")).alias("period_start"),
        _danish_date(pl.col("period_end")).alias("period_end"),
        _danish_date(pl.col("anchor_date")).alias("anchor_date"),
        pl.col("benefit_codes").list.join(", ").alias("benefits"),
        _danish_decimal(pl.col("anomaly_score").cast(pl.Decimal(9, 6))).alias("score"),
        pl.col("evidence").str.json_path_match("$.summary").fill_null("").alias("summary"),
        pl.col("legal_basis"),
        pl.col("run_id"),
    )


def csv_bytes(queue: pl.LazyFrame) -> bytes:
    """The CSV file's bytes: BOM, ``;``-separated, quoted where needed, CRLF."""
    frame = csv_frame(queue).collect()
    frame = frame.rename({column: heading for heading, column in CSV_COLUMNS})
    text = frame.write_csv(separator=SEPARATOR, quote_style="necessary", line_terminator="\r\n")
    return BOM + text.encode("utf-8")


def export_publication(publish_dir: Path, drop_dir: Path) -> Exported | None:
    """Export one publication (None if it is not a complete publication right now)."""
    manifest_path = publish_dir / MANIFEST_FILE
    cases_path = publish_dir / CASES_FILE
    xlsx_path = publish_dir / CASES_XLSX
    if not (manifest_path.is_file() and cases_path.is_file() and xlsx_path.is_file()):
        return None
    manifest = io.read_json(manifest_path)
    run_id, as_of = str(manifest["run_id"]), date.fromisoformat(manifest["as_of"])
    csv_name, xlsx_name = export_names(run_id, as_of)
    csv_out, xlsx_out = drop_dir / csv_name, drop_dir / xlsx_name
    count = int(manifest.get("cases_total", 0))
    if csv_out.is_file() and xlsx_out.is_file():
        return Exported(run_id, as_of.isoformat(), count, str(csv_out), str(xlsx_out), False)
    queue = io.read_parquet(cases_path)
    if queue.height and set(queue["run_id"].unique().to_list()) != {run_id}:
        log.info("%s is being republished; its own event will export it", publish_dir)
        return None
    io.make_private_dir(drop_dir)
    io.write_private_bytes(io.read_bytes(xlsx_path), xlsx_out)
    io.write_private_bytes(csv_bytes(queue.lazy()), csv_out)  # last: both exist = exported
    log.info("exported run %s (%d cases) to %s", run_id, queue.height, drop_dir)
    return Exported(run_id, as_of.isoformat(), queue.height, str(csv_out), str(xlsx_out), True)


def publications(out_roots: Iterable[Path]) -> list[Path]:
    """Every month's publication directory (``<root>/<YYYY-MM-DD>/``) under ``out_roots``."""
    found: set[Path] = set()
    for root in out_roots:
        for name in io.list_dir_names(root):
            try:
                date.fromisoformat(name)
            except ValueError:
                continue
            if (root / name / MANIFEST_FILE).is_file():
                found.add(root / name)
    return sorted(found, key=lambda p: (p.name, str(p)))


def export_pending(out_roots: Iterable[Path], drop_dir: Path) -> list[Exported]:
    """Export every publication under ``out_roots`` that is not exported yet, oldest first."""
    results = []
    for publish_dir in publications(out_roots):
        exported = export_publication(publish_dir, drop_dir)
        if exported is not None:
            results.append(exported)
    return results
