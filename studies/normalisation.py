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
import pandas as pd

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

QUICK = {"epochs": "2", "repeats": "1"}

PRESETS = {}


def plan(values: dict) -> list[dict]:
    return sweep(values, SWEPT, values["normalisations"], "normalisations")


def assemble(values: dict, results: list) -> StudyResult:
    return assemble_training(NAME, values, results, [SWEPT])


def cost_ends(tidy: pd.DataFrame) -> pd.DataFrame:
    """Mean training cost per setting at the first and the last epoch (columns ``start``, ``end``)."""
    train = tidy[(tidy["split"] == "train") & tidy["cost"].notna() & (tidy["status"] == "ok")]
    means = train.groupby(["setting", "epoch"])["cost"].mean()
    return pd.DataFrame({"start": means.groupby(level=0).first(), "end": means.groupby(level=0).last()})


def look_fors(result: StudyResult) -> tuple[str, str]:
    """The two charts' lines, from the run: how the raw inputs' error and cost went against the
    normalised ones' (the lecture's expectation where the run has no raw inputs)."""
    ends = cost_ends(result.tidy)
    final = result.summary[result.summary["status"] == "ok"].groupby("setting")["final_val_error"].mean()
    if "none" not in ends.index or len(ends) < 2:
        return ("Look for: how fast each normalisation learns at the same learning rate (3.2.2).",
                "Look for: how the training cost falls with each normalisation.")
    others = ends.drop("none")
    worse = final["none"] > final.drop("none").max()
    error = (f"Look for: the raw inputs (none) end at {final['none']:.1%}, "
             f"{'above' if worse else 'not above'} every normalised input ({final.drop('none').min():.1%}-"
             f"{final.drop('none').max():.1%}) at the same learning rate (3.2.2).")
    raw = ends.loc["none"]
    went = "rises" if raw["end"] > raw["start"] else "falls"
    cost = (f"Look for: on raw inputs the training cost {went} from {raw['start']:.3g} to {raw['end']:.3g}, while "
            f"the normalised inputs' costs end between {others['end'].min():.3g} and {others['end'].max():.3g}.")
    return error, cost


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    tidy = result.tidy
    scale = charts.categorical(list(dict.fromkeys(result.summary["setting"])))
    error, cost_line = look_fors(result)
    return [
        charts.curves(tidy, SWEPT, repeats=repeats, scale=scale, title="Validation error per epoch",
                      look_for=error),
        charts.curves(tidy, SWEPT, y="cost", split="train", log_y=True, repeats=repeats, scale=scale,
                      y_title="training cost (log)", title="Training cost per epoch", look_for=cost_line),
    ]


def compare(runs: list) -> list[alt.Chart]:
    """Two runs' mean validation curves on the same axes, the pinned one dashed."""
    return charts.compare_sweep(runs, SWEPT)


def takeaway(result: StudyResult) -> list[str]:
    return best_setting(result.summary, SWEPT, "normalisation", ordered=False, repeats=result.params["repeats"])
