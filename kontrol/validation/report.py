"""The auditor's HTML report of a run's validation, built from GX results.

Why not GX Data Docs: Data Docs pages load Bootstrap, jQuery and fonts from
public CDNs and link into a Data Docs site tree, so an archived report is
unstyled or broken offline, and the municipality's browsers would call third
parties when opening it. This page is one self-contained file (inline CSS, no
script; template ``kontrol/pages/templates/validation.html.j2``) that shows,
per suite, every expectation with its severity, outcome and observed counts,
plus the sanitised GX result JSON beside it (``<suite>.json``) for anyone who
wants GX's own record.

It never contains a cpr value: outcomes carry names and counts only (see
:mod:`kontrol.validation.engine`), and the final text is masked for any
cpr-shaped number once more before it is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kontrol import io, pages
from kontrol.validation.engine import mask

if TYPE_CHECKING:
    from kontrol.validation import ValidationOutcome

INDEX = "index.html"


def render(
    outcomes: Sequence[ValidationOutcome],
    run_info: Mapping[str, str],
    case_volume: Mapping[str, Any] | None = None,
) -> str:
    """The report page, from ``validation.html.j2`` (autoescaped, no script, no network).

    With ``case_volume`` (:mod:`kontrol.case_volume`), a section of cases per rule and
    its warnings; a failed run's report has none (no queue was built).
    """
    return pages.render(
        "validation.html.j2",
        lang="en",
        run_info=list(run_info.items()),
        outcomes=list(outcomes),
        stopped=any(o.critical_failures for o in outcomes),
        volume=case_volume,
    )


def write(
    outcomes: Sequence[ValidationOutcome],
    report_dir: Path,
    run_info: Mapping[str, str],
    *,
    case_volume: Mapping[str, Any] | None = None,
) -> Path:
    """``report_dir/index.html`` plus one sanitised GX result JSON per suite."""
    for o in outcomes:
        text = json.dumps(o.gx_result, indent=2, sort_keys=True, ensure_ascii=False)
        io.write_text(mask(text) + "\n", report_dir / f"{o.suite}.json")
    index = report_dir / INDEX
    io.write_text(mask(render(outcomes, run_info, case_volume)), index)
    return index
