"""How long each study page takes in a real browser, against the same study run headless here.

For every page, on a server with an empty result store: open the page, press Run and time until
its charts are drawn. Then open the page's share link ``--opens`` times, each in a new tab of the
same browser (scripts cached, as for a person who has used the app), and time until the first
and until every chart is drawn; once more in a fresh browser context (nothing cached, a first
visit). "server" is the part of an open spent between the browser's request to run the page and
the server's last message (the page script and Streamlit's protocol), read from the WebSocket.
Beside each, the study's ``run()`` with the same defaults is timed in this process (n_jobs=-1),
so the ratio shows what the page adds to the computation.
Budgets: a default run within 15 s, a reopened share link within 2 s.

    python bench/page_speed.py [--opens 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from service.engine import Engine, make_pool  # noqa: E402
from studies import STUDIES  # noqa: E402
from studies.common.launch import run_study  # noqa: E402
from ui.local_server import CHROMIUM, CHROMIUM_ARGS, charts_drawn, serve  # noqa: E402
from machine import describe  # noqa: E402

RUN_BUDGET, LINK_BUDGET = 15.0, 2.0
VIEWPORT = {"width": 1400, "height": 1800}


def headless_seconds(study, engine: Engine) -> float:
    """The study run through a warm engine of this process, as the server's is."""
    run_study(study, study.SCHEMA.defaults(), engine=engine)  # workers import this study's trial code
    start = time.perf_counter()
    run_study(study, study.SCHEMA.defaults(), engine=engine)
    return time.perf_counter() - start


def time_link(page, link: str) -> tuple[float, float, float]:
    """Seconds from opening ``link`` until its first chart and until every chart is drawn, and the
    server's part: from the request to run the page to the last message received."""
    sent, received = [], []

    def watch(socket):
        socket.on("framesent", lambda _: sent.append(time.perf_counter()))
        socket.on("framereceived", lambda _: received.append(time.perf_counter()))

    page.on("websocket", watch)
    start = time.perf_counter()
    page.goto(link)
    charts_drawn(page, 1)
    first = time.perf_counter() - start
    page.get_by_role("button", name="HTML report").wait_for()
    charts_drawn(page, page.locator('[data-testid="stVegaLiteChart"]').count())
    every = time.perf_counter() - start
    page.close()
    return first, every, max(received) - min(sent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opens", type=int, default=3, help="share-link opens per page in new tabs")
    opens = parser.parse_args().opens
    print(describe(), flush=True)
    rows = []
    engine = Engine(make_pool(-1))
    with tempfile.TemporaryDirectory() as store, serve(Path(store)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=VIEWPORT)
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
            link = page.locator(".st-key-share code").inner_text().strip()
            page.close()
            warm = [time_link(context.new_page(), link) for _ in range(opens)]
            cold_context = browser.new_context(viewport=VIEWPORT)
            cold = time_link(cold_context.new_page(), link)
            cold_context.close()
            rows.append((name, page_run, headless_seconds(study, engine), warm, cold))
        browser.close()
    engine.shutdown()
    print(f"share link: median over {opens} opens in a new tab (slowest in brackets); cold: one open in a fresh "
          "browser context")
    print(f"{'':15s} {'Run ->':>8s} {'headless':>9s} {'page /':>9s}   share link: {'first':>6s} "
          f"{'all charts':>13s} {'server':>7s} {'cold':>6s}")
    print(f"{'page':15s} {'charts':>8s} {'run()':>9s} {'headless':>9s}   {'':11s} {'chart':>6s}")
    for name, page_run, headless, warm, cold in rows:
        first, every, server = (statistics.median(w[i] for w in warm) for i in range(3))
        print(f"{name:15s} {page_run:6.2f} s {headless:7.2f} s {page_run / headless:9.2f}   {'':11s} "
              f"{first:5.2f}s {every:5.2f}s ({max(w[1] for w in warm):4.2f}) {server:6.2f}s {cold[1]:5.2f}s")
    worst_run = max(r[1] for r in rows)
    worst_warm = max(w[1] for r in rows for w in r[3])
    worst_cold = max(r[4][1] for r in rows)
    print(f"slowest default run {worst_run:.2f} s = {worst_run / RUN_BUDGET:.2f} of the {RUN_BUDGET:g} s budget; "
          f"slowest share link {worst_warm:.2f} s in a new tab = {worst_warm / LINK_BUDGET:.2f} of the "
          f"{LINK_BUDGET:g} s budget ({worst_cold:.2f} s with nothing cached)")


if __name__ == "__main__":
    main()
