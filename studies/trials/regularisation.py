"""The regularisation study's trial: one method trained, its weight norm, sparsity and histograms
kept (no charting imports: workers import this, not the study page's module)."""
from __future__ import annotations

import numpy as np

from studies.common import cost
from studies.common.training import fit_trial, trial_payload


BINS = 40


NEAR_ZERO = 1e-3  # |w| below this counts as pruned: plain gradient steps on L1 rarely land on exactly 0


def run_trial(trial) -> dict:
    net, *fitted = fit_trial(trial)
    payload = trial_payload(*fitted)
    weights = np.concatenate([W.ravel() for W in net.weights]).astype(np.float64)
    payload["weight_norm"] = float(np.sum(weights ** 2))
    payload["zero_share"] = float(np.mean(np.abs(weights) < NEAR_ZERO))
    payload["exact_zero_share"] = float(np.mean(weights == 0))
    if trial.params["repeat"] == 0:
        payload["histograms"] = [
            {"layer": f"layer {i}", "bin_left": float(a), "bin_right": float(b), "count": int(c)}
            for i, W in enumerate(net.weights, start=1)
            for c, a, b in zip(*_histogram(W.ravel()))]
    return payload


def _histogram(values: np.ndarray):
    """Over the layer's whole range, symmetric about 0 (Fig. 140's point is how the ranges differ)."""
    reach = float(np.abs(values).max()) or 1.0
    counts, edges = np.histogram(values, bins=BINS, range=(-reach, reach))
    return counts, edges[:-1], edges[1:]


def trial_cost(p: dict) -> tuple[float, float]:
    flops, calls = cost.training(p)
    return (flops, calls * 2) if p.get("l1") or p.get("dropout") else (flops, calls)


TRIAL, COST = run_trial, trial_cost
