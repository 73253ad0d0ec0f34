"""Issue 22: the Dask cluster that the README starts, as separate `dask scheduler` and `dask worker`
processes launched from a fresh copy of the checkout, runs a study through the CLI and through the
app with the same numbers as local processes; a cluster whose workers cannot import the project is
reported at once instead of failing every trial."""
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import sync_playwright

from service.store import ResultStore
from studies import learning_rate
from studies.common.execution import load_result
from studies.common.launch import run_study
from ui.local_server import CHROMIUM, CHROMIUM_ARGS, ROOT, serve

pytestmark = pytest.mark.slow  # real processes, servers or browsers, or studies run to their lessons

README = (ROOT / "README.md").read_text()


def readme_line(start: str) -> list[str]:
    """The README's command that begins with ``start``, as arguments, run by this test's Python."""
    line = next(line.strip() for line in README.splitlines() if line.strip().startswith(start))
    args = shlex.split(line.split("  #")[0])
    return [sys.executable if a == ".venv/bin/python" else a for a in args]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_copy(target: Path) -> Path:
    """What a fresh clone holds: the tracked files and the new ones git does not ignore."""
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.splitlines()
    for name in names:
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def plain_env() -> dict:
    """No PYTHONPATH: the launcher itself must put the checkout on the workers' path."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def start(args, cwd) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=cwd, env=plain_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def wait_for_workers(address: str, n: int, processes) -> None:
    from distributed import Client

    deadline = time.time() + 90
    while True:
        try:
            with Client(address, timeout=5, set_as_default=False) as client:
                client.wait_for_workers(n, timeout=max(1, deadline - time.time()))
                return
        except (OSError, TimeoutError):
            if time.time() > deadline or any(p.poll() is not None for p in processes):
                raise AssertionError("the cluster did not start: " + " | ".join(
                    (p.stderr.read() if p.poll() is not None else "")[-1500:] for p in processes)) from None
            time.sleep(0.5)


def stop(processes) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, 15)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


@pytest.fixture(scope="module")
def readme_cluster(tmp_path_factory):
    """The README's scheduler, and its worker command started twice (one process each), in a fresh copy."""
    checkout = fresh_copy(tmp_path_factory.mktemp("checkout"))
    port = free_port()
    scheduler = [a.replace("8786", str(port)) for a in readme_line(".venv/bin/python -m studies cluster scheduler")]
    worker = [a.replace("SCHEDULER:8786", f"127.0.0.1:{port}")
              for a in readme_line(".venv/bin/python -m studies cluster worker")] + ["--nworkers", "1"]
    processes = [start(scheduler, checkout)]
    address = f"tcp://127.0.0.1:{port}"
    try:
        processes += [start(worker, checkout), start(worker, checkout)]
        wait_for_workers(address, 2, processes)
        yield checkout, address
    finally:
        stop(processes)


def cli(args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=plain_env(), capture_output=True, text=True, timeout=300)


def test_the_readmes_cluster_runs_the_cli_with_the_numbers_of_local_processes(readme_cluster, tmp_path):
    checkout, address = readme_cluster
    remote = [a.replace("tcp://SCHEDULER:8786", address).replace("lr.csv", str(tmp_path / "dask.csv"))
              for a in readme_line(".venv/bin/python -m studies run learning_rate --scheduler")]
    proc = cli(remote, checkout)
    assert proc.returncode == 0, proc.stderr[-2000:]
    local = cli([sys.executable, "-m", "studies", "run", "learning_rate", "--n-jobs", "2",
                 "--out", str(tmp_path / "local.csv")], checkout)
    assert local.returncode == 0, local.stderr[-2000:]
    on_cluster, here = pd.read_csv(tmp_path / "dask.csv"), pd.read_csv(tmp_path / "local.csv")
    assert on_cluster["trial"].nunique() == 15 and set(on_cluster["status"]) <= {"ok", "diverged"}
    pd.testing.assert_frame_equal(on_cluster.drop(columns="seconds"), here.drop(columns="seconds"))


def test_the_app_on_the_readmes_cluster_stores_the_numbers_of_local_processes(readme_cluster, tmp_path):
    _, address = readme_cluster
    query = "epochs=3&repeats=1&learning_rates=0.1%2C1"
    with serve(tmp_path / "store", env={"EXPLORER_SCHEDULER": address}) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/learning_rate?{query}")
        page.locator("[data-testid='stSidebar']").get_by_role("button", name="Run", exact=True).click()
        page.get_by_role("button", name="HTML report").wait_for(timeout=90_000)
        assert page.locator("[data-testid='stException']").count() == 0
        browser.close()
    values = learning_rate.SCHEMA.parse({"epochs": "3", "repeats": "1", "learning_rates": "0.1,1"})
    stored = load_result(ResultStore(tmp_path / "store"), learning_rate, values)
    local = run_study(learning_rate, values, n_jobs=1)
    pd.testing.assert_frame_equal(stored.tidy.drop(columns="seconds"), local.tidy.drop(columns="seconds"))


def test_workers_that_cannot_import_the_project_are_reported_before_any_trial(tmp_path):
    """Plain `dask worker`, started outside the checkout, as the README once said: the CLI names the
    problem and the launcher to use, and exits 1 at once."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    processes = [start([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                        "--dashboard-address", ":0"], elsewhere)]
    try:
        processes.append(start([sys.executable, "-m", "dask", "worker", address, "--nthreads", "1",
                                "--no-dashboard"], elsewhere))
        wait_for_workers(address, 1, processes)
        proc = cli([sys.executable, "-m", "studies", "run", "learning_rate", "--scheduler", address], ROOT)
    finally:
        stop(processes)
    assert proc.returncode == 1
    assert re.search(r"1 of 1 Dask workers cannot run this project's code .*python -m studies cluster worker",
                     proc.stderr), proc.stderr[-2000:]
    assert "[1/" not in proc.stderr                                    # no trial was sent


def test_two_servers_on_one_store_and_one_cluster_compute_an_identical_run_once(readme_cluster, tmp_path):
    """A class split over two Streamlit processes: the second server finds the run in flight in the
    shared store, shows the first server's progress, does not start it again when Run is pressed, and
    shows the stored result once the first has saved it."""
    _, address = readme_cluster
    query = "learning_rates=0.1%2C0.5&repeats=1&epochs=1500&optimiser=momentum"
    env, store = {"EXPLORER_SCHEDULER": address}, tmp_path / "store"
    with serve(store, env=env) as one, serve(store, env=env) as two, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        first, second = (browser.new_page(viewport={"width": 1400, "height": 900}) for _ in range(2))
        first.goto(f"{one}/learning_rate?{query}")
        first.locator("[data-testid='stSidebar']").get_by_role("button", name="Run", exact=True).click()
        first.get_by_text("trials finished").first.wait_for(timeout=60_000)
        second.goto(f"{two}/learning_rate?{query}")
        elsewhere = second.get_by_text("Running on another server of this class")
        elsewhere.wait_for(timeout=30_000)
        second.locator("[data-testid='stSidebar']").get_by_role("button", name="Run", exact=True).click()
        elsewhere.wait_for(timeout=30_000)                              # Run attached, started nothing
        second.get_by_role("button", name="HTML report").wait_for(timeout=120_000)
        first.get_by_role("button", name="HTML report").wait_for(timeout=60_000)
        browser.close()
    runs = ResultStore(store).index()
    assert len(runs) == 1 and runs[0]["state"] == "done" and runs[0]["trials_done"] == 2
