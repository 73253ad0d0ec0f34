"""Precision-recall and ROC curves (lecture 3.5, Fig. 61-67).

Trains the chosen model, then scores the validation and the test split. For a pair of classes (binary task; the
second class named is the positive one): the PR curve with its area and the random classifier's
constant precision (the positive share), the ROC curve with its area, the diagonal and the equal
error rate (the point where the false positive rate equals the false negative rate 1 - TPR), and
for a chosen threshold the confusion table with precision, recall, F1 and accuracy (3.5.2).
Several models (other epoch counts, other costs) are trained side by side and overlaid. With all
classes: the confusion matrix (Fig. 61/62) and per-class precision / recall / F1.

Binary CSV (``--out``): one row per curve point: ``study, trial, seed, model, epochs, loss,
curve`` (``roc`` or ``pr``), ``threshold, x, y`` (roc: x = false positive rate, y = true positive
rate; pr: x = recall, y = precision), ``status``. Summary (``--summary-out``): one row per model:
``auc_roc``, ``auc_pr`` (trapezoidal area under the PR curve), ``average_precision``, ``eer``,
``eer_threshold``, ``baseline_precision``, and at ``threshold``: ``tp, fp, fn, tn, precision,
recall, f1, accuracy``, with ``status`` and ``message``.
Multi-class CSV: one row per (model, actual, predicted) with its ``count``; summary: one row per
(model, class) with ``precision, recall, f1, support``, and ``val_error`` and ``test_error`` per model.
The takeaway's model is chosen on the validation split (``val_auc_roc``, ``val_error``) and reported
on the test split.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

from core.data import task_class_names
from core.metrics import confusion_matrix, per_class_report
from studies.common import charts
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.training import StudyResult
from studies.trials.pr_roc import COST, TRIAL  # noqa: F401

NAME = "pr_roc"
TITLE = "Precision-recall and ROC curves"
FIGURES = "Fig. 61-67"
SUMMARY = "PR and ROC curves with areas and equal error rate; confusion table at a threshold; models overlaid."
LABEL_KEYS = ("loss", "epochs")

SCHEMA = Schema([
    *with_defaults(without(TRAINING, "repeats"), classes=(8, 9), hidden=(), output="sigmoid", loss="mse",
                   learning_rate=0.1, epochs=10),
    Param("compare_epochs", "ints", (1,), "Also train models stopped after these epochs, to overlay their curves.",
          "study", low=1, high=500, max_len=4),
    Param("compare_losses", "choices", (), "Also train models with these costs (mse, ce).", "study",
          choices=("mse", "ce"), max_len=2),
    Param("threshold", "float", 0.5, "Score above which a sample is called positive, for the confusion table.",
          "study", low=0.0, high=1.0),
])


QUICK = {"epochs": "3"}

PRESETS = {  # the lecture's settings for its figures: parameter texts, as a link carries them
    "Fig. 65/67: T-shirt vs trouser on Fashion-MNIST": {"dataset": "fashion-mnist", "classes": "0,1"},
    "Fig. 61/62: confusion matrix of all ten classes": {
        "classes": "", "hidden": "30", "output": "softmax", "loss": "ce", "learning_rate": "0.5", "epochs": "10",
        "compare_epochs": "1"},
}

def plan(values: dict) -> list[dict]:
    """One trial per model: every epoch count with every cost."""
    epochs = sorted({values["epochs"], *values["compare_epochs"]})
    losses = list(dict.fromkeys([values["loss"], *values["compare_losses"]]))
    return [{**values, "loss": loss, "epochs": e, "repeat": 0, "model": model_label(loss, e)}
            for loss in losses for e in epochs]


def model_label(loss: str, epochs: int) -> str:
    return f"{loss.upper()}, {epochs} epoch{'' if epochs == 1 else 's'}"


def equal_error_rate(fpr: np.ndarray, tpr: np.ndarray, thresholds: np.ndarray) -> tuple[float, float]:
    """Where FPR = FNR = 1 - TPR on the ROC curve, linearly interpolated; returns (rate, threshold)."""
    gap = fpr - (1 - tpr)  # rises from -1 to +1 as the threshold falls
    i = int(np.argmax(gap >= 0))
    if i == 0:
        return float(fpr[0]), float(thresholds[0])
    t = -gap[i - 1] / (gap[i] - gap[i - 1])
    finite = np.minimum(thresholds, 1.0)  # scikit-learn's first threshold is +inf
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1])), float(finite[i - 1] + t * (finite[i] - finite[i - 1]))


def confusion_at(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict:
    """The confusion table of lecture 3.5.2 and its measures at one threshold."""
    pred = scores >= threshold
    tp, fp = int(np.sum(pred & (y == 1))), int(np.sum(pred & (y == 0)))
    fn, tn = int(np.sum(~pred & (y == 1))), int(np.sum(~pred & (y == 0)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall, "f1": f1,
            "accuracy": (tp + tn) / len(y)}


def binary_tables(result, threshold: float) -> tuple[list[dict], dict]:
    y, scores = result.payload["y_test"], result.payload["scores"]
    fpr, tpr, roc_t = roc_curve(y, scores)
    precision, recall, pr_t = precision_recall_curve(y, scores)
    eer, eer_t = equal_error_rate(fpr, tpr, roc_t)
    points = [{"curve": "roc", "threshold": min(t, 1.0), "x": a, "y": b} for t, a, b in zip(roc_t, fpr, tpr)]
    points += [{"curve": "pr", "threshold": t, "x": r, "y": p}
               for t, r, p in zip(np.append(pr_t, 1.0), recall, precision)]
    val_fpr, val_tpr, _ = roc_curve(result.payload["y_val"], result.payload["val_scores"])
    summary = {"val_auc_roc": auc(val_fpr, val_tpr), "auc_roc": auc(fpr, tpr), "auc_pr": auc(recall, precision),
               "average_precision": average_precision_score(y, scores), "eer": eer, "eer_threshold": eer_t,
               "baseline_precision": float(np.mean(y == 1)), "threshold": threshold,
               **confusion_at(y, scores, threshold)}
    return points, summary


def assemble(values: dict, results: list) -> StudyResult:
    results = sorted(results, key=lambda r: r.trial.index)
    class_names = task_class_names(values["dataset"], tuple(values["classes"]))
    if len(class_names) == 2:
        return _binary_result(values, results)
    return _multiclass_result(values, results, class_names)


HEAD = ["study", "trial", "seed", "model", "epochs", "loss"]  # every table's first columns, from ``_head``
NUMBERS = ["val_auc_roc", "auc_roc", "auc_pr", "average_precision", "eer", "eer_threshold", "baseline_precision", "threshold",
           "tp", "fp", "fn", "tn", "precision", "recall", "f1", "accuracy"]  # binary_tables' summary, per model


def _head(r) -> dict:
    p = r.trial.params
    return {"study": NAME, "trial": r.trial.index, "seed": r.trial.seed, "model": p["model"], "epochs": p["epochs"],
            "loss": p["loss"]}


def _binary_result(values: dict, results) -> StudyResult:
    rows, summaries = [], []
    for r in results:
        points, numbers = binary_tables(r, values["threshold"]) if r.status == "ok" else ([{}], {})
        rows += [{**_head(r), **point, "status": r.status} for point in points]
        summaries.append({**_head(r), **numbers, "status": r.status, "message": r.message})
    tidy = pd.DataFrame(rows, columns=[*HEAD, "curve", "threshold", "x", "y", "status"])
    summary = pd.DataFrame(summaries) if summaries else pd.DataFrame(columns=[*HEAD, *NUMBERS, "status", "message"])
    return StudyResult(NAME, dict(values), tidy, summary)


def _multiclass_result(values: dict, results, class_names: list[str]) -> StudyResult:
    counts, reports = [], []
    for r in results:
        if r.status != "ok":
            reports.append({**_head(r), "status": r.status, "message": r.message})
            continue
        y, pred = r.payload["y_test"], r.payload["predicted"]
        matrix = confusion_matrix(y, pred, len(class_names))
        counts += [{**_head(r), "actual": class_names[a], "predicted": class_names[b], "count": int(matrix[a, b]),
                    "status": r.status} for a in range(len(class_names)) for b in range(len(class_names))]
        report = per_class_report(y, pred, class_names).assign(
            val_error=float(np.mean(r.payload["y_val"] != r.payload["val_predicted"])),
            test_error=float(np.mean(y != pred)))
        reports += [{**_head(r), **row, "status": r.status, "message": ""} for row in report.to_dict("records")]
    counts = pd.DataFrame(counts, columns=[*HEAD, "actual", "predicted", "count", "status"])
    reports = pd.DataFrame(reports) if reports else pd.DataFrame(
        columns=[*HEAD, "class", "precision", "recall", "f1", "val_error", "test_error", "status", "message"])
    return StudyResult(NAME, dict(values), counts, reports)


def is_binary(result: StudyResult) -> bool:
    return "curve" in result.tidy.columns


def best_model(result: StudyResult) -> str | None:
    """The model the takeaway names, chosen on the validation split (3.6.2: the test split only reports
    it): highest validation ROC AUC (binary) or lowest validation error (all classes)."""
    ok = result.summary[result.summary["status"] == "ok"]
    if ok.empty:
        return None
    if is_binary(result):
        return ok.sort_values("val_auc_roc", ascending=False, kind="stable")["model"].iloc[0]
    return ok.groupby("model", sort=False)["val_error"].first().sort_values(kind="stable").index[0]


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    return _binary_charts(result) if is_binary(result) else _multiclass_charts(result)


def _binary_charts(result: StudyResult) -> list[alt.Chart]:
    tidy, summary = result.tidy.dropna(subset=["curve"]), result.summary
    pick = alt.selection_point(fields=["model"], bind="legend")
    models = list(dict.fromkeys(summary["model"]))
    color = alt.Color("model:N", title="model", scale=charts.categorical(models), legend=charts.line_legend(models))

    def curve_chart(curve, x_title, y_title):
        return alt.Chart(tidy[tidy["curve"] == curve]).mark_line(
            interpolate="step-after" if curve == "pr" else "linear").encode(
            x=alt.X("x:Q", title=x_title, scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("y:Q", title=y_title, scale=alt.Scale(domain=[0, 1])), color=color, order="threshold:Q",
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
            tooltip=["model:N", alt.Tooltip("threshold:Q", format=".3f"), alt.Tooltip("x:Q", format=".3f", title=x_title),
                     alt.Tooltip("y:Q", format=".3f", title=y_title)]).add_params(pick)

    ok = summary[summary["status"] == "ok"]
    baseline = alt.Chart(ok.head(1)).mark_rule(strokeDash=[4, 4], color=charts.NEUTRAL).encode(
        y="baseline_precision:Q", tooltip=[alt.Tooltip("baseline_precision:Q", format=".3f",
                                                       title="random classifier precision")])
    diagonal = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]})).mark_line(strokeDash=[4, 4], color=charts.NEUTRAL).encode(
        x="x:Q", y="y:Q")
    eer = alt.Chart(ok.assign(tpr=lambda d: 1 - d["eer"], marker="equal error rate")).mark_point(
        size=130, filled=True).encode(
        x="eer:Q", y="tpr:Q", color=color,
        shape=alt.Shape("marker:N", title=None, scale=alt.Scale(domain=["equal error rate"], range=["diamond"]),
                        legend=charts.shape_legend(["equal error rate"])),
        tooltip=["model:N", alt.Tooltip("eer:Q", format=".3f", title="EER"),
                 alt.Tooltip("eer_threshold:Q", format=".3f", title="threshold")])
    pr = charts.finish(alt.layer(curve_chart("pr", "recall", "precision"), baseline),
                       "Precision-recall curve (Fig. 65)",
                       "Look for: the curve hugging the top right corner; the grey dashed line is a random "
                       "classifier's precision, the share of positives.")
    roc = charts.finish(alt.layer(curve_chart("roc", "false positive rate", "true positive rate"), diagonal, eer),
                        "ROC curve (Fig. 67) with the equal error rate",
                        "Look for: the area under the curve (1 is perfect, the grey diagonal 0.5 is chance) and "
                        "the diamond where false positives and false negatives are equally frequent.")
    return [pr, roc, confusion_chart(result)] if best_model(result) else [pr, roc]


def on_shade(dark_from: float):
    """Cell text readable on the blues: white on cells darker than the middle of the scale (black
    numbers on navy could not be read), black on the light ones, whatever the page's theme."""
    return alt.condition(f"datum.count > {float(dark_from)!r}", alt.value("white"), alt.value("black"))


def confusion_chart(result: StudyResult) -> alt.Chart:
    """The binary confusion table (lecture 3.5.2) of the best model at the chosen threshold."""
    row = result.summary[result.summary["model"] == best_model(result)].iloc[0]
    names = task_class_names(result.params["dataset"], tuple(result.params["classes"]))
    cells = pd.DataFrame([
        {"actual": f"{names[1]} (positive)", "predicted": f"{names[1]} (positive)", "count": row["tp"], "cell": "TP"},
        {"actual": f"{names[1]} (positive)", "predicted": f"{names[0]} (negative)", "count": row["fn"], "cell": "FN"},
        {"actual": f"{names[0]} (negative)", "predicted": f"{names[1]} (positive)", "count": row["fp"], "cell": "FP"},
        {"actual": f"{names[0]} (negative)", "predicted": f"{names[0]} (negative)", "count": row["tn"], "cell": "TN"}])
    cells["text"] = cells["cell"] + " " + cells["count"].astype(int).astype(str)
    heat = alt.Chart(cells).mark_rect().encode(
        x=alt.X("predicted:N", sort=None, title="predicted class"), y=alt.Y("actual:N", sort=None, title="actual class"),
        color=alt.Color("count:Q", scale=alt.Scale(scheme="blues"), legend=None),
        tooltip=["actual:N", "predicted:N", "cell:N", "count:Q"])
    text = heat.mark_text(fontSize=14).encode(text="text:N", color=on_shade(cells["count"].max() / 2))
    return charts.finish(heat + text, f"Confusion table of {row['model']} at threshold {row['threshold']:g} (3.5.2)",
                         f"Look for: precision TP/(TP+FP) = {row['precision']:.3f}, recall TP/(TP+FN) = "
                         f"{row['recall']:.3f}; moving the threshold trades one against the other.")


def _multiclass_charts(result: StudyResult) -> list[alt.Chart]:
    main = best_model(result) or model_label(result.params["loss"], result.params["epochs"])
    counts = result.tidy[result.tidy["model"] == main] if len(result.tidy) else result.tidy
    heat = alt.Chart(counts).mark_rect().encode(
        x=alt.X("predicted:N", sort=None, title="predicted class"), y=alt.Y("actual:N", sort=None, title="actual class"),
        color=alt.Color("count:Q", scale=alt.Scale(type="symlog", scheme="blues"), legend=None),
        tooltip=["actual:N", "predicted:N", "count:Q"])
    text = heat.mark_text(fontSize=10).encode(text="count:Q", color=on_shade(np.sqrt(1 + counts["count"].max()) - 1))  # symlog's middle
    per_class = result.summary[result.summary["model"] == main].melt(
        id_vars=["class"], value_vars=["precision", "recall", "f1"], var_name="measure", value_name="value")
    pick = alt.selection_point(fields=["measure"], bind="legend")
    bars = alt.Chart(per_class).mark_bar().encode(
        x=alt.X("class:N", sort=None, title="class"), xOffset="measure:N",
        y=alt.Y("value:Q", scale=alt.Scale(domain=[0, 1]), title="score"),
        color=alt.Color("measure:N", scale=charts.categorical(["precision", "recall", "f1"]),
                        legend=charts.legend(["precision", "recall", "f1"])), opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=["class:N", "measure:N", alt.Tooltip("value:Q", format=".3f")]).add_params(pick)
    return [charts.finish(heat + text, f"Confusion matrix of {main} (Fig. 61/62)",
                          "Look for: the diagonal holds the correct answers; large off-diagonal cells are the "
                          "pairs of classes the network confuses."),
            charts.finish(bars, f"Per-class precision, recall and F1 of {main}",
                          "Look for: the classes with the lowest bars are the hard ones.")]



def compare(runs: list) -> list[alt.Chart]:
    """Two runs' ROC curves on the same axes (binary tasks), the pinned one dashed."""
    if not all(is_binary(r) for _, r in runs):
        return []
    frame = pd.concat([r.tidy[r.tidy["curve"] == "roc"].assign(run=label) for label, r in runs], ignore_index=True)
    return [charts.compare_lines(frame, "x", "y", "model", [label for label, _ in runs], "ROC curves, both runs",
                                 "Look for: the run whose curves reach the top left corner sooner.",
                                 y_title="true positive rate", y_format="~g", ordered_values=False)]


def trial_detail(result) -> str:
    if result.status != "ok":
        return ""
    y, scores = result.payload["y_test"], result.payload["scores"]
    if scores is None:
        return f"test error {np.mean(y != result.payload['predicted']):.1%}"
    fpr, tpr, _ = roc_curve(y, scores)
    return f"AUC {auc(fpr, tpr):.4f}"


def takeaway(result: StudyResult) -> list[str]:
    s = result.summary[result.summary["status"] == "ok"]
    if s.empty:
        return ["No model finished training; see the status column.", ""]
    chosen = best_model(result)
    if not is_binary(result):
        rows = s[s["model"] == chosen]
        worst = rows.sort_values("f1").iloc[0]
        return [f"Chosen on validation: {chosen} ({rows['val_error'].iloc[0]:.1%} validation error); "
                f"{rows['test_error'].iloc[0]:.1%} test error.",
                f"Hardest class: {worst['class']} (F1 {worst['f1']:.3f})."]
    best = s[s["model"] == chosen].iloc[0]
    return [f"Chosen on validation: {best['model']} (validation ROC AUC {best['val_auc_roc']:.4f}). On the test "
            f"split: ROC AUC {best['auc_roc']:.4f}, PR AUC {best['auc_pr']:.4f}, equal error rate {best['eer']:.1%}.",
            f"At threshold {best['threshold']:g}: precision {best['precision']:.3f}, recall {best['recall']:.3f}, "
            f"F1 {best['f1']:.3f}, accuracy {best['accuracy']:.3f}."]
