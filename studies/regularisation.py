"""Regularisation (lecture 5.3, Fig. 138-145): none, L2, L1, dropout and early stopping side by side.

An over-parameterised network (the lecture's 250-150 hidden units) on a training set small enough to
overfit (``max_train``) is trained once per method and repeat: without regularisation, with an L2
penalty (5.3.1, weights shrink towards zero), with an L1 penalty (Fig. 141/142: every weight pulled
towards zero by the same step, so many end near zero; plain gradient steps rarely land on exactly 0),
and with each dropout rate (5.3.2). Early stopping (5.3.3, Fig. 145) needs no run of its own: it is
the unregularised run read at its best validation epoch, with the test error at that epoch.

The defaults show the lecture's lesson on the embedded digits: without regularisation the training
error reaches 0 while the validation cost turns up after its minimum (Fig. 138); the penalties keep it
down (Fig. 139) and every method ends at or below the unregularised test error. Penalties ten times
stronger underfit (L2 lambda = 0.01 ends near 60 % training error); the takeaway says so when it happens.

CSV (``--out``): the tidy columns of DESIGN.md, then ``method``, ``setting`` and ``repeat``.
Summary: one row per trial as in the learning-rate study plus ``weight_norm`` (sum of squared
weights after training), ``zero_share`` (share of weights with |w| < 0.001), ``exact_zero_share``,
``gap`` (final validation minus training error) and ``cost_rise`` (final validation cost minus its
minimum: the overfitting of Fig. 138); early stopping adds a row per repeat (``method`` = early
stopping) with the epoch and errors at the best validation epoch. Further table ``histograms``:
method, layer, bin_left, bin_right, count (first repeat; each over its layer's full range).
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from studies.common import charts
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.takeaways import apart
from studies.common.training import StudyResult, assemble_training, trial_detail  # noqa: F401
from studies.trials.regularisation import COST, TRIAL  # noqa: F401

NAME = "regularisation"
TITLE = "Regularisation"
FIGURES = "Fig. 138-145"
SUMMARY = "An over-parameterised net on few samples: none, L2, L1, dropout and early stopping side by side."
LABEL_KEYS = ("method", "repeat")
EARLY = "early stopping"

SCHEMA = Schema([
    *with_defaults(without(TRAINING, "l2", "l1", "dropout"), hidden=(250, 150), max_train=100, epochs=300,
                   repeats=2, learning_rate=2.0, batch_size=16),
    Param("l2_penalty", "float", 0.001, "lambda of the L2 run (0 leaves it out). Ten times more (0.01) underfits "
          "these defaults.", "study", low=0.0, high=10.0),
    Param("l1_penalty", "float", 0.00003, "lambda of the L1 run (0 leaves it out); 0.001 underfits these defaults.",
          "study", low=0.0, high=10.0),
    Param("dropout_rates", "floats", (0.2, 0.5), "Dropout rates, one run each (empty for none).", "study",
          low=0.0, high=0.9, max_len=4),
])

QUICK = {"epochs": "3", "hidden": "20"}

PRESETS = {  # the lecture's settings for its figures: parameter texts, as a link carries them
    "Fig. 138-145: 250-150 units on 100 samples": {"hidden": "250,150", "max_train": "100", "epochs": "300"},
    "Too strong: L2 0.01 and L1 0.001 underfit": {"l2_penalty": "0.01", "l1_penalty": "0.001", "dropout_rates": ""},
}


def methods(values: dict) -> list[tuple[str, dict]]:
    """(label, the parameters it changes) of every run: none first, then the penalties and dropouts."""
    found = [("none", {})]
    if values["l2_penalty"]:
        found.append((f"L2 λ={values['l2_penalty']:g}", {"l2": values["l2_penalty"]}))
    if values["l1_penalty"]:
        found.append((f"L1 λ={values['l1_penalty']:g}", {"l1": values["l1_penalty"]}))
    found += [(f"dropout {rate:g}", {"dropout": rate}) for rate in values["dropout_rates"]]
    return found


def plan(values: dict) -> list[dict]:
    base = {k: v for k, v in values.items() if k not in ("repeats", "l2_penalty", "l1_penalty", "dropout_rates")}
    return [{**base, "l2": 0.0, "l1": 0.0, "dropout": 0.0, **change, "method": label, "repeat": r}
            for r in range(values["repeats"]) for label, change in methods(values)]




def early_stopping(tidy: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """The unregularised runs read at their best validation epoch (5.3.3): one row per repeat."""
    rows = []
    for trial in summary.loc[(summary["method"] == "none") & (summary["status"] == "ok"), "trial"]:
        curves = tidy[tidy["trial"] == trial].pivot_table(index="epoch", columns="split", values="error")
        best = int(curves["val"].idxmin())
        rows.append({"method": EARLY, "setting": EARLY, "trial": trial, "repeat": int(
            summary.loc[summary["trial"] == trial, "repeat"].iloc[0]), "status": "ok", "best_epoch": best,
            "final_train_error": curves.loc[best, "train"], "final_val_error": curves.loc[best, "val"],
            "best_val_error": curves.loc[best, "val"], "final_test_error": curves.loc[best, "test"],
            "last_epoch_test_error": curves["test"].iloc[-1],
            "gap": curves.loc[best, "val"] - curves.loc[best, "train"]})
    return pd.DataFrame(rows)


def cost_rise(tidy: pd.DataFrame) -> pd.Series:
    """Per trial: how far the validation cost ends above its lowest value (Fig. 138's overfitting)."""
    val = tidy[(tidy["split"] == "val") & tidy["cost"].notna()].sort_values("epoch").groupby("trial")["cost"]
    return val.last() - val.min()


def assemble(values: dict, results: list) -> StudyResult:
    result = assemble_training(NAME, values, results, ["method"])
    by_trial = {r.trial.index: r.payload for r in results}
    for key in ("weight_norm", "zero_share", "exact_zero_share"):
        result.summary[key] = result.summary["trial"].map(lambda t: by_trial[t].get(key, np.nan))
    result.summary["gap"] = result.summary["final_val_error"] - result.summary["final_train_error"]
    result.summary["cost_rise"] = result.summary["trial"].map(cost_rise(result.tidy))
    early = early_stopping(result.tidy, result.summary)
    if len(early):
        result.summary = pd.concat([result.summary, early], ignore_index=True)
    result.tables["histograms"] = pd.DataFrame(
        [{"method": r.trial.params["method"], **row} for r in results for row in r.payload.get("histograms", [])],
        columns=["method", "layer", "bin_left", "bin_right", "count"])
    return result


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    order = [label for label, _ in methods(result.params)]
    scale = charts.categorical([*order, EARLY])  # one colour per method in every chart
    tidy = result.tidy[result.tidy["split"].isin(["train", "val"])].assign(
        split=lambda d: d["split"].map(charts.SPLIT_LABELS))
    means = tidy.groupby(["method", "split", "epoch"])["error"].mean().reset_index()
    curves = alt.Chart(means).mark_line().encode(
        x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(format="d")),
        y=alt.Y("error:Q", title="error rate", axis=alt.Axis(format="%")),
        color=alt.Color("method:N", sort=order, title="method", legend=charts.line_legend(order), scale=scale),
        strokeDash=alt.StrokeDash("split:N", title="split", legend=charts.dash_legend(["training", "validation"]),
                                  scale=alt.Scale(domain=["training", "validation"], range=[[2, 2], [1, 0]])),
        tooltip=["method:N", "split:N", "epoch:Q", alt.Tooltip("error:Q", format=".2%")])
    final = result.summary[result.summary["status"] == "ok"]
    bars = alt.Chart(final).mark_bar().encode(
        y=alt.Y("method:N", sort=[*order, EARLY], title=None, axis=alt.Axis(labelLimit=0)),
        x=alt.X("mean(final_test_error):Q", title="test error", axis=alt.Axis(format="%")),
        color=alt.Color("method:N", sort=[*order, EARLY], legend=None, scale=scale),
        tooltip=["method:N", alt.Tooltip("mean(final_test_error):Q", format=".2%", title="test error"),
                 alt.Tooltip("mean(gap):Q", format=".2%", title="validation - training"),
                 alt.Tooltip("mean(weight_norm):Q", format=".3g", title="sum of squared weights")])
    histograms = result.tables["histograms"].assign(
        density=lambda d: d["count"] / (d.groupby(["method", "layer"])["count"].transform("sum")
                                        * (d["bin_right"] - d["bin_left"])))
    pick = alt.param(name="weights_layer", value="layer 1",
                     bind=alt.binding_select(options=sorted(set(histograms["layer"])) or ["layer 1"],
                                             name="weights of "))
    hist = alt.Chart(histograms).mark_line(interpolate="step").encode(
        x=alt.X("bin_left:Q", title="weight value (each method over its whole range)"),
        y=alt.Y("density:Q", title="density (log)", scale=alt.Scale(type="symlog")),
        color=alt.Color("method:N", sort=order, legend=charts.line_legend(order), scale=scale),
        tooltip=["method:N", "layer:N", alt.Tooltip("bin_left:Q", format=".3f"),
                 alt.Tooltip("bin_right:Q", format=".3f"), "count:Q"]
    ).transform_filter("datum.layer == weights_layer").add_params(pick)
    val_cost = result.tidy[result.tidy["split"] == "val"].groupby(["method", "epoch"])["cost"].mean().reset_index()
    costs = alt.Chart(val_cost).mark_line().encode(
        x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(format="d")),
        y=alt.Y("cost:Q", title="validation cost (cross-entropy)" if result.params["loss"] == "ce" else
                "validation cost"),
        color=alt.Color("method:N", sort=order, title="method", legend=charts.line_legend(order), scale=scale),
        tooltip=["method:N", "epoch:Q", alt.Tooltip("cost:Q", format=".4f")])
    return [
        charts.finish(curves, "Training (dotted) and validation error per epoch (Fig. 139, 145)",
                      "Look for: without regularisation the training error reaches zero while the validation "
                      "error stalls: the gap between the two lines is the overfitting each method narrows."),
        charts.finish(costs, "Validation cost per epoch (Fig. 138, 139)",
                      "Look for: without regularisation the validation cost turns up after its minimum while the "
                      "training error is already 0 (overfitting); a good penalty keeps it down."),
        charts.finish(bars, "Test error per method (early stopping: at the best validation epoch)",
                      "Look for: the methods that beat 'none' on data the network never saw."),
        charts.finish(hist, "Weights after training, per layer (Fig. 140-142)",
                      "Look for: L2 narrows the range of the weights (note each line's reach along the axis), "
                      "L1 piles many of them up near zero."),
    ]


def compare(runs: list) -> list[alt.Chart]:
    """Two runs' validation error per epoch of the unregularised network, the pinned one dashed."""
    frame = pd.concat([r.tidy[(r.tidy["split"] == "val")].groupby(["method", "epoch"])["error"].mean()
                       .reset_index().assign(run=label) for label, r in runs], ignore_index=True)
    return [charts.compare_lines(frame, "epoch", "error", "method", [label for label, _ in runs],
                                 "Validation error per epoch and method, both runs",
                                 "Look for: how the changed parameters move each method's curve.",
                                 y_title="validation error", colour_order=[label for label, _ in methods(runs[0][1].params)],
                                 ordered_values=False)]


UNDERFIT = 0.05  # training error this far above the unregularised run's: the penalty is too strong


def takeaway(result: StudyResult) -> list[str]:
    """Each method judged by its own numbers: lower or higher test error than none, underfitting named
    as such, the validation cost's rise (Fig. 138), the weights' size and share near zero."""
    s = result.summary[result.summary["status"] == "ok"]
    if s.empty:
        return ["No run finished ok.", ""]
    means = s.groupby("method")[["final_test_error", "final_train_error", "gap", "cost_rise", "weight_norm",
                                 "zero_share", "last_epoch_test_error"]].mean()
    if "none" not in means.index:
        best = means["final_test_error"].idxmin()
        return [f"Lowest test error: {best} at {means.loc[best, 'final_test_error']:.1%} (the unregularised run "
                "did not finish, so nothing to compare with).", ""]
    none = means.loc["none"]
    others = means.drop(index="none").sort_values("final_test_error")
    samples = float(s["test_samples"].min()) if "test_samples" in s else 0.0
    sides = {"below": [], "noise": [], "above": []}
    for m, row in others.iterrows():
        side = ("noise" if not apart(s, "method", m, "none", "final_test_error", samples) else
                "below" if row.final_test_error < none.final_test_error else "above")
        sides[side].append(f"{m} {row.final_test_error:.1%}")
    first = f"Test error without regularisation {none.final_test_error:.1%}."
    first += f" Below it: {', '.join(sides['below'])}." if sides["below"] else ""
    first += (f" Within noise of it ({int(samples):,} test samples and the spread over repeats): "
              f"{', '.join(sides['noise'])}." if sides["noise"] else "")
    first += f" Above it: {', '.join(sides['above'])}." if sides["above"] else ""
    return [first, " ".join(filter(None, [_underfitting(others, none), _cost_line(others, none),
                                          _weights_line(others, none), _early_line(s)]))]


def _underfitting(others: pd.DataFrame, none: pd.Series) -> str:
    under = others[others["final_train_error"] > none.final_train_error + UNDERFIT]
    return " ".join(f"{m} underfits: training error {row.final_train_error:.1%} against {none.final_train_error:.1%} "
                    "without regularisation, so its penalty is too strong." for m, row in under.iterrows())


def _cost_line(others: pd.DataFrame, none: pd.Series) -> str:
    rises = others["cost_rise"].dropna()
    if pd.isna(none.cost_rise) or rises.empty:
        return ""
    return (f"The validation cost ends {none.cost_rise:.3g} above its minimum without regularisation (Fig. 138); "
            + ", ".join(f"{m} {v:.3g}" for m, v in rises.items()) + ".")


def _weights_line(others: pd.DataFrame, none: pd.Series) -> str:
    parts = [f"{m} shrinks the sum of squared weights from {none.weight_norm:.3g} to {row.weight_norm:.3g}"
             for m, row in others.iterrows() if m.startswith("L2")]
    parts += [f"{m} leaves {row.zero_share:.0%} of the weights below 0.001 in size (none {none.zero_share:.0%})"
              for m, row in others.iterrows() if m.startswith("L1")]
    return "; ".join(parts) + "." if parts else ""


def _early_line(s: pd.DataFrame) -> str:
    early = s[s["method"] == EARLY]
    if early.empty:
        return ""
    epochs = ", ".join(str(int(e)) for e in early.sort_values("repeat")["best_epoch"])
    when = f"epoch {epochs}" if len(early) == 1 else f"epochs {epochs} (one per repeat)"
    stopped, last = early["final_test_error"].mean(), early["last_epoch_test_error"].mean()
    verdict = "lower than" if stopped < last else "the same as" if stopped == last else "higher than"
    return (f"Early stopping at the best validation error, {when}: test error {stopped:.1%}, {verdict} the "
            f"{last:.1%} at the last epoch.")
