"""Hyperparameter search (lecture 3.6.2: select on validation, report test once; issue 21).

Up to four training parameters searched together by Optuna's grid, random or TPE sampler
(``studies.common.searching``), asked in waves of a fixed size, so a link gives the same trials on any
number of workers. Every trial is an ordinary training trial on the same engine as the other studies.
The lesson: which configuration is best on validation, what its test error is (looked at once, for
that configuration alone), which parameters matter, and how far a smarter sampler gets than the grid
for the same number of trials.

CSV (``--out``): the tidy columns of DESIGN.md, then one column per searched parameter, ``setting``
(the configuration in words) and ``repeat``. Summary (``--summary-out``): one row per trial as in the
other training studies, the searched parameters as columns. Table ``importance``: ``parameter``,
``importance`` (Optuna's PED-ANOVA, summing to 1).
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from studies.common import charts, cost, searching
from studies.common.params import TRAINING
from studies.common.runs import parallel_chart
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.takeaways import listed
from studies.common.training import StudyResult, summary_frame, tidy_frame, train_trial, trial_detail  # noqa: F401

NAME = "search"
TITLE = "Hyperparameter search"
FIGURES = "3.6.2 (model selection)"
SUMMARY = "Several parameters at once by grid, random or TPE search: the best on validation, tested once."
LABEL_KEYS = ("setting",)
TRIAL = train_trial
COST = cost.training
SEARCH_KEYS = ("space", "sampler", "budget", "wave", "grid_points")

SCHEMA = Schema([
    *with_defaults(without(TRAINING, "repeats"), epochs=15),
    Param("space", "text", searching.read_space("learning_rate=0.01..5 log; hidden_units=4..64 log"),
          "The parameters to search and their ranges: a range low..high (add 'log' to search a log scale, "
          "for rates and sizes) or a list of values. Every other parameter stays as set in the form.", "study",
          reader=searching.read_space, rule=searching.RULE),
    Param("sampler", "choice", "tpe", "grid: every combination of grid_points values per range (and every listed "
          "value), in a shuffled order; random: independent uniform draws (on the log scale for log ranges); "
          "tpe: Optuna's Tree-structured Parzen Estimator, random for its first 10 trials, then drawn near the "
          "configurations that did well so far.", "study", choices=searching.SAMPLERS),
    Param("budget", "int", 16, "Trials to run (a grid runs at most its size).", "study", low=1, high=500),
    Param("wave", "int", 4, "Trials asked of the sampler at a time: each wave is chosen from the results of the "
          "waves before it. Fixed, so the same link gives the same trials on any number of workers.", "study",
          low=1, high=64),
    Param("grid_points", "int", 3, "Values per range on a grid (log-spaced on a log range).", "study", low=2,
          high=10),
])

QUICK = {"epochs": "2", "budget": "8", "wave": "4",
         "space": "learning_rate=0.01..5 log; hidden_units=4,8; optimiser=gd,adam"}

PRESETS = {  # the defaults (TPE) by the other samplers, so the takeaway compares all three
    "The defaults by grid (4 x 4 points)": {"sampler": "grid", "grid_points": "4"},
    "The defaults by random search (16 trials)": {"sampler": "random"},
    "Optimiser, rate and L2, random (24 trials)": {
        "space": "optimiser=gd,momentum,adam; learning_rate=0.001..2 log; l2=0..0.01", "sampler": "random",
        "budget": "24"},
}


def _setting(config: dict) -> str:
    """A configuration in words, floats to four digits (the tables keep every digit)."""
    return ", ".join(f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}"
                     for name, value in config.items())


def trial_params(values: dict, config: dict) -> dict:
    """One trial: the form's values with the configuration's in their place (``hidden_units`` sets
    every hidden layer's width, one layer when the form has none)."""
    base = {k: v for k, v in values.items() if k not in SEARCH_KEYS}
    params = {**base, **config, "repeat": 0, "setting": _setting(config)}
    if "hidden_units" in config:
        params["hidden"] = (config["hidden_units"],) * max(1, len(base["hidden"]))
    return params


def plan(values: dict) -> list[dict]:
    """The first wave."""
    return [trial_params(values, c) for c in searching.configurations(values, {})]


def next_wave(values: dict, results: list) -> list[dict]:
    """The next wave, asked of the sampler once it has been told every trial so far."""
    return [trial_params(values, c) for c in searching.configurations(values, told(_tables(values, results)[1]))]


def bounding_plan(values: dict) -> list[dict]:
    """What the run-size and memory limits must cover: the whole budget of the costliest configuration
    the space holds (every combination of each range's ends and each list's values)."""
    corners = [{}]
    for dim in values["space"]:
        ends = dim.choices or (dim.low, dim.high)
        corners = [{**c, dim.name: v} for c in corners for v in ends][:4096]
    costliest = max((trial_params(values, c) for c in corners), key=lambda p: cost.trial_seconds(COST, p))
    return [costliest] * searching.trial_count(values)


def told(summary: pd.DataFrame) -> dict[int, float | None]:
    """What each finished trial tells the sampler: its validation error (selection is on validation,
    never on test), the worst error where it diverged, None where it failed or was stopped."""
    def value(row) -> float | None:
        if row["status"] == "diverged":
            return searching.DIVERGED_VALUE
        ok = row["status"] == "ok" and pd.notna(row["final_val_error"])
        return float(row["final_val_error"]) if ok else None
    return {int(row["trial"]): value(row) for _, row in summary.iterrows()}


def _tables(values: dict, results: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tidy and summary tables (what the next wave needs, without the importance)."""
    swept = [*values["space"].names, "setting"]
    tidy = tidy_frame(NAME, results, swept)
    return tidy, summary_frame(tidy, results, swept)


def assemble(values: dict, results: list) -> StudyResult:
    results = sorted(results, key=lambda r: r.trial.index)
    tidy, summary = _tables(values, results)
    values_told = told(summary)
    rows = [({d: r.trial.params[d] for d in values["space"].names}, values_told[r.trial.index])
            for r in results if values_told.get(r.trial.index) is not None]
    importance = pd.DataFrame(searching.importance_spread(values["space"], rows, values["seed"]),
                              columns=["parameter", "importance", "low", "high"])
    summary["informed"] = summary["trial"].isin(informed_trials(values, values_told))
    return StudyResult(NAME, dict(values), tidy, summary, {"importance": importance})


def informed_trials(values: dict, told_values: dict) -> list[int]:
    """The trials the sampler chose from earlier results (``searching.informed``): the last ones asked."""
    count = searching.informed(values, told_values)
    return list(range(searching.trial_count(values) - count, searching.trial_count(values))) if count else []


def ranking(importance: pd.DataFrame) -> str:
    """The importance as a claim the trials support: parameters named in order only where each one's
    spread over the resampled trials lies above the next one's; else why it is withheld."""
    if importance.empty:
        return "Too few finished trials, or too little difference between them, to weigh the parameters."
    shares = ", ".join(f"{p} {w:.0%} ({lo:.0%}-{hi:.0%})" for p, w, lo, hi in
                       importance[["parameter", "importance", "low", "high"]].itertuples(index=False))
    apart = len(importance) < 2 or importance["low"].iloc[0] > importance["high"].iloc[1]
    if apart:
        return (f"Importance (over {searching.RESAMPLES} resamples of the trials, "
                f"{searching.IMPORTANCE_RANGE[0]}th-{searching.IMPORTANCE_RANGE[1]}th percentile): {shares}; "
                f"{importance['parameter'].iloc[0]} matters most (what it means: under the importance chart).")
    return (f"Importance withheld: over {searching.RESAMPLES} resamples of the trials the shares overlap ({shares}), "
            f"so these trials cannot tell which parameter matters most; more trials would.")


# -- charts ------------------------------------------------------------------------------------
def _finished(summary: pd.DataFrame) -> pd.DataFrame:
    data = summary.assign(number=summary["trial"] + 1)
    return data[data["final_val_error"].notna()]


def history_chart(summary: pd.DataFrame) -> alt.Chart:
    data = _finished(summary)
    ok = data[data["status"] == "ok"].sort_values("number")
    best = ok.assign(best=ok["final_val_error"].cummin())
    x = alt.X("number:Q", title="trial (in the order asked)", axis=alt.Axis(tickMinStep=1, format="d"))
    points = alt.Chart(data).mark_point(filled=True, size=60).encode(
        x=x, y=alt.Y("final_val_error:Q", title="validation error", axis=alt.Axis(format="%")),
        color=charts.status_encoding(alt.Color, data, charts.STATUS_COLOURS),
        shape=charts.status_encoding(alt.Shape, data, charts.SHAPES),
        tooltip=["number:Q", "setting:N", "status:N", alt.Tooltip("final_val_error:Q", format=".2%")])
    line = alt.Chart(best).mark_line(interpolate="step-after", color=charts.NEUTRAL, strokeWidth=2).encode(
        x=x, y="best:Q", tooltip=["number:Q", alt.Tooltip("best:Q", format=".2%", title="best so far")])
    return charts.finish(points + line, "Optimisation history: each trial and the best so far (grey)",
                         "Look for: how soon the grey line stops falling; a sampler that learns (TPE) puts more of "
                         "its later points low.")


def _trials_table(summary: pd.DataFrame, space) -> dict:
    data = _finished(summary)
    frame = pd.DataFrame({"run": "this search", "trial": data["number"].astype(str),
                          **{f"p_{d.name}": data[d.name] for d in space},
                          "final_val_error": data["final_val_error"], "final_test_error": data["final_test_error"]})
    return {"trials": frame}


def slice_chart(summary: pd.DataFrame, dim: searching.Dimension) -> alt.Chart:
    data = _finished(summary)
    if dim.choices:
        x = alt.X(f"{dim.name}:N", title=charts.words(dim.name), sort=[searching.text(c) for c in dim.choices],
                  axis=alt.Axis(labelAngle=0))
        data = data.assign(**{dim.name: data[dim.name].map(searching.text)})
    else:
        x = alt.X(f"{dim.name}:Q", title=charts.words(dim.name) + (" (log scale)" if dim.log else ""),
                  scale=alt.Scale(type="log" if dim.log else "linear", domain=[dim.low, dim.high], nice=False,
                                  padding=10, zero=False))
    chart = alt.Chart(data).mark_point(filled=True, size=60, opacity=0.9).encode(
        x=x, y=alt.Y("final_val_error:Q", title="validation error", axis=alt.Axis(format="%")),
        color=alt.Color("number:Q", title="trial", scale=alt.Scale(range=charts.ramp(5)),
                        legend=charts.legend(format="d")),
        tooltip=["number:Q", "setting:N", alt.Tooltip("final_val_error:Q", format=".2%")])
    return charts.finish(chart, f"Slice: validation error against {charts.words(dim.name)}",
                         "Look for: the values where the lowest points lie; a flat band means this parameter "
                         "hardly matters in this range.")


HEAT_BINS = 5


def _binned(data: pd.DataFrame, dim: searching.Dimension) -> pd.Series:
    """A parameter's values as readable bins (equal widths on its scale), or its choices."""
    if dim.choices:
        return data[dim.name].map(searching.text)
    scale = np.log10 if dim.log else (lambda v: v)
    edges = np.linspace(scale(dim.low), scale(dim.high), HEAT_BINS + 1)
    shown = [f"{(10 ** e if dim.log else e):.2g}" for e in edges]
    where = np.clip(np.searchsorted(edges, scale(data[dim.name].astype(float)), side="right") - 1, 0, HEAT_BINS - 1)
    return pd.Series([f"{shown[i]}–{shown[i + 1]}" for i in where], index=data.index)


def _order(dim: searching.Dimension) -> list[str]:
    if dim.choices:
        return [searching.text(c) for c in dim.choices]
    return list(dict.fromkeys(_binned(pd.DataFrame({dim.name: np.geomspace(dim.low, dim.high, HEAT_BINS * 4)
                                                    if dim.log else np.linspace(dim.low, dim.high, HEAT_BINS * 4)}),
                                      dim)))


def heatmap_chart(summary: pd.DataFrame, first: searching.Dimension, second: searching.Dimension) -> alt.Chart:
    data = _finished(summary)
    data = data[data["status"] == "ok"]
    cells = pd.DataFrame({"x": _binned(data, first), "y": _binned(data, second), "error": data["final_val_error"]})
    cells = cells.groupby(["x", "y"])["error"].agg(["min", "count"]).reset_index()
    chart = alt.Chart(cells).mark_rect().encode(
        x=alt.X("x:O", title=charts.words(first.name), sort=_order(first),
                axis=alt.Axis(labelAngle=-30, labelOverlap=False, labelLimit=0)),
        y=alt.Y("y:O", title=charts.words(second.name), sort=list(reversed(_order(second)))),
        color=alt.Color("min:Q", title="lowest validation error", scale=alt.Scale(range=charts.ramp(5)),
                        legend=charts.legend(format="%")),
        tooltip=["x:N", "y:N", alt.Tooltip("min:Q", format=".2%", title="lowest validation error"),
                 alt.Tooltip("count:Q", title="trials")])
    return charts.finish(chart, f"The two most important parameters: {charts.words(first.name)} and "
                                f"{charts.words(second.name)}",
                         "Look for: the cell with the lowest error and whether good cells form a band (the two "
                         "parameters trade off) or a spot; empty cells were not tried.")


IMPORTANCE_MEANS = ("Look for: the longest bars. Importance (Optuna's PED-ANOVA, summing to 100 %) says how "
                    "differently a parameter's values are spread among the best trials than among all: near 0, good "
                    "results came from anywhere in its range; large, they need a particular part of it.")


def importance_chart(importance: pd.DataFrame) -> alt.Chart:
    importance = importance.assign(parameter=importance["parameter"].map(charts.words))
    y = alt.Y("parameter:N", title=None, sort=list(importance["parameter"]))
    tips = ["parameter:N", alt.Tooltip("importance:Q", format=".1%"), alt.Tooltip("low:Q", format=".1%", title=(
        f"{searching.IMPORTANCE_RANGE[0]}th percentile")), alt.Tooltip("high:Q", format=".1%", title=(
            f"{searching.IMPORTANCE_RANGE[1]}th percentile"))]
    bars = alt.Chart(importance).mark_bar(color=charts.PALETTE[0]).encode(
        x=alt.X("importance:Q", title=f"importance (whisker: {searching.IMPORTANCE_RANGE[0]}th-"
                                      f"{searching.IMPORTANCE_RANGE[1]}th percentile over resampled trials)",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])), y=y, tooltip=tips)
    whiskers = alt.Chart(importance).mark_rule(color=charts.NEUTRAL, strokeWidth=2).encode(x="low:Q", x2="high:Q", y=y)
    return charts.finish(bars + whiskers, "Parameter importance", IMPORTANCE_MEANS + " Whiskers that overlap: the "
                         "trials cannot rank those parameters.")


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    space, summary = result.params["space"], result.summary
    found = [history_chart(summary), parallel_chart(_trials_table(summary, space))]
    found += [slice_chart(summary, dim) for dim in space]
    ranked = ranked_dimensions(result)
    if len(ranked) >= 2:
        found.append(heatmap_chart(summary, *ranked[:2]))
    if len(result.tables["importance"]):
        found.append(importance_chart(result.tables["importance"]))
    return found


def ranked_dimensions(result: StudyResult) -> list:
    """The searched dimensions, most important first (as listed while there is no importance)."""
    weights = dict(zip(result.tables["importance"]["parameter"], result.tables["importance"]["importance"]))
    return sorted(result.params["space"], key=lambda d: -weights.get(d.name, 0.0))


def compare(runs: list) -> list[alt.Chart]:
    """Two searches' best-so-far curves on the same axes, the pinned one dashed."""
    frames = []
    for label, result in runs:
        ok = _finished(result.summary)
        ok = ok[ok["status"] == "ok"].sort_values("number")
        frames.append(pd.DataFrame({"number": ok["number"], "best": ok["final_val_error"].cummin(), "run": label,
                                    "sampler": result.params["sampler"]}))
    frame = pd.concat(frames, ignore_index=True)
    return [charts.compare_lines(frame, "number", "best", "run", [label for label, _ in runs],
                                 "Best validation error so far, both searches",
                                 "Look for: which search gets low sooner, and how low each ends.",
                                 y_title="best validation error so far")]


# -- the lesson ----------------------------------------------------------------------------------
def best_trial(summary: pd.DataFrame) -> pd.Series | None:
    """The trial selected on validation (the first of equals, in the order asked)."""
    ok = summary[(summary["status"] == "ok") & summary["final_val_error"].notna()]
    return None if ok.empty else ok.sort_values(["final_val_error", "trial"]).iloc[0]


def takeaway(result: StudyResult) -> list[str]:
    summary, space = result.summary, result.params["space"]
    best = best_trial(summary)
    if best is None:
        return ["No trial has finished ok yet.", ""]
    edges = [d.name for d in space if not d.choices and _at_edge(d, best[d.name])]
    edge = (f" {listed(edges)} {'is' if len(edges) == 1 else 'are'} at the edge of {'its' if len(edges) == 1 else 'their'} "
            "range: the best may lie beyond it." if edges else "")
    finished = int((summary["status"] == "ok").sum())
    first = (f"Best of {finished} finished trials, selected on validation (lecture 3.6.2): {best['setting']}, validation "
             f"error {best['final_val_error']:.1%}; its test error, looked at once: {best['final_test_error']:.1%}."
             f"{edge}")
    if result.params["sampler"] == "tpe" and "informed" in summary:
        chose = int((summary["informed"] & (summary["status"] != "cancelled")).sum())
        first += (f" TPE chose {chose} of its {len(summary)} trials from the results before them (its first "
                  f"{searching.TPE_STARTUP} are random).")
    return [first, ranking(result.tables["importance"])]


EDGE = 0.05  # of the range (on its scale): a best value this close to an end may have a better one beyond


def _at_edge(dim: searching.Dimension, value) -> bool:
    scale = np.log10 if dim.log else (lambda v: v)
    low, high, at = scale(dim.low), scale(dim.high), scale(float(value))
    return min(at - low, high - at) <= EDGE * (high - low)


def related(values: dict) -> list[dict]:
    """The same search by the other samplers (same space, budget, seed and settings)."""
    return [{**values, "sampler": sampler} for sampler in searching.SAMPLERS if sampler != values["sampler"]]


def against(result: StudyResult, others: list[StudyResult]) -> str:
    """How far each sampler got with this space and budget, where more than one has been run: the
    grid first, as the reference the others are measured against."""
    runs = {r.params["sampler"]: r for r in [*others, result] if best_trial(r.summary) is not None}
    if len(runs) < 2:
        return ""
    blind = [name for name, r in runs.items() if name == "tpe" and not r.summary.get("informed", pd.Series()).any()]
    runs = {name: r for name, r in runs.items() if name not in blind}
    note = " TPE is left out: it made no choice from results in its trials (its first 10 are random)." if blind else ""
    if len(runs) < 2:
        return note.strip()
    best = {name: float(best_trial(r.summary)["final_val_error"]) for name, r in runs.items()}
    parts = []
    for name in ("grid", "random", "tpe"):
        if name in runs:
            gap = best[name] - best["grid"] if "grid" in best and name != "grid" else None
            parts.append(f"{name} {best[name]:.1%} in {int((runs[name].summary['status'] == 'ok').sum())} trials"
                         + (" (this run)" if runs[name] is result else "")
                         + ("" if gap is None else f", {abs(gap) * 100:.1f} points {'above' if gap > 0 else 'below'} "
                            "the grid" if abs(gap) >= 0.0005 else ", the same as the grid"))
    return f"Best validation error by sampler with this space and budget: {'; '.join(parts)}.{note}"
