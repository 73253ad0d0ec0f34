"""Fault injection against a live server (issue 18): each probe causes one fault the way an operator
or an attacker would, and the table says what was expected and what was seen.

Probes: a worker killed with two runs going; a viewer who leaves before the owner presses Stop;
one session pressing Run on more links than it may hold; a network too large for a worker's memory;
hostile store rows (text for a count, a
table without its columns, a Parquet bomb, a planted trigger); a server restarted on a full disk
and on a read-only mount; the server killed with kill -9 (its workers must go); the CLI's output
to /dev/full, an unreachable scheduler, --max-minutes nan and one file for both outputs.

Issue 29's probes (``--issue-29`` runs only those): a splits folder holding a foreign folder, and one
that is a link; the launcher's default address; a Dask scheduler killed mid-run under the CLI; a
dictionary-encoded Parquet bomb and a 300-column table (peak memory of the server process that opens
them); index rows with ``created = 1e300`` and 60 rows of 5 MB meta; heartbeats ``'abc'`` and an
hour ahead; a server killed before its workers warm up; ``=HYPERLINK(...)`` planted in a stored table.

    python bench/faults.py            (as root: the full-disk and read-only probes mount a tmpfs)
"""
from __future__ import annotations

import csv
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


def python(code: str, *args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``code`` run by a fresh Python in the checkout: what a server process would do, measured alone."""
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


SPLITS = """
import sys, types
from pathlib import Path
import numpy as np
from core import shared_splits
split = types.SimpleNamespace(class_names=["a", "b"], **{a: (np.zeros((4, 2), "float32") if a[0] == "X" else
                              np.zeros(4, "int64")) for a in shared_splits.ARRAYS})
for i in range(3):
    shared_splits.load_or_build(f"{i:032x}", lambda: split, lambda **kw: kw)
"""


def splits_folders() -> None:
    for case in ("an existing folder holding results-2025/", "a link to a home folder"):
        with tempfile.TemporaryDirectory() as top:
            home = Path(top) / "home"
            (home / "results-2025").mkdir(parents=True)
            (home / "results-2025" / "table.csv").write_text("a\n1\n")
            os.chmod(home, 0o700)
            folder = home
            if "link" in case:
                folder = Path(top) / "splits"
                folder.symlink_to(home)
            proc = python(SPLITS, env={"EXPLORER_SPLITS_DIR": str(folder), "EXPLORER_SPLITS_MB": "0.0001"})
            kept = sorted(p.name for p in home.iterdir())
            refused = "not shared" in proc.stderr
            probe(f"splits folder: {case}", "refused with a warning; nothing in it removed",
                  f"exit {proc.returncode}, warned: {refused}, left: {kept}",
                  proc.returncode == 0 and refused and kept == ["results-2025"])


def listening(port: int) -> list[str]:
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return [line.split()[3].rsplit(":", 1)[0] for line in out.splitlines()]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "studies", "cluster", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def end(processes) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def cluster_probes() -> None:
    port = free_port()
    scheduler = launch("scheduler", "--port", str(port))
    processes = [scheduler, launch("worker", f"tcp://127.0.0.1:{port}", "--nworkers", "1")]
    try:
        deadline = time.time() + 60
        while not listening(port) and time.time() < deadline:
            time.sleep(0.2)
        probe("launcher's scheduler, no --host", "listens on 127.0.0.1 only", f"listens on {listening(port)}",
              listening(port) == ["127.0.0.1"])
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "lr.csv"
            cli = subprocess.Popen([sys.executable, "-m", "studies", "run", "learning_rate", "--set", "epochs=300",
                                    "--set", "repeats=3", "--scheduler", f"tcp://127.0.0.1:{port}", "--out", str(out)],
                                   cwd=ROOT, stderr=subprocess.PIPE, text=True)
            seen = ""
            while "[1/" not in seen and cli.poll() is None:
                seen += cli.stderr.readline()
            os.kill(scheduler.pid, signal.SIGKILL)
            killed = time.perf_counter()
            try:
                text = seen + cli.communicate(timeout=120)[1]
                code = cli.returncode
            except subprocess.TimeoutExpired:
                cli.kill()
                code, text = None, seen
            seconds = time.perf_counter() - killed
            rows = len(pd.read_csv(out)) if out.exists() else 0
            said = "stopped answering" in text
            probe("Dask scheduler killed mid-run under the CLI",
                  "exit 1 within 30 s, saying so; finished trials written",
                  f"exit {code} after {seconds:.1f} s, said so: {said}, {rows} rows written",
                  code == 1 and seconds < 30 and said and rows > 0)
    finally:
        end(processes)


PEAK = """
import json, resource, sys, time
from pathlib import Path
import pandas, pyarrow.parquet, pyarrow.compute
from service.store import ResultStore
store = ResultStore(Path(sys.argv[1]))
before, started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.perf_counter()
found = store.load_key(sys.argv[2]) if sys.argv[2] != "index" else store.index()
print(json.dumps({"found": bool(found), "mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024,
                  "seconds": time.perf_counter() - started, "again": bool(store.load_key(sys.argv[2]))}))
"""


def stored_run(folder: Path):
    from service.store import ResultStore

    store = ResultStore(folder)
    frame = pd.DataFrame({"a": [1, 2], "s": ["x", "y"]})
    store.save("lr", {"x": "1"}, {"tidy": frame, "summary": frame}, {"state": "done"})
    return store, store.key("lr", {"x": "1"})


def store_probes() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 4_900_000
    text = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)), pa.array(["x" * 300]))
    bombs = {"a dictionary-encoded bomb (4.9 M rows of 300 characters)": pa.table({"s": text}),
             "a table of 300 columns": pa.table({f"c{i}": pa.array(np.zeros(25_000, np.int64)) for i in range(300)})}
    for name, table in bombs.items():
        with tempfile.TemporaryDirectory() as folder:
            blob = io.BytesIO()
            pq.write_table(table, blob, store_schema=False)
            store, key = stored_run(Path(folder))
            with sqlite3.connect(store.path) as db:
                db.execute("UPDATE tables SET data = ? WHERE name = 'tidy'", (blob.getvalue(),))
            seen = json.loads(python(PEAK, folder, key).stdout)
            probe(f"stored {name}, {len(blob.getvalue()) // 1024} KB", "dropped before unpacking: peak +64 MB at most",
                  f"served: {seen['found']}, peak +{seen['mb']:.0f} MB, still there: {seen['again']}",
                  not seen["found"] and seen["mb"] < 64 and not seen["again"])
    with tempfile.TemporaryDirectory() as folder:
        store, key = stored_run(Path(folder))
        huge = json.dumps({"state": "done", "padding": "x" * 5_000_000})
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE runs SET created = 1e300")
            db.executemany("INSERT INTO runs SELECT ?, study, params, code, state, ?, ?, opened, size FROM runs "
                           "WHERE key = ?", [(f"k{i}", huge, time.time(), key) for i in range(60)])
        seen = json.loads(python(PEAK, folder, "index").stdout)
        probe("index: created = 1e300 and 60 rows of 5 MB meta", "skipped; listing under 0.5 s and +50 MB",
              f"listed: {seen['found']}, {seen['seconds']:.2f} s, peak +{seen['mb']:.0f} MB",
              not seen["found"] and seen["seconds"] < 0.5 and seen["mb"] < 50)
        for beat in ("'abc'", "julianday('now') * 86400 + 3600"):
            store.claim("run", "server-a")
            with sqlite3.connect(store.path) as db:
                db.execute(f"UPDATE inflight SET heartbeat = {beat}")
            try:
                seen = f"claimed by the other server: {store.claim('run', 'server-b') is None}"
            except Exception as exc:  # noqa: BLE001  what the page would have shown as a traceback
                seen = f"{type(exc).__name__}: {exc}"
            probe(f"in-flight heartbeat {beat}", "stale: another server may claim the run", seen,
                  seen.endswith("True"))
            store.release("run", "server-b")


def formula_export() -> None:
    from studies.common.execution import to_csv

    text = to_csv(pd.DataFrame({"note": ['=HYPERLINK("http://evil.example","open")'], "delta": [-0.5]}))
    note, delta = next(csv.reader(io.StringIO(text.splitlines()[1])))
    probe("=HYPERLINK(...) in a stored table, exported as CSV", "written inert ('=...), numbers unchanged",
          text.splitlines()[1], note.startswith("'=") and delta == "-0.5")


def server_killed_before_warm_up() -> None:
    """The test's server (tests/service/test_runner.py), whose workers' interpreters start 3 s slowly."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_runner import SLOW_START, STARTS_POOL

    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "sitecustomize.py").write_text(SLOW_START)
        server = subprocess.Popen([sys.executable, "-c", STARTS_POOL], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                  env={**os.environ, "PYTHONPATH": os.pathsep.join([folder, str(ROOT)])})
        workers = json.loads(server.stdout.readline())
        server.kill()
        server.wait()
        started = time.perf_counter()
        while any(Path(f"/proc/{w}").exists() and "Z" not in Path(f"/proc/{w}/stat").read_text().split()[2]
                  for w in workers) and time.perf_counter() - started < 15:
            time.sleep(0.1)
        gone = time.perf_counter() - started
        for w in workers:
            if Path(f"/proc/{w}").exists():
                os.kill(w, signal.SIGKILL)
    probe("server killed before its workers warm up (3 s)", "its workers exit within 5 s of warming up",
          f"{len(workers)} workers gone after {gone:.1f} s", gone < 8)


def issue_29() -> None:
    splits_folders()
    cluster_probes()
    store_probes()
    formula_export()
    server_killed_before_warm_up()


def main() -> int:
    print(describe(), flush=True)
    if "--issue-29" not in sys.argv:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            probes_on_a_live_server(browser)
            unwritable_stores(browser)
            browser.close()
        cli_cases()
    issue_29()
    print("\n| probe | expected | seen | |\n|---|---|---|---|")
    for name, expected, seen, ok in ROWS:
        print(f"| {name} | {expected} | {seen} | {'yes' if ok else '**no**'} |")
    return 0 if all(ok for *_, ok in ROWS) else 1


if __name__ == "__main__":
    sys.exit(main())
