"""The optimiser study's trials: paths on the cost surfaces, or a training curve (no charting
imports: workers import this, not the study page's module)."""
from __future__ import annotations

import numpy as np

from core.optimisers import Hyper, minimise
from studies.common import cost
from studies.common.training import train_trial


def _saddle(x, y):
    return 0.5 * x ** 2 - 0.5 * y ** 2 + 0.25 * y ** 4, np.array([x, -y + y ** 3])


def _bowl(x, y):
    return 0.5 * (x ** 2 + 100 * y ** 2), np.array([x, 100 * y])


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2, np.array([-2 * (1 - x) - 400 * x * (y - x ** 2),
                                                             200 * (y - x ** 2)])


# name -> (cost and gradient at (x, y), start, (x range), (y range))
SURFACES = {
    "saddle point": (_saddle, (-2.0, 1e-3), (-2.2, 2.2), (-1.6, 1.6)),
    "elongated bowl": (_bowl, (-8.0, 1.0), (-9.0, 9.0), (-1.5, 1.5)),
    "Rosenbrock valley": (_rosenbrock, (-1.5, 2.0), (-2.0, 2.0), (-1.0, 3.0)),
}


def surface_paths(p: dict) -> list[dict]:
    """Each chosen optimiser's path on one surface at its best rate (lowest cost after the last step)."""
    function, start, _, _ = SURFACES[p["surface"]]
    rows = []
    for name in p["optimisers"]:
        best = None
        with np.errstate(all="ignore"):
            for rate in p["surface_rates"]:
                path = minimise(name, np.array(start), lambda t: function(*t)[1], p["steps"],
                                Hyper(rate, p["momentum"], p["beta2"] or None))
                final = function(*path[-1])[0]
                if np.isfinite(final) and (best is None or final < best[0]):
                    best = (final, rate, path)
        if best is not None:
            rows += [{"surface": p["surface"], "optimiser": name, "learning_rate": best[1], "step": i,
                      "x": float(x), "y": float(y), "cost": float(function(x, y)[0])}
                     for i, (x, y) in enumerate(best[2])]
    return rows


def run_trial(trial) -> dict:
    return {"paths": surface_paths(trial.params)} if trial.params["part"] == "surface" else train_trial(trial)


def trial_cost(p: dict) -> tuple[float, float]:
    if p["part"] == "surface":
        return 0.0, 2 * p["steps"] * len(p["optimisers"]) * len(p["surface_rates"])
    flops, calls = cost.training(p)
    return (flops, calls * 1.2) if p["optimiser"] != "gd" else (flops, calls)  # the general step: measured 1.2x


TRIAL, COST = run_trial, trial_cost
