"""The decision-boundary study's trial: one setting trained, its class regions over a lattice kept
(no charting imports: workers import this, not the study page's module)."""
from __future__ import annotations

import numpy as np

from studies.common import cost
from studies.common.training import fit_trial, load_split, trial_payload


GRID = 32           # heatmap cells per axis
SNAPSHOTS = 8       # epochs kept for the slider


def plane(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A GRID x GRID lattice covering the points with a margin: cell centres (GRID², 2), axes."""
    low, high = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * (high - low)
    xs, ys = (np.linspace(low[i] - pad[i], high[i] + pad[i], GRID) for i in range(2))
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32), xs, ys


def run_trial(trial) -> dict:
    """Train one setting; keep its regions at the end (and, for the first setting, along the way)."""
    p = trial.params
    split = load_split(p)
    grid, _, _ = plane(np.concatenate([split.X_train, split.X_test]))
    keep = set(np.unique(np.geomspace(1, p["epochs"], SNAPSHOTS).astype(int))) | {0} if p["first"] else set()
    regions = []

    def snapshot(net, epoch, rows):
        if epoch in keep or epoch == p["epochs"]:
            proba = net.predict_proba(grid)
            regions.append({"epoch": epoch, "class": net.predict(grid).tolist(),
                            "p1": (proba[:, -1] if proba.shape[1] <= 2 else proba.max(axis=1)).tolist()})

    _, history, _, batch, n_train, eval_sets = fit_trial(trial, on_epoch=snapshot)
    return {**trial_payload(history, split, batch, n_train, eval_sets), "regions": regions}


TRIAL, COST = run_trial, cost.training
