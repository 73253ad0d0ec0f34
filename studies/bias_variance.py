"""The bias-variance polynomial toy (lecture 3.6.1, Fig. 70-75).

A known true function f(x) = sin(2 pi x) on [0, 1] (the lecture shows its function only as a
figure; this is the classic choice), m noisy samples y = f(x) + sigma N(0, 1), and polynomials of
degree 1 ... max_degree fitted by least squares to many resampled training sets. Fits use the
Legendre basis on [-1, 1] and an SVD solver, so degree 25 stays well conditioned where the
monomial basis x^k would not. Every degree sees the same training sets.

Where the inputs x lie matters as much as the basis: a degree-25 polynomial through 30 equally
spaced or random points swings wildly between them near the ends (Runge's phenomenon; variance
1e3 to 1e21). The default ``design="chebyshev"`` places the m inputs at Chebyshev points, denser
towards the ends, where the same fits stay bounded and the variance grows steadily with the
degree; ``equispaced`` and ``random`` (new uniform x for every set) show the blow-up on purpose.

Per degree, over a grid of test points x_g and the resampled sets D (expectations as in 3.6.1.2):
bias^2 = mean_g (E_D[h_D(x_g)] - f(x_g))^2, variance = mean_g Var_D[h_D(x_g)], noise = sigma^2,
and the test MSE measured against fresh noisy targets, which equals bias^2 + variance + sigma^2
up to Monte-Carlo error. MSE here is the plain mean of squares (no 1/2 factor), as in the
decomposition.

CSV (``--out``), one row per degree: ``study, trial, seed, degree, bias2, variance, noise,
expected_test_mse`` (= bias2 + variance + noise), ``test_mse`` (measured), ``test_mse_se`` (its
Monte-Carlo standard error), ``train_mse``, ``status``. Summary (``--summary-out``), one row:
``best_degree`` (lowest measured test MSE) with its numbers, and the degree-1 and highest-degree
test MSE (underfitting and overfitting ends).
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
from numpy.polynomial import legendre

from studies.schema import Param, Schema
from core import cancel
from studies.training import StudyResult

NAME = "bias_variance"
TITLE = "Bias-variance trade-off"
FIGURES = "Fig. 70-75"
SUMMARY = "Polynomial fits of rising degree: bias falls, variance rises, test error is their sum plus noise."
LABEL_KEYS = ("degree",)
GRID = 101        # test points on [0, 1]
FITS_SHOWN = 8    # fitted curves kept per degree for the Fig. 71/72 chart

SCHEMA = Schema([
    Param("max_degree", "int", 25, "Fit every polynomial degree from 1 up to this one.", "study", low=1, high=30),
    Param("samples", "int", 30, "Training points m per data set (lecture: m = 30).", "study", low=5, high=1000),
    Param("noise", "float", 0.1, "Standard deviation sigma of the Gaussian noise (lecture: 0.1).", "study",
          low=0.0, high=2.0),
    Param("design", "choice", "chebyshev", "Where the m inputs lie: chebyshev points (bounded fits), "
          "equispaced, or random uniform per data set (both blow up at high degree).", "study",
          choices=("chebyshev", "equispaced", "random")),
    Param("datasets", "int", 300, "Resampled training sets per degree: more sets, less Monte-Carlo error.",
          "study", low=10, high=5000),
    Param("show_degree", "int", 4, "Degree whose fitted curves are drawn (Fig. 71/72).", "study", low=1, high=30),
    Param("seed", "int", 0, "Seed of the training sets; every degree sees the same ones.", "study",
          low=0, high=2**31 - 1),
])


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
    return {"row": row, "fits": fits}


def fit_cost(p: dict) -> tuple[float, float]:
    """(FLOPs, calls) of ``fit_degree``: one least-squares fit and one grid evaluation per data set."""
    d = p["degree"] + 1
    return p["datasets"] * (4.0 * p["samples"] * d * d + 2.0 * GRID * d), p["datasets"] * 2


TRIAL, COST = fit_degree, fit_cost


def plan(values: dict) -> list[dict]:
    return [{**values, "degree": d} for d in range(1, values["max_degree"] + 1)]


def assemble(values: dict, results: list) -> StudyResult:
    results = sorted(results, key=lambda r: r.trial.index)
    rows = [{"study": NAME, "trial": r.trial.index, "seed": values["seed"], **r.payload.get("row", {
        "degree": r.trial.params["degree"]}), "status": r.status} for r in results]
    tidy = pd.DataFrame(rows)
    grid = np.linspace(0, 1, GRID)
    fits = pd.DataFrame([{"degree": r.trial.params["degree"], "curve": name, "x": x, "y": y}
                         for r in results for name, ys in r.payload.get("fits", {}).items() for x, y in zip(grid, ys)],
                        columns=["degree", "curve", "x", "y"])
    return StudyResult(NAME, dict(values), tidy, summarise(tidy), {"fits": fits})


def summarise(tidy: pd.DataFrame) -> pd.DataFrame:
    ok = tidy[tidy["status"] == "ok"]
    if ok.empty:
        return pd.DataFrame([{"best_degree": pd.NA}])
    best = ok.loc[ok["test_mse"].idxmin()]
    return pd.DataFrame([{"best_degree": int(best["degree"]), "best_test_mse": best["test_mse"],
                          "best_bias2": best["bias2"], "best_variance": best["variance"], "noise": best["noise"],
                          "degree1_test_mse": ok.iloc[0]["test_mse"], "max_degree": int(ok.iloc[-1]["degree"]),
                          "max_degree_test_mse": ok.iloc[-1]["test_mse"]}])


def trial_detail(result) -> str:
    row = result.payload.get("row")
    return f"bias^2 {row['bias2']:.3g}, variance {row['variance']:.3g}" if row else ""


def _against_degree(frame: pd.DataFrame, columns: dict[str, str], title: str) -> alt.Chart:
    long = frame.melt(id_vars=["degree"], value_vars=list(columns), var_name="quantity", value_name="value")
    long["quantity"] = long["quantity"].map(columns)
    long = long[long["value"] > 0]  # log axis
    pick = alt.selection_point(fields=["quantity"], bind="legend")
    return alt.Chart(long, title=title).mark_line(point=True).encode(
        x=alt.X("degree:Q", title="polynomial degree d"),
        y=alt.Y("value:Q", scale=alt.Scale(type="log"), title="mean squared error"),
        color=alt.Color("quantity:N", title=None),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.1)),
        tooltip=["degree:Q", "quantity:N", alt.Tooltip("value:Q", format=".4g")],
    ).add_params(pick).properties(width=360, height=240)


def fits_chart(fits: pd.DataFrame, degree: int, noise: float) -> alt.Chart:
    shown = fits[fits["degree"] == degree].assign(kind=lambda d: np.where(d["curve"] == "mean", "mean of all fits",
                                                                          "single fit"))
    grid = np.linspace(0, 1, GRID)
    true = pd.DataFrame({"x": grid, "y": truth(grid), "kind": "true f(x)", "curve": "truth"})
    data = pd.concat([shown, true], ignore_index=True)
    pad = 1.5 + 3 * noise
    return alt.Chart(data, title=f"Fits of degree {degree} to resampled data sets (Fig. 71/72)").mark_line().encode(
        x=alt.X("x:Q"), y=alt.Y("y:Q", scale=alt.Scale(domain=[-pad, pad], clamp=True), title="y"),
        detail="curve:N",
        color=alt.Color("kind:N", scale=alt.Scale(domain=["single fit", "mean of all fits", "true f(x)"],
                                                  range=["#9ecae1", "#08519c", "#d62728"]), title=None),
        strokeWidth=alt.condition("datum.kind == 'single fit'", alt.value(1), alt.value(3)),
        tooltip=["curve:N", alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("y:Q", format=".3f")],
    ).properties(width=360, height=240)


def charts_for(result: StudyResult) -> list[alt.Chart]:
    tidy = result.tidy[result.tidy["status"] == "ok"]
    degree = min(result.params["show_degree"], result.params["max_degree"])
    return [
        fits_chart(result.tables["fits"], degree, result.params["noise"]),
        _against_degree(tidy, {"bias2": "bias²", "variance": "variance", "expected_test_mse": "bias² + variance + σ²"},
                        "Bias and variance against capacity (Fig. 73/74)"),
        _against_degree(tidy, {"train_mse": "training MSE", "test_mse": "test MSE"},
                        "Training and test MSE against capacity (Fig. 75)"),
    ]


def takeaway(result: StudyResult) -> list[str]:
    s = result.summary.iloc[0]
    if pd.isna(s["best_degree"]):
        return ["Every degree failed; see the status column.", ""]
    return [f"Best degree {int(s['best_degree'])}: test MSE {s['best_test_mse']:.4f} = bias² {s['best_bias2']:.4f} + "
            f"variance {s['best_variance']:.4f} + noise {s['noise']:.4f} (up to Monte-Carlo error).",
            f"Underfitting at degree 1: {s['degree1_test_mse']:.3g}; overfitting at degree {int(s['max_degree'])}: "
            f"{s['max_degree_test_mse']:.3g}."]
