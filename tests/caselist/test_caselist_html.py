"""cases.html as text: self-contained, escaped, deterministic."""

from __future__ import annotations

import re

import polars as pl

from kontrol.caselist import render_html


def test_page_is_self_contained(fixture_queue: pl.DataFrame) -> None:
    page = render_html(fixture_queue, {"run_id": "r1"})
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""\b(src|href)\s*=""", page, re.IGNORECASE)
    assert "http://" not in page and "https://" not in page
    assert "@import" not in page and "url(" not in page
    assert page.count('<tbody class="case"') == fixture_queue.height
    assert page == render_html(fixture_queue, {"run_id": "r1"})


def test_evidence_and_run_info_are_escaped(tiny_queue: pl.DataFrame) -> None:
    page = render_html(tiny_queue, {"run_id": "<script>x</script>"})
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; § 5" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>X</b>" not in page and "&lt;b&gt;X&lt;/b&gt;" in page
    assert "untranslated &lt;i&gt;text&lt;/i&gt;" in page
    assert "<script>x</script>" not in page
    assert page.count("<script>") == 1  # only the page's own inline script


def test_status_defaults_to_ny_and_is_shown_when_present(tiny_queue: pl.DataFrame) -> None:
    assert re.findall(r'data-status="([^"]*)"', render_html(tiny_queue, {})) == ["ny"] * 3
    queue = tiny_queue.with_columns(
        pl.Series("status", ["new", "continuing", "new"], dtype=pl.String())
    )
    page = render_html(queue, {})
    assert re.findall(r'data-status="([^"]*)"', page) == ["ny", "fortsat", "ny"]
    assert '<option value="fortsat">fortsat</option>' in page


def test_empty_queue_renders(tiny_queue: pl.DataFrame) -> None:
    page = render_html(tiny_queue.clear(), {"run_id": "r"})
    assert "0 sager" in page and '<tbody class="case"' not in page
