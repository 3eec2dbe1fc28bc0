"""cases.html in a real headless Chromium: rows, filter, sort, expand, no network."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from kontrol.caselist import render_html
from kontrol.danish import fmt_dkk

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("KONTROL_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
pytestmark = pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _ore(text: str) -> int:
    """``1.234,56 kr.`` -> 123456."""
    digits = text.replace("kr.", "").replace(".", "").replace(",", "").strip()
    return int(digits)


def test_case_list_in_a_browser(
    browser: Browser, fixture_queue: pl.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "cases.html"
    path.write_text(render_html(fixture_queue, {"run_id": "r1", "as_of": "2026-10-31"}), "utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())

    rows = page.locator("tbody.case")
    visible = page.locator("tbody.case:visible")
    n = fixture_queue.height
    assert rows.count() == n and visible.count() == n
    assert page.locator("#count").inner_text().startswith(f"Viser {n} af {n} sager")
    assert page.locator("tr.detail:visible").count() == 0

    # filter by rule
    page.select_option("#f-rule", "R03")
    r03 = fixture_queue.filter(pl.col("rule_id") == "R03").height
    assert visible.count() == r03 > 0
    assert {visible.nth(i).get_attribute("data-rule") for i in range(r03)} == {"R03"}
    page.click("#reset")
    assert visible.count() == n

    # filter by status (all "ny" without the column) and by amount
    page.select_option("#f-status", "ny")
    assert visible.count() == n
    page.fill("#f-min", "50.000")
    expected = fixture_queue.filter(pl.col("amount_at_stake_dkk") >= Decimal("50000")).height
    assert 0 < visible.count() == expected < n
    page.fill("#f-max", "100.000,00")
    expected = fixture_queue.filter(
        pl.col("amount_at_stake_dkk").is_between(Decimal("50000"), Decimal("100000"))
    ).height
    assert visible.count() == expected
    page.click("#reset")

    # sort by amount: descending first, then ascending
    amounts = sorted(fixture_queue["amount_at_stake_dkk"].to_list())
    page.click('th[data-key="amount"] button.sort')
    shown = [_ore(t) for t in page.locator("tbody.case tr.case td:nth-child(6)").all_inner_texts()]
    assert shown == [int(a * 100) for a in reversed(amounts)]
    assert page.get_attribute('th[data-key="amount"]', "aria-sort") == "descending"
    page.click('th[data-key="amount"] button.sort')
    shown = [_ore(t) for t in page.locator("tbody.case tr.case td:nth-child(6)").all_inner_texts()]
    assert shown == [int(a * 100) for a in amounts]
    page.click('th[data-key="priority"] button.sort')
    assert page.locator("tbody.case").first.get_attribute("data-priority") == "1"

    # expand the first case: summary, timeline, lines and legal basis become visible
    first = fixture_queue.sort("priority").row(0, named=True)
    case = page.locator("tbody.case").first
    case.locator("button.toggle").click()
    detail = case.locator("tr.detail")
    assert detail.is_visible()
    assert case.locator("button.toggle").get_attribute("aria-expanded") == "true"
    summary = detail.locator("p.summary").inner_text()
    assert fmt_dkk(first["amount_at_stake_dkk"]) in summary
    assert detail.locator("table.lines tbody tr").first.is_visible()
    assert detail.locator("table.lines tbody tr").count() >= 1
    assert detail.locator("ol.timeline li").first.is_visible()
    assert detail.locator("p.basis").inner_text() == first["legal_basis"]
    assert "Prioritet 1 af" in detail.locator(".ranking").inner_text()
    case.locator("button.toggle").click()
    assert not detail.is_visible()

    shot = os.environ.get("KONTROL_CASELIST_SCREENSHOT")
    if shot:
        case.locator("button.toggle").click()
        page.screenshot(path=shot)

    assert errors == []
    assert requests == [path.as_uri()]  # the document itself, nothing else
    page.close()


def test_worklist_compact_table_and_persons_in_a_browser(
    browser: Browser, grown: Callable[..., pl.DataFrame], tmp_path: Path
) -> None:
    queue = grown(300)  # every 4th case shares its person with the case before
    path = tmp_path / "cases.html"
    html = render_html(queue, {"run_id": "r1"}, capacity=40, max_accounts=50, max_compact_rows=200)
    path.write_text(html, "utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())

    full = page.locator("tbody.case:visible")
    compact = page.locator("#compact li:visible")
    assert full.count() == 50 and compact.count() == 200
    assert page.locator("#count").inner_text().startswith("Viser 250 af 250 sager")
    assert "50 sager vises ikke på denne side" in page.locator("#rest").inner_text()

    # this month's worklist: the first 40 by priority, all with full accounts here
    page.check("#f-work")
    assert full.count() == 40 and compact.count() == 0
    shown = sorted(int(full.nth(i).get_attribute("data-priority") or 0) for i in range(40))
    assert shown == list(range(1, 41))
    page.click("#reset")

    # a rule filter applies to the compact table too
    page.select_option("#f-rule", "R03")
    ordered = page_order(queue).head(250)
    r03 = ordered.filter(pl.col("rule_id") == "R03")
    assert full.count() + compact.count() == r03.height > 0
    assert {compact.nth(i).get_attribute("data-rule") for i in range(compact.count())} == {"R03"}
    page.click("#reset")

    # persons with several cases stand together, marked
    page.check("#f-several")
    several = ordered.filter(pl.col("_person_cases") > 1).height
    assert full.count() + compact.count() == several > 0
    first = full.first
    assert "samme person: 2 sager" in first.locator("tr.case").inner_text()
    assert first.get_attribute("data-cpr") == full.nth(1).get_attribute("data-cpr")
    page.click("#reset")
    assert full.count() == 50

    assert errors == []
    assert requests == [path.as_uri()]
    page.close()


def test_compact_rows_in_chunks_filter_and_keep_their_place_in_a_browser(
    browser: Browser, grown: Callable[..., pl.DataFrame], tmp_path: Path
) -> None:
    """Compact rows sit in chunks the browser may skip off screen; filters still see every row."""
    from kontrol.caselist.page import COMPACT_CHUNK_ROWS

    queue = grown(1300)
    path = tmp_path / "cases.html"
    path.write_text(render_html(queue, {}, capacity=10, max_accounts=20), "utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())

    chunks = page.locator("#compact div.chunk")
    assert chunks.count() == -(-1280 // COMPACT_CHUNK_ROWS) > 1
    assert page.locator("#count").inner_text().startswith("Viser 1.300 af 1.300 sager")
    ordered = page_order(queue)
    shown = page.locator("#compact li:visible")
    height = page.evaluate("document.documentElement.scrollHeight")

    page.select_option("#f-rule", "R03")
    r03 = ordered.slice(20).filter(pl.col("rule_id") == "R03").height
    assert 0 < shown.count() == r03
    in_all = ordered.filter(pl.col("rule_id") == "R03").height
    assert page.locator("#count").inner_text().startswith(f"Viser {in_all} af 1.300 sager")
    # the last compact row of the rule, far below the fold, is found and shown in place
    last = shown.last
    last.scroll_into_view_if_needed()
    assert last.is_visible() and last.get_attribute("data-rule") == "R03"
    next_frames(page)  # the chunks on screen are laid out with the R03 rows only
    page.evaluate("window.scrollTo(0, 0)")
    next_frames(page)  # ... and are off screen again: Chromium remembers the size they had

    page.click("#reset")
    page.check("#f-work")  # the worklist holds no compact row: every chunk is hidden
    assert shown.count() == 0 and page.locator("#compact div.chunk:visible").count() == 0
    page.click("#reset")
    assert shown.count() == 1280
    assert page.locator("#compact div.chunk:visible").count() == chunks.count()
    # every chunk off screen has the size of its rows (a compact row is 1.8em), also those
    # seen under the filter: no jump in the scrollbar, with or without a frame drawn between
    row = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('#compact li')).height)"
    )
    sizes = page.evaluate(
        "Array.from(document.querySelectorAll('#compact div.chunk')).map(c =>"
        " [c.firstElementChild.children.length, Math.round(c.getBoundingClientRect().height)])"
    )
    assert all(abs(height - n * row) <= 1 + n / 50 for n, height in sizes), (row, sizes)
    assert abs(page.evaluate("document.documentElement.scrollHeight") - height) < 25
    assert errors == []
    page.close()


def next_frames(page: Page) -> None:
    """Until the browser has drawn two more frames (layout, then what follows it)."""
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def page_order(queue: pl.DataFrame) -> pl.DataFrame:
    from kontrol.caselist.page import display_order

    return display_order(queue)
