"""Batch normalisation (lecture 5.1.5, backward pass 8.1): the same networks with and without it,
across depths and learning rates.

Each trial trains sigmoid networks of ``depth`` hidden layers of ``width`` units at one rate, with
batch normalisation off or on. The lesson: with the default small initial weights a plain sigmoid
network of three or more layers does not learn in 20 epochs (its gradients vanish towards the
input), the batch-normalised one trains at every depth and rate tried; one layer trains either way.
The logits' distributions show why: without normalisation the deep layers' logits sit in a narrow
or a saturated range, with it each layer's are spread around 0 with the trained gamma and beta.

CSV (``--out``): the tidy columns of DESIGN.md, then ``depth``, ``learning_rate``, ``batch_norm``,
``variant`` and ``repeat``; table ``logits`` (density of each hidden layer's logits, first repeat).
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from studies.common import charts
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.training import StudyResult, assemble_training, trial_detail  # noqa: F401
from studies.trials.batch_norm import COST, TRIAL  # noqa: F401

NAME = "batch_norm"
TITLE = "Batch normalisation"
FIGURES = "5.1.5, 8.1"
SUMMARY = "Deep sigmoid networks with and without batch normalisation, across depths and learning rates."
LABEL_KEYS = ("variant", "repeat")
SWEPT = ["depth", "learning_rate", "batch_norm"]

SCHEMA = Schema([
    *with_defaults(without(TRAINING, "hidden", "learning_rate", "batch_norm"), epochs=20, repeats=2),
    Param("depths", "ints", (1, 2, 3, 4), "Numbers of hidden layers to compare.", "study", low=1, high=8,
          min_len=1, max_len=6),
    Param("width", "int", 30, "Units in every hidden layer.", "study", low=1, high=1000),
    Param("learning_rates", "floats", (0.1, 1.0), "Learning rates to compare, each with and without batch "
          "normalisation.", "study", low=1e-5, high=100.0, min_len=1, max_len=4),
])

QUICK = {"epochs": "2", "depths": "1,3", "repeats": "1"}

PRESETS = {
    "Higher rates (5.1.5: BN allows much higher learning rates)": {"learning_rates": "1,5,20", "depths": "2,4"},
    "He initialisation with ReLU: deep plain nets train too": {"activation": "relu", "init": "he_normal",
                                                              "depths": "2,4", "learning_rates": "0.1"},
}


def label(depth: int, rate: float, norm: str) -> str:
    return f"{'BN' if norm == 'on' else 'plain'} · {depth} layer{'s' if depth != 1 else ''} · α {rate:g}"


def plan(values: dict) -> list[dict]:
    base = {k: v for k, v in values.items() if k not in ("depths", "width", "learning_rates", "repeats")}
    return [{**base, "hidden": (values["width"],) * depth, "depth": depth, "learning_rate": rate, "batch_norm": norm,
             "variant": label(depth, rate, norm), "repeat": r}
            for r in range(values["repeats"]) for depth in values["depths"] for rate in values["learning_rates"]
            for norm in ("off", "on")]


def assemble(values: dict, results: list) -> StudyResult:
    result = assemble_training(NAME, values, results, SWEPT)
    variants = {r.trial.index: r.trial.params["variant"] for r in results}
    for table in (result.tidy, result.summary):
        table["variant"] = table["trial"].map(variants)
    result.tables["logits"] = pd.DataFrame(
        [{"depth": r.trial.params["depth"], "learning_rate": r.trial.params["learning_rate"],
          "batch_norm": r.trial.params["batch_norm"], **row} for r in results for row in r.payload.get("logits", [])],
        columns=["depth", "learning_rate", "batch_norm", "layer", "z", "density"])
    return result


NORM_DASH = alt.Scale(domain=["off", "on"], range=[[6, 3], [1, 0]])  # plain dashed, batch-normalised solid


def _depth_chart(summary: pd.DataFrame) -> alt.Chart:
    ok = summary[summary["status"] == "ok"]
    data = ok.groupby(SWEPT, as_index=False)["final_val_error"].mean()
    rates = [f"{r:g}" for r in sorted(set(data["learning_rate"]))]
    data["rate"] = data["learning_rate"].map(lambda r: f"{r:g}")
    chart = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=40, filled=True)).encode(
        x=alt.X("depth:Q", title="hidden layers", axis=alt.Axis(tickMinStep=1, format="d"),
                scale=alt.Scale(nice=False, padding=12)),
        y=alt.Y("final_val_error:Q", title="final validation error", axis=alt.Axis(format="%")),
        color=alt.Color("rate:N", title="learning rate α", sort=rates, scale=charts.ordered(rates),
                        legend=charts.line_legend(rates)),
        strokeDash=alt.StrokeDash("batch_norm:N", title="batch normalisation", scale=NORM_DASH,
                                  legend=charts.dash_legend(["off", "on"])),
        tooltip=["depth:Q", "rate:N", "batch_norm:N", alt.Tooltip("final_val_error:Q", format=".1%")])
    return charts.finish(chart, "Final validation error against depth, with (solid) and without (dashed) batch norm",
                         "Look for: the dashed lines climbing to chance (90 %) as layers are added while the solid "
                         "ones stay low: batch normalisation keeps deep sigmoid networks trainable.")


def _curves(result: StudyResult, repeats: bool) -> alt.Chart:
    deepest = max(result.params["depths"])
    tidy = result.tidy[result.tidy["depth"] == deepest].assign(setting=lambda d: d["variant"])
    order = [label(deepest, rate, norm) for rate in result.params["learning_rates"] for norm in ("off", "on")]
    order = [o for o in order if o in set(tidy["setting"])]
    return charts.curves(tidy, "variant", split="val", repeats=repeats, scale=charts.categorical(order),
                         title=f"Validation error per epoch, {deepest} hidden layers",
                         look_for="Look for: the plain network's curve flat near 90 % (it learns nothing) against "
                                  "the batch-normalised one falling from the first epoch.")


def _logit_chart(logits: pd.DataFrame, params: dict) -> alt.Chart:
    deepest, rate = max(params["depths"]), max(params["learning_rates"])
    data = logits[(logits["depth"] == deepest) & (logits["learning_rate"] == rate)]
    layers = [f"layer {n}" for n in sorted(set(data["layer"]))]
    data = data.assign(layer=data["layer"].map(lambda n: f"layer {n}"))
    chart = alt.Chart(data).mark_line(interpolate="step").encode(
        x=alt.X("z:Q", title="logit z (what the sigmoid receives)"),
        y=alt.Y("density:Q", title="density (log)", scale=alt.Scale(type="symlog")),
        color=alt.Color("layer:N", title="hidden layer", sort=layers, scale=charts.ordered(layers),
                        legend=charts.line_legend(layers)),
        strokeDash=alt.StrokeDash("batch_norm:N", title="batch normalisation", scale=NORM_DASH,
                                  legend=charts.dash_legend(["off", "on"])),
        tooltip=["layer:N", "batch_norm:N", alt.Tooltip("z:Q", format=".2f"), alt.Tooltip("density:Q", format=".3f")])
    return charts.finish(chart, f"Logits per layer after training ({deepest} layers, α {rate:g}, validation split)",
                         "Look for: without batch norm the deep layers' logits bunch up (the units all do the same "
                         "thing) or spread far into saturation; with it every layer's are spread around 0.")


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    shown = [_depth_chart(result.summary), _curves(result, repeats)] if len(result.summary) else []
    logits = result.tables.get("logits", pd.DataFrame())
    if len(logits) and len(shown):
        shown.append(_logit_chart(logits, result.params))
    return shown


def compare(runs: list) -> list[alt.Chart]:
    """Two runs' mean final validation error per variant, the pinned one dashed."""
    return charts.compare_per_setting(runs, "variant", "final_val_error",
                                      "Final validation error per variant (in the order of the table), both runs",
                                      "Look for: which variants the changed parameters helped.",
                                      "final validation error")


def takeaway(result: StudyResult) -> list[str]:
    ok = result.summary[result.summary["status"] == "ok"]
    if ok.empty:
        return ["No network finished: every trial diverged, failed or was cancelled.", ""]
    means = ok.groupby(SWEPT)["final_val_error"].mean()
    pairs = [(d, r) for d, r in {(d, r) for d, r, _ in means.index}
             if (d, r, "off") in means.index and (d, r, "on") in means.index]
    if not pairs:
        best = means.idxmin()
        return [f"Best: {label(*best)} at {means[best]:.1%} mean validation error.",
                "Only one of with and without batch normalisation finished here: nothing to compare."]
    gains = {p: means[(*p, "off")] - means[(*p, "on")] for p in pairs}
    widest = max(gains, key=lambda p: (gains[p], p))
    first = (f"Largest effect at {widest[0]} hidden layer{'s' if widest[0] != 1 else ''}, α {widest[1]:g}: "
             f"{means[(*widest, 'off')]:.1%} mean validation error without batch normalisation, "
             f"{means[(*widest, 'on')]:.1%} with it.")
    helped = sorted(p for p in pairs if gains[p] > 0.01)
    hurt = sorted(p for p in pairs if gains[p] < -0.01)
    second = f"Batch normalisation lowered the error by more than a point at {len(helped)} of {len(pairs)} " \
             f"depth-rate pairs"
    second += f" and raised it at {', '.join(f'{d} layers α {r:g}' for d, r in hurt)}." if hurt else "."
    return [first, second]
