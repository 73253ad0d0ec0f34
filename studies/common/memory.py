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

``tests/studies/test_memory.py`` measures the peak resident size of fresh workers over a grid of sizes
against this estimate (within 30 %).
"""
from __future__ import annotations

from dataclasses import replace

from core.data import dataset_shape
from core.stack import EVAL_ROWS
from studies.common.config import TrainingConfig

WORKER_BASE = 215 * 2 ** 20  # measured: a warmed worker before its first trial (Python, NumPy, pandas, scikit-learn)
PREP_BYTES = 14              # measured peak bytes per training pixel while a split is normalised
SLOTS = {"gd": 0, "momentum": 1, "nesterov": 1, "adagrad": 1, "rmsprop": 1, "adam": 2}  # state per weight
STACK_MAX_BYTES = 2 * 2 ** 30  # a fixed rule, never the machine's memory: a stack's members' numbers
                               # depend on their group, so a larger stack is cut into single trials
                               # everywhere alike (``studies.common.training.stacks``)


def data_bytes(p: dict) -> tuple[float, float]:
    """(peak while preparing, held while training) of a trial's data, beyond the worker's rest."""
    c = TrainingConfig.of(p)
    pool, n_test, n_in, _ = c.task
    raw = sum(dataset_shape(c.dataset, c.toy_samples)[:2]) * n_in  # the whole data set, whatever the task selects
    n_train, _, _ = replace(c, fold=None).samples
    val = round(pool * c.val_fraction)
    prepare = raw + pool * n_in + PREP_BYTES * n_train * n_in
    held = raw + 4.0 * (n_train + val + n_test) * n_in
    if c.fold is not None:  # the folds pool training and validation, and copy their part
        held += 8.0 * (n_train + val) * n_in
    return prepare, held


def network_bytes(p: dict, members: int = 1) -> float:
    """Weights, buffers and one batch's or one evaluation's activations of ``members`` networks of
    one shape trained together (a stack shares its batches and scores in blocks)."""
    c = TrainingConfig.of(p)
    n_test, n_in, sizes = c.task[1], c.task[2], c.layers
    weights = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    units = sum(sizes[1:])
    n_train, n_eval, _ = c.samples
    batch = c.batch(n_train)
    params = 4.0 * weights * (2 + SLOTS.get(c.optimiser, 2) + (1 if c.general else 0)) * members
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


def describe(size: float) -> str:
    return f"{size / 2 ** 30:.1f} GB" if size >= 2 ** 30 else f"{size / 2 ** 20:.0f} MB"
