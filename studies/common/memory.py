"""What a task will hold in a worker's memory before it runs, so a server refuses what cannot fit
instead of a worker dying of MemoryError (one Fashion-MNIST trial of four 2000-unit layers on full
batches peaked at 3.7 GB; a stack of three of them could not be allocated at all).

A worker's peak is its resting size plus the larger of two phases, both in bytes:

- preparing the data (``core.data.prepare``): the raw images (1 byte a pixel, cached), the uint8
  copies the splits make, and the float64 normalisation of the training split, which holds about
  ``PREP_BYTES`` bytes per training pixel at its peak. Only the first worker of a machine to need an
  IDX split prepares it; the others map its saved copy (``core.shared_splits``) and skip this
  phase, so for them the estimate errs on the safe side;
- training: the prepared float32 splits, the network's weights with their gradient buffers and
  optimiser slots, and the larger of one batch's activations and error signals (the input, every
  layer's activations, and three layer-sized arrays of the backward pass) or one evaluated split's activations (all at once for one network, in
  blocks of ``core.stack.EVAL_ROWS`` rows for a stack).

``tests/test_memory.py`` measures the peak resident size of fresh workers over a grid of sizes
against this estimate (within 30 %).
"""
from __future__ import annotations

import os

from core.data import dataset_shape
from core.stack import EVAL_ROWS
from studies.common.sizes import batch_of, layer_sizes, task_sizes, training_sizes

WORKER_BASE = 215 * 2 ** 20  # measured: a warmed worker before its first trial (Python, NumPy, pandas, scikit-learn)
PREP_BYTES = 14              # measured peak bytes per training pixel while a split is normalised
SLOTS = {"gd": 0, "momentum": 1, "nesterov": 1, "adagrad": 1, "rmsprop": 1, "adam": 2}  # state per weight
STACK_MAX_BYTES = 2 * 2 ** 30  # a fixed rule, never the machine's memory: a stack's members' numbers
                               # depend on their group, so a larger stack is cut into single trials
                               # everywhere alike (``studies.common.training.stacks``)


def data_bytes(p: dict) -> tuple[float, float]:
    """(peak while preparing, held while training) of a trial's data, beyond the worker's rest."""
    pool, n_test, n_in, _ = task_sizes(p)
    raw = sum(dataset_sizes(p)) * n_in
    n_train, _, _ = training_sizes({**p, "fold": None})
    val = round(pool * p["val_fraction"])
    prepare = raw + pool * n_in + PREP_BYTES * n_train * n_in
    held = raw + 4.0 * (n_train + val + n_test) * n_in
    if p.get("fold") is not None:  # the folds pool training and validation, and copy their part
        held += 8.0 * (n_train + val) * n_in
    return prepare, held


def dataset_sizes(p: dict) -> tuple[int, int]:
    """(samples, test samples) of the whole data set on disk, whatever the task selects."""
    n, n_test, _ = dataset_shape(p["dataset"], p.get("toy_samples", 0))
    return n, n_test


def network_bytes(p: dict, members: int = 1) -> float:
    """Weights, buffers and one batch's or one evaluation's activations of ``members`` networks of
    one shape trained together (a stack shares its batches and scores in blocks)."""
    _, n_test, n_in, n_classes = task_sizes(p)
    sizes = layer_sizes(p, n_in, n_classes)
    weights = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    units = sum(sizes[1:])
    n_train, n_eval, _ = training_sizes(p)
    batch = batch_of(p["batch_size"], n_train)
    optimiser = p.get("optimiser", "gd")
    general = optimiser != "gd" or p.get("l1") or p.get("dropout")
    params = 4.0 * weights * (2 + SLOTS.get(optimiser, 2) + (1 if general else 0)) * members
    one_batch = 4.0 * batch * (n_in + (units + 3 * max(sizes[1:])) * members)  # the batch, every layer's
    # activations, and a layer's error signal, the one below it and the activation's derivative
    largest_split = max(n_train, n_eval - n_train - n_test, n_test) if members == 1 else EVAL_ROWS
    evaluation = 4.0 * largest_split * units * members + 24.0 * largest_split * sizes[-1] * members
    targets = 4.0 * n_train * sizes[-1]
    return params + targets + max(one_batch, evaluation)


def task_bytes(p: dict, members: int = 1) -> float:
    """Peak resident bytes of a worker running one training task: a trial, or a stack of ``members``."""
    prepare, held = data_bytes(p)
    return WORKER_BASE + max(prepare, held + network_bytes(p, members))


def stack_fits(p: dict, members: int) -> bool:
    """Whether ``members`` trials of these parameters may train as one stack (the fixed rule)."""
    return task_bytes(p, members) - WORKER_BASE <= STACK_MAX_BYTES


def worker_budget(workers: int) -> float:
    """Bytes one worker may use: ``$EXPLORER_WORKER_MB``, else 80 % of the machine's memory shared
    by its workers (all of them may run their largest task at once)."""
    if os.environ.get("EXPLORER_WORKER_MB"):
        return float(os.environ["EXPLORER_WORKER_MB"]) * 2 ** 20
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return 0.8 * total / max(1, workers)


def describe(size: float) -> str:
    return f"{size / 2 ** 30:.1f} GB" if size >= 2 ** 30 else f"{size / 2 ** 20:.0f} MB"
