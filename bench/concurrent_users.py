"""Many people on one server: simultaneous runs through one engine, as the app's sessions submit them.

1. Every default digits study and one Fashion-MNIST learning-rate study run alone: estimated
   seconds (``studies.common.cost``) against measured ones (target: within a factor 2).
2. 1, 4 and 8 simultaneous runs of the default learning-rate study (equal runs under distinct keys,
   so none attaches to another): total wall time against N x the solo time, the spread of their
   completion times (fairness: equal runs should end together), and the peak number of busy
   workers (never above the core count), both as the engine counts them and as sampled from /proc.

    python bench/concurrent_users.py
"""
from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data import DataError, dataset_shape  # noqa: E402
from service.engine import Engine  # noqa: E402
from service.pools import ProcessPool, children_cpu, cores  # noqa: E402
from studies import STUDIES, learning_rate  # noqa: E402
from studies.common import cost, execution  # noqa: E402
from machine import describe  # noqa: E402


class BusySampler(threading.Thread):
    """Counts this process's children that used more than half a core in each 0.1 s window."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.running = 0, True

    def run(self):
        before = children_cpu()
        while self.running:
            time.sleep(0.1)
            now = children_cpu()
            self.peak = max(self.peak, sum(1 for pid, t in now.items() if t - before.get(pid, t) > 0.05))
            before = now


def timed_runs(engine: Engine, study, values: dict, count: int) -> tuple[float, list[float]]:
    """Submit ``count`` equal runs at once; total wall seconds and each run's completion time."""
    start = time.perf_counter()
    runs = [engine.submit(execution.job(study, values, key=f"{study.NAME}-{time.time_ns()}-{i}"), who=i)
            for i in range(count)]
    for run in runs:
        run.wait()
    total = time.perf_counter() - start
    return total, [run.ended_at - runs[0].submitted for run in runs]


def main() -> None:
    print(describe(), flush=True)
    workers = cores()
    cost.calibration()  # before the workers start: their start-up slows the measurement
    engine = Engine(ProcessPool(workers, ("studies.common.training",)))
    engine.pool.start()
    print(f"{workers} workers (one per core); estimates from studies.common.cost, calibrated in this process\n")
    print(f"{'study':34s} {'estimated':>10s} {'measured':>9s} {'ratio':>6s}")
    cases = [(name, study, study.SCHEMA.defaults()) for name, study in STUDIES.items()]
    try:
        dataset_shape("fashion-mnist")
        cases.append(("learning_rate, fashion-mnist 3 ep.", learning_rate,
                      learning_rate.SCHEMA.parse({"dataset": "fashion-mnist", "epochs": "3", "repeats": "1"})))
    except DataError as exc:
        print(f"(Fashion-MNIST not installed: {exc})")
    for label, study, values in cases:
        estimated = cost.estimate(study, study.plan(values), workers)
        timed_runs(engine, study, values, 1)  # workers warm for this study's trial code and data
        measured, _ = timed_runs(engine, study, values, 1)
        print(f"{label:34s} {estimated:9.2f}s {measured:8.2f}s {measured / estimated:6.2f}")

    values = learning_rate.SCHEMA.defaults()
    solo, _ = timed_runs(engine, learning_rate, values, 1)
    print(f"\nDefault learning-rate study, {len(learning_rate.plan(values))} trials; solo run {solo:.2f} s")
    print(f"{'runs':>4s} {'total':>8s} {'N x solo':>9s} {'ratio':>6s} {'first end':>10s} {'last end':>9s} "
          f"{'spread':>7s} {'peak busy (engine, /proc)':>26s}")
    for count in (1, 4, 8):
        engine.peak_busy = 0
        sampler = BusySampler()
        sampler.start()
        total, ends = timed_runs(engine, learning_rate, values, count)
        sampler.running = False
        sampler.join()
        spread = (max(ends) - min(ends)) / statistics.mean(ends)
        print(f"{count:4d} {total:7.2f}s {count * solo:8.2f}s {total / (count * solo):6.2f} {min(ends):9.2f}s "
              f"{max(ends):8.2f}s {spread:6.0%} {engine.peak_busy:>13d}, {sampler.peak:d} (cores: {workers})")
    engine.shutdown()


if __name__ == "__main__":
    main()
