"""Activation functions (lecture Table 6, 5.1.6): sigmoid, tanh, ReLU, Leaky ReLU and ELU in the same
deep network, with the dead and the saturated units each leaves behind.

Each trial trains ``depth`` hidden layers of ``width`` units with one activation. After training,
on the validation split: a unit is dead when it passes back no gradient for any sample (ReLU's
"dying units": z < 0 everywhere, so it never learns again), and a unit-sample pair is saturated when
it passes back less than 5 % of the activation's largest slope (sigmoid, tanh and ELU far out on a
flat tail; ReLU's z < 0 is off rather than saturated and Leaky ReLU's is its designed slope alpha, so
neither is counted).
The defaults train six layers from He weights (5.1.4) at alpha 0.1, where Table 6's points show: the
sigmoid network learns nothing (its slope of at most 1/4 shrinks the gradient at every layer), ReLU
loses some units for good while Leaky ReLU and ELU lose none, and the ReLU family and tanh train;
their errors lie within noise of each other on digits' 270 validation samples, and the takeaway says
so. A preset trains at alpha 1 from small weights, where ReLU loses whole layers of units.

CSV (``--out``): the tidy columns of DESIGN.md, then ``activation`` and ``repeat``; the summary adds
``dead`` and ``saturated`` (means over the layers); table ``units`` has them per layer.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from studies.common import charts
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.takeaways import best_setting, listed
from studies.common.training import StudyResult, assemble_training, sweep, trial_detail  # noqa: F401
from studies.trials.activations import COST, SATURATED, SATURATING, TRIAL  # noqa: F401

NAME = "activations"
TITLE = "Activation functions"
FIGURES = "Table 6, 5.1.6"
SUMMARY = "Sigmoid, tanh, ReLU, Leaky ReLU and ELU in one deep net: errors, dead units and saturation."
SWEPT = "activation"
LABEL_KEYS = (SWEPT, "repeat")
KINDS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu")

SCHEMA = Schema([
    *with_defaults(without(TRAINING, "hidden", SWEPT), learning_rate=0.1, epochs=20, repeats=3, init="he_normal"),
    Param("activations", "choices", KINDS, "Activations to compare (Table 6).", "study", choices=(*KINDS, "identity"),
          min_len=1, max_len=6),
    Param("depth", "int", 6, "Hidden layers.", "study", low=1, high=8),
    Param("width", "int", 30, "Units in every hidden layer.", "study", low=1, high=1000),
])

QUICK = {"epochs": "2", "depth": "2", "repeats": "1"}

PRESETS = {
    "Small weights at α 1: ReLU units die, tanh saturates (5.1.6)": {"init": "normal", "learning_rate": "1",
                                                                    "depth": "4", "repeats": "2"},
}


def plan(values: dict) -> list[dict]:
    base = {**values, "hidden": (values["width"],) * values["depth"]}
    return sweep(base, SWEPT, values["activations"], "activations")


def assemble(values: dict, results: list) -> StudyResult:
    result = assemble_training(NAME, values, results, [SWEPT])
    units = pd.DataFrame([{"trial": r.trial.index, SWEPT: r.trial.params[SWEPT], "repeat": r.trial.params["repeat"],
                           **row} for r in results for row in r.payload.get("units", [])],
                         columns=["trial", SWEPT, "repeat", "layer", "dead", "saturated"])
    result.tables["units"] = units
    means = units.groupby("trial")[["dead", "saturated"]].mean()
    for column in ("dead", "saturated"):
        result.summary[column] = result.summary["trial"].map(means[column])
    return result


def _unit_chart(units: pd.DataFrame, column: str, scale: alt.Scale, title: str, look_for: str) -> alt.Chart:
    data = units.groupby([SWEPT, "layer"], as_index=False)[column].mean()
    chart = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=50, filled=True)).encode(
        x=alt.X("layer:Q", title="hidden layer (input side first)", axis=alt.Axis(tickMinStep=1, format="d"),
                scale=alt.Scale(nice=False, padding=12)),
        y=alt.Y(f"{column}:Q", title=title.split(" per ")[0], axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color(f"{SWEPT}:N", title="activation", scale=scale, legend=charts.line_legend(scale.domain)),
        tooltip=[f"{SWEPT}:N", "layer:Q", alt.Tooltip(f"{column}:Q", format=".1%")])
    return charts.finish(chart, title, look_for)


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    order = [a for a in (*KINDS, "identity") if a in set(result.summary[SWEPT])]
    scale = charts.categorical(order)
    shown = [charts.curves(result.tidy, SWEPT, split="val", repeats=repeats, scale=scale,
                           title="Validation error per epoch",
                           look_for="Look for: the activations that learn at all in this deep network, and how "
                                    "fast: a flat line near 90 % is a network whose gradients vanished.")]
    units = result.tables.get("units", pd.DataFrame())
    units = units.astype({"saturated": float}) if len(units) else units
    if len(units):
        shown += [
            _unit_chart(units, "dead", scale, "Dead units per layer (no gradient for any sample)",
                        "Look for: ReLU losing units for good (5.1.6's dying units); Leaky ReLU's slope alpha "
                        "below 0 keeps every unit alive."),
            _unit_chart(units[units["saturated"].notna()], "saturated", charts.categorical(
                [a for a in order if a in SATURATING], dict(zip(scale.domain, scale.range))),
                        f"Saturated unit-sample pairs per layer (slope under {SATURATED:.0%} of the largest; "
                        f"{', '.join(SATURATING)})",
                        "Look for: the S-shaped functions far out on their flat tails; a saturated unit passes "
                        "back almost no gradient (Fig. 126/127)."),
        ]
    return shown


def compare(runs: list) -> list[alt.Chart]:
    return charts.compare_sweep(runs, SWEPT)


def takeaway(result: StudyResult) -> list[str]:
    lines = best_setting(result.summary, SWEPT, "activation", ordered=False, repeats=result.params["repeats"])
    done = result.summary[result.summary["status"].isin(["ok", "diverged"]) & result.summary["dead"].notna()]
    if len(done):
        means = done.groupby(SWEPT)[["dead", "saturated"]].mean()
        means = means.loc[[a for a in (*KINDS, "identity") if a in means.index]]
        dead = ", ".join(f"{a} {row['dead']:.0%}" for a, row in means.iterrows())
        line = f"Dead units (mean over layers): {dead}."
        saturated = means["saturated"].dropna().astype(float)
        if len(saturated) and saturated.max() > 0:
            worst = listed(saturated.index[saturated >= saturated.max() - 1e-12])
            line += f" Most saturated: {worst}, {saturated.max():.0%} of unit-sample pairs."
        elif len(saturated):
            line += f" No unit-sample pair saturated ({listed(saturated.index)})."
        lines[1] = (line + " " + lines[1]).strip()
    return lines
