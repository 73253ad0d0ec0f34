"""What a run will cost before it runs: seconds estimated from FLOPs and per-call overhead.

A trial's time is modelled as ``a * flops + b * calls``: ``flops`` counts the matrix products
(training 6 W per sample, forward 2 W, backward 4 W, with W the number of weights; evaluation 2 W
per sample and epoch), ``calls`` the batches (each costs a fixed overhead of NumPy calls whatever
its size; evaluating one split after an epoch costs about ``EVAL_CALLS`` batches' overhead). ``a`` and ``b`` are measured once per process on this machine by two short trainings,
one dominated by arithmetic and one by overhead. A run's wall time is its trials' total over the
workers, never less than its longest trial.
"""
from __future__ import annotations

import functools
import math
import time

import numpy as np
from threadpoolctl import threadpool_limits

from core.mlp import MLP, Training
from studies.common import memory
from studies.common.config import TrainingConfig
from studies.common.training import stacks, train_trial, trial_seeds

STARTUP_SECONDS = 0.002 # a run's fixed cost: dispatch, assembling the tables
TRIAL_SECONDS = 0.003   # a trial's fixed cost: sending it to a worker, its result back
EVAL_CALLS = 10         # measured: one evaluation of a split costs ten batches' overhead
EVAL_FLOP_FACTOR = 4    # measured: a forward pass over a whole split is bound by reading the inputs
                        # from memory, about 4x slower per FLOP than the cache-sized training batches
# a batch's overhead off plain GD's fused path, measured on digits (64-30-10, batch 8, one core):
# momentum, Nesterov, L1, dropout or clipping 1.3-1.4x, the adaptive optimisers 2.5x, batch norm 2.7x
GENERAL_CALLS, ADAPTIVE_CALLS, BATCH_NORM_CALLS = 1.4, 2.5, 2.0


@functools.lru_cache(maxsize=1)
def calibration() -> tuple[float, float]:
    """(seconds per FLOP, seconds per batch) on one core of this machine."""
    rng = np.random.default_rng(0)

    def timed(sizes, n, batch, epochs):
        X, y = rng.standard_normal((n, sizes[0]), dtype=np.float32), rng.integers(0, sizes[-1], n)
        net = MLP(sizes, seed=0)
        best = math.inf
        for _ in range(5):  # the best of five: this VM's speed drifts, the fastest is the machine's own
            start = time.perf_counter()
            net.fit(X, y, Training(epochs=epochs, learning_rate=0.01, batch_size=batch))
            best = min(best, time.perf_counter() - start)
        weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        return best, 6.0 * weights * n * epochs, math.ceil(n / batch) * epochs

    with threadpool_limits(limits=1):
        t_small, f_small, c_small = timed([64, 30, 10], 1024, 8, 1)        # overhead-bound
        t_big, f_big, c_big = timed([784, 256, 10], 2048, 512, 1)         # arithmetic-bound
    per_call = max((t_small - t_big * f_small / f_big) / (c_small - c_big * f_small / f_big), 1e-7)
    per_flop = max((t_big - per_call * c_big) / f_big, 1e-13)
    return per_flop, per_call


def training(p: dict, evaluate: bool = True, eval_factor: float = EVAL_FLOP_FACTOR) -> tuple[float, float]:
    """(FLOPs, batches) of one training trial with the schema's parameters; the evaluation's FLOPs
    count ``eval_factor`` times (1: the arithmetic itself, as a FLOP-based limit wants it)."""
    c = TrainingConfig.of(p)
    n_test, sizes = c.task[1], c.layers
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    n_train, n_eval, splits = c.samples
    batch = c.batch(n_train)
    epochs = c.epochs
    epochs_evaluated = epochs + 1
    if not evaluate:  # trained silently, then the test split scored once
        n_eval, splits, epochs_evaluated = n_test, 1, 1
    flops = 6.0 * weights * n_train * epochs + eval_factor * 2.0 * weights * n_eval * epochs_evaluated
    return flops, math.ceil(n_train / batch) * epochs * batch_overhead(c) + EVAL_CALLS * splits * epochs_evaluated


def batch_overhead(c: TrainingConfig) -> float:
    """A batch's fixed cost relative to plain GD's (an upper bound with patience: every epoch counted)."""
    factor = ADAPTIVE_CALLS if c.optimiser in ("adagrad", "rmsprop", "adam") else GENERAL_CALLS if (
        c.optimiser != "gd" or c.l1 or c.dropout or c.clip_value or c.clip_norm) else 1.0
    return factor * (BATCH_NORM_CALLS if c.batch_norm == "on" else 1.0)


def scoring(p: dict) -> tuple[float, float]:
    """A trial that trains without evaluating every epoch, then scores the test split once."""
    return training(p, evaluate=False)


def trial_seconds(cost, params: dict) -> float:
    per_flop, per_call = calibration()
    flops, calls = cost(params)
    return TRIAL_SECONDS + per_flop * flops + per_call * calls


def task_seconds(study, param_list: list[dict]) -> list[float]:
    """Estimated seconds of each task the engine will run: one per trial, or per stack of compatible
    training trials (``studies.common.training.stacks``), counted as its members' time together
    (bench/study_speed.py measures what stacking saves on top)."""
    seconds = [trial_seconds(study.COST, p) for p in param_list]
    if study.TRIAL is not train_trial:
        return seconds
    trials = trial_seeds(study.NAME, 0, param_list)
    return [sum(seconds[m.index] for m in task.params.get("members", [task])) for task in stacks(trials)]


def estimate(study, param_list: list[dict], workers: int) -> float:
    """Estimated wall seconds of a run of these trials on ``workers`` workers."""
    return spread(task_seconds(study, param_list), workers)


def spread(seconds: list[float], workers: int) -> float:
    """Wall seconds of tasks of these estimated seconds shared out over ``workers`` workers."""
    if not seconds:
        return 0.0
    return STARTUP_SECONDS + max(sum(seconds) / max(1, min(workers, len(seconds))), max(seconds))


def work(study, values: dict) -> float:
    """Estimated seconds of one worker for the whole run (what it adds to the queue)."""
    return sum(task_seconds(study, planned(study, values)))


def describe(seconds: float) -> str:
    """Seconds in the words a person reads under a Run button: "about 40 s", "about 3 min"."""
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


class TooLarge(ValueError):
    """A run estimated to take longer than the limit, or to need more memory than a worker may use;
    the message says what to reduce."""


def planned(study, values: dict) -> list[dict]:
    """The trials the run-size and memory limits cover: the plan, or a search's whole budget at its
    costliest configuration (``bounding_plan``), since its later waves are not known in advance."""
    from studies.common.protocol import BoundedStudy

    return study.bounding_plan(values) if isinstance(study, BoundedStudy) else study.plan(values)


def check_limit(study, values: dict, workers: int, max_minutes: float) -> float:
    """The run's estimated seconds, or TooLarge when they exceed ``max_minutes``."""
    seconds = estimate(study, planned(study, values), workers)
    if seconds > 60 * max_minutes:
        schema = study.SCHEMA.params
        knobs = [name for name in ("epochs", "repeats", "max_train", "datasets", "k", "budget") if name in schema]
        raise TooLarge(f"This run would take {describe(seconds)} on {workers} cores, over the limit of "
                       f"{max_minutes:g} min. Reduce {', '.join(knobs)} or the number of values compared, "
                       "or pick a smaller network.")
    return seconds


def task_peaks(study, param_list: list[dict]) -> list[float]:
    """Estimated peak bytes of a worker running each task of the run (``studies.common.memory``)."""
    if study.TRIAL is not train_trial:
        return [memory.task_bytes(p) if "hidden" in p and "batch_size" in p else memory.WORKER_BASE
                for p in param_list]
    tasks = stacks(trial_seeds(study.NAME, 0, param_list))
    return [memory.task_bytes(task.params["members"][0].params, len(task.params["members"]))
            if "members" in task.params else memory.task_bytes(task.params) for task in tasks]


def check_memory(study, values: dict, budget: float | None, workers: int) -> float:
    """The largest task's estimated peak bytes, or TooLarge when it exceeds ``budget``, the bytes
    each of the ``workers`` that will run it may use (None: their pool knows no limit)."""
    peak = max(task_peaks(study, planned(study, values)), default=0.0)
    if budget is not None and peak > budget:
        raise TooLarge(f"One trial of this run would need about {memory.describe(peak)} of memory, more than the "
                       f"{memory.describe(budget)} one worker may use ({workers} worker{'s' if workers != 1 else ''} "
                       "would run it). Use fewer or smaller hidden layers, a smaller batch size ('full' holds "
                       "every sample's activations at once), or a smaller max_train.")
    return peak
