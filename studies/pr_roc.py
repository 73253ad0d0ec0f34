"""Precision-recall and ROC curves (lecture 3.5, Fig. 61-67).

Trains the chosen model, then scores the test split. For a pair of classes (binary task; the
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
(model, class) with ``precision, recall, f1, support``, and ``test_error`` per model.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

from core.metrics import confusion_matrix, per_class_report
from studies import cost
from studies.params import TRAINING
from studies.schema import Param, Schema, with_defaults, without
from core.data import task_class_names
from studies.training import StudyResult, fit_trial

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


def plan(values: dict) -> list[dict]:
    """One trial per model: every epoch count with every cost."""
    epochs = sorted({values["epochs"], *values["compare_epochs"]})
    losses = list(dict.fromkeys([values["loss"], *values["compare_losses"]]))
    return [{**values, "loss": loss, "epochs": e, "repeat": 0, "model": model_label(loss, e)}
            for loss in losses for e in epochs]


def model_label(loss: str, epochs: int) -> str:
    return f"{loss.upper()}, {epochs} epoch{'' if epochs == 1 else 's'}"


def score_trial(trial) -> dict:
    """Train one model; return the test labels and scores (positive-class probability, or the
    predicted class for several classes)."""
    net, history, split, *_ = fit_trial(trial, evaluate=False)
    if history.status != "ok":
        return {"status": history.status, "message": "the cost became non-finite during training"
                if history.status == "diverged" else ""}
    proba = net.predict_proba(split.X_test)
    scores = proba[:, -1] if split.n_classes == 2 else None  # one sigmoid unit, or softmax's second column
    return {"y_test": split.y_test, "scores": scores, "predicted": net.predict(split.X_test)}


TRIAL = score_trial
COST = cost.scoring


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
    summary = {"auc_roc": auc(fpr, tpr), "auc_pr": auc(recall, precision),
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
    tidy = pd.DataFrame(rows, columns=["study", "trial", "seed", "model", "epochs", "loss", "curve", "threshold",
                                       "x", "y", "status"])
    return StudyResult(NAME, dict(values), tidy, pd.DataFrame(summaries))


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
        report = per_class_report(y, pred, class_names).assign(test_error=float(np.mean(y != pred)))
        reports += [{**_head(r), **row, "status": r.status, "message": ""} for row in report.to_dict("records")]
    return StudyResult(NAME, dict(values), pd.DataFrame(counts), pd.DataFrame(reports))


def is_binary(result: StudyResult) -> bool:
    return "curve" in result.tidy.columns


def charts_for(result: StudyResult) -> list[alt.Chart]:
    return _binary_charts(result) if is_binary(result) else _multiclass_charts(result)


def _binary_charts(result: StudyResult) -> list[alt.Chart]:
    tidy, summary = result.tidy.dropna(subset=["curve"]), result.summary
    pick = alt.selection_point(fields=["model"], bind="legend")
    color = alt.Color("model:N", title="model")

    def curve_chart(curve, title, x_title, y_title):
        return alt.Chart(tidy[tidy["curve"] == curve]).mark_line(interpolate="step-after" if curve == "pr" else
                                                                  "linear").encode(
            x=alt.X("x:Q", title=x_title, scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("y:Q", title=y_title, scale=alt.Scale(domain=[0, 1])), color=color, order="threshold:Q",
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
            tooltip=["model:N", alt.Tooltip("threshold:Q", format=".3f"), alt.Tooltip("x:Q", format=".3f", title=x_title),
                     alt.Tooltip("y:Q", format=".3f", title=y_title)]).add_params(pick).properties(
            title=title, width=340, height=300)

    ok = summary[summary["status"] == "ok"]
    pr = curve_chart("pr", "Precision-recall curve (Fig. 65)", "recall", "precision")
    baseline = alt.Chart(ok.head(1)).mark_rule(strokeDash=[4, 4], color="gray").encode(
        y="baseline_precision:Q", tooltip=[alt.Tooltip("baseline_precision:Q", format=".3f",
                                                       title="random classifier precision")])
    roc = curve_chart("roc", "ROC curve (Fig. 67) with equal error rate", "false positive rate", "true positive rate")
    diagonal = alt.Chart(pd.DataFrame({"x": [0, 1], "y": [0, 1]})).mark_line(strokeDash=[4, 4], color="gray").encode(
        x="x:Q", y="y:Q")
    eer = alt.Chart(ok.assign(tpr=lambda d: 1 - d["eer"])).mark_point(shape="diamond", size=120, filled=True).encode(
        x="eer:Q", y="tpr:Q", color=color, tooltip=["model:N", alt.Tooltip("eer:Q", format=".3f", title="EER"),
                                                     alt.Tooltip("eer_threshold:Q", format=".3f", title="threshold")])
    return [pr + baseline, roc + diagonal + eer]


def _multiclass_charts(result: StudyResult) -> list[alt.Chart]:
    main = model_label(result.params["loss"], result.params["epochs"])
    counts = result.tidy[result.tidy["model"] == main] if len(result.tidy) else result.tidy
    heat = alt.Chart(counts, title=f"Confusion matrix, {main} (Fig. 61/62)").mark_rect().encode(
        x=alt.X("predicted:N", sort=None), y=alt.Y("actual:N", sort=None),
        color=alt.Color("count:Q", scale=alt.Scale(type="symlog", scheme="blues")),
        tooltip=["actual:N", "predicted:N", "count:Q"]).properties(width=340, height=340)
    text = heat.mark_text(fontSize=10).encode(text="count:Q", color=alt.value("black"))
    per_class = result.summary[result.summary["model"] == main].melt(
        id_vars=["class"], value_vars=["precision", "recall", "f1"], var_name="measure", value_name="value")
    pick = alt.selection_point(fields=["measure"], bind="legend")
    bars = alt.Chart(per_class, title="Per-class precision, recall and F1").mark_bar().encode(
        x=alt.X("class:N", sort=None), xOffset="measure:N", y=alt.Y("value:Q", scale=alt.Scale(domain=[0, 1])),
        color="measure:N", opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=["class:N", "measure:N", alt.Tooltip("value:Q", format=".3f")]).add_params(pick).properties(
        width=420, height=260)
    return [heat + text, bars]


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
    if not is_binary(result):
        errors = s.groupby("model")["test_error"].first().sort_values()
        worst = s[s["model"] == errors.index[0]].sort_values("f1").iloc[0]
        return [f"Best model {errors.index[0]}: {errors.iloc[0]:.1%} test error.",
                f"Hardest class: {worst['class']} (F1 {worst['f1']:.3f})."]
    best = s.sort_values("auc_roc", ascending=False).iloc[0]
    return [f"Best model {best['model']}: ROC AUC {best['auc_roc']:.4f}, PR AUC {best['auc_pr']:.4f}, "
            f"equal error rate {best['eer']:.1%}.",
            f"At threshold {best['threshold']:g}: precision {best['precision']:.3f}, recall {best['recall']:.3f}, "
            f"F1 {best['f1']:.3f}, accuracy {best['accuracy']:.3f}."]
