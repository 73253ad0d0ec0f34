"""Batch-size sweep (lecture 3.7, Table 4; chapter 4.6, Fig. 119): BGD, SGD and mini-batch GD.

Batch sizes including 1 (SGD) and ``full`` (BGD) at one fixed learning rate, repeats over seeds.
The lesson of Table 4: per epoch, SGD makes n updates and BGD one, so SGD reaches a given error
in far fewer epochs but with noisier curves and more seconds per epoch; mini-batches sit between
and use vectorised hardware best. Curves against epochs, weight updates and seconds show it.

CSV (``--out``): the tidy columns of DESIGN.md, then ``batch_size`` (samples per update; ``full``
is written as the training-set size) and ``repeat``. Summary (``--summary-out``): one row per trial
as in the learning-rate study, plus ``seconds_per_epoch``.
"""
from __future__ import annotations

import altair as alt

from studies.common import charts, cost
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.takeaways import best_setting
from studies.common.training import StudyResult, assemble_training, sweep, train_trial, trial_detail  # noqa: F401

NAME = "batch_size"
TITLE = "Batch-size sweep"
FIGURES = "Table 4, Fig. 119"
SUMMARY = "SGD, mini-batch and batch GD at one learning rate: error against epochs, updates and seconds."
SWEPT = "batch_size"
LABEL_KEYS = (SWEPT, "repeat")
TRIAL = train_trial
COST = cost.training

SCHEMA = Schema([
    *with_defaults(without(TRAINING, SWEPT), learning_rate=0.1, epochs=20, repeats=2),
    Param("batch_sizes", "batches", (1, 8, 32, 128, "full"), "Batch sizes to compare: 1 is SGD, 'full' is batch "
          "GD (lecture 3.7).", "study", low=1, high=100_000, min_len=1, max_len=10),
])


QUICK = {"epochs": "2", "batch_sizes": "8,32,full"}

PRESETS = {  # the lecture's settings for its figures: parameter texts, as a link carries them
    "Table 4: SGD, mini-batch and batch GD": {"batch_sizes": "1,32,full", "learning_rate": "0.1", "epochs": "20"},
    "Fig. 119: batch sizes on Fashion-MNIST": {
        "dataset": "fashion-mnist", "hidden": "100", "batch_sizes": "16,64,256,full", "learning_rate": "0.1",
        "epochs": "10", "repeats": "1", "max_train": "10000"},
}

def plan(values: dict) -> list[dict]:
    return sweep(values, SWEPT, values["batch_sizes"], "batch_sizes")


def assemble(values: dict, results: list) -> StudyResult:
    result = assemble_training(NAME, values, results, [SWEPT])
    epochs = result.summary["epochs_run"].where(result.summary["epochs_run"] > 0)
    result.summary["seconds_per_epoch"] = result.summary["seconds"] / epochs
    return result



def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    tidy, summary = result.tidy, result.summary
    full = summary.loc[summary["setting"].str.startswith("full"), [SWEPT, "setting"]].drop_duplicates()
    labels = dict(zip(full[SWEPT], full["setting"]))
    return [
        charts.curves(tidy, SWEPT, x="epoch", repeats=repeats, title="Validation error against epochs",
                      look_for="Look for: per epoch, small batches (many updates) learn far faster than batch GD "
                               "(one update per epoch), and their curves are noisier (Table 4)."),
        charts.curves(tidy, SWEPT, x="updates", log_x=True, repeats=repeats,
                      title="Validation error against weight updates",
                      look_for="Look for: per update, large batches make better steps: their curves lie left, "
                               "the price of each step is more computation."),
        charts.curves(tidy, SWEPT, x="seconds", log_x=True, repeats=repeats,
                      title="Validation error against training time",
                      look_for="Look for: in wall-clock time the mini-batches win: vectorised enough to be fast, "
                               "small enough to update often."),
        charts.final_against(summary, SWEPT, title="Final validation error against the batch size", labels=labels,
                             look_for="Look for: at a fixed number of epochs, error rises with the batch size "
                                      "because large batches made fewer updates."),
        charts.final_against(summary, SWEPT, y="seconds_per_epoch", y_title="seconds per epoch", y_format=".3f",
                             title="Time per epoch against the batch size", labels=labels,
                             look_for="Look for: SGD (batch 1) is slowest per epoch: one matrix product per "
                                      "sample wastes the vector hardware."),
    ]



def compare(runs: list) -> list[alt.Chart]:
    """Two runs' mean validation curves on the same axes, the pinned one dashed."""
    return charts.compare_sweep(runs, SWEPT)


def takeaway(result: StudyResult) -> list[str]:
    lines = best_setting(result.summary, SWEPT, "batch size", floor=1, repeats=result.params["repeats"])
    ok = result.summary[result.summary["status"] == "ok"]
    if len(ok):
        speed = ok.groupby("setting", sort=False)["seconds_per_epoch"].mean()
        lines[1] = (f"Time per epoch: {1000 * speed.iloc[0]:.3g} ms at batch {speed.index[0]}, "
                    f"{1000 * speed.iloc[-1]:.3g} ms at batch {speed.index[-1]}. " + lines[1]).strip()
    return lines
