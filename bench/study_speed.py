"""Study throughput: the one-trial-per-task path against stacked trials (core.stack), side by side.

For the default learning-rate, batch-size, hidden-unit and k-fold studies on digits, and the
learning-rate study on Fashion-MNIST (when installed), both paths run through one warm engine in
this process, alternately (each round the other first; the best of the rounds is kept), and print
wall seconds, their ratio, the number of tasks each path runs (equal counts: the same tasks, so the
ratio is the bench's noise), the FLOP-based limit of this machine (the run's matrix-product FLOPs
at the single-core GEMM rate measured here, over every core) and the fraction of that limit each
path reaches. Then a freshly started engine (workers started and warmed,
as the server does at start) runs the default learning-rate study twice: the first run against the
second.

    python bench/study_speed.py [--rounds 5] [--fashion-rounds 2] [--skip-fashion]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from core.data import DataError, dataset_shape  # noqa: E402
from service.engine import Engine  # noqa: E402
from service.pools import ProcessPool, cores  # noqa: E402
from studies import batch_size, hidden_units, kfold, learning_rate  # noqa: E402
from studies.common import cost  # noqa: E402
from studies.common.execution import trials_of  # noqa: E402
from studies.common.launch import run_study  # noqa: E402
from studies.common.training import WORKER_PRELOAD, stacks  # noqa: E402
from machine import describe  # noqa: E402


def gemm_rate() -> float:
    """FLOP/s of a float32 1024x1024 matrix product on one core, best of five."""
    a = np.random.default_rng(0).standard_normal((1024, 1024), dtype=np.float32)
    best = np.inf
    with threadpool_limits(limits=1):
        for _ in range(5):
            start = time.perf_counter()
            a @ a
            best = min(best, time.perf_counter() - start)
    return 2 * 1024 ** 3 / best


def flops(study, values: dict) -> float:
    """The run's arithmetic: matrix-product FLOPs of training and evaluation, nothing else."""
    return sum(cost.training(p, eval_factor=1)[0] for p in study.plan(values))


def timed(engine, study, values, stack: bool) -> float:
    start = time.perf_counter()
    run_study(study, values, engine=engine, stack=stack)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternating rounds per digits study (best is kept; they last under a second, so "
                             "one round is mostly the machine's noise)")
    parser.add_argument("--fashion-rounds", type=int, default=2, help="alternating rounds of the Fashion-MNIST study")
    parser.add_argument("--skip-fashion", action="store_true", help="leave out the Fashion-MNIST study")
    args = parser.parse_args()
    print(describe(), flush=True)
    workers, rate = cores(), gemm_rate()
    print(f"{workers} workers; GEMM {rate / 1e9:.0f} GFLOP/s per core (float32, 1024^3, one thread)\n")
    cases = [(s.NAME, s, s.SCHEMA.defaults(), args.rounds) for s in (learning_rate, batch_size, hidden_units, kfold)]
    if not args.skip_fashion:
        try:
            dataset_shape("fashion-mnist")
            cases.append(("learning_rate fashion", learning_rate,
                          learning_rate.SCHEMA.parse({"dataset": "fashion-mnist"}), args.fashion_rounds))
        except DataError as exc:
            print(f"(Fashion-MNIST left out: {exc})")
    engine = Engine(ProcessPool(workers, WORKER_PRELOAD))
    engine.pool.start()
    print(f"{'study':24s} {'one by one':>10s} {'stacked':>8s} {'speed-up':>8s} {'limit':>7s} "
          f"{'of limit: one':>14s} {'stacked':>8s} {'tasks':>10s}")
    for label, study, values, rounds in cases:
        timed(engine, study, {**values, "epochs": 1} if "epochs" in values else values, True)  # data cached
        best = {False: np.inf, True: np.inf}
        for round_ in range(rounds):  # alternate which path goes first: no order bias
            for stack in ((False, True) if round_ % 2 == 0 else (True, False)):
                best[stack] = min(best[stack], timed(engine, study, values, stack))
        single, stacked = best[False], best[True]
        limit = flops(study, values) / (rate * workers)
        trials = trials_of(study, values)
        tasks = f"{len(trials)} -> {len(stacks(trials))}"
        print(f"{label:24s} {single:9.2f}s {stacked:7.2f}s {single / stacked:7.2f}x {limit:6.2f}s "
              f"{limit / single:13.0%} {limit / stacked:8.0%} {tasks:>10s}")
    engine.shutdown()

    start = time.perf_counter()
    fresh = Engine(ProcessPool(workers, WORKER_PRELOAD))
    fresh.pool.start()
    started = time.perf_counter() - start
    values = learning_rate.SCHEMA.defaults()
    first, second = timed(fresh, learning_rate, values, True), timed(fresh, learning_rate, values, True)
    fresh.shutdown()
    print(f"\nfresh engine: workers started and warmed in {started:.2f} s; default learning-rate study: first run "
          f"{first:.2f} s, second {second:.2f} s ({first / second:.2f}x)")
    print(f"estimated by studies.cost for the default learning-rate study: "
          f"{cost.estimate(learning_rate, learning_rate.plan(values), workers):.2f} s (one by one)")


if __name__ == "__main__":
    main()
