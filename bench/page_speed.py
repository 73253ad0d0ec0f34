"""How long each study page takes in a real browser, against the same study run headless here.

For every page, on a server with an empty result store: open the page, press Run and time until
its charts are drawn; then open the page's share link and time until the stored results are
drawn, twice: in a new tab of the same browser (scripts cached, as for a person who has used the
app) and in a fresh browser context (nothing cached, as for a first visit). Beside each, the study's ``run()`` with the same defaults is timed in this
process (n_jobs=-1), so the ratio shows what the page adds to the computation, and the page
script's own time to render the stored results is measured with Streamlit's AppTest (no browser).
Budgets: a default run within 15 s, a reopened share link within 2 s.

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


def time_link(page, link: str) -> float:
    """Seconds from opening ``link`` until every chart of its stored results is drawn."""
    start = time.perf_counter()
    page.goto(link)
    page.get_by_role("button", name="HTML report").wait_for()
    charts_drawn(page, page.locator('[data-testid="stVegaLiteChart"]').count())
    seconds = time.perf_counter() - start
    page.close()
    return seconds


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
    print(f"{'page':15s} {'Run->charts':>12s} {'headless run()':>15s} {'page/headless':>14s} "
          f"{'link, new tab':>14s} {'link, cold':>11s} {'link, script':>13s}")
    for name, page_run, headless, warm, cold, script in rows:
        print(f"{name:15s} {page_run:10.2f} s {headless:13.2f} s {page_run / headless:14.2f} {warm:12.2f} s "
              f"{cold:9.2f} s {script:11.2f} s")
    worst_run, worst_warm, worst_cold = (max(r[i] for r in rows) for i in (1, 3, 4))
    print(f"slowest default run {worst_run:.2f} s = {worst_run / RUN_BUDGET:.2f} of the {RUN_BUDGET:g} s budget; "
          f"slowest share link {worst_warm:.2f} s in a new tab = {worst_warm / LINK_BUDGET:.2f} of the "
          f"{LINK_BUDGET:g} s budget ({worst_cold:.2f} s with nothing cached)")


if __name__ == "__main__":
    main()
