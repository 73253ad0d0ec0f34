"""Start `streamlit run app.py` on a free loopback port, for the browser test and the page bench."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(store_dir: Path, timeout: float = 60, env: dict | None = None):
    """Yield the app's base URL while a server runs with its result store in ``store_dir`` (and
    ``env`` added to its environment, e.g. ``EXPLORER_SCHEDULER``)."""
    port = _free_port()
    env = {**os.environ, "EXPLORER_STORE_DIR": str(store_dir), **(env or {})}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                               "--server.address", "127.0.0.1", "--server.headless", "true",
                               "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    server.kill()
                    raise RuntimeError("streamlit did not start:\n" + server.communicate()[0][-3000:]) from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=20)


def charts_drawn(page, count: int, timeout_ms: int = 60_000) -> None:
    """Wait until ``count`` Vega charts on a Playwright page have drawn their marks."""
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] canvas, "
        "[data-testid=\"stVegaLiteChart\"] svg.marks').length >= n", arg=count, timeout=timeout_ms)
