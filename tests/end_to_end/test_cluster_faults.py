"""Issue 29: the README's Dask cluster under faults. Its scheduler listens on loopback unless told an
address, and speaks TLS with one credentials file; a scheduler killed mid-run stops the runs on it
(their finished trials kept) instead of hanging the CLI and breaking every page, and a restarted
one serves again without restarting the app. Every process listens on 127.0.0.1."""
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from service import engine as engines
from service.cluster import command
from test_cluster import free_port, plain_env, readme_line, start, stop, wait_for_workers
from ui.local_server import ROOT

pytestmark = pytest.mark.slow  # real processes, servers or browsers, or studies run to their lessons

LONG = ["--set", "epochs=300", "--set", "repeats=3"]  # 15 trials of about a second each


def scheduler_command(port: int, *extra: str) -> list[str]:
    """The README's scheduler command on ``port``, with no --host: its default is what is tested."""
    return [a.replace("8786", str(port)) for a in readme_line(".venv/bin/python -m studies cluster scheduler")] + [
        *extra]


def worker_command(address: str, *extra: str) -> list[str]:
    return [a.replace("tcp://SCHEDULER:8786", address)
            for a in readme_line(".venv/bin/python -m studies cluster worker")] + ["--nworkers", "1", *extra]


def start_cluster(port: int, *tls: str) -> list[subprocess.Popen]:
    """The README's scheduler and one worker process, started from this checkout."""
    scheme = "tls" if tls else "tcp"
    processes = [start(scheduler_command(port, *tls), ROOT)]
    deadline = time.time() + 60
    while tls and not os.path.exists(tls[-1]) and time.time() < deadline:  # the scheduler writes it
        time.sleep(0.1)
    processes.append(start(worker_command(f"{scheme}://127.0.0.1:{port}", *tls), ROOT))
    return processes


def listening(port: int) -> list[str]:
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
    return [line.split()[3].rsplit(":", 1)[0] for line in out.splitlines()]


def test_the_launchers_scheduler_listens_on_loopback_unless_told_an_address():
    port = free_port()
    assert command("scheduler", port=port)[4:6] == ["--host", "127.0.0.1"]
    processes = [start(scheduler_command(port), ROOT)]
    try:
        deadline = time.time() + 60
        while not listening(port) and time.time() < deadline:
            time.sleep(0.2)
        assert listening(port) == ["127.0.0.1"]
    finally:
        stop(processes)


def test_a_tls_cluster_takes_its_credentials_from_one_private_file_and_refuses_plain_tcp(tmp_path):
    port, credentials = free_port(), tmp_path / "cluster.pem"
    processes = start_cluster(port, "--tls", str(credentials))
    address = f"tls://127.0.0.1:{port}"
    try:
        env = {**plain_env(), "EXPLORER_SCHEDULER_TLS": str(credentials)}
        deadline = time.time() + 90
        while (probe := cli_run(["--scheduler", address], env)).returncode != 0 and time.time() < deadline:
            time.sleep(1)                                              # until the worker has joined
        assert probe.returncode == 0, probe.stderr[-2000:]
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        plain = cli_run(["--scheduler", f"tcp://127.0.0.1:{port}"], plain_env())
        assert plain.returncode == 1 and "no Dask scheduler answered" in plain.stderr
        other = tmp_path / "other.pem"
        subprocess.run([sys.executable, "-c", f"from service.cluster import credentials; credentials({str(other)!r})"],
                       cwd=ROOT, check=True)
        stranger = cli_run(["--scheduler", address, "--tls", str(other)], plain_env())
        assert stranger.returncode == 1 and "no Dask scheduler answered" in stranger.stderr
    finally:
        stop(processes)


def cli_run(args, env, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "studies", "run", "learning_rate", "--set", "epochs=2",
                           "--set", "repeats=1", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_a_scheduler_killed_mid_run_stops_the_cli_run_keeping_its_trials_then_a_restarted_one_serves(tmp_path):
    """Issue 29: the CLI hung printing CommClosedError tracebacks until killed 6 min 40 s later."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes = start_cluster(port)
    try:
        wait_for_workers(address, 1, processes)
        run = subprocess.Popen([sys.executable, "-m", "studies", "run", "learning_rate", *LONG, "--scheduler",
                                address, "--out", str(tmp_path / "lr.csv")], cwd=ROOT, env=plain_env(),
                               stderr=subprocess.PIPE, text=True)
        lines, first = [], threading.Event()

        def read() -> None:
            for line in run.stderr:
                lines.append(line)
                if line.startswith("[1/"):
                    first.set()

        threading.Thread(target=read, daemon=True).start()
        assert first.wait(120), "".join(lines)[-2000:]
        os.kill(processes[0].pid, signal.SIGKILL)                       # the scheduler, mid-run
        killed = time.monotonic()
        assert run.wait(60) == 1, "".join(lines)[-2000:]
        assert time.monotonic() - killed < 30
        text = "".join(lines)
        assert "error: the Dask scheduler at" in text and "stopped answering" in text
        written = pd.read_csv(tmp_path / "lr.csv")
        assert 1 <= written["trial"].nunique() < 15                     # the finished trials, kept
        stop(processes)
        processes = start_cluster(port)                                 # the same address, back
        wait_for_workers(address, 1, processes)
        again = cli_run(["--scheduler", address], plain_env())
        assert again.returncode == 0, again.stderr[-2000:]
    finally:
        stop(processes)


def study_app():
    from studies import learning_rate
    from ui.page import study_page

    study_page(learning_rate)


@pytest.fixture
def dask_engine(monkeypatch):
    """The app's shared engine on $EXPLORER_SCHEDULER, made for this test and shut down after it."""
    port = free_port()
    monkeypatch.setenv("EXPLORER_SCHEDULER", f"tcp://127.0.0.1:{port}")
    monkeypatch.setattr(engines, "_shared", None)
    yield port
    if engines._shared is not None:
        engines._shared.shutdown()


def test_a_scheduler_killed_under_a_page_stops_its_run_and_the_page_works_again_once_it_is_back(dask_engine,
                                                                                                 tmp_path, monkeypatch):
    """Issue 29: the page showed a traceback, then "'NoneType' object has no attribute 'ncores'" on
    every rerun until the server was restarted: the closed client was never rebuilt."""
    monkeypatch.setenv("EXPLORER_STORE_DIR", str(tmp_path / "store"))
    port, address = dask_engine, f"tcp://127.0.0.1:{dask_engine}"
    processes = start_cluster(port)
    try:
        wait_for_workers(address, 1, processes)
        at = AppTest.from_function(study_app, default_timeout=120)
        at.query_params.update({"epochs": "300", "repeats": "3"})
        at.run()
        at.sidebar.button[0].click().run()
        assert not at.exception
        [run] = engines.shared().active()
        deadline = time.time() + 120
        while not run.results and time.time() < deadline:
            time.sleep(0.1)
        os.kill(processes[0].pid, signal.SIGKILL)
        assert run.wait(60) and run.state == "cancelled"
        assert 1 <= run.outcome.trials_done < 15                        # what finished is kept
        at.run()
        assert not at.exception and any("stopped answering" in e.value for e in at.error)
        stop(processes)
        processes = start_cluster(port)
        wait_for_workers(address, 1, processes)
        at.run()                                                        # the client is rebuilt: no restart
        assert not at.exception and not at.error, [e.value for e in at.error]
        fresh = AppTest.from_function(study_app, default_timeout=120)
        fresh.query_params.update({"epochs": "2", "repeats": "1"})
        fresh.run()
        fresh.sidebar.button[0].click().run()
        for going in engines.shared().active():
            assert going.wait(120)
        fresh.run()
        assert not fresh.exception and fresh.get("download_button")
    finally:
        stop(processes)
