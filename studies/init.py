"""Initialisation (lecture 4.6, Fig. 121, 122; 5.1, Fig. 125-131).

Two parts. The sigma sweep trains the same network from N(0, sigma^2) weights for several sigma,
0 included: with sigma 0 every hidden unit computes the same thing and gets the same update, so
the network is no better than a network of one hidden unit (Fig. 121, 122); a moderate sigma learns.
In floating point the symmetry holds as far as the matrix products round every column alike: on a
BLAS whose kernels do (OpenBLAS on SkylakeX, measured over 50 epochs) every unit's weights stay equal
bit for bit; where the kernels round blocks of columns differently (OpenBLAS on Haswell: 5 groups
of 30 units) those blocks drift apart as training amplifies the rounding: over 10 epochs sigma 0
stays above 60 % error on every kernel measured, over 50 the 5 groups learn to 6 % where one unit
stays at 62 %. The summary's
``distinct_units`` counts the different units of the first hidden layer after training. Weight and bias histograms per layer show what each sigma ended
with (with sigma 0 a layer's histogram is one unit's weights, repeated once per unit).

The depth probe builds a deep network (``depth`` hidden layers of ``width`` units) for every pair of
initialisation scheme and activation and measures, at the start of training on one batch, the
standard deviation of each hidden layer's activations and of each layer's weight gradients
(Fig. 128, 130): with N(0, 1) they explode or vanish from layer to layer; Xavier (sigmoid, tanh)
and He (ReLU) are meant to keep them of one size (Fig. 131's scales, ``core.mlp.init_spread``); the
takeaway reports the spread measured for each pair, not the lecture's expectation. The probe also
keeps each layer's distribution of activations and weight gradients (Fig. 126, 127).

The dynamics part trains that deep network with sigmoid units from Eq. 11's U(-1/sqrt(n), 1/sqrt(n))
weights (the state of the art in 2010, which Fig. 125 was made with) and from Xavier weights for the
study's epochs, and follows the mean and spread of each layer's activations and the validation error
(Fig. 125): from the 2010 weights the top layer's activations sink from 0.5 towards 0 and the network
stays at chance; from Xavier weights it learns.

CSV (``--out``): the tidy columns of DESIGN.md for the sweep's trials, then ``init_sigma``,
``setting`` and ``repeat``. Summary (``--summary-out``): one row per sweep trial as in the
learning-rate study, plus ``distinct_units`` and ``hidden_units`` (of the first hidden layer). Further tables in the report: ``histograms`` (sigma, layer, kind, bin_left,
bin_right, count) and ``layers`` (scheme, activation, layer, activation_std, gradient_std).
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from studies.common import charts
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.takeaways import best_setting
from studies.common.training import StudyResult, assemble_training, sweep, trial_detail  # noqa: F401
from studies.trials.init import COST, DYNAMICS_SCHEMES, PROBE_ACTIVATIONS, SCHEMES, TRIAL  # noqa: F401

ACTIVATIONS = PROBE_ACTIVATIONS

NAME = "init"
TITLE = "Initialisation"
FIGURES = "Fig. 121, 122, 125-130"
SUMMARY = ("From σ 0 every hidden unit stays the same; a deep-net probe shows how N(0, 1), Xavier and He spread "
           "activations and gradients over the layers.")
SWEPT = "init_sigma"
LABEL_KEYS = (SWEPT, "repeat")

SCHEMA = Schema([
    *with_defaults(without(TRAINING, SWEPT, "init"), epochs=10, repeats=2),
    Param("sigmas", "floats", (0.0, 0.01, 0.05, 0.5, 3.0), "Standard deviations of the initial weights to "
          "compare, 0 included (lecture Fig. 121).", "study", low=0.0, high=10.0, min_len=1, max_len=10),
    Param("depth", "int", 5, "Hidden layers of the deep network probed at the start of training (Fig. 128).",
          "study", low=2, high=12),
    Param("width", "int", 100, "Units per hidden layer of the probed network.", "study", low=2, high=1000),
])

QUICK = {"epochs": "2", "depth": "2", "width": "8"}

PRESETS = {  # the lecture's settings for its figures: parameter texts, as a link carries them
    "Fig. 121/122: sigma 0 against sigma 0.05": {"sigmas": "0,0.05", "epochs": "10", "repeats": "1"},
    "Fig. 122: sigma 0 for 50 epochs (the rounding may split the units)": {"sigmas": "0,0.05", "epochs": "50", "repeats": "1"},
}


def plan(values: dict) -> list[dict]:
    trials = [{**p, "part": "sweep"} for p in sweep(values, SWEPT, values["sigmas"], "sigmas")]
    probes = [{**values, "part": "probe", "scheme": scheme, "activation": activation, "repeat": 0}
              for scheme in SCHEMES for activation in ACTIVATIONS]
    moving = [{**values, "part": "dynamics", "scheme": scheme, "activation": "sigmoid", "repeat": 0}
              for scheme in DYNAMICS_SCHEMES]
    return trials + probes + moving




def assemble(values: dict, results: list) -> StudyResult:
    sweeps = [r for r in results if r.trial.params["part"] == "sweep"]
    result = assemble_training(NAME, values, sweeps, [SWEPT])
    distinct = {r.trial.index: r.payload.get("distinct_units") for r in sweeps}
    result.summary["distinct_units"] = result.summary["trial"].map(distinct).astype("Int64")
    result.summary["hidden_units"] = values["hidden"][0] if values["hidden"] else 0
    result.tables["histograms"] = pd.DataFrame(
        [{"init_sigma": r.trial.params[SWEPT], **row} for r in sweeps for row in r.payload.get("histograms", [])],
        columns=["init_sigma", "layer", "kind", "bin_left", "bin_right", "count"])
    result.tables["layers"] = pd.DataFrame(
        [{"scheme": r.trial.params["scheme"], "activation": r.trial.params["activation"], **row}
         for r in results if r.trial.params["part"] == "probe" for row in r.payload.get("layers", [])],
        columns=["scheme", "activation", "layer", "activation_std", "gradient_std"])
    result.tables["distributions"] = pd.DataFrame(
        [{"scheme": r.trial.params["scheme"], "activation": r.trial.params["activation"], **row}
         for r in results if r.trial.params["part"] == "probe" for row in r.payload.get("distributions", [])],
        columns=["scheme", "activation", "layer", "kind", "x", "density"])
    result.tables["dynamics"] = pd.DataFrame(
        [{"scheme": r.trial.params["scheme"], **row}
         for r in results if r.trial.params["part"] == "dynamics" for row in r.payload.get("activations", [])],
        columns=["scheme", "epoch", "layer", "mean", "std", "error"])
    return result


def _histogram_chart(histograms: pd.DataFrame) -> alt.Chart:
    data = histograms.assign(sigma=lambda d: d["init_sigma"].map(lambda v: f"σ = {v:g}"))
    sigmas = [f"σ = {v:g}" for v in sorted(set(histograms["init_sigma"]))]
    chart = alt.Chart(data).mark_bar(opacity=0.6, binSpacing=0).encode(
        x=alt.X("bin_left:Q", title="value after training", bin="binned"), x2="bin_right:Q",
        y=alt.Y("count:Q", title="count", stack=None),
        color=alt.Color("sigma:N", title="initial σ", legend=charts.legend(sigmas), scale=charts.ordered(sigmas)),
        tooltip=["sigma:N", "layer:N", "kind:N", alt.Tooltip("bin_left:Q", format=".3g"), "count:Q"])
    pick = alt.param(name="layer_kind", value="layer 1 weights",
                     bind=alt.binding_select(options=sorted(set(data["layer"] + " " + data["kind"])),
                                             name="histogram of "))
    chart = chart.transform_calculate(which="datum.layer + ' ' + datum.kind").transform_filter(
        "datum.which == layer_kind").add_params(pick)
    return charts.finish(chart, "Weights and biases after training, per layer (pick one below)",
                         "Look for: with σ = 0 a layer's histogram is one unit's weights repeated for every "
                         "unit (the units never become different, Fig. 122); larger σ ends with wider weights.")


def _units_chart(summary: pd.DataFrame) -> alt.Chart:
    done = summary[summary["status"].isin(["ok", "diverged"])]
    data = done.groupby(SWEPT, as_index=False).agg(distinct=("distinct_units", "min"), units=("hidden_units", "first"))
    data["sigma"] = data[SWEPT].map(lambda v: f"σ = {v:g}")
    chart = alt.Chart(data).mark_bar().encode(
        y=alt.Y("sigma:N", sort=list(data["sigma"]), title="initial σ"),
        x=alt.X("distinct:Q", title="distinct units in the first hidden layer", scale=alt.Scale(domainMin=0),
                axis=alt.Axis(tickMinStep=1, format="d")),
        tooltip=["sigma:N", alt.Tooltip("distinct:Q", title="distinct units (fewest over repeats)"),
                 alt.Tooltip("units:Q", title="hidden units")])
    return charts.finish(chart, "Distinct hidden units after training (Fig. 122)",
                         "Look for: σ = 0 gives every unit the same updates, so it ends with one distinct unit (or a "
                         "few, where the machine's rounding split them): the network is no wider than those; "
                         "any σ > 0 keeps every unit different.")


ACTIVATION_DASH = [[1, 0], [6, 3], [2, 2], [8, 3, 2, 3], [1, 3]]  # solid, dashed, dotted, ...: one per activation


def _layer_chart(layers: pd.DataFrame, field: str, title: str, look_for: str) -> alt.Chart:
    data = layers[layers[field] > 0]
    chart = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("layer:Q", title="hidden layer (input side first)", axis=alt.Axis(tickMinStep=1, format="d"),
                scale=alt.Scale(nice=False, padding=10)),
        y=alt.Y(f"{field}:Q", scale=alt.Scale(type="log"), title=title.split(" per ")[0], axis=alt.Axis(format="~g")),
        color=alt.Color("scheme:N", title="initialisation", scale=charts.categorical(list(SCHEMES)),
                        legend=charts.line_legend(SCHEMES)),
        strokeDash=alt.StrokeDash("activation:N", title="activation (dash)", legend=charts.dash_legend(
            ACTIVATIONS), scale=alt.Scale(domain=list(ACTIVATIONS), range=ACTIVATION_DASH[:len(ACTIVATIONS)])),
        tooltip=["scheme:N", "activation:N", "layer:Q", alt.Tooltip(f"{field}:Q", format=".3g")])
    return charts.finish(chart, title, look_for)


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    layers = result.tables.get("layers", pd.DataFrame())
    shown = [
        charts.curves(result.tidy, SWEPT, split="val", repeats=repeats, title="Validation error per epoch (Fig. 121)",
                      look_for="Look for: σ = 0 stays near chance (the units stay identical) while a moderate σ "
                               "learns at once; far too large a σ saturates the units and learns slowly."),
        _units_chart(result.summary),
        _histogram_chart(result.tables["histograms"]),
    ]
    if len(layers):
        shown += [
            _layer_chart(layers, "activation_std", "Standard deviation of the activations per layer (Fig. 128)",
                         "Look for: lines that stay nearly flat (Xavier for sigmoid and tanh, He for ReLU) against "
                         "lines that grow or shrink by a factor at every layer."),
            _layer_chart(layers, "gradient_std", "Standard deviation of the weight gradients per layer (Fig. 130)",
                         "Look for: lines falling towards the input (vanishing gradients) or far above the "
                         "others (exploding); the takeaway names the pair that spreads most and how far Fig. 131's "
                         "pairs spread."),
        ]
    if len(result.tables.get("distributions", [])):
        shown.append(_distribution_chart(result.tables["distributions"]))
    if len(result.tables.get("dynamics", [])):
        shown.append(_dynamics_chart(result.tables["dynamics"]))
    return shown


def _layer_names(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    names = [f"layer {n}" for n in sorted(set(frame["layer"]))]
    return frame.assign(layer=frame["layer"].map(lambda n: f"layer {n}")), names


def _distribution_chart(distributions: pd.DataFrame) -> alt.Chart:
    data, layers = _layer_names(distributions.assign(pair=distributions["scheme"] + " · " + distributions["activation"]))
    pairs = list(dict.fromkeys(data["pair"]))
    pair = alt.param(name="dist_pair", value=pairs[0], bind=alt.binding_select(options=pairs, name="network "))
    kind = alt.param(name="dist_kind", value="activations",
                     bind=alt.binding_select(options=["activations", "weight gradients"], name="show "))
    chart = alt.Chart(data).mark_line(interpolate="step").encode(
        x=alt.X("x:Q", title="value (each layer over its own range)"),
        y=alt.Y("density:Q", title="density (log)", scale=alt.Scale(type="symlog")),
        color=alt.Color("layer:N", title="hidden layer", sort=layers, scale=charts.ordered(layers),
                        legend=charts.line_legend(layers)),
        tooltip=["pair:N", "layer:N", "kind:N", alt.Tooltip("x:Q", format=".3g"), alt.Tooltip("density:Q", format=".3g")],
    ).transform_filter("datum.pair == dist_pair && datum.kind == dist_kind").add_params(pair, kind)
    return charts.finish(chart, "Distributions per layer at the start (Fig. 126, 127; pick a network below)",
                         "Look for: N(0, 1) with sigmoid piles the activations up at 0 and 1 (saturation, Fig. 127), "
                         "whose gradients are then nearly 0; Xavier keeps them spread inside the range (Fig. 126).")


def _dynamics_chart(dynamics: pd.DataFrame) -> alt.Chart:
    data, layers = _layer_names(dynamics)
    low, high = charts.band_limits(data["mean"], data["std"], "error")  # a sigmoid activation lies in [0, 1] too
    data = data.assign(low=low, high=high)
    schemes = list(dict.fromkeys(data["scheme"]))
    pick = alt.param(name="dyn_scheme", value=schemes[0], bind=alt.binding_select(options=schemes, name="weights "))
    colour = alt.Color("layer:N", title="hidden layer", sort=layers, scale=charts.ordered(layers),
                       legend=charts.line_legend(layers))
    x = alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1, format="d"))
    base = alt.Chart(data).transform_filter("datum.scheme == dyn_scheme")
    band = base.mark_area(opacity=0.15).encode(x=x, y=alt.Y("low:Q", title="sigmoid activation: mean ± 1 std",
                                                          scale=alt.Scale(domain=[0, 1])), y2="high:Q", color=colour)
    mean = base.mark_line(point=alt.OverlayMarkDef(size=12)).encode(
        x=x, y="mean:Q", color=colour,
        tooltip=["scheme:N", "layer:N", "epoch:Q", alt.Tooltip("mean:Q", format=".3f"), alt.Tooltip("std:Q", format=".3f"),
                 alt.Tooltip("error:Q", format=".1%", title="validation error")])
    return charts.finish(alt.layer(band, mean).add_params(pick),
                         "Activations per layer over the epochs, deep sigmoid net (Fig. 125; pick the weights below)",
                         "Look for: from the 2010 weights U(±1/√n) the top layer's activations sink from 0.5 towards 0 "
                         "within a few epochs while the network learns nothing (Fig. 125); from Xavier they stay "
                         "spread and the network learns (the tooltip gives each epoch's validation error).")


def compare(runs: list) -> list[alt.Chart]:
    """Two runs' mean validation curves on the same axes, the pinned one dashed."""
    return charts.compare_sweep(runs, SWEPT)


def probe_spreads(layers: pd.DataFrame) -> pd.DataFrame:
    """Per (scheme, activation) of the depth probe: how far the activations' and the weight gradients'
    standard deviations spread over the layers (largest over smallest): 1 is the lecture's ideal of
    Fig. 130, where neither vanishes nor explodes."""
    ordered = layers.sort_values("layer").groupby(["scheme", "activation"], sort=False)
    ratio = lambda s: s.max() / max(s.min(), 1e-30)  # noqa: E731
    return pd.DataFrame({"activation_spread": ordered["activation_std"].agg(ratio),
                         "gradient_spread": ordered["gradient_std"].agg(ratio)})


MATCHED = (("Xavier", "sigmoid"), ("Xavier", "tanh"), ("He", "relu"))  # the pairs of Fig. 131


def _probe_line(layers: pd.DataFrame) -> str:
    spreads = probe_spreads(layers)
    worst = spreads["gradient_spread"].idxmax()
    matched = [pair for pair in MATCHED if pair in spreads.index]
    line = (f"Depth probe, gradient spread over {layers['layer'].max()} layers (largest over smallest std): worst "
            f"{worst[0]} with {worst[1]} ×{spreads.loc[worst, 'gradient_spread']:.3g}")
    if matched:
        line += "; Fig. 131's pairs " + ", ".join(
            f"{scheme} with {activation} ×{spreads.loc[(scheme, activation), 'gradient_spread']:.3g}"
            for scheme, activation in matched)
    return line + "."


def _units_line(summary: pd.DataFrame) -> str:
    done = summary[summary["status"].isin(["ok", "diverged"]) & summary["distinct_units"].notna()]
    if done.empty or not done["hidden_units"].gt(1).any():
        return ""
    counts = done.groupby(SWEPT)["distinct_units"].agg(["min", "max"])
    units = int(done["hidden_units"].iloc[0])
    parts = [f"σ = {sigma:g}: {low}" + (f"-{high}" if high != low else "") for sigma, (low, high) in counts.iterrows()]
    same = [f"{sigma:g}" for sigma, (low, high) in counts.iterrows() if high == 1]
    line = f"Distinct hidden units of {units} after training: " + ", ".join(parts) + "."
    if same:
        line += f" With σ = {' and '.join(same)} every hidden unit stayed identical to the others (Fig. 122)."
    return line


def takeaway(result: StudyResult) -> list[str]:
    lines = best_setting(result.summary, SWEPT, "initial sigma", repeats=result.params["repeats"])
    layers = result.tables.get("layers", pd.DataFrame())
    extra = [_units_line(result.summary), _probe_line(layers) if len(layers) else ""]
    lines[1] = " ".join(filter(None, [*extra, lines[1]]))
    return lines
