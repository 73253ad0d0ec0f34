"""How long each study page takes in a real browser, against the same study run headless here.

For every page, on a server with an empty result store: open the page, press Run and time until
its charts are drawn; then open the page's share link and time until the stored results are
drawn, twice: in a new tab of the same browser (scripts cached, as for a person who has used the
app) and in a fresh browser context (nothing cached, as for a first visit). Beside each, the study's ``run()`` with the same defaults is timed in this
process (n_jobs=-1), so the ratio shows what the page adds to the computation, and the page
script's own time to render the stored results is measured with Streamlit's AppTest (no browser).
Budgets: a default run within 15 s, a reopened share link within 2 s. "first chart" and "all
charts" are timed in a new tab of the browser that ran the study; "cold" in a fresh context.

    python bench/page_speed.py
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from studies import STUDIES  # noqa: E402
from ui.local_server import CHROMIUM, CHROMIUM_ARGS, ROOT, charts_drawn, serve  # noqa: E402

RUN_BUDGET, LINK_BUDGET = 15.0, 2.0


def script_seconds(name: str, link: str) -> float:
    """Server-side time of the page script that renders stored results for ``link``."""
    from urllib.parse import parse_qsl, urlsplit

    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
    at.query_params.update(dict(parse_qsl(urlsplit(link).query, keep_blank_values=True)))
    start = time.perf_counter()
    at.run()
    return time.perf_counter() - start


def headless_seconds(study) -> float:
    start = time.perf_counter()
    study.run(study.SCHEMA.defaults(), n_jobs=-1)
    return time.perf_counter() - start


def time_link(page, link: str) -> tuple[float, float]:
    """Seconds from opening ``link`` until its first chart, and until every chart, is drawn."""
    start = time.perf_counter()
    page.goto(link)
    charts_drawn(page, 1)
    first = time.perf_counter() - start
    page.get_by_role("button", name="HTML report").wait_for()
    charts_drawn(page, page.locator('[data-testid="stVegaLiteChart"]').count())
    every = time.perf_counter() - start
    page.close()
    return first, every


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as store, serve(Path(store)) as url, sync_playwright() as p:
        os.environ["EXPLORER_STORE_DIR"] = store  # the AppTest runs below read the server's store
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1800})
        for name, study in STUDIES.items():
            page = context.new_page()
            page.goto(f"{url}/{name}")
            run_button = page.get_by_role("button", name="Run")
            run_button.wait_for()
            start = time.perf_counter()
            run_button.click()
            page.get_by_role("button", name="HTML report").wait_for(timeout=120_000)
            charts_drawn(page, 1)
            page_run = time.perf_counter() - start
            link = page.locator('[data-testid="stCode"]').inner_text().strip()
            warm, cold = (time_link(context.new_page(), link),
                          time_link(browser.new_context(viewport={"width": 1400, "height": 1800}).new_page(), link))
            page.close()
            rows.append((name, page_run, headless_seconds(study), warm, cold, script_seconds(name, link)))
        browser.close()
    print(f"{'':15s} {'Run ->':>9s} {'headless':>9s} {'page /':>9s}   share link: {'first':>6s} {'all':>6s} "
          f"{'cold':>6s} {'script':>7s}")
    print(f"{'page':15s} {'charts':>9s} {'run()':>9s} {'headless':>9s}   {'':11s} {'chart':>6s} {'charts':>6s} "
          f"{'(all)':>6s} {'only':>7s}")
    for name, page_run, headless, warm, cold, script in rows:
        print(f"{name:15s} {page_run:7.2f} s {headless:7.2f} s {page_run / headless:9.2f}   {'':11s} "
              f"{warm[0]:5.2f}s {warm[1]:5.2f}s {cold[1]:5.2f}s {script:6.2f}s")
    worst_run = max(r[1] for r in rows)
    worst_warm, worst_cold = max(r[3][1] for r in rows), max(r[4][1] for r in rows)
    print(f"slowest default run {worst_run:.2f} s = {worst_run / RUN_BUDGET:.2f} of the {RUN_BUDGET:g} s budget; "
          f"slowest share link {worst_warm:.2f} s in a new tab = {worst_warm / LINK_BUDGET:.2f} of the "
          f"{LINK_BUDGET:g} s budget ({worst_cold:.2f} s with nothing cached)")


if __name__ == "__main__":
    main()
