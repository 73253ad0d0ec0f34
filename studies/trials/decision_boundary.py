"""The decision-boundary study's trial: one setting trained, its class regions over a lattice kept
(no charting imports: workers import this, not the study page's module)."""
from __future__ import annotations

import numpy as np

from studies.common import cost
from studies.common.config import TrainingConfig
from studies.common.training import fit_trial, load_split, trial_payload


GRID = 64           # lattice points per axis: with the browser's smoothing the regions look continuous
SNAPSHOTS = 12      # epochs kept per setting, spaced geometrically: the frames of its animation


def plane(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A GRID x GRID lattice covering the points with a margin: cell centres (GRID², 2), axes."""
    low, high = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * (high - low)
    xs, ys = (np.linspace(low[i] - pad[i], high[i] + pad[i], GRID) for i in range(2))
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32), xs, ys


def snapshot_epochs(epochs: int) -> set[int]:
    """0, the last epoch and geometrically spaced ones between: early epochs change the boundary most."""
    return set(np.unique(np.geomspace(1, epochs, SNAPSHOTS).astype(int))) | {0, epochs}


def run_trial(trial) -> dict:
    """Train one setting; keep its predicted class and that class's probability over the lattice at
    the snapshot epochs (``regions``)."""
    p = trial.params
    split = load_split(TrainingConfig.of(p))
    grid, _, _ = plane(np.concatenate([split.X_train, split.X_test]))
    keep = snapshot_epochs(p["epochs"])
    regions = []

    def snapshot(net, epoch, rows):
        if epoch in keep:
            proba = net.predict_proba(grid)
            if proba.shape[1] == 1:  # one sigmoid unit: the probability of class 1
                proba = np.column_stack([1 - proba[:, 0], proba[:, 0]])
            regions.append({"epoch": epoch, "class": proba.argmax(axis=1).astype(np.int8),
                            "p": proba.max(axis=1).astype(np.float32)})

    _, history, _, batch, n_train, eval_sets = fit_trial(trial, on_epoch=snapshot)
    return {**trial_payload(history, split, batch, n_train, eval_sets), "regions": regions}


TRIAL, COST = run_trial, cost.training
