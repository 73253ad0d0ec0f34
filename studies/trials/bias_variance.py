"""The bias-variance study's trial: one degree fitted to every resampled set (no charting imports:
workers import this, not the study page's module)."""
from __future__ import annotations

import numpy as np
from numpy.polynomial import legendre

from service import cancel


GRID = 101        # test points on [0, 1]
FITS_SHOWN = 8    # fitted curves kept per degree for the Fig. 71/72 chart


def truth(x: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * x)


def inputs(design: str, m: int, n_sets: int, rng: np.random.Generator) -> np.ndarray:
    """Training inputs x : (n_sets, m) in [0, 1]."""
    if design == "random":
        return rng.uniform(0, 1, size=(n_sets, m))
    if design == "chebyshev":
        x = 0.5 - 0.5 * np.cos(np.pi * (np.arange(m) + 0.5) / m)
    else:
        x = np.linspace(0, 1, m)
    return np.broadcast_to(x, (n_sets, m))


def fit_degree(trial) -> dict:
    """Fit one degree to every resampled training set; return its decomposition and a few curves."""
    p = trial.params
    degree, m, sigma, n_sets = p["degree"], p["samples"], p["noise"], p["datasets"]
    rng = np.random.default_rng(p["seed"])  # same sets for every degree: only the degree differs
    x_train = inputs(p["design"], m, n_sets, rng)
    y_train = truth(x_train) + sigma * rng.standard_normal((n_sets, m))
    f_grid = truth(np.linspace(0, 1, GRID))
    y_fresh = f_grid + sigma * rng.standard_normal((n_sets, GRID))
    grid_basis = legendre.legvander(np.linspace(-1, 1, GRID), degree)
    predictions = np.empty((n_sets, GRID))
    train_mse = np.empty(n_sets)
    for i in range(n_sets):
        if cancel.requested():
            return {"status": "cancelled"}
        basis = legendre.legvander(2 * x_train[i] - 1, degree)
        coef = np.linalg.lstsq(basis, y_train[i], rcond=None)[0]
        train_mse[i] = np.mean((basis @ coef - y_train[i]) ** 2)
        predictions[i] = grid_basis @ coef
    bias2 = float(np.mean((predictions.mean(axis=0) - f_grid) ** 2))
    variance = float(np.mean(predictions.var(axis=0)))
    per_set_test = np.mean((predictions - y_fresh) ** 2, axis=1)
    row = {"degree": degree, "bias2": bias2, "variance": variance, "noise": sigma ** 2,
           "expected_test_mse": bias2 + variance + sigma ** 2, "test_mse": float(per_set_test.mean()),
           "test_mse_se": float(per_set_test.std(ddof=1) / np.sqrt(n_sets)), "train_mse": float(train_mse.mean())}
    fits = {"mean": predictions.mean(axis=0), **{f"fit {i + 1}": predictions[i] for i in range(min(FITS_SHOWN, n_sets))}}
    return {"row": row, "fits": fits, "points": {"x": x_train[0].tolist(), "y": y_train[0].tolist()}}


def fit_cost(p: dict) -> tuple[float, float]:
    """(FLOPs, calls) of ``fit_degree``: one least-squares fit and one grid evaluation per data set."""
    d = p["degree"] + 1
    return p["datasets"] * (4.0 * p["samples"] * d * d + 2.0 * GRID * d), p["datasets"] * 2


TRIAL, COST = fit_degree, fit_cost
