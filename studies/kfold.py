"""k-fold cross-validation of one hyperparameter (lecture 3.6.2, Fig. 78 and 79).

The training and validation splits are pooled and partitioned into k stratified folds; for every
value of the tuned hyperparameter each fold is validated once by a network trained on the other
k-1 folds. The mean validation error over the folds, with its standard deviation as error bar,
picks the best value; that value is then retrained on the whole pool and its test error reported
on its own (the test split never takes part in the choice). As in Fig. 79 (generalised perceptron,
MSE, alpha = 0.5), the default tunes the number of epochs; learning_rate, hidden_units or l2 can be
tuned instead. Tuning epochs needs one run per fold: the error after e epochs of a longer run is
exactly that of a run stopped at e (same seed, same shuffling).

CSV (``--out``): the tidy columns of DESIGN.md (``fold`` set; empty for the final retrained model),
then the tuned parameter's column (when tuning ``epochs``: ``epochs`` is what each trial trained and
the ``epoch`` column is the value read),
``repeat``, and the fold sizes ``n_train`` and ``n_val``.
Summary (``--summary-out``): one row per value: ``value``, ``mean_val_error``, ``std_val_error``,
``folds``, ``validated`` (samples validated, = pool size), ``best`` and ``test_error`` (best value only).
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from studies.common import charts, cost
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.takeaways import edge_note, listed, noise_note, noise_ties
from studies.common.training import StudyResult, tidy_frame, train_trial, trial_detail  # noqa: F401

NAME = "kfold"
TITLE = "k-fold cross-validation"
FIGURES = "Fig. 78, 79"
SUMMARY = "Mean validation error over k folds (error bars) for each value of one hyperparameter; best marked."
LABEL_KEYS = ("tuned", "fold")
TUNABLE = ("epochs", "learning_rate", "hidden_units", "l2")
TRIAL = train_trial
COST = cost.training

SCHEMA = Schema([
    *with_defaults(without(TRAINING, "repeats"), hidden=(), output="sigmoid",
                   loss="mse", learning_rate=0.5, epochs=30),
    Param("k", "int", 5, "Number of folds (lecture Fig. 78 uses 5).", "study", low=2, high=20),
    Param("tune", "choice", "epochs", "The hyperparameter to cross-validate.", "study", choices=TUNABLE),
    Param("values", "floats", (1, 3, 10, 30, 100, 300, 500), "Values of the tuned hyperparameter; they replace its "
          "field above (epochs and hidden units are rounded to whole numbers). The default reaches past the best "
          "number of epochs, so the minimum lies inside the range.", "study", low=0.0, high=5000.0, min_len=1,
          max_len=15),
])


def tuned_values(values: dict) -> list:
    """The values to cross-validate, within the limits the tuned parameter has elsewhere."""
    tune = values["tune"]
    if tune in ("epochs", "hidden_units"):
        high = SCHEMA.params["epochs" if tune == "epochs" else "hidden"].high
        return sorted({int(min(max(1, round(v)), high)) for v in values["values"]})
    if tune == "learning_rate":
        return sorted({max(v, SCHEMA.params["learning_rate"].low) for v in values["values"]})
    return list(values["values"])


def _fold_trial(values: dict, value, fold: int) -> dict:
    """The trial validating ``value`` on ``fold``; fold -1 is the chosen value retrained on the pool."""
    trial = {**_without_values(values), "tuned": value, "fold": fold, "repeat": 0}
    if values["tune"] == "hidden_units":
        return {**trial, "hidden": (value,), "hidden_units": value}
    return {**trial, values["tune"]: value}


def _without_values(values: dict) -> dict:
    return {k: v for k, v in values.items() if k != "values"}


def fold_errors(tidy: pd.DataFrame, values: dict) -> pd.DataFrame:
    """Validation error of every (value, fold): one row each, with the fold sizes."""
    val = tidy[(tidy["split"] == "val") & tidy["fold"].notna()]
    if values["tune"] == "epochs":
        val = val[val["epoch"].isin(tuned_values(values))].assign(value=lambda d: d["epoch"].astype(float))
    else:
        val = val[val["epoch"] == val.groupby("trial")["epoch"].transform("max")].assign(
            value=lambda d: d[values["tune"]].astype(float))
    return val[["value", "fold", "error", "n_train", "n_val", "status"]].reset_index(drop=True)


def summarise(folds: pd.DataFrame, values: dict) -> pd.DataFrame:
    grouped = folds[folds["status"] == "ok"].groupby("value")
    summary = pd.DataFrame({"mean_val_error": grouped["error"].mean(), "std_val_error": grouped["error"].std(ddof=1),
                            "folds": grouped["fold"].nunique(), "validated": grouped["n_val"].sum()})
    summary = summary.reindex([float(v) for v in tuned_values(values)]).rename_axis("value").reset_index()
    summary["folds"] = summary["folds"].fillna(0).astype(int)
    summary["best"] = False
    if summary["mean_val_error"].notna().any():
        summary.loc[summary["mean_val_error"].idxmin(), "best"] = True
    summary["test_error"] = np.nan
    return summary


QUICK = {"k": "3", "values": "1,5,20"}

PRESETS = {  # the lecture's settings for its figures: parameter texts, as a link carries them
    "Fig. 79: perceptron, 5 folds over the epochs": {  # the lecture's 1-50 and on to 300: digits bottoms out later
        "hidden": "", "output": "sigmoid", "loss": "mse", "learning_rate": "0.5", "k": "5", "tune": "epochs",
        "values": "1,2,3,5,10,20,30,50,100,200,300"},
}

def plan(values: dict) -> list[dict]:
    if values["tune"] == "epochs":  # one run per fold, read at every epoch
        longest = max(tuned_values(values))
        return [{**_without_values(values), "epochs": longest, "fold": f, "repeat": 0} for f in range(values["k"])]
    return [_fold_trial(values, v, f) for v in tuned_values(values) for f in range(values["k"])]


def assemble(values: dict, results: list) -> StudyResult:
    """Fold tables and the per-value summary (also from the folds finished so far); the test error
    of the best value once its retrained model (fold -1, the second wave) has finished."""
    results = sorted(results, key=lambda r: r.trial.index)
    tidy = _tidy(values, results)
    folds = fold_errors(tidy, values)
    summary = summarise(folds, values)
    final = tidy[tidy["fold"].isna() & (tidy["split"] == "test")]
    if summary["best"].any() and len(final):
        summary.loc[summary["best"], "test_error"] = final["error"].iloc[-1]
    return StudyResult(NAME, dict(values), tidy, summary, {"folds": folds})


def next_wave(values: dict, results: list) -> list[dict]:
    """Once every fold has run: retrain the best value on the whole pool, to test it once (and then
    nothing more: the retrained model, fold -1, ends the run)."""
    if any(r.trial.params.get("fold") == -1 for r in results):
        return []
    summary = summarise(fold_errors(_tidy(values, results), values), values)
    if not summary["best"].any():
        return []
    best = summary.loc[summary["best"], "value"].iloc[0]
    return [_fold_trial(values, int(best) if values["tune"] in ("epochs", "hidden_units") else best, -1)]


def _swept(values: dict) -> list[str]:
    return [] if values["tune"] == "epochs" else [values["tune"]]


def _tidy(values: dict, results) -> pd.DataFrame:
    """The tidy table with each trial's fold sizes (``n_train``, ``n_val``) appended; when tuning epochs,
    also the epochs each trial trained (the folds the longest value, the final model the best one), so
    the export's ``epochs`` column is not the form's unused value."""
    tidy = tidy_frame(NAME, results, _swept(values))
    if values["tune"] == "epochs":
        trained = {r.trial.index: r.trial.params["epochs"] for r in results}
        tidy["epochs"] = tidy["trial"].map(trained).astype("Int64")
    sizes = {r.trial.index: (r.payload.get("n_train"), r.payload.get("n_val")) for r in results}
    tidy["n_train"] = tidy["trial"].map(lambda t: sizes[t][0]).astype("Int64")
    tidy["n_val"] = tidy["trial"].map(lambda t: sizes[t][1]).astype("Int64")
    return tidy


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    tune = result.params["tune"]
    summary = result.summary.dropna(subset=["mean_val_error"]).assign(
        low=lambda d: d["mean_val_error"] - d["std_val_error"].fillna(0),
        high=lambda d: d["mean_val_error"] + d["std_val_error"].fillna(0),
        marker=lambda d: np.where(d["best"], "best (lowest mean)", "mean over folds ± std"))
    log = tune in ("learning_rate", "hidden_units", "epochs") or (tune == "l2" and (summary["value"] > 0).all())
    tried = tuned_values(result.params)
    x = charts.log_axis("value", tried, title=charts.words(tune)) if log else alt.X(
        "value:Q", title=charts.words(tune), scale=alt.Scale(nice=False, padding=14),
        axis=alt.Axis(values=[float(v) for v in tried], format="~g"))
    base = alt.Chart(summary)
    bars = base.mark_errorbar(ticks=True, color=charts.NEUTRAL).encode(x=x, y=alt.Y("low:Q", title="validation error",
                                                            axis=alt.Axis(format="%")), y2="high:Q")
    line = base.mark_line().encode(x=x, y="mean_val_error:Q")
    marks = base.mark_point(filled=True, size=90).encode(
        x=x, y="mean_val_error:Q",
        color=alt.Color("marker:N", title=None, scale=alt.Scale(domain=["mean over folds ± std", "best (lowest mean)"],
                                                                range=charts.PALETTE[0:4:3]),
                        legend=charts.legend(["mean over folds ± std", "best (lowest mean)"])),
        shape=alt.Shape("marker:N", scale=alt.Scale(domain=["mean over folds ± std", "best (lowest mean)"],
                                                    range=["circle", "diamond"]), legend=None),
        tooltip=["value:Q", alt.Tooltip("mean_val_error:Q", format=".2%", title="mean"),
                 alt.Tooltip("std_val_error:Q", format=".2%", title="std"), "folds:Q",
                 alt.Tooltip("test_error:Q", format=".2%", title="test error (retrained)")])
    folds = alt.Chart(result.tables["folds"]).mark_point(opacity=0.35, size=25, color=charts.NEUTRAL).encode(
        x=x, y="error:Q", detail="fold:N",
        tooltip=["value:Q", "fold:N", alt.Tooltip("error:Q", format=".2%"), "n_train:Q", "n_val:Q"])
    title = f"{result.params['k']}-fold validation error against {charts.words(tune)} (Fig. 79)"
    return [charts.finish(folds + bars + line + marks, title,
                          "Look for: the value with the lowest mean over the folds (red); grey dots are single folds, "
                          "the bars one standard deviation: values within a bar of the best are as good.")]



def compare(runs: list) -> list[alt.Chart]:
    """Two runs' mean validation error over the folds against the tuned value, the pinned one dashed."""
    frame = pd.concat([r.summary.assign(run=label) for label, r in runs], ignore_index=True)
    tune = runs[0][1].params["tune"]
    return [charts.compare_lines(frame, "value", "mean_val_error", "run", [label for label, _ in runs],
                                 f"Mean validation error over the folds against {charts.words(tune)}, both runs",
                                 "Look for: whether the best value moved, and by how much the error changed.",
                                 log_x=tune in ("learning_rate", "hidden_units"), y_title="mean validation error")]


def takeaway(result: StudyResult) -> list[str]:
    s = result.summary
    if not s["best"].any():
        return ["No value finished on every fold: all trials diverged or failed.", ""]
    b = s[s["best"]].iloc[0]
    tune = result.params["tune"]
    name = (lambda v: str(int(v))) if tune in ("epochs", "hidden_units") else (lambda v: f"{v:g}")
    folds = result.tables["folds"]
    failed = int((folds["status"] != "ok").sum())
    edge = edge_note(s["value"], b["value"])
    ok = folds[folds["status"] == "ok"]
    noise = noise_ties(ok, "value", "error", samples=float(b["validated"]))
    ties = (f", tied within noise with {listed(name(v) for v in noise.tied[1:])} "
            f"({noise_note(noise, ok, 'value', name, float(b['validated']), unit='fold')})" if len(noise.tied) > 1 else "")
    return [f"Best {charts.words(tune)} {name(b['value'])}{ties}: {b['mean_val_error']:.1%} ± {b['std_val_error']:.1%} "
            f"mean validation error over {b['folds']} folds.{edge}",
            f"Retrained on all {b['validated']} training samples it makes {b['test_error']:.1%} test error."
            + (f" {failed} fold runs did not finish ok." if failed else "")]
