"""How long the runs page takes to open in a real browser with 1,000 runs stored, against the same
page with 10 runs, side by side; and the server's memory after each (the page lists runs from the
store's index alone, so neither should grow with the number of runs).

Each store holds one real learning-rate result saved under many parameter sets (seeds), as a class's
day of runs would. For each store a server is started; the page is opened once (the server's first
session imports and builds what every later one reuses: timed apart as "first open"), then
``--opens`` times more, each in a fresh browser context, timed until the table is drawn and the
script has finished. Budget (issue 21): under 2 s with 1,000 runs on a running server.

    python bench/runs_page.py [--runs 1000] [--opens 3]
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

from service.store import ResultStore  # noqa: E402
from studies import learning_rate  # noqa: E402
from studies.common import execution, launch  # noqa: E402
from ui.local_server import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402
from machine import describe  # noqa: E402

BUDGET = 2.0


def fill(folder: Path, count: int) -> None:
    """``count`` runs: one real result saved under ``count`` seeds (each a different run key)."""
    values = learning_rate.SCHEMA.parse({"epochs": "5", "repeats": "1"})
    result = launch.run_study(learning_rate, values, n_jobs=1)
    store = ResultStore(folder)
    for seed in range(count):
        execution.save_result(store, learning_rate, {**values, "seed": seed}, result)


def server_rss_mb(port: str) -> float:
    """Resident memory of the streamlit process serving ``port`` (found by its command line)."""
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "streamlit" in cmdline and f"--server.port {port}" in cmdline:
                status = (proc / "status").read_text()
                return int(next(l for l in status.splitlines() if l.startswith("VmRSS")).split()[1]) / 1024
        except (OSError, ValueError, StopIteration):
            continue
    return float("nan")


def time_page(browser, url: str, opens: int) -> list[float]:
    times = []
    for _ in range(opens):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        start = time.perf_counter()
        page.goto(f"{url}/runs")
        page.locator("[data-testid='stDataFrame'] canvas").first.wait_for(timeout=60_000)
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
        times.append(time.perf_counter() - start)
        context.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--opens", type=int, default=3)
    args = parser.parse_args()
    print(describe(), flush=True)
    found = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for count in (10, args.runs):
            with tempfile.TemporaryDirectory() as folder:
                fill(Path(folder), count)
                with serve(Path(folder)) as url:
                    first = time_page(browser, url, 1)[0]
                    times = time_page(browser, url, args.opens)
                    found[count] = (first, statistics.median(times), max(times), server_rss_mb(url.rsplit(":", 1)[1]))
        browser.close()
    print(f"{'runs stored':>12} {'first open':>11} {'open (median)':>14} {'slowest':>8} {'server RSS':>11}")
    for count, (first, median, slowest, rss) in found.items():
        print(f"{count:>12} {first:>10.2f}s {median:>13.2f}s {slowest:>7.2f}s {rss:>9.0f} MB")
    small, large = found[10], found[args.runs]
    print(f"{args.runs} runs against 10: open {large[1] / small[1]:.2f}x, server memory {large[3] / small[3]:.2f}x; "
          f"budget {BUDGET:.0f} s on a running server: {'met' if large[2] < BUDGET else 'NOT met'}")


if __name__ == "__main__":
    main()
