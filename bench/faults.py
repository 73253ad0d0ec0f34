"""Fault injection against a live server (issue 18): each probe causes one fault the way an operator
or an attacker would, and the table says what was expected and what was seen.

Probes: a worker killed with two runs going; a viewer who leaves before the owner presses Stop;
one session pressing Run on more links than it may hold; a network too large for a worker's memory;
hostile store rows (text for a count, a
table without its columns, a Parquet bomb, a planted trigger); a server restarted on a full disk
and on a read-only mount; the server killed with kill -9 (its workers must go); the CLI's output
to /dev/full, an unreachable scheduler, --max-minutes nan and one file for both outputs.

    python bench/faults.py            (as root: the full-disk and read-only probes mount a tmpfs)
"""
from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from ui.local_server import CHROMIUM, CHROMIUM_ARGS, charts_drawn, serve  # noqa: E402
from machine import describe  # noqa: E402

LONG = "learning_rate?epochs=400&repeats=6"
ROWS: list[tuple[str, str, str, bool]] = []


def probe(name: str, expected: str, seen: str, ok: bool) -> None:
    ROWS.append((name, expected, seen, ok))
    print(f"{'ok ' if ok else 'BAD'} {name}: {seen}", flush=True)


def workers_of(server_pid: int) -> list[int]:
    """Processes whose parent is the server (its local workers)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server_pid and fields[0] != "Z":
            found.append(int(pid))
    return found


def server_pid(port_url: str) -> int:
    port = port_url.rsplit(":", 1)[1]
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return int(out.split("pid=")[1].split(",")[0])


def statuses(store: Path) -> list[str]:
    """Every trial status of every stored run (read from the store's Parquet tables)."""
    with sqlite3.connect(store / "results.sqlite") as db:
        blobs = db.execute("SELECT data FROM tables WHERE name = 'summary'").fetchall()
    return [s for (blob,) in blobs for s in pd.read_parquet(io.BytesIO(blob)).get("status", [])]


def page_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def run_button(page):
    return page.locator("[data-testid='stSidebar']").get_by_role("button", name="Run", exact=True)


def stop_button(page):
    return page.locator("[data-testid='stMain']").get_by_role("button", name="Stop")


def run_link(context, url: str, link: str):
    page = context.new_page()
    page.goto(f"{url}/{link}")
    run_button(page).click()
    return page


def probes_on_a_live_server(browser) -> None:
    store = Path(tempfile.mkdtemp())
    with serve(store) as url:
        pid = server_pid(url)
        a, b = browser.new_context(), browser.new_context()
        first = run_link(a, url, "learning_rate?epochs=120&repeats=2")
        second = run_link(b, url, "hidden_units?epochs=60")
        first.get_by_text("trials finished").wait_for(timeout=30_000)
        time.sleep(1.0)
        victim = workers_of(pid)[0]
        os.kill(victim, signal.SIGKILL)
        for page in (first, second):
            page.get_by_role("button", name="HTML report").wait_for(timeout=180_000)
        seen = sorted(set(statuses(store)))
        probe("worker killed with two runs going", "both runs end with every trial ok", f"statuses {seen}",
              seen == ["ok"])
        a.close(), b.close()

        owner, viewer = browser.new_context(), browser.new_context()
        page = run_link(owner, url, LONG)
        page.get_by_text("trials finished").wait_for(timeout=30_000)
        watching = viewer.new_page()
        watching.goto(f"{url}/{LONG}")
        watching.get_by_text("trials finished").wait_for(timeout=30_000)
        no_stop = stop_button(watching).count() == 0
        viewer.close()
        stop_button(page).click()
        page.get_by_text("trials finished; the others were cancelled").wait_for(timeout=30_000)
        probe("viewer leaves, owner presses Stop", "the run stops; the viewer had no Stop button",
              f"stopped, viewer's Stop button shown: {not no_stop}", no_stop)
        owner.close()

        session = browser.new_context()
        page = run_link(session, url, "learning_rate?epochs=500&repeats=4")   # one tab: one browser session
        for epochs in (497, 498, 499):
            page.get_by_text("trials finished").wait_for(timeout=30_000)
            page.get_by_label("epochs", exact=True).fill(str(epochs))
            run_button(page).click()
        page.get_by_text("runs going on this server").wait_for(timeout=30_000)
        refused = "the most one person may have at once (3)" in page_text(page).replace("\\", "")
        probe("one tab presses Run on four long runs", "the fourth is refused, saying why",
              "refused with the limit" if refused else "accepted", refused)
        session.close()                                                  # its runs go on, and end by themselves

        hostile_rows(browser, url, store)
    huge_network(browser)
    orphans(browser)


def hostile_rows(browser, url: str, store: Path) -> None:
    context = browser.new_context()
    page = run_link(context, url, "bias_variance?datasets=12")
    page.get_by_role("button", name="HTML report").wait_for(timeout=60_000)
    link = f"{url}/bias_variance?datasets=12"
    bomb = io.BytesIO()
    pd.DataFrame({"a": np.zeros(20_000_000, dtype=np.int64)}).to_parquet(bomb, index=False)
    faults = {
        "count stored as text": ("UPDATE runs SET meta = '{\"state\": \"done\", \"trials_done\": \"abc\"}'", ()),
        "table without its status column": ("UPDATE tables SET data = ? WHERE name = 'tidy'",
                                            (tidy_without_status(store),)),
        "a 0.2 MB Parquet bomb of 20 million rows": ("UPDATE tables SET data = ? WHERE name = 'tidy'",
                                                     (bomb.getvalue(),)),
        "a planted trigger that sleeps on every open": (
            "CREATE TRIGGER slow AFTER UPDATE ON runs BEGIN SELECT count(*) FROM (WITH RECURSIVE c(x) AS "
            "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) SELECT x FROM c); END", ()),
    }
    for name, (sql, args) in faults.items():
        run_button(page).click()                                         # stored again, undamaged
        page.get_by_role("button", name="HTML report").wait_for(timeout=60_000)
        with sqlite3.connect(store / "results.sqlite") as db:
            db.execute(sql, args)
        fresh = context.new_page()
        started = time.perf_counter()
        fresh.goto(link)
        run_button(fresh).wait_for(timeout=30_000)
        fresh.wait_for_timeout(1500)
        seconds = time.perf_counter() - started
        crashed = fresh.locator("[data-testid='stException']").count() > 0
        probe(f"hostile row: {name}", "no exception; dropped or harmless; opens in under 5 s",
              f"exception: {crashed}, opened in {seconds:.1f} s", not crashed and seconds < 5)
        fresh.close()
    context.close()


def tidy_without_status(store: Path) -> bytes:
    with sqlite3.connect(store / "results.sqlite") as db:
        (blob,) = db.execute("SELECT data FROM tables WHERE name = 'tidy' LIMIT 1").fetchone()
    out = io.BytesIO()
    pd.read_parquet(io.BytesIO(blob)).drop(columns="status").to_parquet(out, index=False)
    return out.getvalue()


def unwritable_stores(browser) -> None:
    mount = Path(tempfile.mkdtemp())
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)]).returncode:
        probe("full disk / read-only mount", "stored links still open", "skipped: cannot mount (not root?)", False)
        return
    try:
        link = "bias_variance?datasets=13"
        with serve(mount / "store") as url:
            page = run_link(browser.new_context(), url, link)
            page.get_by_role("button", name="HTML report").wait_for(timeout=60_000)
        subprocess.run(f"dd if=/dev/zero of={mount}/filler bs=64k 2>/dev/null", shell=True)
        for case in ("full disk", "read-only mount"):
            if case == "read-only mount":
                subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
            with serve(mount / "store") as url:
                page = browser.new_context().new_page()
                page.goto(f"{url}/{link}")
                run_button(page).wait_for(timeout=30_000)
                page.wait_for_timeout(1500)
                shown = page.get_by_text("not stored").count() == 0 and page.locator(
                    "[data-testid='stVegaLiteChart']").count() > 0
                page.goto(url)
                page.wait_for_timeout(1500)
                listed = "Bias" in page.locator("[data-testid='stMain']").inner_text()
            probe(f"server restarted on a {case}", "the stored link shows its charts; Recent runs lists it",
                  f"charts shown: {shown}, listed: {listed}", shown and listed)
    finally:
        subprocess.run(["umount", "-l", str(mount)])


def huge_network(browser) -> None:
    """The issue's link: 4 x 2000 units, full batches on Fashion-MNIST; a worker allowed 3 GB."""
    os.environ["EXPLORER_WORKER_MB"] = "3000"
    try:
        with serve(Path(tempfile.mkdtemp())) as url:
            page = run_link(browser.new_context(), url, "learning_rate?dataset=fashion-mnist&hidden=2000,2000,2000,"
                                                        "2000&batch_size=full&epochs=1&repeats=1")
            page.get_by_text("of memory, more than").first.wait_for(timeout=60_000)
            text = page_text(page)
    finally:
        del os.environ["EXPLORER_WORKER_MB"]
    refused = "more than the 2.9 GB" in text and "trials finished" not in text
    probe("a network too large for a worker (3 GB allowed)", "refused before any worker starts, saying what to reduce",
          text.split("One trial")[1].split(". Use")[0][:90] if "One trial" in text else "accepted", refused)


def orphans(browser) -> None:
    with serve(Path(tempfile.mkdtemp())) as url:
        pid = server_pid(url)
        page = run_link(browser.new_context(), url, LONG)
        page.get_by_text("trials finished").wait_for(timeout=30_000)
        workers = workers_of(pid)
        os.kill(pid, signal.SIGKILL)
        started = time.perf_counter()
        while any(Path(f"/proc/{w}").exists() and "Z" not in Path(f"/proc/{w}/stat").read_text().split()[2]
                  for w in workers) and time.perf_counter() - started < 10:
            time.sleep(0.1)
        gone = time.perf_counter() - started
    probe("server killed with kill -9", "its workers exit within 5 s", f"{len(workers)} workers gone after {gone:.1f} s",
          gone < 5)


def cli_cases() -> None:
    base = [sys.executable, "-m", "studies", "run", "learning_rate", "--set", "epochs=2", "--set", "repeats=1"]
    cases = [("--out /dev/full", ["--out", "/dev/full"], "exit 1, the rows rescued to a named file",
              lambda p: p.returncode == 1 and "rows are in" in p.stderr),
             ("--scheduler tcp://127.0.0.1:1", ["--scheduler", "tcp://127.0.0.1:1"], "exit 1, a message",
              lambda p: p.returncode == 1 and "no Dask scheduler" in p.stderr),
             ("--max-minutes nan", ["--max-minutes", "nan"], "exit 2, a message",
              lambda p: p.returncode == 2 and "positive, finite" in p.stderr),
             ("--out x.csv --summary-out x.csv", ["--out", "x.csv", "--summary-out", "x.csv"], "exit 2, a message",
              lambda p: p.returncode == 2 and "both name" in p.stderr)]
    with tempfile.TemporaryDirectory() as folder:
        for name, args, expected, check in cases:
            proc = subprocess.run(base + args, capture_output=True, text=True, cwd=folder,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
            ok = check(proc) and "Traceback" not in proc.stderr
            probe(f"CLI {name}", expected, f"exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1][:90]}", ok)


def main() -> int:
    print(describe(), flush=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        probes_on_a_live_server(browser)
        unwritable_stores(browser)
        browser.close()
    cli_cases()
    print("\n| probe | expected | seen | |\n|---|---|---|---|")
    for name, expected, seen, ok in ROWS:
        print(f"| {name} | {expected} | {seen} | {'yes' if ok else '**no**'} |")
    return 0 if all(ok for *_, ok in ROWS) else 1


if __name__ == "__main__":
    sys.exit(main())
