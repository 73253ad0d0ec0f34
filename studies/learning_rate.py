"""Learning-rate sweep (lecture 3.4.3, Fig. 55 and 56; chapter 4.6, Fig. 118).

Several learning rates x repeats, everything else fixed. The lesson: too small a rate learns
slowly, a moderate one fastest, too large a one oscillates, saturates or diverges.

CSV (``--out``): the tidy columns of DESIGN.md, then ``learning_rate`` and ``repeat``.
Summary (``--summary-out``): one row per trial with ``final_val_error``, ``best_val_error``,
``best_epoch``, ``final_train_error``, ``final_test_error``, ``epochs_run``, ``seconds``,
``status`` and ``message``.
"""
from __future__ import annotations

import altair as alt

from studies import charts, cost
from studies.params import TRAINING
from studies.schema import Param, Schema, without
from studies.takeaways import best_setting
from studies.training import StudyResult, assemble_training, sweep, train_trial, trial_detail  # noqa: F401

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


def plan(values: dict) -> list[dict]:
    return sweep(values, SWEPT, values["learning_rates"], "learning_rates")


def assemble(values: dict, results: list) -> StudyResult:
    return assemble_training(NAME, values, results, [SWEPT])



def charts_for(result: StudyResult) -> list[alt.Chart]:
    tidy = result.tidy
    return [
        charts.curves(tidy, SWEPT, y="cost", split="train", title="Training cost per epoch (Fig. 55 top)"),
        charts.curves(tidy, SWEPT, y="error", split="val", title="Validation error per epoch (Fig. 55 bottom)"),
        charts.final_against(result.summary, SWEPT, title="Final validation error against learning rate"),
    ]


def takeaway(result: StudyResult) -> list[str]:
    return best_setting(result.summary, SWEPT, "learning rate")
