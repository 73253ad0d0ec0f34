"""Hidden-unit sweep (lecture 4.6, Fig. 120, 123, 124): capacity and overfitting.

One hidden layer of each given size, repeats over seeds. More units lower the training error
steadily; the test error falls, then levels off while the gap to the training error (overfitting)
grows.

CSV (``--out``): the tidy columns of DESIGN.md, then ``hidden_units`` and ``repeat``.
Summary (``--summary-out``): one row per trial as in the learning-rate study.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from studies.common import charts, cost
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.takeaways import best_setting
from studies.common.training import StudyResult, assemble_training, sweep, train_trial, trial_detail  # noqa: F401

NAME = "hidden_units"
TITLE = "Hidden-unit sweep"
FIGURES = "Fig. 120, 123, 124"
SUMMARY = "Capacity: train and test error against the number of hidden units of one hidden layer."
SWEPT = "hidden_units"
LABEL_KEYS = (SWEPT, "repeat")
TRIAL = train_trial
COST = cost.training

SCHEMA = Schema([
    *with_defaults(without(TRAINING, "hidden"), repeats=2, epochs=40),
    Param("hidden_units", "ints", (2, 5, 10, 30, 100, 300), "Sizes of the single hidden layer to compare "
          "(lecture Fig. 120 uses 2 to 500).", "study", low=1, high=2000, min_len=1, max_len=12),
])


QUICK = {"epochs": "3", "hidden_units": "2,10,300"}

PRESETS = {  # the lecture's settings for its figures: parameter texts, as a link carries them
    "Fig. 120/123: Fashion-MNIST, 2 to 400 units": {
        "dataset": "fashion-mnist", "hidden_units": "2,5,10,20,50,100,200,400", "epochs": "15", "repeats": "1",
        "learning_rate": "0.1", "batch_size": "64"},
}

def plan(values: dict) -> list[dict]:
    return [{**p, "hidden": (p[SWEPT],)} for p in sweep(values, SWEPT, values[SWEPT], SWEPT)]


def assemble(values: dict, results: list) -> StudyResult:
    return assemble_training(NAME, values, results, [SWEPT])



def final_errors(summary: pd.DataFrame) -> pd.DataFrame:
    """Long table: final train and test error per trial, for the capacity chart."""
    long = summary.melt(id_vars=[SWEPT, "repeat", "trial", "status"], value_vars=["final_train_error",
                        "final_test_error"], var_name="split", value_name="error")
    long["split"] = long["split"].str.replace("final_", "").str.replace("_error", "")
    return long


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    tidy = result.tidy
    capacity = charts.split_means(final_errors(result.summary), SWEPT,
                                  title="Final training and test error against hidden units (Fig. 120)",
                                  look_for="Look for: training error keeps falling with more units while test error "
                                           "levels off: the widening gap is overfitting (Fig. 120).")
    return [
        capacity,
        charts.curves(tidy, SWEPT, split="train", repeats=repeats, title="Training error per epoch",
                      look_for="Look for: more units fit the training data faster and further down."),
        charts.curves(tidy, SWEPT, split="test", repeats=repeats, title="Test error per epoch",
                      look_for="Look for: beyond some size, more units no longer lower the test error."),
    ]



def compare(runs: list) -> list[alt.Chart]:
    """Two runs' mean test curves on the same axes, the pinned one dashed."""
    return charts.compare_sweep(runs, SWEPT, split="test")


def takeaway(result: StudyResult) -> list[str]:
    lines = best_setting(result.summary, SWEPT, "hidden-unit count", repeats=result.params["repeats"])
    ok = result.summary[result.summary["status"] == "ok"]
    if len(ok):
        gap = (ok["final_test_error"] - ok["final_train_error"]).groupby(ok[SWEPT]).mean()
        lines[1] = (f"Gap between test and training error: {gap.iloc[0]:.1%} at {gap.index[0]} units, "
                    f"{gap.iloc[-1]:.1%} at {gap.index[-1]}. " + lines[1]).strip()
    return lines
