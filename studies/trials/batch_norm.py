"""The batch-normalisation study's trial: one network trained, with or without batch normalisation,
and the distribution of what each hidden activation receives kept (no charting imports)."""
from __future__ import annotations

import numpy as np

from studies.common import cost
from studies.common.training import fit_trial, trial_payload

BINS = 40


def run_trial(trial) -> dict:
    net, history, split, batch, n_train, eval_sets = fit_trial(trial)
    payload = trial_payload(history, split, batch, n_train, eval_sets)
    if trial.params["repeat"] == 0 and history.status == "ok":
        payload["logits"] = logit_histograms(net.hidden_logits(split.X_val))
    return payload


def logit_histograms(logits: list[np.ndarray]) -> list[dict]:
    """Per hidden layer, the density of its logits over the validation split (each layer's own range)."""
    rows = []
    for layer, z in enumerate(logits, start=1):
        values = z.ravel().astype(np.float64)
        low, high = float(values.min()), float(values.max())
        if high - low < 1e-9:
            low, high = low - 0.5, high + 0.5
        density, edges = np.histogram(values, bins=BINS, range=(low, high), density=True)
        rows += [{"layer": layer, "z": float((a + b) / 2), "density": float(d)}
                 for a, b, d in zip(edges[:-1], edges[1:], density)]
    return rows


TRIAL, COST = run_trial, cost.training
