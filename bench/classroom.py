"""A class on one server (issue 22): N simulated students at once, each a session submitting the
default run of a page (the studies in turn, each student's run its own key, so none attaches to
another's: the worst case), through one engine as the pages do, on local processes and on a local
Dask cluster of as many single-threaded workers.

For each class size and backend it prints: time to first progress (the engine's count of the run's
work done first above zero, as the page's bar shows it), time to result (median and 95th percentile),
the estimate the page showed at Run (``execution.shown_estimate``: its own plus the queue's)
against the measured time (median ratio, and the share within a factor 2), the time left the pages
show once every student has pressed Run (``Engine.seconds_left``) against the time each run then
took, and the peak memory of this process (the server) and of its workers together (resident set
sizes from /proc).

    python bench/classroom.py                         # 1, 10 and 30 students, local and Dask
    python bench/classroom.py --students 1,10 --backends local
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.engine import Engine  # noqa: E402
from service.dask_pool import DaskPool  # noqa: E402
from service.pools import ProcessPool, cores, process_stat  # noqa: E402
from studies import STUDIES  # noqa: E402
from studies.common import cost, execution  # noqa: E402
from studies.common.training import WORKER_PRELOAD  # noqa: E402
from machine import describe  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE
    except OSError:
        return 0


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (Dask's nannies start workers below themselves)."""
    stats = {int(pid): process_stat(int(pid)) for pid in filter(str.isdigit, os.listdir("/proc"))}
    parents = {pid: int(fields[1]) for pid, fields in stats.items() if fields}
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


class Watcher(threading.Thread):
    """Samples every 50 ms: each run's first moment of progress, and the peak memory of this process
    and of its descendants (the workers)."""

    def __init__(self, engine: Engine, runs: list):
        super().__init__(daemon=True)
        self.engine, self.runs, self.going = engine, runs, True
        self.first: dict[str, float] = {}
        self.server = self.workers = 0

    def run(self) -> None:
        while self.going:
            now = time.time()
            for run in list(self.runs):
                if run.key not in self.first and (run.ended or self.engine.progress(run) > 0):
                    self.first[run.key] = now - run.submitted
            self.server = max(self.server, rss(os.getpid()))
            self.workers = max(self.workers, sum(rss(pid) for pid in descendants(os.getpid())))
            time.sleep(0.05)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def lesson(engine: Engine, students: int) -> dict:
    """Every student presses Run at once; the figures of the table's row."""
    names = list(STUDIES)
    runs, estimates = [], {}
    watcher = Watcher(engine, runs)
    watcher.start()
    for student in range(students):
        study = STUDIES[names[student % len(names)]]
        values = study.SCHEMA.defaults()
        shown = execution.shown_estimate(study, values, engine)[1]
        run = engine.submit(execution.job(study, values, f"{study.NAME}-{time.time_ns()}-{student}", pool=engine.pool),
                            who=f"student-{student}")
        estimates[run.key] = shown
        runs.append(run)
    pressed = time.time()  # once every student has pressed Run: the time left each page shows then
    left = {run.key: engine.seconds_left(run) for run in runs}
    for run in runs:
        run.wait()
    watcher.going = False
    watcher.join()
    ends = [run.ended_at - run.submitted for run in runs]
    ratios = [estimates[run.key] / (run.ended_at - run.submitted) for run in runs]
    later = [left[run.key] / max(run.ended_at - pressed, 1e-3) for run in runs]
    firsts = list(watcher.first.values())
    return {"first": statistics.median(firsts), "first95": percentile(firsts, 0.95), "median": statistics.median(ends),
            "p95": percentile(ends, 0.95), "ratio": statistics.median(ratios),
            "within2": sum(0.5 <= r <= 2 for r in ratios) / len(ratios), "left": statistics.median(later),
            "server": watcher.server,
            "workers": watcher.workers}


def local_engine(workers: int) -> Engine:
    engine = Engine(ProcessPool(workers, WORKER_PRELOAD))
    engine.pool.start()
    return engine


def dask_engine(workers: int):
    from distributed import LocalCluster

    main, sys.modules["__main__"] = sys.modules["__main__"], types.ModuleType("__main__")
    try:  # spawned workers would re-run this script as their __main__
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
    finally:
        sys.modules["__main__"] = main
    engine = Engine(DaskPool(cluster.scheduler_address))
    return engine, cluster


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", default="1,10,30")
    parser.add_argument("--backends", default="local,dask")
    args = parser.parse_args()
    print(describe(), flush=True)
    workers = cores()
    cost.calibration()  # before the workers start, as the app does
    print(f"{workers} workers (one per core), default run of each page in turn ({len(STUDIES)} pages); "
          "times in seconds from Run\n")
    print(f"{'backend':7s} {'students':>8s} {'first progress':>15s} {'result median':>14s} {'p95':>7s} "
          f"{'estimate/measured':>18s} {'within 2x':>9s} {'left/measured':>13s} {'server MB':>9s} {'workers MB':>10s}")
    for backend in args.backends.split(","):
        engine, cluster = (local_engine(workers), None) if backend == "local" else dask_engine(workers)
        try:
            lesson(engine, 1)  # warm: every worker has the trial code and the digits data
            for students in map(int, args.students.split(",")):
                row = lesson(engine, students)
                print(f"{backend:7s} {students:8d} {row['first']:6.2f} (p95 {row['first95']:5.2f}) {row['median']:13.2f} "
                      f"{row['p95']:7.2f} {row['ratio']:18.2f} {row['within2']:9.0%} {row['left']:13.2f} "
                      f"{row['server'] / 2**20:9.0f} "
                      f"{row['workers'] / 2**20:10.0f}", flush=True)
        finally:
            engine.shutdown()
            if cluster is not None:
                cluster.close()


if __name__ == "__main__":
    main()
