"""The case list at volume: size and write time of cases.html/cases.xlsx, and Chromium on it.

Usage::

    .venv/bin/python benchmarks/caselist_volume.py [--cases 200000] [--base OUT/cases.parquet]
        [--work /tmp/kontrol-bench/caselist] [--capacity 200] [--max-accounts 1000]
        [--screenshot PATH] [--no-xlsx] [--no-browser]

Builds a synthetic queue of ``--cases`` cases from a real queue's rows (by
default a run of kontrol on the committed fixture delivery: its 20 cases,
every rule, evidence as published). Case ids, cpr numbers and priorities are
new; every 4th case belongs to the same person as the case before it, so a
quarter of the persons have two cases. Then it

1. streams ``cases.xlsx`` (which counts the totals, money counted once,
   from the evidence it parses) and renders ``cases.html``, as the
   ``case_list`` step does, timing each (``case_list_cpu_s``: their sum)
   and recording the sizes and the process's peak RSS;
2. opens ``cases.html`` in headless Chromium (Playwright, Debian's
   ``/usr/bin/chromium``) and times the load, a rule filter, the worklist
   filter, an amount filter, the reset, two sorts and opening a case, each
   as a Playwright action (to the next frame, with the renderer's main-thread
   seconds) and, for the filters, sorts and folding, once more dispatched
   inside the page (``*_in_page_s``: event to next frame, without
   Playwright's own work); then takes screenshots.

Prints one JSON document with the measurements. No wall-clock threshold is
asserted here: the tests check behaviour, this script measures it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

from kontrol import caselist
from kontrol import io as kio

ROOT = Path(__file__).resolve().parents[1]
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


def base_queue(path: Path | None) -> pl.DataFrame:
    if path is not None:
        return pl.read_parquet(path)
    out = Path(tempfile.mkdtemp(prefix="kontrol-caselist-base-")) / "out"
    subprocess.run(
        [
            sys.executable, "-m", "kontrol", "--quiet", "run",
            "--extracts", str(ROOT / "fixtures" / "delivery"), "--out", str(out),
            "--as-of", "2026-10-31", "--demo-key",
        ],
        check=True,
        stdout=sys.stderr,  # its summary: this script's stdout is one JSON document
    )  # fmt: skip
    return pl.read_parquet(out / "cases.parquet")


def grow(base: pl.DataFrame, n: int, shared_every: int = 4) -> pl.DataFrame:
    """``n`` cases from ``base``'s rows; every ``shared_every``-th shares the previous person."""
    base = base.sort("priority")
    i = pl.int_range(0, n, eager=True).alias("i")
    person = pl.when(i % shared_every == 1).then(i - 1).otherwise(i)
    frame = pl.DataFrame(i).with_columns(
        (pl.col("i") % base.height).alias("b"),
        pl.format("v{}", pl.col("i").cast(pl.String).str.zfill(11)).alias("case_id"),
        pl.format("99{}", person.cast(pl.String).str.zfill(8)).alias("cpr"),
        (pl.col("i") + 1).cast(pl.Int32).alias("priority"),
    )
    rows = base.drop("case_id", "cpr", "priority").with_row_index("b")
    out = frame.join(rows.with_columns(pl.col("b").cast(pl.Int64)), on="b", how="left")
    return out.sort("i").select(base.columns)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, results: dict[str, Any], fn: Any, *args: Any, **kw: Any) -> Any:
    """Wall and CPU seconds of one call (CPU time is what a shared, loaded machine keeps)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn(*args, **kw)
    results[f"{label}_s"] = round(time.perf_counter() - start, 2)
    results[f"{label}_cpu_s"] = round(time.process_time() - cpu, 2)
    print(
        f"{label}: {results[f'{label}_s']} s ({results[f'{label}_cpu_s']} s CPU)", file=sys.stderr
    )
    return value


#: One step inside the page: seconds from dispatching the event to the next frame drawn.
IN_PAGE = """async () => {
  const el = (id) => document.getElementById(id);
  const click = (id) => el(id).click();
  const set = (id, value, type) => { el(id).value = value; el(id).dispatchEvent(new Event(type)); };
  const start = performance.now();
  ACTION;
  await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  return (performance.now() - start) / 1000;
}"""


def browse(html: Path, screenshot: Path | None, results: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(300_000)  # a loaded shared machine
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")

        def busy() -> float:
            """Seconds the renderer's main thread has worked (script, style, layout)."""
            metrics = cdp.send("Performance.getMetrics")["metrics"]
            return float(next(m["value"] for m in metrics if m["name"] == "TaskDuration"))

        def step(label: str, action: Any) -> None:
            start, task = time.perf_counter(), busy()
            action()
            # a frame after the change: the filter's DOM work and layout are done
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(null)))")
            results[f"browser_{label}_s"] = round(time.perf_counter() - start, 3)
            results[f"browser_{label}_main_thread_s"] = round(busy() - task, 3)
            results[f"browser_{label}_count"] = page.locator("#count").inner_text()
            print(
                f"browser {label}: {results[f'browser_{label}_s']} s"
                f" (main thread {results[f'browser_{label}_main_thread_s']} s)",
                file=sys.stderr,
            )

        step("load", lambda: page.goto(html.as_uri(), wait_until="load"))
        nav = page.evaluate("() => performance.getEntriesByType('navigation')[0].toJSON()")
        for key, name in (
            ("dom_content_loaded", "domContentLoadedEventEnd"),
            ("event_end", "loadEventEnd"),
        ):
            results[f"browser_load_{key}_s"] = round(nav[name] / 1000, 3)
        work = page.locator("#f-work").count() > 0
        step("filter_rule", lambda: page.select_option("#f-rule", "R03"))
        step("reset", lambda: page.click("#reset"))
        if work:
            step("filter_worklist", lambda: page.check("#f-work"))
            step("reset_2", lambda: page.click("#reset"))
        step("filter_amount", lambda: page.fill("#f-min", "100.000"))
        step("reset_3", lambda: page.click("#reset"))
        step("sort_amount", lambda: page.click('th[data-key="amount"] button.sort'))
        step("sort_priority", lambda: page.click('th[data-key="priority"] button.sort'))
        step("open_first", lambda: page.locator("tbody.case button.toggle").first.click())

        # The same steps again, dispatched inside the page: from the event to the
        # next frame drawn, without Playwright's own work (its actionability checks
        # walk the page and take about 0.1-0.2 s per action at this size).
        sort = "document.querySelector('th[data-key={}] button.sort').click()"
        in_page = (
            ("filter_rule", "set('f-rule', 'R03', 'change')"),
            ("reset", "click('reset')"),
            *((("filter_worklist", "click('f-work')"), ("reset_2", "click('reset')")) * work),
            ("filter_amount", "set('f-min', '100.000', 'input')"),
            ("reset_3", "click('reset')"),
            ("filter_several", "click('f-several')"),
            ("reset_4", "click('reset')"),
            ("sort_amount", sort.format("amount")),
            ("sort_priority", sort.format("priority")),
            ("open_all", "click('open-all')"),
            ("close_all", "click('close-all')"),
        )
        for label, action in in_page:
            seconds = page.evaluate(IN_PAGE.replace("ACTION", action))
            results[f"browser_{label}_in_page_s"] = round(seconds, 3)
            print(f"browser {label} (in the page): {seconds:.3f} s", file=sys.stderr)
        results["browser_rows_full"] = page.locator("tbody.case").count()
        results["browser_rows_compact"] = page.locator("#compact li").count()
        results["browser_errors"] = errors
        results["browser_requests_other_than_page"] = [r for r in requests if r != html.as_uri()]
        if screenshot is not None:
            page.locator("tbody.case button.toggle").first.click()  # the first case, open
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(screenshot))
            for anchor, suffix in (("#compact-head", "compact"), ("#rest", "rest")):
                if page.locator(anchor).count():
                    page.locator(anchor).scroll_into_view_if_needed()
                    page.screenshot(
                        path=str(screenshot.with_name(f"{screenshot.stem}-{suffix}.png"))
                    )
        browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--cases", type=int, default=200_000)
    ap.add_argument("--base", type=Path)
    ap.add_argument("--work", type=Path, default=Path("/tmp/kontrol-bench/caselist"))
    ap.add_argument("--capacity", type=int, default=200)
    ap.add_argument("--max-accounts", type=int, default=1000)
    ap.add_argument("--detail-cases", type=int, default=10_000)
    ap.add_argument("--screenshot", type=Path)
    ap.add_argument("--no-xlsx", action="store_true")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "cases": args.cases,
        "capacity": args.capacity,
        "load_average_start": round(os.getloadavg()[0], 2),
    }
    wall, cpu = time.perf_counter(), time.process_time()
    queue = timed("build_queue", results, grow, base_queue(args.base), args.cases)
    results["queue_mb_in_memory"] = round(queue.estimated_size() / 2**20, 1)
    results["rss_after_queue_mb"] = round(peak_rss_mb())
    # As the case_list step does it: the workbook first, counting the totals from the
    # evidence it parses anyway; then the page with those totals. Without the workbook
    # the totals are counted on their own (case_list_totals parses the evidence).
    found: list[caselist.CaseListTotals] = []
    if not args.no_xlsx:
        xlsx_path = args.work / "cases.xlsx"
        timed(
            "write_xlsx",
            results,
            kio.write_stream,
            xlsx_path,
            lambda out: found.append(
                caselist.write_xlsx(
                    queue, out, capacity=args.capacity, detail_cases=args.detail_cases
                )
            ),
        )
        results["xlsx_mb"] = round(xlsx_path.stat().st_size / 1e6, 1)
        results["rss_after_xlsx_mb"] = round(peak_rss_mb())
    else:
        found.append(timed("totals", results, caselist.case_list_totals, queue, args.capacity))
    totals = found[0]
    results["totals"] = {
        "amount_at_stake": str(totals.amount_at_stake),
        "distinct_paid": str(totals.distinct_paid),
        "distinct_lines": totals.distinct_lines,
        "persons": totals.persons,
        "persons_with_several": totals.persons_with_several,
        "truncated_cases": totals.truncated_cases,
    }
    html = timed(
        "render_html",
        results,
        caselist.render_html,
        queue,
        {"run_id": "benchmark", "as_of": "31.10.2026"},
        capacity=args.capacity,
        max_accounts=args.max_accounts,
        totals=totals,
    )
    html_path = args.work / "cases.html"
    kio.write_text(html, html_path)
    results["html_bytes"] = html_path.stat().st_size
    results["html_mb"] = round(results["html_bytes"] / 1e6, 2)
    results["rss_after_html_mb"] = round(peak_rss_mb())
    results["case_list_cpu_s"] = round(
        sum(results.get(f"{k}_cpu_s", 0) for k in ("totals", "write_xlsx", "render_html")), 2
    )
    if not args.no_browser:
        browse(html_path, args.screenshot, results)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    results |= {
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        # the fixture run, Playwright's driver and Chromium (its processes end with the browser)
        "children_cpu_s": round(children.ru_utime + children.ru_stime, 2),
        "peak_rss_mb": round(peak_rss_mb()),
        "children_peak_rss_mb": round(children.ru_maxrss / 1024),
        "load_average_end": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
