"""Optimisers (lecture 5.2, Fig. 133-137 and 5.2.5).

Two parts. On three two-parameter cost surfaces (a saddle point, the elongated bowl of Fig. 134 and
Rosenbrock's curved valley) every optimiser of ``core.optimisers`` runs ``steps`` updates from the
same start, each at its own best learning rate from ``surface_rates``; the paths are drawn over the
cost's contours with a step slider (the lecture's animations of 5.2.5). On the chosen data set every
optimiser trains the same network at every rate of ``rates``; the learning curves compare each at
its own best rate, so no optimiser loses for a badly chosen step size.

CSV (``--out``): the tidy columns of DESIGN.md for the data set's trials, then ``optimiser``,
``learning_rate``, ``setting`` and ``repeat``. Summary: one row per trial as in the learning-rate
study. Further tables: ``paths`` (surface, optimiser, learning_rate, step, x, y, cost) and
``best`` (optimiser, learning_rate, mean final validation error, best).
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.optimisers import OPTIMISERS
from studies.common import charts
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.takeaways import listed, noise_ties, validation_samples
from studies.common.training import StudyResult, assemble_training, trial_detail  # noqa: F401
from studies.trials.optimisers import COST, SURFACES, TRIAL  # noqa: F401

COLOURS = dict(zip(OPTIMISERS, charts.categorical(OPTIMISERS).range))  # one per optimiser, every chart

NAME = "optimisers"
TITLE = "Optimisers"
FIGURES = "Fig. 133-137, 5.2.5"
SUMMARY = "GD, momentum, Nesterov, AdaGrad, RMSProp and Adam on cost surfaces and on the data, each at its best rate."
LABEL_KEYS = ("optimiser", "learning_rate")
GRID = 40  # contour resolution per axis
BAND = 0.5  # log10 cost per contour band



SCHEMA = Schema([
    *with_defaults(without(TRAINING, "optimiser", "learning_rate", "repeats"), epochs=15),
    Param("optimisers", "choices", OPTIMISERS, "Optimisers to compare (lecture 5.2).", "study", choices=OPTIMISERS,
          max_len=len(OPTIMISERS)),
    Param("rates", "floats", (0.001, 0.01, 0.1, 1.0, 10.0), "Learning rates tried for every optimiser on the data; each "
          "is shown at its best.", "study", low=1e-6, high=100.0, min_len=1, max_len=8),
    Param("repeats", "int", 1, "Trials per optimiser and rate, each with its own initialisation and shuffling.",
          "study", low=1, high=10),
    Param("steps", "int", 100, "Updates on each cost surface.", "study", low=1, high=2000),
    Param("surface_rates", "floats", (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0), "Learning rates tried on the cost "
          "surfaces; each optimiser's path is drawn at its best.", "study", low=1e-6, high=10.0, min_len=1,
          max_len=10),
])

QUICK = {"epochs": "2", "rates": "0.1", "steps": "10"}

PRESETS = {  # the lecture's settings for its figures: parameter texts, as a link carries them
    "5.2.5: all six optimisers, 200 steps on the surfaces": {"steps": "200"},
    "Fig. 134: GD against AdaGrad and RMSProp": {"optimisers": "gd,adagrad,rmsprop"},
}


def plan(values: dict) -> list[dict]:
    base = {k: v for k, v in values.items() if k not in ("rates", "optimisers", "repeats")}
    surfaces = [{**base, "part": "surface", "surface": name, "optimisers": values["optimisers"], "repeat": 0}
                for name in SURFACES]
    curves = [{**base, "part": "curve", "optimiser": name, "learning_rate": rate, "repeat": r}
              for r in range(values["repeats"]) for name in values["optimisers"] for rate in values["rates"]]
    return surfaces + curves




def assemble(values: dict, results: list) -> StudyResult:
    curves = [r for r in results if r.trial.params["part"] == "curve"]
    result = assemble_training(NAME, values, curves, ["optimiser", "learning_rate"])
    paths = [row for r in results if r.trial.params["part"] == "surface" for row in r.payload.get("paths", [])]
    result.tables["paths"] = pd.DataFrame(paths, columns=["surface", "optimiser", "learning_rate", "step", "x", "y",
                                                          "cost"])
    result.tables["best"] = best_rates(result.summary)
    return result


def best_rates(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean final validation and test error of every (optimiser, rate) over the repeats that finished
    ok; the best rate of each optimiser (on validation) marked."""
    ok = summary[summary["status"] == "ok"] if len(summary) else summary
    if ok.empty:
        return pd.DataFrame(columns=["optimiser", "learning_rate", "final_val_error", "final_test_error", "best"])
    table = ok.groupby(["optimiser", "learning_rate"])[["final_val_error", "final_test_error"]].mean().reset_index()
    table["best"] = table.index.isin(table.groupby("optimiser")["final_val_error"].idxmin())
    return table


def _surface_chart(paths: pd.DataFrame, surface: str, steps: int) -> alt.Chart:
    function, _, (x0, x1), (y0, y1) = SURFACES[surface]
    xs, ys = np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID)
    X, Y = np.meshgrid(xs, ys)
    z = function(X, Y)[0]
    level = np.log10(z.ravel() - z.min() + 1e-3)  # in bands of BAND: contours
    grid = pd.DataFrame({"x": X.ravel(), "y": Y.ravel(), "level": np.floor(level / BAND) * BAND})
    image = charts.raster(grid, "level", lambda levels: charts.ramp_colours(levels, charts.BLUES, 0.45))
    x_enc = alt.X("x:Q", title="θ₁", scale=alt.Scale(domain=[x0, x1], nice=False))
    y_enc = alt.Y("y:Q", title="θ₂", scale=alt.Scale(domain=[y0, y1], nice=False))
    heat = charts.image_layer(pd.DataFrame([image]), x_enc, y_enc)
    name = "step_" + "".join(c for c in surface if c.isalnum())
    slider = alt.param(name=name, value=steps, bind=alt.binding_range(min=0, max=steps, step=1, name="step "))
    shown = paths.loc[paths["surface"] == surface, ["optimiser", "learning_rate", "step", "x", "y", "cost"]].assign(
        label=lambda d: d["optimiser"] + " (α " + d["learning_rate"].map(lambda v: f"{v:g}") + ")",
        cost=lambda d: d["cost"].map(lambda v: float(f"{v:.4g}"))).round({"x": 4, "y": 4})
    labels = list(dict.fromkeys(shown.sort_values("optimiser", key=lambda o: o.map(OPTIMISERS.index))["label"]))
    lines = alt.Chart(shown).mark_line(strokeWidth=2).encode(
        x=x_enc, y=y_enc, order="step:Q",
        color=alt.Color("label:N", title="optimiser (its best rate)", legend=charts.line_legend(labels),
                        scale=alt.Scale(domain=labels, range=[COLOURS[label.split(" ")[0]] for label in labels])),
        tooltip=["optimiser:N", "step:Q", alt.Tooltip("cost:Q", format=".4g"), alt.Tooltip("x:Q", format=".3f"),
                 alt.Tooltip("y:Q", format=".3f")]).transform_filter(f"datum.step <= {name}").add_params(slider)
    look = {"saddle point": saddle_look_for(paths),
            "elongated bowl": "Look for: GD zig-zags across the steep axis and crawls along the flat one; AdaGrad, "
                              "RMSProp and Adam scale each axis and head straight for the minimum (Fig. 134).",
            "Rosenbrock valley": "Look for: everyone reaches the curved valley floor quickly; following it to the "
                                 "minimum at (1, 1) is what separates the optimisers."}[surface]
    return charts.finish(heat + lines, f"Paths on the {surface} (drag the step slider)", look)


ESCAPED = -0.2  # a cost on the saddle surface below this is most of the way down to its minima at -0.25


def escape_steps(paths: pd.DataFrame) -> dict[str, int | None]:
    """Per optimiser, the first step at which its path on the saddle surface has a cost below
    ``ESCAPED`` (None: not within the steps run), fewest first."""
    saddle = paths[paths["surface"] == "saddle point"]
    found = {name: next((int(step) for step, cost in zip(path["step"], path["cost"]) if cost < ESCAPED), None)
             for name, path in saddle.sort_values("step").groupby("optimiser", sort=False)}
    return dict(sorted(found.items(), key=lambda item: (item[1] is None, item[1] or 0, item[0])))


def saddle_look_for(paths: pd.DataFrame) -> str:
    """The saddle chart's line, from this run's paths: who leaves the ridge first."""
    steps = escape_steps(paths)
    reached = [f"{name} {step}" for name, step in steps.items() if step is not None]
    never = [name for name, step in steps.items() if step is None]
    line = "Look for: who leaves the ridge of the saddle first. Steps to a cost below -0.2 here: " + \
        (", ".join(reached) if reached else "none")
    return line + (f"; {listed(never)} not within {int(paths['step'].max())} steps." if never else ".")


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    steps = result.params["steps"]
    shown = [_surface_chart(result.tables["paths"], surface, steps) for surface in SURFACES
             if (result.tables["paths"]["surface"] == surface).any()]
    best = result.tables["best"]
    if len(best):
        chosen = best[best["best"]][["optimiser", "learning_rate"]]
        tidy = result.tidy.merge(chosen, on=["optimiser", "learning_rate"])
        tidy = tidy.assign(setting=tidy["optimiser"] + " (α " + tidy["learning_rate"].map(lambda v: f"{v:g}") + ")")
        labels = list(dict.fromkeys(tidy.sort_values("optimiser", key=lambda o: o.map(OPTIMISERS.index))["setting"]))
        scale = alt.Scale(domain=labels, range=[COLOURS[label.split(" ")[0]] for label in labels])
        shown.append(charts.curves(tidy, "optimiser", split="val", repeats=repeats, scale=scale,
                                   title="Validation error per epoch, each optimiser at its best rate",
                                   look_for="Look for: which optimiser gets lowest soonest once each has its own "
                                            "step size; adaptive ones are far less sensitive to the rate."))
        shown.append(_rate_chart(best))
    return shown


def _rate_chart(best: pd.DataFrame) -> alt.Chart:
    chart = alt.Chart(best).mark_line(point=True).encode(
        x=charts.log_axis("learning_rate", best["learning_rate"]),
        y=alt.Y("final_val_error:Q", title="final validation error", axis=alt.Axis(format="%")),
        color=alt.Color("optimiser:N", legend=charts.line_legend(OPTIMISERS), scale=charts.categorical(OPTIMISERS)),
        tooltip=["optimiser:N", "learning_rate:Q", alt.Tooltip("final_val_error:Q", format=".2%"), "best:N"])
    return charts.finish(chart, "Final validation error against the learning rate, per optimiser",
                         "Look for: the width of each optimiser's valley: a wide one forgives a poorly chosen rate.")


def compare(runs: list) -> list[alt.Chart]:
    """Two runs' best-rate validation error per optimiser, the pinned one dashed."""
    frame = pd.concat([r.tables["best"][r.tables["best"]["best"]].assign(run=label) for label, r in runs],
                      ignore_index=True)
    return [charts.compare_lines(frame.assign(index=frame["optimiser"].map(OPTIMISERS.index)), "index",
                                 "final_val_error", "run", [label for label, _ in runs],
                                 "Best final validation error per optimiser (0 = gd ... 5 = adam), both runs",
                                 "Look for: which optimisers gained or lost with the changed parameters.",
                                 y_title="final validation error")]


def edge_rates(chosen: pd.DataFrame, tried) -> str:
    """Which optimisers' best rate is the smallest or largest tried: their real best may lie beyond."""
    tried = sorted(set(tried))
    if len(tried) < 2:
        return ""
    notes = []
    for edge, word in ((tried[0], "smallest"), (tried[-1], "largest")):
        names = sorted(chosen.loc[chosen["learning_rate"] == edge, "optimiser"])
        if names:
            notes.append(f"{listed(names)}: best at the {word} rate tried ({edge:g}); try "
                         f"{'smaller' if word == 'smallest' else 'larger'} ones too.")
    return " ".join(notes)


def takeaway(result: StudyResult) -> list[str]:
    best = result.tables["best"]
    paths = result.tables["paths"]
    lines = []
    if len(best):
        chosen = best[best["best"]].sort_values("final_val_error", kind="stable")
        low = chosen["final_val_error"].min()
        runs = result.summary.merge(chosen[["optimiser", "learning_rate"]], on=["optimiser", "learning_rate"])
        runs = runs[runs["status"] == "ok"]
        tied = set(noise_ties(runs, "optimiser", samples=validation_samples(runs)).tied)
        tied |= set(chosen.loc[chosen["final_val_error"] <= low + 1e-12, "optimiser"])
        top, rest = chosen[chosen["optimiser"].isin(tied)], chosen[~chosen["optimiser"].isin(tied)]
        named = listed(f"{r.optimiser} at α {r.learning_rate:g}" for r in top.itertuples())
        head = (f"On the data, {named} ends lowest: {low:.1%} validation error (test "
                f"{top['final_test_error'].iloc[0]:.1%})" if len(top) == 1 else
                f"On the data, {named} tie lowest within noise: {low:.1%} validation error and up")
        lines.append(head + "".join(f"; {r.optimiser} {r.final_val_error:.1%} (α {r.learning_rate:g})"
                                    for r in rest.itertuples()) + ". " + edge_rates(chosen, result.params["rates"]))
    else:
        lines.append("No training run on the data finished ok.")
    if len(paths):
        final = paths[paths["step"] == paths["step"].max()]
        bowl = final[final["surface"] == "elongated bowl"].set_index("optimiser")
        if len(bowl):
            rates = bowl[["learning_rate"]].reset_index()
            lines.append(f"Elongated bowl after {result.params['steps']} steps: " +
                         ", ".join(f"{name} {bowl.loc[name, 'cost']:.3g}" for name in bowl["cost"].sort_values().index)
                         + " (cost). " + edge_rates(rates, result.params["surface_rates"]))
    return [line.strip() for line in (lines if len(lines) == 2 else lines + [""])]
