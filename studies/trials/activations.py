"""The activation-function study's trial (Table 6, 5.1.6): a deep network trained with one activation,
then how many of its hidden units are dead and how much of it is saturated, on the validation split
(no charting imports: workers import this)."""
from __future__ import annotations

import numpy as np

from studies.common import cost
from studies.common.training import fit_trial, trial_payload

SATURATED = 0.05  # a unit-sample pair passes back less than this share of the activation's largest slope
SATURATING = ("sigmoid", "tanh", "elu")  # flat tails; ReLU's z < 0 is off, not saturated, Leaky ReLU's is its alpha


def run_trial(trial) -> dict:
    net, history, split, batch, n_train, eval_sets = fit_trial(trial)
    payload = trial_payload(history, split, batch, n_train, eval_sets)
    if history.status in ("ok", "diverged"):
        with np.errstate(all="ignore"):
            slopes, peak = net.activation_slopes(split.X_val)
        saturates = trial.params["activation"] in SATURATING
        payload["units"] = [{"layer": layer, "dead": float(np.mean((s == 0).all(axis=0))),
                             "saturated": float(np.mean(s < SATURATED * peak)) if saturates else None}
                            for layer, s in enumerate(slopes, start=1)]
    return payload


TRIAL, COST = run_trial, cost.training
