"""Module-level trial functions for the runner tests (joblib workers import them by name)."""
import os


def echo_or_fail(trial):
    if trial.params.get("fail"):
        raise RuntimeError(f"trial {trial.index} was told to fail")
    return {"seed": trial.seed, "pid": os.getpid(), "status": trial.params.get("status", "ok")}


def busy(trial):
    """Burn CPU for params['seconds'] (a stand-in for a long training run)."""
    import time
    end = time.perf_counter() + trial.params["seconds"]
    x = 0
    while time.perf_counter() < end:
        x += 1
    return {"pid": os.getpid()}
