"""The regularisation study's trial: one method trained, its weight norm, sparsity and histograms
kept (no charting imports: workers import this, not the study page's module)."""
from __future__ import annotations

import numpy as np

from studies.common import cost
from studies.common.training import fit_trial, trial_payload


BINS = 40


def run_trial(trial) -> dict:
    net, *fitted = fit_trial(trial)
    payload = trial_payload(*fitted)
    payload["weight_norm"] = float(sum(np.sum(W.astype(np.float64) ** 2) for W in net.weights))
    payload["zero_share"] = float(np.mean(np.concatenate([np.abs(W.ravel()) < 1e-3 for W in net.weights])))
    if trial.params["repeat"] == 0:
        payload["histograms"] = [
            {"layer": f"layer {i}", "bin_left": float(a), "bin_right": float(b), "count": int(c)}
            for i, W in enumerate(net.weights, start=1)
            for c, a, b in zip(*_histogram(W.ravel()))]
    return payload


def _histogram(values: np.ndarray):
    counts, edges = np.histogram(values, bins=BINS, range=(-0.5, 0.5))
    return counts, edges[:-1], edges[1:]


def trial_cost(p: dict) -> tuple[float, float]:
    flops, calls = cost.training(p)
    return (flops, calls * 2) if p.get("l1") or p.get("dropout") else (flops, calls)


TRIAL, COST = run_trial, trial_cost
