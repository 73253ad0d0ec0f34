"""Input normalisation (lecture 3.2.2): the same network trained on raw and on normalised inputs.

The lecture scales and centres the inputs because the weights take the inverse scale of the features
they multiply (Fig. 46): on raw pixel values (0-16 on digits, 0-255 on Fashion-MNIST) the first
layer's logits are large, its units start saturated and a learning rate that suits normalised inputs
makes steps far too large. Rescaling to [0, 1] fixes the scale; min-max normalisation to [-1, 1] and
the z-normalisation also centre it. The lesson: normalised inputs train faster and reach a lower
error at the same learning rate (tanh units by default: on raw digits they end near chance where every
normalisation learns; sigmoid units, whose steps are four times smaller, cope with digits' mild range).

CSV (``--out``): the tidy columns of DESIGN.md, then ``normalisation`` and ``repeat``.
Summary (``--summary-out``): one row per trial as in the learning-rate study.
"""
from __future__ import annotations

import altair as alt

from core.data import NORMALISATIONS
from studies.common import charts, cost
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.takeaways import best_setting
from studies.common.training import StudyResult, assemble_training, sweep, train_trial, trial_detail  # noqa: F401

NAME = "normalisation"
TITLE = "Input normalisation"
FIGURES = "3.2.2, Fig. 46"
SUMMARY = "Raw against rescaled, min-max normalised and z-normalised inputs, at one learning rate."
SWEPT = "normalisation"
LABEL_KEYS = (SWEPT, "repeat")
TRIAL = train_trial
COST = cost.training

SCHEMA = Schema([
    *with_defaults(without(TRAINING, SWEPT), activation="tanh", epochs=10, repeats=3),
    Param("normalisations", "choices", NORMALISATIONS, "Normalisations to compare (lecture 3.2.2): none keeps "
          "the raw pixel values.", "study", choices=NORMALISATIONS, min_len=1, max_len=len(NORMALISATIONS)),
])

PRESETS = {}


def plan(values: dict) -> list[dict]:
    return sweep(values, SWEPT, values["normalisations"], "normalisations")


def assemble(values: dict, results: list) -> StudyResult:
    return assemble_training(NAME, values, results, [SWEPT])


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    tidy = result.tidy
    scale = charts.categorical(list(dict.fromkeys(result.summary["setting"])))
    return [
        charts.curves(tidy, SWEPT, repeats=repeats, scale=scale, title="Validation error per epoch",
                      look_for="Look for: the raw inputs (none) learn slower and end higher than any normalised "
                               "input at the same learning rate (3.2.2)."),
        charts.curves(tidy, SWEPT, y="cost", split="train", log_y=True, repeats=repeats, scale=scale,
                      y_title="training cost (log)", title="Training cost per epoch",
                      look_for="Look for: on raw inputs the cost starts higher and falls unevenly."),
    ]


def compare(runs: list) -> list[alt.Chart]:
    """Two runs' mean validation curves on the same axes, the pinned one dashed."""
    return charts.compare_sweep(runs, SWEPT)


def takeaway(result: StudyResult) -> list[str]:
    return best_setting(result.summary, SWEPT, "normalisation", ordered=False, repeats=result.params["repeats"])
