"""The universal-approximation study's trial (lecture 4.3.2): one hidden layer fits a function of
one variable, a linear (identity) output and MSE as in Fig. 100. No charting imports: workers import this."""
from __future__ import annotations

import numpy as np

from core.mlp import MLP, Training
from service import cancel

GRID = 201  # points on [-1, 1] where the fit is drawn and the test MSE measured
INPUT_SIGMA = 5.0  # input weights N(0, 5^2): steps steep enough to shape f on [-1, 1] (with biases 0 and a
                   # small spread every unit would change at x = 0 and the fit could only start from there)
FUNCTIONS = {  # f : [-1, 1] -> R, each showing another kind of shape a sum of sigmoids must build
    "sine": lambda x: np.sin(3 * np.pi * x),
    "step": lambda x: (x > 0).astype(float),
    "abs": lambda x: np.abs(x),
    "bump": lambda x: np.exp(-(x / 0.2) ** 2),
}


def samples(p: dict, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training points: x uniform on [-1, 1], y = f(x) plus Gaussian noise of ``noise``."""
    rng = np.random.default_rng([seed, 7])
    x = rng.uniform(-1, 1, size=p["samples"])
    return x[:, None], FUNCTIONS[p["function"]](x) + rng.normal(scale=p["noise"], size=len(x))


def run_trial(trial) -> dict:
    """Fit one unit count; the history's "error" is the MSE (the lecture's J, with its 1/2), the
    fit is kept on the grid."""
    p = trial.params
    X, y = samples(p, trial.seed)
    grid = np.linspace(-1, 1, GRID)[:, None]
    net = MLP([1, p["hidden_units"], 1], activation=p["activation"], output="identity", loss="mse",
              init="normal", init_sigma=INPUT_SIGMA, seed=trial.seed, dtype=np.float64)
    centres = np.random.default_rng([trial.seed, 8]).uniform(-1, 1, p["hidden_units"])
    net.biases[0][:] = -net.weights[0][0] * centres  # each unit's step somewhere in [-1, 1], as in Fig. 101-103
    how = Training(epochs=p["epochs"], learning_rate=p["learning_rate"], batch_size=p["batch_size"], optimiser="adam",
                   schedule="exponential", schedule_T=p["epochs"] / 2)
    history = net.fit(X, y, how, eval_sets={"train": (X, y), "test": (grid, FUNCTIONS[p["function"]](grid[:, 0]))},
                      stop=cancel.requested)
    return {"status": history.status, "rows": history.rows, "fit": net.predict_proba(grid)[:, 0].tolist()}


def cost(p: dict) -> tuple[float, float]:
    """(FLOPs, batches): a 1-n-1 network is all overhead, its batches and the two evaluations per epoch."""
    weights = 2 * p["hidden_units"]
    batches = -(-p["samples"] // p["batch_size"]) * p["epochs"]
    return 6.0 * weights * p["samples"] * p["epochs"], 2.5 * batches + 20 * (p["epochs"] + 1)


TRIAL, COST = run_trial, cost
