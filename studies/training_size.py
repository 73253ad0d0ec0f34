"""Training-set size (lecture 3.6.2.2, Fig. 80): learning curves against the number of training samples.

The same model trained on growing stratified subsets of the training split (``max_train``), always
judged on the same validation split. The lecture expects the training error to rise with the size (a
larger set is harder to fit) and the validation error to fall (more data shows more of the problem),
the two approaching each other. Where a gap stays between them, the model overfits (high variance:
the default, softmax regression, whose validation cost stays over twice its training cost) and more
data would still help; where they meet, higher, it underfits (high bias: the preset with a strong L2
penalty). Batch GD by default, so every size makes the same number of updates (one per epoch): only
the data differs, as in the lecture's comparison.

CSV (``--out``): the tidy columns of DESIGN.md, then ``max_train`` (the samples asked for) and
``repeat``. Summary (``--summary-out``): one row per trial as in the learning-rate study, plus
``train_samples`` (the samples it trained on: a size above the training split trains on all of it).
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from studies.common import charts, cost
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.training import StudyResult, assemble_training, sweep, train_trial, trial_detail  # noqa: F401

NAME = "training_size"
TITLE = "Training-set size"
FIGURES = "Fig. 80"
SUMMARY = "Learning curves: training and validation cost and error against the number of training samples."
SWEPT = "max_train"
MET = 2  # validation cost within this factor of the training cost: the curves have (nearly) met
LABEL_KEYS = (SWEPT, "repeat")
TRIAL = train_trial
COST = cost.training

SCHEMA = Schema([
    *with_defaults(without(TRAINING, SWEPT), hidden=(), batch_size="full", learning_rate=0.5, epochs=300,
                   repeats=2),
    Param("sizes", "ints", (25, 50, 100, 200, 400, 800), "Training samples to train on, each a stratified "
          "subset of the training split (lecture 3.6.2.2); validation is always the same split.", "study",
          low=10, high=1_000_000, min_len=2, max_len=10),
])

QUICK = {"epochs": "5", "repeats": "2", "sizes": "20,80"}

PRESETS = {  # the lecture's settings for its figures: parameter texts, as a link carries them
    "Fig. 80, left: strong L2 (λ 0.01) underfits": {"l2": "0.01"},
}


def plan(values: dict) -> list[dict]:
    return sweep(values, SWEPT, values["sizes"], "sizes")


def assemble(values: dict, results: list) -> StudyResult:
    result = assemble_training(NAME, values, results, [SWEPT])
    trained = {r.trial.index: r.payload.get("n_train") for r in results}
    summary = result.summary
    summary["train_samples"] = summary["trial"].map(trained).astype("Int64")
    for split in ("train", "val"):  # the cost at the epoch whose errors the summary reports
        summary[f"final_{split}_cost"] = _final_cost(result.tidy, summary, split)
    return result


def _final_cost(tidy: pd.DataFrame, summary: pd.DataFrame, split: str) -> pd.Series:
    rows = tidy[tidy["split"] == split].dropna(subset=["epoch"])
    last = rows.groupby("trial")["epoch"].max()
    kept = summary.set_index("trial")["kept_epoch"].astype("float").fillna(last.astype("float"))
    at = rows.set_index(["trial", "epoch"])["cost"]
    return summary["trial"].map({t: at.get((t, int(e))) for t, e in kept.dropna().items()}).astype("float")


def final_long(summary: pd.DataFrame, quantity: str) -> pd.DataFrame:
    """Long table: the final training and validation ``quantity`` (cost or error) per trial, against
    its training samples, as ``charts.split_means`` draws it."""
    long = summary.melt(id_vars=["train_samples", "repeat", "trial", "status"],
                        value_vars=[f"final_train_{quantity}", f"final_val_{quantity}"], var_name="split",
                        value_name="error")
    long["split"] = long["split"].str.replace("final_", "").str.replace(f"_{quantity}", "")
    return long.dropna(subset=["train_samples"]).astype({"train_samples": int})


def cost_look_for(summary: pd.DataFrame) -> str:
    """The cost chart's line, with the ratio at the largest set that the takeaway's verdict rests on."""
    table = ends(summary)
    if table is None:
        return "Look for: the training cost rising and the validation cost falling as the set grows (Fig. 80)."
    large, last = table.index[-1], table.iloc[-1]
    ratio = last["final_val_cost"] / max(last["final_train_cost"], 1e-12)
    side = "a gap that stays: overfitting" if ratio > MET else "curves that have nearly met: underfitting"
    return (f"Look for: the training cost rising and the validation cost falling as the set grows (Fig. 80; a log "
            f"axis, so equal steps are equal factors). At {large} samples the validation cost is {ratio:.3g} times "
            f"the training cost: {side} (the line between them: {MET}×).")


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    summary = result.summary
    return [
        charts.split_means(final_long(summary, "cost"), "train_samples", y_title="final cost (log)", y_format="~g",
                           log_y=True, title="Final training and validation cost against training samples (Fig. 80)",
                           look_for=cost_look_for(summary)),
        charts.split_means(final_long(summary, "error"), "train_samples",
                           title="Final training and validation error against training samples",
                           look_for="Look for: the validation error falls with every larger set."),
        charts.curves(result.tidy, SWEPT, repeats=repeats, title="Validation error per epoch",
                      look_for="Look for: each larger set ends lower on the same validation split."),
    ]


def compare(runs: list) -> list[alt.Chart]:
    """Two runs' mean validation curves on the same axes, the pinned one dashed."""
    return charts.compare_sweep(runs, SWEPT)


def ends(summary: pd.DataFrame) -> pd.DataFrame | None:
    """Mean final training and validation cost and error at the smallest and the largest training
    set whose trials finished ok (rows: the two sizes; None with fewer than two sizes)."""
    ok = summary[(summary["status"] == "ok") & summary["train_samples"].notna()]
    columns = ["final_train_cost", "final_val_cost", "final_train_error", "final_val_error"]
    means = ok.groupby("train_samples")[columns].mean()
    return means.iloc[[0, -1]] if len(means) >= 2 else None


def takeaway(result: StudyResult) -> list[str]:
    table = ends(result.summary)
    if table is None:
        return ["Fewer than two training-set sizes finished: there is no curve to read yet.", ""]
    (small, first), (large, last) = table.iterrows()
    train = "rose" if last["final_train_cost"] > first["final_train_cost"] else "did not rise"
    val = "fell" if last["final_val_cost"] < first["final_val_cost"] else "did not fall"
    lines = [f"From {small} to {large} training samples the training cost {train} ({first['final_train_cost']:.3g} → "
             f"{last['final_train_cost']:.3g}) and the validation cost {val} ({first['final_val_cost']:.3g} → "
             f"{last['final_val_cost']:.3g}), as Fig. 80 expects when both move; the validation error went from "
             f"{first['final_val_error']:.1%} to {last['final_val_error']:.1%}."]
    ratio = last["final_val_cost"] / max(last["final_train_cost"], 1e-12)
    if ratio > MET:
        lines.append(f"At {large} samples the validation cost is still {ratio:.3g} times the training cost (over "
                     f"{MET}×): the overfitting side of Fig. 80 (high variance), where more data would lower it further.")
    else:
        lines.append(f"At {large} samples the validation cost is {ratio:.3g} times the training cost (within {MET}×): "
                     "the curves have nearly met, the underfitting side of Fig. 80 (high bias), where more data of "
                     "the same kind changes little and a model with more capacity could go lower.")
    return lines
