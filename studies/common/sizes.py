"""A trial's sizes from its parameters, computed here once for the trial that trains, the cost model
and the memory model: its task's samples, inputs and classes, its layers and its batch."""
from __future__ import annotations

from core.data import CLASS_NAMES, DIGITS_TEST_FRACTION, dataset_shape


def task_sizes(p: dict) -> tuple[int, int, int, int]:
    """(pool of training + validation samples, test samples, inputs, classes) of a trial's task."""
    n, n_test, n_in = dataset_shape(p["dataset"], p.get("toy_samples", 0))
    all_classes = len(CLASS_NAMES[p["dataset"]])
    share = 2 / all_classes if len(p.get("classes", ())) == 2 else 1.0
    if not n_test:  # digits and the toy sets: the test split is cut from the data
        n_test = round(n * DIGITS_TEST_FRACTION)
        n -= n_test
    pool, n_test = round(n * share), round(n_test * share)
    return pool, n_test, n_in, 2 if share < 1 else all_classes


def training_sizes(p: dict) -> tuple[int, int, int]:
    """(samples trained on, samples evaluated per epoch, splits evaluated) of a training trial."""
    pool, n_test, _, _ = task_sizes(p)
    val = round(pool * p["val_fraction"])
    train = min(pool - val, p["max_train"] or pool)
    fold = p.get("fold")
    if fold is None:
        return train, train + val + n_test, 3
    pool = train + val
    if fold < 0:
        return pool, pool + n_test, 2
    return pool - pool // p["k"], pool, 2


def layer_sizes(p: dict, n_in: int, n_classes: int) -> list[int]:
    """[inputs, *hidden, outputs]: one output unit for a sigmoid output on two classes (the lecture's
    generalised perceptron), else one per class."""
    n_out = 1 if p["output"] == "sigmoid" and n_classes == 2 else n_classes
    return [n_in, *p["hidden"], n_out]


def batch_of(batch_size, n_train: int) -> int:
    """Samples per update: ``full`` is every training sample; no batch exceeds the training set."""
    return n_train if batch_size == "full" else max(1, min(int(batch_size), n_train))
