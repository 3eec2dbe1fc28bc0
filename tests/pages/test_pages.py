"""kontrol.pages: one Jinja environment, autoescaped, self-contained pages, Danish formatting."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from kontrol import pages
from kontrol.danish import (
    fmt_date,
    fmt_dkk,
    fmt_int,
    fmt_month,
    fmt_number,
    fmt_period,
    fmt_score,
    fmt_share,
    join_da,
)
from kontrol.lifecycle.performance import render_html as performance_html

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "kontrol" / "pages" / "templates"


@settings(max_examples=2000, deadline=None)
@given(
    value=st.one_of(
        st.decimals(
            allow_nan=False, allow_infinity=False, places=4, min_value=-(10**14), max_value=10**14
        ),
        st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
        st.integers(min_value=-(10**15), max_value=10**15),
    ),
    decimals=st.integers(min_value=0, max_value=3),
)
def test_fmt_number_is_babels_danish_format(value: Decimal | float | int, decimals: int) -> None:
    """kontrol formats without Babel (a tenth of the cost); the text stays Babel's ``da_DK``."""
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    assert fmt_number(value, decimals) == format_decimal(exact, format=pattern, locale="da_DK")


def test_danish_number_money_and_date_formatting() -> None:
    assert fmt_dkk(Decimal("1234567.89")) == "1.234.567,89 kr."
    assert fmt_dkk(Decimal("132728.00")) == "132.728,00 kr."
    assert fmt_dkk(Decimal("0.05")) == "0,05 kr."
    assert fmt_dkk(Decimal("-1234567.891")) == "-1.234.567,89 kr."
    assert fmt_dkk(Decimal("99999999999999.99")) == "99.999.999.999.999,99 kr."  # exact
    assert fmt_dkk(None) == "–"
    assert fmt_number(Decimal("999"), 0) == "999"
    assert fmt_number(0.1, 2) == "0,10"
    assert fmt_int(1048576) == "1.048.576"
    assert fmt_score(0.93076) == "0,93" and fmt_score(None) == "–"
    assert fmt_share(0.1234) == "12,3 %" and fmt_share(None) == "–"
    assert fmt_date(date(2026, 2, 20)) == "20.02.2026"
    assert fmt_period(date(2026, 3, 1), None) == "01.03.2026–" + "–"
    assert fmt_month(date(2026, 5, 1)) == "maj 2026"
    assert join_da(["a", "b", "c"]) == "a, b og c"


def test_every_template_extends_the_self_contained_base() -> None:
    names = sorted(p.name for p in TEMPLATES.glob("*.html.j2"))
    assert names == [
        "base.html.j2",
        "caselist.html.j2",
        "caselist_rows.html.j2",
        "fairness.html.j2",
        "performance.html.j2",
        "validation.html.j2",
    ]
    for name in names:
        text = (TEMPLATES / name).read_text()
        if name not in ("base.html.j2", "caselist_rows.html.j2"):
            assert text.startswith('{% extends "base.html.j2" %}'), name
        assert "http://" not in text and "https://" not in text, name
        assert " src=" not in text and "<link" not in text, name
    assert "default-src 'none'" in pages.CSP and "script-src" not in pages.CSP
    assert "script-src 'unsafe-inline'" in pages.CSP_SCRIPT


def test_autoescape_is_on_and_output_is_deterministic() -> None:
    performance = {
        "rules": {"<b>R</b>": _stats()},
        "control_sample": _stats(),
        "base_rate": None,
    }
    html = performance_html(performance, "<script>alert(1)</script>")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;R&lt;/b&gt;" in html
    assert f'content="{pages.CSP}"' in html  # no script allowed on this page
    assert "1.234,50 kr." in html
    assert html == performance_html(performance, "<script>alert(1)</script>")
    assert pages.environment().autoescape is True
    assert pages.environment().from_string("{{ x }}").render(x=Markup("<i>")) == "<i>"


def _stats() -> dict[str, object]:
    return {
        "raised": 1234,
        "closed": 1,
        "founded": 1,
        "hit_rate": 0.5,
        "repayment_dkk": "1234.50",
        "future_saving_dkk": "0.00",
    }


UV = ROOT / ".tools" / "bin" / "uv"


@pytest.mark.slow
@pytest.mark.skipif(not UV.exists() and not shutil.which("uv"), reason="uv not installed")
def test_templates_are_package_data_in_the_wheel(tmp_path: Path) -> None:
    uv = str(UV) if UV.exists() else str(shutil.which("uv"))
    subprocess.run(
        [uv, "build", "--wheel", "-q", "-o", str(tmp_path), str(ROOT)], check=True, timeout=300
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in TEMPLATES.iterdir():
        assert f"kontrol/pages/templates/{template.name}" in names
