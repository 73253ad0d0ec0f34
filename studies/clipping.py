"""Gradient clipping (lecture 5.1.7, Fig. 132): a step too large at a cliff, and the same step clipped.

A deep ReLU network trained at a learning rate high enough for some gradients to throw the weights
off a cliff of the cost (Fig. 132, left), once without clipping and once for each given threshold of
clipping by norm (the whole gradient rescaled to at most that norm, its direction kept; Fig. 132,
right). The lesson: without clipping such a run is thrown far off and stays there (its units die or
its cost explodes); clipped, the same rate trains.

CSV (``--out``): the tidy columns of DESIGN.md, then ``clip_norm`` (0: no clipping) and ``repeat``.
Summary (``--summary-out``): one row per trial as in the learning-rate study.
"""
from __future__ import annotations

import altair as alt

from studies.common import charts, cost
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.config import TrainingConfig
from studies.common.takeaways import best_setting, listed
from studies.common.training import StudyResult, assemble_training, sweep, train_trial, trial_detail  # noqa: F401

NAME = "clipping"
TITLE = "Gradient clipping"
FIGURES = "Fig. 132"
SUMMARY = "A learning rate that falls off a cliff, without and with clipping the gradient's norm."
SWEPT = "clip_norm"
LABEL_KEYS = (SWEPT, "repeat")
TRIAL = train_trial
COST = cost.training
NONE = "none"  # the label of clip_norm 0

SCHEMA = Schema([
    *with_defaults(without(TRAINING, SWEPT), hidden=(30, 30, 30), activation="relu", init="he_normal",
                   learning_rate=2.0, epochs=20, repeats=3),
    Param("clip_norms", "floats", (0.0, 1.0, 10.0), "Largest gradient norms to compare; 0 is no clipping "
          "(lecture 5.1.7).", "study", low=0.0, high=1e6, min_len=1, max_len=8),
])

QUICK = {"epochs": "2", "repeats": "1"}

PRESETS = {  # the lecture's settings for its figures: parameter texts, as a link carries them
    "A gentle rate (α 0.1): without a cliff, clipping does not help": {"learning_rate": "0.1"},
}


def plan(values: dict) -> list[dict]:
    return sweep(values, SWEPT, values["clip_norms"], "clip_norms")


def assemble(values: dict, results: list) -> StudyResult:
    result = assemble_training(NAME, values, results, [SWEPT])
    for table in (result.tidy, result.summary):
        table.loc[table[SWEPT] == 0, "setting"] = NONE
    return result


CHANCE_SHARE = 0.8  # an error above this share of chance's (1 - 1/classes) is "near chance"


def look_fors(result: StudyResult) -> tuple[str, str]:
    """The two charts' lines, from the run: which settings stayed near chance and which learned, and
    the thresholds that drew the same curves as no clipping (the gradient never reached them)."""
    ok = result.summary[result.summary["status"] == "ok"]
    if ok.empty:
        return "", ""
    final = ok.groupby("setting")["final_val_error"].mean()
    classes = TrainingConfig.of(result.params).task[3]
    stuck = [s for s, e in final.items() if e > CHANCE_SHARE * (1 - 1 / classes)]
    learned = [s for s in final.index if s not in stuck]
    curves = result.tidy[(result.tidy["split"] == "val") & result.tidy["trial"].isin(ok["trial"])]
    by_setting = {s: g.groupby("epoch")["error"].mean().round(12).tolist() for s, g in curves.groupby("setting")}
    same = [s for s in by_setting if s != NONE and NONE in by_setting and by_setting[s] == by_setting[NONE]]
    note = (f" Clipping at {listed(same)} draws the very curve of no clipping: the gradient's norm never "
            f"reached {'it' if len(same) == 1 else 'them'}." if same else "")
    if NONE in stuck and learned:
        error = (f"Look for: without clipping this rate throws the network off and it stays near chance; clipped at "
                 f"{listed(learned)} the same rate learns (Fig. 132).{note}")
        cost = "Look for: the unclipped cost staying high, where the network guesses, while a clipped run's falls."
    elif stuck:
        error = (f"Look for: {listed(stuck)} stayed near chance; "
                 f"{listed(learned) + ' learned' if learned else 'none learned'}.{note}")
        cost = "Look for: which costs stay high (the network guesses) and which fall."
    else:
        error = (f"Look for: every setting learns: at this rate there is no cliff to fall off, and clipping only "
                 f"shortens some steps.{note}")
        cost = "Look for: the costs falling alike."
    return error, cost


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    tidy = result.tidy
    error, cost_line = look_fors(result)
    return [
        charts.curves(tidy, SWEPT, repeats=repeats, title="Validation error per epoch", look_for=error),
        charts.curves(tidy, SWEPT, y="cost", split="train", log_y=True, repeats=repeats,
                      y_title="training cost (log)", title="Training cost per epoch", look_for=cost_line),
    ]


def compare(runs: list) -> list[alt.Chart]:
    """Two runs' mean validation curves on the same axes, the pinned one dashed."""
    return charts.compare_sweep(runs, SWEPT)


def takeaway(result: StudyResult) -> list[str]:
    return best_setting(result.summary, SWEPT, "clipping norm", ordered=False, repeats=result.params["repeats"])
