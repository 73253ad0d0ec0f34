"""The default Fashion-MNIST learning-rate study end to end, cold, against a warm engine and two limits.

All in one run, on this machine:

- warm: the study through an engine of this process whose workers already hold the data
  (as ``bench/study_speed.py``'s stacked column);
- cold command line, twice: ``python -m studies run learning_rate --set dataset=fashion-mnist`` as a
  new process, first with an empty folder of prepared splits (the first run on a machine: a worker
  decodes and normalises the IDX files and saves the split), then again (every later run: the
  workers map the saved split);
- cold page: a newly started ``streamlit run app.py`` with an empty result store, the page's share
  link opened in Chromium, timed from pressing Run until the results are drawn.

Each is compared with the warm run and with two limits over every core: the run's matrix-product
FLOPs at the rate of a 1024^3 float32 product on one core (the machine's peak, as in
``study_speed.py``), and the time of the run's own first-layer products at their own shapes
(batch x 784 by 784 x the stack's width, its transpose for the gradient, and 512-row blocks for
scoring), measured here with nothing else around them: what the training loop could reach if
everything but those products were free. Last, each worker's memory: shared pages and its own,
with the split mapped from the saved copy and with every worker preparing its own (as before).

    python bench/end_to_end.py
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from core.stack import EVAL_ROWS  # noqa: E402
from service.engine import Engine  # noqa: E402
from service.pools import ProcessPool, cores, cpu_seconds, process_stat  # noqa: E402
from studies import learning_rate  # noqa: E402
from studies.common import cost  # noqa: E402
from studies.common.config import TrainingConfig  # noqa: E402
from studies.common.execution import trials_of  # noqa: E402
from studies.common.launch import run_study  # noqa: E402
from studies.common.training import WORKER_PRELOAD, stacks  # noqa: E402
from ui.local_server import CHROMIUM, CHROMIUM_ARGS, charts_drawn, serve  # noqa: E402
from classroom import descendants  # noqa: E402
from machine import describe  # noqa: E402

VALUES = learning_rate.SCHEMA.parse({"dataset": "fashion-mnist"})
COMMAND = [sys.executable, "-m", "studies", "run", "learning_rate", "--set", "dataset=fashion-mnist"]


def product_seconds(m: int, k: int, n: int, transposed: bool = False, repeats: int = 300) -> float:
    """Best time of one float32 (m x k) @ (k x n) product on one core; ``transposed`` takes the
    first operand as the transpose of a C-ordered (k x m) array, as the gradient x.T @ delta does."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((k, m) if transposed else (m, k), dtype=np.float32)
    a = a.T if transposed else a
    b = rng.standard_normal((k, n), dtype=np.float32)
    best = np.inf
    with threadpool_limits(limits=1):
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeats):
                a @ b
            best = min(best, (time.perf_counter() - start) / repeats)
    return best


def peak_limit(workers: int) -> float:
    flops = sum(cost.training(p, eval_factor=1)[0] for p in learning_rate.plan(VALUES))
    return flops * product_seconds(1024, 1024, 1024, repeats=3) / (2 * 1024 ** 3) / workers


def shape_limit(workers: int) -> float:
    """Seconds of the run's first-layer products at their own shapes, shared over the workers."""
    total = 0.0
    for task in stacks(trials_of(learning_rate, VALUES)):
        members = task.params.get("members", [task])
        p = members[0].params
        n_in, width, batch = 784, p["hidden"][0] * len(members), p["batch_size"]
        n_train, n_eval, _ = TrainingConfig.of(p).samples
        batches = -(-n_train // batch)
        step = product_seconds(batch, n_in, width) + product_seconds(n_in, batch, width, transposed=True)
        scoring = product_seconds(EVAL_ROWS, n_in, width, repeats=30) * n_eval / EVAL_ROWS
        total += p["epochs"] * batches * step + (p["epochs"] + 1) * scoring
    return total / workers


def memory_mb(pid: int) -> dict[str, float]:
    """A process's resident memory, and how much of it is file pages it shares and pages of its own."""
    found = {}
    with open(f"/proc/{pid}/smaps_rollup") as handle:
        for line in handle:
            name, _, value = line.partition(":")
            if value.strip().endswith("kB"):
                found[name] = int(value.split()[0]) / 1024
    return {"resident": found["Rss"], "shared": found["Shared_Clean"] + found["Shared_Dirty"],
            "own": found["Private_Clean"] + found["Private_Dirty"]}


def warm_seconds(workers: int, epochs: int | None = None) -> tuple[float, list[dict]]:
    """The warm run's seconds (of ``epochs``, default the study's), and each worker's memory after it."""
    engine = Engine(ProcessPool(workers, WORKER_PRELOAD))
    engine.pool.start()
    try:
        run_study(learning_rate, {**VALUES, "epochs": 1}, engine=engine)  # every worker holds the data
        start = time.perf_counter()
        run_study(learning_rate, {**VALUES, "epochs": epochs or VALUES["epochs"]}, engine=engine)
        return time.perf_counter() - start, [memory_mb(pid) for pid in engine.pool.worker_pids()]
    finally:
        engine.shutdown()


def unshared_memory(workers: int) -> list[dict]:
    """Each worker's memory when every worker prepares its own split, as before ``core.shared_splits``:
    its folder is one that others may write to, which it refuses."""
    with tempfile.TemporaryDirectory() as refused:
        os.chmod(refused, 0o777)
        before, os.environ["EXPLORER_SPLITS_DIR"] = os.environ.get("EXPLORER_SPLITS_DIR"), refused
        try:
            return warm_seconds(workers, epochs=1)[1]
        finally:
            os.environ.pop("EXPLORER_SPLITS_DIR")
            if before is not None:
                os.environ["EXPLORER_SPLITS_DIR"] = before


def cpu_of(pids: list[int]) -> float:
    return sum(cpu_seconds(process_stat(pid)) for pid in pids)


def command_of(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline") as handle:
            return handle.read()
    except OSError:
        return ""


def command_line_seconds(env: dict) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([*COMMAND, "--out", f"{out}/lr.csv"], cwd=ROOT, env=env, check=True, capture_output=True)
        return time.perf_counter() - start


def page_seconds(env: dict) -> tuple[float, float, float, float]:
    """Seconds from starting the server until the page shows its Run button, and from Run to the
    charts; and the CPU seconds that the browser and the server process (not its workers) used
    meanwhile: on this machine they share the cores with the workers, in a class they do not."""
    with tempfile.TemporaryDirectory() as store, sync_playwright() as p:
        start = time.perf_counter()
        with serve(Path(store), env=env) as url:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(f"{url}/learning_rate?dataset=fashion-mnist")
            run_button = page.get_by_role("button", name="Run")
            run_button.wait_for(timeout=120_000)
            ready = time.perf_counter() - start
            below = descendants(os.getpid())
            server = [pid for pid in below if "streamlit" in command_of(pid)]
            browser_pids = [pid for pid in below if "chromium" in command_of(pid)]
            before = cpu_of(server), cpu_of(browser_pids)
            start = time.perf_counter()
            run_button.click()
            page.get_by_role("button", name="HTML report").wait_for(timeout=600_000)
            charts_drawn(page, 1)
            ran = time.perf_counter() - start
            used = cpu_of(server) - before[0], cpu_of(browser_pids) - before[1]
            browser.close()
    return ready, ran, *used


def main() -> None:
    print(describe(), flush=True)
    workers = cores()
    print(f"{workers} workers")
    peak, shapes = peak_limit(workers), shape_limit(workers)
    print(f"limits over {workers} cores: matrix products at the 1024^3 rate {peak:.1f} s; "
          f"first-layer products at their own shapes {shapes:.1f} s")
    warm, memory = warm_seconds(workers)
    with tempfile.TemporaryDirectory() as splits:
        env = {**os.environ, "EXPLORER_SPLITS_DIR": splits}
        rows = [("warm engine (bench)", warm),
                ("command line, first on this machine", command_line_seconds(env)),
                ("command line, split saved", command_line_seconds(env))]
        ready, ran, server_cpu, browser_cpu = page_seconds(env)
        rows.append(("page, new server: Run -> charts", ran))
    print(f"\n{'path':38s} {'seconds':>8s} {'/ warm':>7s} {'of peak limit':>14s} {'of shape limit':>15s}")
    for label, seconds in rows:
        print(f"{label:38s} {seconds:8.1f} {seconds / warm:7.2f} {peak / seconds:14.0%} {shapes / seconds:15.0%}")
    print(f"(the new server showed the page's Run button {ready:.1f} s after it was started; during the run the "
          f"browser used {browser_cpu:.1f} and the server process {server_cpu:.1f} CPU seconds of the "
          f"{workers * ran:.0f} the cores had)")
    for label, found in (("split mapped", memory), ("each its own split", unshared_memory(workers))):
        print(f"workers, {label}: " + "; ".join(f"{m['resident']:.0f} MB resident, {m['shared']:.0f} MB of it "
                                                 f"shared, {m['own']:.0f} MB its own" for m in found))


if __name__ == "__main__":
    main()
