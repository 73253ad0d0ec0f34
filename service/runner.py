"""Trials and their results, and how one trial is executed on a worker.

Vocabulary (as in optuna): a Study is a set of Trials; each trial ends in a status, ``ok``,
``diverged``, ``failed`` or ``cancelled``. A trial that raises is recorded as ``failed`` with its
message and the others go on. Workers receive only the trial's small parameter dict and load data
themselves (cached per process): shipping the arrays with every task costs more than it saves.
Scheduling trials over workers is ``service.engine``'s job.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

from threadpoolctl import threadpool_limits

from service import cancel

STATUSES = ("ok", "diverged", "failed", "cancelled")


@dataclass(frozen=True)
class Trial:
    """One training run: the full parameters it needs, and a seed derived from them."""

    study: str
    index: int
    params: dict = field(hash=False)
    seed: int = 0


@dataclass
class TrialResult:
    trial: Trial
    status: str
    payload: dict = field(default_factory=dict)
    message: str = ""
    seconds: float = 0.0


def derive_seed(study_seed: int, params: Mapping) -> int:
    """A trial's seed from the study seed and the trial's own parameters, never from run order,
    so any n_jobs, backend or completion order gives identical numbers."""
    text = json.dumps({"study_seed": int(study_seed), **params}, sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def make_trials(study: str, study_seed: int, param_list: list[dict], start: int = 0) -> list[Trial]:
    """Number the trials from ``start`` (a study that runs a second wave continues the count)."""
    return [Trial(study, i, dict(p), derive_seed(study_seed, p)) for i, p in enumerate(param_list, start)]


def execute(fn: Callable[[Trial], dict], trial: Trial, token=None) -> TrialResult:
    """Run one trial on one BLAS thread (parallelism comes from running trials side by side).

    ``token`` (see ``service.cancel``) is what the trial's training loop polls to stop early."""
    start = time.perf_counter()
    try:
        with threadpool_limits(limits=1), cancel.watching(token, trial.index):
            payload = dict(fn(trial))
        status = payload.pop("status", "ok")
        return TrialResult(trial, status, payload, payload.pop("message", ""), time.perf_counter() - start)
    except Exception as exc:  # a failing trial is a result, not a crash of the study
        return TrialResult(trial, "failed", {}, f"{type(exc).__name__}: {exc}", time.perf_counter() - start)
