"""Module-level trial functions for the runner tests (joblib workers import them by name)."""
import os


def echo_or_fail(trial):
    if trial.params.get("fail"):
        raise RuntimeError(f"trial {trial.index} was told to fail")
    return {"seed": trial.seed, "pid": os.getpid(), "status": trial.params.get("status", "ok")}
