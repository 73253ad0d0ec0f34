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

from studies.common import charts
from studies.common.schema import Param, Schema
from studies.common.takeaways import edge_note, number
from studies.common.training import StudyResult
from studies.trials.bias_variance import COST, GRID, TRIAL, truth  # noqa: F401

NAME = "bias_variance"
TITLE = "Bias-variance trade-off"
FIGURES = "Fig. 70-75"
SUMMARY = "Polynomial fits of rising degree: bias falls, variance rises, test error is their sum plus noise."
LABEL_KEYS = ("degree",)

SCHEMA = Schema([
    Param("max_degree", "int", 12, "Fit every polynomial degree from 1 up to this one.", "study", low=1, high=30),
    Param("samples", "int", 15, "Training points m per data set (lecture: m = 30; fewer points overfit sooner).",
          "study", low=5, high=1000),
    Param("noise", "float", 0.3, "Standard deviation sigma of the Gaussian noise (lecture: 0.1; more noise makes "
          "the overfitting plain).", "study", low=0.0, high=2.0),
    Param("design", "choice", "chebyshev", "Where the m inputs lie: chebyshev points (bounded fits), "
          "equispaced, or random uniform per data set (both blow up at high degree).", "study",
          choices=("chebyshev", "equispaced", "random")),
    Param("datasets", "int", 300, "Resampled training sets per degree: more sets, less Monte-Carlo error.",
          "study", low=10, high=5000),
    Param("show_degree", "int", 12, "Degree whose fitted curves are drawn (Fig. 71/72).", "study", low=1, high=30),
    Param("seed", "int", 0, "Seed of the training sets; every degree sees the same ones.", "study",
          low=0, high=2**31 - 1),
])




QUICK = {"datasets": "20"}

PRESETS = {  # the lecture's settings for its figures: parameter texts, as a link carries them
    "Fig. 70-75: m = 30, sigma = 0.1, degrees 1 to 25": {
        "samples": "30", "noise": "0.1", "max_degree": "25", "show_degree": "4", "design": "chebyshev"},
    "Runge's blow-up: equispaced inputs": {"samples": "15", "noise": "0.3", "max_degree": "14", "design": "equispaced",
                                           "show_degree": "14"},
}

def plan(values: dict) -> list[dict]:
    return [{**values, "degree": d} for d in range(1, values["max_degree"] + 1)]


TIDY_COLUMNS = ["study", "trial", "seed", "degree", "bias2", "variance", "noise", "expected_test_mse", "test_mse",
                "test_mse_se", "train_mse", "status"]


def assemble(values: dict, results: list) -> StudyResult:
    results = sorted(results, key=lambda r: r.trial.index)
    rows = [{"study": NAME, "trial": r.trial.index, "seed": values["seed"], **r.payload.get("row", {
        "degree": r.trial.params["degree"]}), "status": r.status} for r in results]
    tidy = pd.DataFrame(rows, columns=TIDY_COLUMNS)  # the columns also when no degree has finished yet
    grid = np.linspace(0, 1, GRID)
    fits = pd.DataFrame([{"degree": r.trial.params["degree"], "curve": name, "x": x, "y": y}
                         for r in results for name, ys in r.payload.get("fits", {}).items() for x, y in zip(grid, ys)],
                        columns=["degree", "curve", "x", "y"])
    points = next((pd.DataFrame(r.payload["points"]) for r in results if "points" in r.payload),
                  pd.DataFrame(columns=["x", "y"]))  # every degree sees the same sets: any trial's first set
    return StudyResult(NAME, dict(values), tidy, summarise(tidy), {"fits": fits, "points": points})


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


def _against_degree(frame: pd.DataFrame, columns: dict[str, str], title: str, look_for: str,
                    log: bool = True) -> alt.Chart:
    """Quantities against the degree: on a log axis (bias² and variance span decades), or on a linear
    one whose top is cut at ``CUT`` times the lowest curve's minimum, so that a test error turning up
    again is seen rather than squashed flat by the largest values (the title says where it is cut)."""
    long = frame.melt(id_vars=["degree"], value_vars=list(columns), var_name="quantity", value_name="value")
    long["quantity"] = long["quantity"].map(columns)
    if log:
        long = long[long["value"] > 0]
        y_scale, cut = alt.Scale(type="log"), None
    else:
        top = CUT * frame[list(columns)[-1]].min()
        cut = top if long["value"].max() > top else None
        y_scale = alt.Scale(domain=[0, cut], clamp=True) if cut else alt.Scale(zero=True)
    pick = alt.selection_point(fields=["quantity"], bind="legend")
    chart = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("degree:Q", title="polynomial degree d (capacity)", scale=alt.Scale(nice=False, padding=10),
                axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("value:Q", scale=y_scale, title="mean squared error", axis=alt.Axis(format="~g")),
        color=alt.Color("quantity:N", title=None, sort=list(columns.values()),
                        scale=charts.categorical(list(columns.values())), legend=charts.line_legend(columns.values())),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.1)),
        tooltip=["degree:Q", "quantity:N", alt.Tooltip("value:Q", format=".4g")],
    ).add_params(pick)
    return charts.finish(chart, title + (f" (axis cut at {number(cut)}; larger values drawn at the top)" if cut
                                         else ""), look_for)


CUT = 3  # the linear MSE axis ends at this many times the lowest test MSE, when larger values would squash it


def fits_chart(fits: pd.DataFrame, points: pd.DataFrame, degree: int, noise: float) -> alt.Chart:
    shown = fits[fits["degree"] == degree].assign(kind=lambda d: np.select(
        [d["curve"] == "mean", d["curve"] == "fit 1"], ["mean of all fits", "fit to the points shown"],
        "fits to other training sets"))
    grid = np.linspace(0, 1, GRID)
    true = pd.DataFrame({"x": grid, "y": truth(grid), "kind": "true f(x)", "curve": "truth"})
    kinds = ["fits to other training sets", "fit to the points shown", "mean of all fits", "true f(x)", "training set 1"]
    colour = alt.Color("kind:N", title=None, legend=charts.legend(kinds),
                       scale=alt.Scale(domain=kinds, range=[charts.NEUTRAL, *charts.PALETTE[1::-1], charts.PALETTE[2],
                                                            charts.PALETTE[1]]))
    pad = 1.5 + 3 * noise
    y = alt.Y("y:Q", scale=alt.Scale(domain=[-pad, pad], clamp=True), title="y")
    lines = alt.Chart(pd.concat([shown, true], ignore_index=True)).mark_line().encode(
        x=alt.X("x:Q", title="x"), y=y, detail="curve:N", color=colour,
        strokeWidth=alt.condition("datum.kind == 'fits to other training sets'", alt.value(1), alt.value(2.5)),
        tooltip=["curve:N", alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("y:Q", format=".3f")])
    dots = alt.Chart(points.assign(kind="training set 1")).mark_point(filled=True, size=55, stroke="white",
                                                                        strokeWidth=0.8).encode(
        x="x:Q", y=y, color=colour, tooltip=[alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("y:Q", format=".3f")])
    return charts.finish(lines + dots, f"Fits of degree {degree} to resampled training sets (Fig. 71/72)",
                         "Look for: a low degree misses the shape of f the same way every time (bias); a high "
                         "degree passes through its points but swings differently for every set (variance).")


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    tidy = result.tidy[result.tidy["status"] == "ok"]
    degree = min(result.params["show_degree"], result.params["max_degree"])
    return [
        fits_chart(result.tables["fits"], result.tables.get("points", pd.DataFrame(columns=["x", "y"])), degree,
                   result.params["noise"]),
        _against_degree(tidy, {"bias2": "bias²", "variance": "variance", "expected_test_mse": "bias² + variance + σ²"},
                        "Bias and variance against capacity (Fig. 73/74)",
                        "Look for: bias² falls and variance rises with the degree; their sum plus the noise σ² is "
                        "lowest in between."),
        _against_degree(tidy, {"train_mse": "training MSE", "test_mse": "test MSE"},
                        "Training and test MSE against capacity (Fig. 75)",
                        "Look for: the training error keeps falling, the test error turns up again: past its "
                        "minimum, more capacity overfits.", log=False),
    ]



def compare(runs: list) -> list[alt.Chart]:
    """Two runs' bias², variance and test MSE against the degree, the pinned one dashed."""
    names = {"bias2": "bias²", "variance": "variance", "test_mse": "test MSE"}
    frame = pd.concat([r.tidy.melt(id_vars=["degree"], value_vars=list(names), var_name="quantity",
                                   value_name="value").assign(run=label) for label, r in runs], ignore_index=True)
    frame["quantity"] = frame["quantity"].map(names)
    return [charts.compare_lines(frame[frame["value"] > 0], "degree", "value", "quantity", [l for l, _ in runs],
                                 "Bias², variance and test MSE against the degree, both runs",
                                 "Look for: how noise and sample count move the best degree and the variance.",
                                 y_title="mean squared error", y_format="~g", colour_order=list(names.values()),
                                 ordered_values=False)]


def takeaway(result: StudyResult) -> list[str]:
    s = result.summary.iloc[0]
    if pd.isna(s["best_degree"]):
        return ["Every degree failed; see the status column.", ""]
    n = number
    edge = edge_note(range(1, int(s["max_degree"]) + 1), int(s["best_degree"]), "lower", "higher", floor=1)
    return [f"Best degree {int(s['best_degree'])}: test MSE {n(s['best_test_mse'])} = bias² {n(s['best_bias2'])} + "
            f"variance {n(s['best_variance'])} + noise {n(s['noise'])} (up to Monte-Carlo error).{edge}",
            f"Underfitting at degree 1: {s['degree1_test_mse']:.3g}; overfitting at degree {int(s['max_degree'])}: "
            f"{s['max_degree_test_mse']:.3g}."]
