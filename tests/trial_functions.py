"""Module-level trial functions for the engine tests (workers import them by name)."""
import os
import time

from service import cancel


def echo_or_fail(trial):
    if trial.params.get("fail"):
        raise RuntimeError(f"trial {trial.index} was told to fail")
    return {"seed": trial.seed, "pid": os.getpid(), "status": trial.params.get("status", "ok")}


def busy(trial):
    """Burn CPU for params['seconds'] (a stand-in for a long training run), polling the cancel
    token as the training loop does."""
    end = time.perf_counter() + trial.params["seconds"]
    x = 0
    while time.perf_counter() < end:
        x += 1
        if x % 10_000 == 0 and cancel.requested():
            return {"pid": os.getpid(), "status": "cancelled"}
    return {"pid": os.getpid(), "started": end - trial.params["seconds"], "ended": time.perf_counter()}


def die(trial):
    """A worker that disappears (killed by the system, out of memory)."""
    os._exit(1)


def worker_state(trial):
    """What this worker has loaded: the charting and UI modules among them, and the data sets read."""
    import sys

    from core.data import load_dataset

    return {"pid": os.getpid(), "ui": sorted(m for m in ("altair", "streamlit") if m in sys.modules),
            "trial_code": "studies.common.training" in sys.modules, "datasets": load_dataset.cache_info().currsize}


def shared_split_state(trial):
    """Which saved file this worker's prepared split is mapped from, as the kernel lists its mappings."""
    from core.data import prepare

    split = prepare(trial.params["dataset"], normalisation=trial.params["normalisation"])
    file = mapped_file(split.X_train)
    with open("/proc/self/maps") as handle:
        listed = file is not None and any(line.rstrip().endswith(file) for line in handle)
    return {"pid": os.getpid(), "file": file, "inode": os.stat(file).st_ino if file else None, "listed": listed,
            "sum": float(split.X_train.sum(dtype="float64"))}


def mapped_file(array):
    """The file an array is memory-mapped from, or None for an array in the process's own memory."""
    import numpy as np

    while array is not None:
        if isinstance(array, np.memmap):
            return str(array.filename)
        array = getattr(array, "base", None)
    return None
