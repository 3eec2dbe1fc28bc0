"""The auditor's HTML report of a run's validation, built from GX results.

Why not GX Data Docs: Data Docs pages load Bootstrap, jQuery and fonts from
public CDNs and link into a Data Docs site tree, so an archived report is
unstyled or broken offline, and the municipality's browsers would call third
parties when opening it. This page is one self-contained file (inline CSS, no
script) that shows, per suite, every expectation with its severity, outcome
and observed counts, plus the sanitised GX result JSON beside it
(``<suite>.json``) for anyone who wants GX's own record.

It never contains a cpr value: outcomes carry names and counts only (see
:mod:`kontrol.validation.engine`), and the final text is masked for any
cpr-shaped number once more before it is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from kontrol import io
from kontrol.validation.engine import mask

if TYPE_CHECKING:
    from kontrol.validation import ValidationOutcome

INDEX = "index.html"

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top;font-size:90%}
th{background:#f3f3f3}
.pass{color:#176117}.fail{color:#a01010;font-weight:bold}.warn{color:#8a5a00;font-weight:bold}
.muted{color:#666}
"""


def _status(ok: bool, severity: str) -> str:
    if ok:
        return '<span class="pass">passed</span>'
    css = "fail" if severity == "critical" else "warn"
    return f'<span class="{css}">failed ({escape(severity)})</span>'


def _suite_status(outcome: ValidationOutcome) -> str:
    if outcome.critical_failures:
        return '<span class="fail">FAILED: run stopped</span>'
    if outcome.warnings:
        return '<span class="warn">passed with warnings</span>'
    return '<span class="pass">passed</span>'


def render(outcomes: Sequence[ValidationOutcome], run_info: Mapping[str, str]) -> str:
    rows = []
    for o in outcomes:
        scope = f"{o.rows_validated:,} of {o.rows_total:,} rows"
        if o.rows_validated < o.rows_total:
            scope += " (even sample; whole-file counts in suite delivery)"
        rows.append(
            f'<tr><td><a href="#{escape(o.suite)}">{escape(o.suite)}</a></td>'
            f"<td>{_suite_status(o)}</td><td>{scope}</td>"
            f"<td>{o.statistics.get('evaluated_expectations', 0)}</td>"
            f"<td>{o.statistics.get('successful_expectations', 0)}</td>"
            f"<td>{len(o.critical_failures)}</td><td>{len(o.warnings)}</td>"
            f'<td><a href="{escape(o.suite)}.json">{escape(o.suite)}.json</a></td></tr>'
        )
    info = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in run_info.items()
    )
    sections = []
    for o in outcomes:
        lines = []
        for i, e in enumerate(o.expectations, start=1):
            error = f'<br><span class="fail">error: {escape(e.error)}</span>' if e.error else ""
            lines.append(
                f"<tr><td>{i}</td><td>{escape(e.name)}</td>"
                f"<td><code>{escape(e.expectation_type)}</code>"
                f"{'<br>column <code>' + escape(e.column) + '</code>' if e.column else ''}</td>"
                f"<td>{escape(e.severity)}</td><td>{_status(e.success, e.severity)}{error}</td>"
                f"<td>{escape(e.observed)}</td>"
                f'<td class="muted">{escape(e.description)}</td></tr>'
            )
        sections.append(
            f'<h2 id="{escape(o.suite)}">{escape(o.suite)}: {_suite_status(o)}</h2>'
            f'<p class="muted">GX {escape(o.gx_version)}; suite '
            f"<code>expectations/{escape(o.suite)}.json</code>; {o.seconds:.1f} s</p>"
            "<table><tr><th>#</th><th>check</th><th>expectation</th><th>severity</th>"
            "<th>result</th><th>observed</th><th>why</th></tr>" + "".join(lines) + "</table>"
        )
    overall = any(o.critical_failures for o in outcomes)
    verdict = (
        '<p class="fail">At least one critical expectation failed: no case queue was published.</p>'
        if overall
        else '<p class="pass">No critical expectation failed.</p>'
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>kontrol validation</title><style>{_CSS}</style></head><body>"
        "<h1>kontrol: validation report</h1>"
        f"<table>{info}</table>{verdict}"
        '<p class="muted">Critical expectations stop the run before any case is published; '
        "warnings are reported and the run continues. Values of rows are never shown, only "
        "counts.</p>"
        "<table><tr><th>suite</th><th>status</th><th>validated</th><th>expectations</th>"
        "<th>passed</th><th>critical failures</th><th>warnings</th><th>GX result</th></tr>"
        + "".join(rows)
        + "</table>"
        + "".join(sections)
        + "</body></html>\n"
    )


def write(
    outcomes: Sequence[ValidationOutcome], report_dir: Path, run_info: Mapping[str, str]
) -> Path:
    """``report_dir/index.html`` plus one sanitised GX result JSON per suite."""
    for o in outcomes:
        text = json.dumps(o.gx_result, indent=2, sort_keys=True, ensure_ascii=False)
        io.write_text(mask(text) + "\n", report_dir / f"{o.suite}.json")
    index = report_dir / INDEX
    io.write_text(mask(render(outcomes, run_info)), index)
    return index
