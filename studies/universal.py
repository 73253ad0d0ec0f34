"""Universal approximation (lecture 4.3.2, Fig. 100-103): one hidden layer with a linear output
fits a function of one variable, better with every unit added.

Each trial fits one unit count to ``samples`` points of f on [-1, 1] (MSE, Adam with an
exponentially decaying rate so the fit settles); the test MSE is measured on a fine grid of f
itself. The lesson: a few units draw a coarse staircase, enough units follow f as closely as
wanted ("provided that the network is given a sufficient number of hidden units").

CSV (``--out``): the tidy columns of DESIGN.md with ``error`` holding the MSE (J, with its 1/2),
then ``hidden_units`` and ``repeat``; tables ``fits`` (the fitted curve per trial on the grid).
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from studies.common import charts
from studies.common.schema import Param, Schema
from studies.common.takeaways import number
from studies.common.training import StudyResult, assemble_training, sweep
from studies.trials.universal import COST, FUNCTIONS, GRID, TRIAL  # noqa: F401

NAME = "universal"
TITLE = "Universal approximation"
FIGURES = "4.3.2, Fig. 100-103"
SUMMARY = "One hidden layer fits a 1-D function: a few units draw steps, enough units follow it closely."
SWEPT = "hidden_units"
LABEL_KEYS = (SWEPT, "repeat")

SCHEMA = Schema([
    Param("function", "choice", "sine", "f on [-1, 1]: sine sin(3πx), step, abs |x|, bump exp(-(x/0.2)^2).", "data",
          choices=tuple(FUNCTIONS)),
    Param("samples", "int", 200, "Training points, x uniform on [-1, 1].", "data", low=5, high=20_000),
    Param("noise", "float", 0.0, "Standard deviation of the Gaussian noise added to the training targets.", "data",
          low=0.0, high=2.0),
    Param("activation", "choice", "sigmoid", "Hidden activation (Fig. 100 uses the sigmoid).", "model",
          choices=("sigmoid", "tanh", "relu", "leaky_relu", "elu")),
    Param("learning_rate", "float", 0.02, "Adam's initial rate; it decays tenfold over each half of the epochs.",
          "optimisation", low=1e-5, high=1.0),
    Param("batch_size", "int", 32, "Samples per update.", "optimisation", low=1, high=20_000),
    Param("epochs", "int", 1500, "Passes over the training points.", "optimisation", low=1, high=10_000),
    Param("hidden_units", "ints", (1, 2, 4, 8, 16, 32), "Hidden units to compare.", "study", low=1, high=512,
          min_len=1, max_len=10),
    Param("repeats", "int", 2, "Trials per unit count, each with its own initialisation and points.", "study",
          low=1, high=20),
    Param("seed", "int", 0, "Study seed: fixes every trial's seed.", "study", low=0, high=2**31 - 1),
])

QUICK = {"epochs": "20", "hidden_units": "1,4"}

PRESETS = {
    "Fig. 101-103: a step from sigmoids": {"function": "step", "hidden_units": "1,2,4,8"},
    "A bump: one unit cannot draw it, four can": {"function": "bump", "hidden_units": "1,2,3,4,8"},
}


def plan(values: dict) -> list[dict]:
    return sweep(values, SWEPT, values["hidden_units"], "hidden_units")


def assemble(values: dict, results: list) -> StudyResult:
    result = assemble_training(NAME, values, results, [SWEPT])
    grid = np.linspace(-1, 1, GRID)
    result.tables["fits"] = pd.DataFrame(
        [{"trial": r.trial.index, SWEPT: r.trial.params[SWEPT], "repeat": r.trial.params["repeat"], "x": x, "y": y}
         for r in results for x, y in zip(grid, r.payload.get("fit") or [])],
        columns=["trial", SWEPT, "repeat", "x", "y"])
    result.summary = result.summary.rename(columns={"final_train_error": "final_train_mse",
                                                    "final_test_error": "final_test_mse"}).drop(
        columns=["final_val_error", "best_val_error", "best_epoch", "stopped_epoch", "kept_epoch", "val_samples", "test_samples"])
    return result


def _fit_chart(result: StudyResult) -> alt.Chart:
    fits = result.tables["fits"]
    fits = fits[fits["repeat"] == fits["repeat"].min()] if len(fits) else fits
    units = sorted(set(fits[SWEPT]))
    labels = [f"{u} unit{'s' if u != 1 else ''}" for u in units]
    shown = fits.assign(curve=fits[SWEPT].map(dict(zip(units, labels))))
    grid = np.linspace(-1, 1, GRID)
    target = pd.DataFrame({"x": grid, "y": FUNCTIONS[result.params["function"]](grid)})
    truth = alt.Chart(target).mark_line(color=charts.NEUTRAL, strokeWidth=5, opacity=0.6).encode(
        x=alt.X("x:Q", title="x"), y=alt.Y("y:Q", title="f(x) and the network's fit"))
    lines = alt.Chart(shown).mark_line(strokeWidth=2).encode(
        x="x:Q", y="y:Q", color=alt.Color("curve:N", title="hidden units (grey: f itself)", sort=labels,
                                          scale=charts.ordered(labels), legend=charts.line_legend(labels)),
        tooltip=["curve:N", alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("y:Q", format=".3f")])
    return charts.finish(truth + lines, f"Fits of {result.params['function']} by one hidden layer (4.3.2)",
                         "Look for: one unit draws a single step; each unit added places another step, until the "
                         "sum follows f (the grey line) everywhere.")


def _mse_chart(summary: pd.DataFrame) -> alt.Chart:
    data = summary[summary["final_test_mse"] > 0]
    x = charts.log_axis(SWEPT, data[SWEPT])
    y = alt.Y("final_test_mse:Q", title="test MSE on f (log)", scale=alt.Scale(type="log"), axis=alt.Axis(format="~g"))
    points = alt.Chart(data).mark_point(filled=True, size=60, color=charts.PALETTE[0]).encode(
        x=x, y=y, tooltip=[f"{SWEPT}:Q", "repeat:Q", alt.Tooltip("final_test_mse:Q", format=".3g")])
    mean = alt.Chart(data).mark_line(color=charts.NEUTRAL, strokeWidth=2).encode(x=x, y="mean(final_test_mse):Q")
    return charts.finish(points + mean, "Test MSE against hidden units",
                         "Look for: the error falling by orders of magnitude as units are added (each dot a repeat, "
                         "the line their mean).")


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    shown = [_mse_chart(result.summary),
             charts.curves(result.tidy, SWEPT, y="cost", split="train", repeats=repeats, log_y=True,
                           y_title="training MSE (log)", title="Training MSE per epoch",
                           look_for="Look for: more units reach a lower cost; the decaying rate lets every fit "
                                    "settle at the end.")]
    if len(result.tables.get("fits", [])):
        shown.insert(0, _fit_chart(result))
    return shown


def compare(runs: list) -> list[alt.Chart]:
    """Two runs' mean test MSE against the unit count, the pinned one dashed."""
    frame = pd.concat([r.summary[r.summary["status"] == "ok"].groupby(SWEPT, as_index=False)["final_test_mse"].mean()
                       .assign(run=label) for label, r in runs], ignore_index=True)
    return [charts.compare_lines(frame, SWEPT, "final_test_mse", "run", [label for label, _ in runs],
                                 "Test MSE against hidden units, both runs", "Look for: which function or setting "
                                 "needs more units for the same error.", log_x=True, y_title="test MSE",
                                 y_format="~g")]


def trial_detail(result) -> str:
    """One progress line: the fit's test MSE (its "error" is an MSE, not a rate)."""
    rows = [r for r in result.payload.get("rows", []) if r["split"] == "test"]
    return f"test MSE {number(rows[-1]['cost'])} after {rows[-1]['epoch']} epochs" if rows else ""


def takeaway(result: StudyResult) -> list[str]:
    ok = result.summary[result.summary["status"] == "ok"]
    if ok.empty:
        return ["No unit count finished: every trial diverged, failed or was cancelled.", ""]
    means = ok.groupby(SWEPT)["final_test_mse"].mean()
    fewest, most = means.index.min(), means.index.max()
    best = means.idxmin()
    line = (f"Test MSE on {result.params['function']}: {number(means[fewest])} with {fewest} unit"
            f"{'s' if fewest != 1 else ''}, {number(means[most])} with {most}")
    if len(means) > 1 and means[most] < means[fewest]:
        line += f", {means[fewest] / means[most]:.3g} times smaller"
    line += f"; lowest {number(means[best])} with {best} units."
    rising = [f"{a}→{b}" for a, b in zip(means.index[:-1], means.index[1:]) if means[b] > means[a]]
    second = (f"Adding units did not always help here ({', '.join(rising)}: the fit also depends on the "
              f"optimisation and its start)." if rising else "Every unit count added lowered the error.")
    return [line, second]
