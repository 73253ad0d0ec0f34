"""Decision boundaries (lecture 4.3.1), the picture TensorFlow Playground is known for.

A network is trained on a two-dimensional toy data set for every setting of one swept parameter:
the hidden units of one layer (0 = no hidden layer, a linear boundary), the number of hidden layers
of ``width`` units, or the activation. Each setting gets a small multiple: the class the network
predicts over the plane, shaded by the probability the network gives it (pale near the boundary,
strong where it is sure), the training points on top, and its training and test error. Every
setting's regions are kept at a dozen epochs and played as an animation, as TensorFlow Playground
does: the boundary forms, turns and bends while the network trains.

CSV (``--out``): the tidy columns of DESIGN.md, then ``setting``, the swept parameter's value as
text, and ``repeat``. Summary: one row per trial as in the learning-rate study. Further tables:
``regions`` (setting, epoch, x, y, predicted class, ``p`` its predicted probability; first repeat)
and ``points`` (x, y, class of the training points).
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.toy import TOY_CLASSES
from studies.common import charts
from studies.common.config import TrainingConfig
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.takeaways import listed, tied
from studies.common.training import StudyResult, assemble_training, load_split, trial_detail  # noqa: F401
from studies.trials.decision_boundary import COST, TRIAL, plane  # noqa: F401

NAME = "decision_boundary"
TITLE = "Decision boundaries"
FIGURES = "4.3.1"
SUMMARY = "Class regions over the plane for each setting of hidden units, layers or activation, played over the epochs."
LABEL_KEYS = ("setting", "repeat")
SWEEPS = ("hidden_units", "layers", "activation")
REGION_ALPHA = 0.35  # the predicted regions are shaded, the training points on them opaque

SCHEMA = Schema([
    Param("dataset", "choice", "xor", "Two-dimensional toy data set.", "data", choices=tuple(TOY_CLASSES)),
    *with_defaults(without(TRAINING, "dataset", "classes", "hidden", "max_train", "repeats"), toy_samples=400,
                   toy_noise=0.1, activation="tanh", init="xavier_normal", learning_rate=0.3, batch_size=16, epochs=60,
                   val_fraction=0.2),
    Param("sweep", "choice", "hidden_units", "What differs between the small multiples.", "study", choices=SWEEPS),
    Param("hidden_units", "ints", (0, 2, 4, 8, 32), "Units of the single hidden layer (0: no hidden layer, a "
          "straight boundary).", "study", low=0, high=500, min_len=1, max_len=8),
    Param("layers", "ints", (1, 2, 3), "Numbers of hidden layers of `width` units.", "study", low=0, high=6,
          min_len=1, max_len=6),
    Param("width", "int", 8, "Units per hidden layer when sweeping layers or activations.", "study", low=1, high=500),
    Param("activations", "choices", ("sigmoid", "tanh", "relu"), "Activations to compare.", "study",
          choices=("sigmoid", "tanh", "relu"), max_len=3),
    Param("repeats", "int", 1, "Trials per setting, each with its own initialisation and shuffling.", "study",
          low=1, high=5),
])

QUICK = {"epochs": "3", "toy_samples": "80"}

PRESETS = {  # the lecture's settings for its figures: parameter texts, as a link carries them
    "XOR: no hidden layer against 8 units": {"dataset": "xor", "sweep": "hidden_units", "hidden_units": "0,8"},
    "Spiral: depth helps": {"dataset": "spiral", "sweep": "layers", "layers": "1,2,3", "width": "16",
                            "epochs": "150", "toy_noise": "0.1"},
}


def settings(values: dict) -> list[tuple[str, dict]]:
    """(label, the parameters it sets) of every small multiple, in the order given."""
    if values["sweep"] == "hidden_units":
        return [(f"{n} hidden units" if n else "no hidden layer", {"hidden": (n,) if n else ()})
                for n in values["hidden_units"]]
    if values["sweep"] == "layers":
        return [(f"{n} × {values['width']} units" if n else "no hidden layer", {"hidden": (values["width"],) * n})
                for n in values["layers"]]
    return [(name, {"activation": name, "hidden": (values["width"],)}) for name in values["activations"]]


def plan(values: dict) -> list[dict]:
    base = {k: v for k, v in values.items() if k not in ("repeats",)}
    return [{**base, "classes": (), "max_train": 0, **change, "setting": label, "repeat": r}
            for r in range(values["repeats"]) for label, change in settings(values)]




def assemble(values: dict, results: list) -> StudyResult:
    result = assemble_training(NAME, values, results, ["setting"])
    split = load_split(TrainingConfig.of({**values, "classes": (), "max_train": 0}))
    grid, _, _ = plane(np.concatenate([split.X_train, split.X_test]))
    order = [label for label, _ in settings(values)]
    rows = []
    for r in results:
        if r.trial.params["repeat"] != 0:
            continue
        for snap in r.payload.get("regions", []):
            rows.append(pd.DataFrame({"setting": r.trial.params["setting"], "epoch": snap["epoch"],
                                      "x": grid[:, 0], "y": grid[:, 1], "class": snap["class"], "p": snap["p"]}))
    result.tables["regions"] = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["setting", "epoch", "x", "y", "class", "p"])
    result.tables["points"] = pd.DataFrame({"x": split.X_train[:, 0], "y": split.X_train[:, 1],
                                            "class": split.y_train})
    result.tables["order"] = pd.DataFrame({"setting": order})
    return result


PALETTE = charts.PALETTE[:3]  # one per class: the predicted region and the training points
FAINTEST = 0.06  # opacity of a region where the network is no surer than chance; REGION_ALPHA where it is sure


def region_colours(classes: np.ndarray, p: np.ndarray, domain: list, n_classes: int) -> np.ndarray:
    """RGBA bytes of each cell: its predicted class's colour, more opaque the surer the network is
    (``p`` from 1 / n_classes, a guess, to 1)."""
    colours = charts.palette_colours(classes, domain, PALETTE[:len(domain)], 1.0)
    sure = np.clip((p - 1 / n_classes) / (1 - 1 / n_classes), 0.0, 1.0)
    colours[..., 3] = np.round(255 * (FAINTEST + (REGION_ALPHA - FAINTEST) * sure)).astype(np.uint8)
    return colours


def played(regions: pd.DataFrame, classes: list) -> dict:
    """One setting's regions at every kept epoch as an animation (``charts.animation``)."""
    frames, extent = [], {}
    for epoch, cells in regions.groupby("epoch"):
        predicted, extent = charts.lattice(cells, "class")
        sureness, _ = charts.lattice(cells, "p")
        frames.append((f"epoch {epoch}", region_colours(predicted, sureness, classes, max(len(classes), 2))))
    return charts.animation(frames, extent)


def _region_chart(regions: pd.DataFrame, points: pd.DataFrame, title: str, look_for: str) -> alt.Chart:
    classes = sorted(points["class"].unique())
    colours = PALETTE[:len(classes)]
    images = pd.DataFrame([played(regions, classes)], columns=["url", "x", "x2", "y", "y2"])
    x = alt.X("x:Q", title="x₁", scale=alt.Scale(nice=False, zero=False))
    y = alt.Y("y:Q", title="x₂", scale=alt.Scale(nice=False, zero=False))
    heat = charts.image_layer(images, x, y)
    dots = alt.Chart(points.astype({"x": float, "y": float}).round({"x": 3, "y": 3})).transform_calculate(
        label="'class ' + datum['class']").mark_point(filled=True, size=22, stroke="white", strokeWidth=0.5).encode(
        x=x, y=y, fill=alt.Fill("label:N", title=["class: training points and", "predicted region (fainter: less sure)"],
                                legend=charts.legend([f"class {c}" for c in classes]),
                                scale=alt.Scale(domain=[f"class {c}" for c in classes], range=colours)),
        tooltip=["label:N", alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("y:Q", format=".2f")])
    return charts.finish(alt.layer(heat, dots), title, look_for)


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    regions, points = result.tables["regions"], result.tables["points"]
    order = list(result.tables["order"]["setting"]) if "order" in result.tables else []
    summary = result.summary[result.summary["status"] == "ok"].groupby("setting")[
        ["final_train_error", "final_val_error"]].mean()
    shown = []
    for setting in order:
        frames = regions[regions["setting"] == setting]
        if frames.empty:
            continue
        errors = (f" · training {summary.loc[setting, 'final_train_error']:.1%}, validation "
                  f"{summary.loc[setting, 'final_val_error']:.1%}" if setting in summary.index else "")
        shown.append(_region_chart(frames, points, f"{setting}{errors} (plays epochs {frames['epoch'].min()} to "
                                                   f"{frames['epoch'].max()})",
                                   "Look for: without hidden units the boundary is a straight line that only turns; "
                                   "with hidden units it bends around the classes as training goes on, and with "
                                   "many it also wraps single noisy points."))
    return shown


def compare(runs: list) -> list[alt.Chart]:
    """Two runs' final test error per setting, the pinned one dashed."""
    return charts.compare_per_setting(runs, "setting", "final_test_error",
                                      "Final test error per setting (in the order given), both runs",
                                      "Look for: which settings gained from the changed parameters.", "test error")


def takeaway(result: StudyResult) -> list[str]:
    """The setting chosen on validation (3.6.2), its test error reported once; every setting's
    training and validation error, so underfitting (both high) and overfitting (a gap) show."""
    order = list(result.tables["order"]["setting"])
    ok = result.summary[result.summary["status"] == "ok"] if "status" in result.summary else result.summary
    if ok.empty:
        return ["No setting finished ok.", ""]
    means = ok.groupby("setting")[["final_train_error", "final_val_error", "final_test_error"]].mean()
    means = means.reindex([name for name in order if name in means.index])
    best = tied(means["final_val_error"])
    if len(best) == len(means) > 1:
        first = f"Every setting ends at {means['final_val_error'].iloc[0]:.1%} validation error: a tie."
    else:
        chosen = means.loc[best[0]]
        first = (f"Chosen on validation: {listed(best)} ({chosen.final_val_error:.1%} validation error"
                 + (f"; {chosen.final_test_error:.1%} test error, training {chosen.final_train_error:.1%})."
                    if len(best) == 1 else ", tied)."))
    return [first, "Training / validation error per setting: " + ", ".join(
        f"{name} {row.final_train_error:.1%} / {row.final_val_error:.1%}" for name, row in means.iterrows()) + "."]
