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

from studies import charts, cost
from studies.params import TRAINING
from studies.schema import Param, Schema, with_defaults, without
from studies.takeaways import best_setting
from studies.training import StudyResult, assemble_training, sweep, train_trial, trial_detail  # noqa: F401

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


def plan(values: dict) -> list[dict]:
    return sweep(values, SWEPT, values["batch_sizes"], "batch_sizes")


def assemble(values: dict, results: list) -> StudyResult:
    result = assemble_training(NAME, values, results, [SWEPT])
    epochs = result.summary["epochs_run"].where(result.summary["epochs_run"] > 0)
    result.summary["seconds_per_epoch"] = result.summary["seconds"] / epochs
    return result



def charts_for(result: StudyResult) -> list[alt.Chart]:
    tidy = result.tidy
    return [
        charts.curves(tidy, SWEPT, x="epoch", title="Validation error against epochs"),
        charts.curves(tidy, SWEPT, x="updates", log_x=True, title="Validation error against weight updates"),
        charts.curves(tidy, SWEPT, x="seconds", title="Validation error against training seconds"),
        charts.final_against(result.summary, SWEPT, title="Final validation error against batch size"),
        charts.final_against(result.summary, SWEPT, y="seconds_per_epoch", title="Seconds per epoch against "
                             "batch size", y_format=".3f"),
    ]


def takeaway(result: StudyResult) -> list[str]:
    lines = best_setting(result.summary, SWEPT, "batch size")
    ok = result.summary[result.summary["status"] == "ok"]
    if len(ok):
        speed = ok.groupby(SWEPT)["seconds_per_epoch"].mean()
        lines[1] = (f"Time per epoch: {1000 * speed.iloc[0]:.1f} ms at batch {speed.index[0]}, "
                    f"{1000 * speed.iloc[-1]:.1f} ms at batch {speed.index[-1]}. " + lines[1]).strip()
    return lines
