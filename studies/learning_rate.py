"""Learning-rate sweep (lecture 3.4.3, Fig. 55 and 56; chapter 4.6, Fig. 118).

Several learning rates x repeats, everything else fixed. The lesson: too small a rate learns
slowly, a moderate one fastest, too large a one oscillates, saturates or diverges. Where every rate
ends at the same error (Fig. 55's easy pair), the takeaway still shows the lesson in the epochs each
rate needed to get there.

CSV (``--out``): the tidy columns of DESIGN.md, then ``learning_rate`` and ``repeat``.
Summary (``--summary-out``): one row per trial with ``final_val_error``, ``best_val_error``,
``best_epoch``, ``final_train_error``, ``final_test_error``, ``epochs_run``, ``seconds``,
``status`` and ``message``.
"""
from __future__ import annotations

import altair as alt

from studies.common import charts, cost
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, without
from studies.common.takeaways import best_setting
from studies.common.training import StudyResult, assemble_training, sweep, train_trial, trial_detail  # noqa: F401

NAME = "learning_rate"
TITLE = "Learning-rate sweep"
FIGURES = "Fig. 55, 56, 118"
SUMMARY = "Too small learns slowly, too large oscillates or diverges: cost and error against epochs per rate."
SWEPT = "learning_rate"
LABEL_KEYS = (SWEPT, "repeat")
TRIAL = train_trial
COST = cost.training

SCHEMA = Schema([
    *without(TRAINING, SWEPT),
    Param("learning_rates", "floats", (0.01, 0.1, 0.5, 2.0, 10.0), "Learning rates to compare (lecture Fig. 55 "
          "uses 0.1, 0.5 and 2.0 on the generalised perceptron).", "study", low=1e-6, high=100.0,
          min_len=1, max_len=12),
])


QUICK = {"epochs": "3", "repeats": "2"}

PRESETS = {  # the lecture's settings for its figures: parameter texts, as a link carries them
    "Fig. 55/56: generalised perceptron, rates 0.1, 0.5 and 2": {
        "classes": "1,7", "hidden": "", "output": "sigmoid", "loss": "mse", "learning_rates": "0.1,0.5,2",
        "batch_size": "full", "epochs": "50", "repeats": "1"},
    "Fig. 57: the generalised perceptron over 10,000 epochs": {
        "classes": "5,3", "hidden": "", "output": "sigmoid", "loss": "mse", "learning_rates": "0.5",
        "batch_size": "full", "epochs": "10000", "repeats": "1"},
    "Fig. 118: MLP on Fashion-MNIST, rates 0.01 to 10": {
        "dataset": "fashion-mnist", "hidden": "100", "learning_rates": "0.01,0.1,0.5,2,10", "batch_size": "64",
        "epochs": "10", "repeats": "1", "max_train": "10000"},
}

def plan(values: dict) -> list[dict]:
    return sweep(values, SWEPT, values["learning_rates"], "learning_rates")


def assemble(values: dict, results: list) -> StudyResult:
    return assemble_training(NAME, values, results, [SWEPT])


def u_look_for(summary) -> str:
    """The final-error chart's line: the U shape, unless every rate ended at the same error (an easy
    task such as Fig. 55/56's pair of digits), where the cost curves carry the lesson instead."""
    ends = summary[summary["status"] == "ok"].groupby(SWEPT)["final_val_error"].mean()
    if len(ends) > 1 and ends.max() - ends.min() < 1e-12:
        return (f"Look for: nothing to choose here: every rate ends at {ends.iloc[0]:.1%} validation error, so this "
                f"task cannot show the U shape; the cost curves above show how fast each rate got there.")
    return ("Look for: the U shape: too small and too large rates both end higher than the best one in between.")


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    tidy = result.tidy
    return [
        charts.curves(tidy, SWEPT, y="cost", split="train", repeats=repeats, title="Training cost per epoch (Fig. 55 top)",
                      look_for="Look for: a small rate creeps down, a moderate one drops fastest, a too large one "
                               "jumps around or gets stuck high (lecture 3.4.3)."),
        charts.curves(tidy, SWEPT, y="error", split="val", repeats=repeats,
                      title="Validation error per epoch (Fig. 55 bottom)",
                      look_for="Look for: the rate whose curve reaches the lowest error soonest, and curves that "
                               "zig-zag instead of settling (oscillation, Fig. 56)."),
        charts.final_against(result.summary, SWEPT, title="Final validation error against the learning rate",
                             look_for=u_look_for(result.summary)),
    ]



def compare(runs: list) -> list[alt.Chart]:
    """Two runs' mean validation curves on the same axes, the pinned one dashed."""
    return charts.compare_sweep(runs, SWEPT)


SPEED_MARGIN = 0.02  # "fast" means: reached within two points of the best final validation error


def epochs_to_reach(result: StudyResult) -> tuple[float, dict]:
    """Fig. 55's initial slope as a number: the first epoch at which each rate's mean validation error
    (over its repeats that finished ok) is within ``SPEED_MARGIN`` of the best final one; None where it
    never got there. Returns the target error and {rate: epoch}."""
    ok = result.summary[result.summary["status"] == "ok"]
    curves = result.tidy[result.tidy["trial"].isin(ok["trial"]) & (result.tidy["split"] == "val")]
    means = curves.groupby([SWEPT, "epoch"])["error"].mean()
    target = ok.groupby(SWEPT)["final_val_error"].mean().min() + SPEED_MARGIN
    reached = {rate: next((int(e) for e, err in errors.droplevel(0).items() if err <= target + 1e-12), None)
               for rate, errors in means.groupby(level=0)}
    return target, reached


def takeaway(result: StudyResult) -> list[str]:
    lines = best_setting(result.summary, SWEPT, "learning rate", repeats=result.params["repeats"])
    if (result.summary["status"] == "ok").any():
        target, reached = epochs_to_reach(result)
        ran = result.summary.groupby(SWEPT)["epochs_run"].max()  # early stopping may end a rate sooner
        speed = ", ".join(f"α {rate:g}: {'not within ' + str(int(ran[rate])) if epoch is None else epoch}"
                          for rate, epoch in sorted(reached.items(), key=lambda item: (item[1] is None, item[1])))
        lines[1] = f"Epochs until the validation error first reached {target:.1%}: {speed}. {lines[1]}".strip()
    return lines
