"""Learning-rate schedules (lecture 5.2.6): a constant rate against the four schedules, each
drawn as its alpha(t) beside the error curves it produced.

The defaults start from a rate too high to settle (tanh units, alpha0 = 1, batches of 4): held
constant, the validation error keeps jumping by about 10 points from epoch to epoch and ends near
20-35 %; every decaying schedule takes the same fast start and then settles, exponential and power
ending near 10 % (measured over 4 study seeds of 4 repeats each). ReLU units at the same rate were
no test of the schedules: in some repeats they died at the first steps, whatever came after.

CSV (``--out``): the tidy columns of DESIGN.md, then ``schedule`` and ``repeat``; the summary has
``wobble``, the mean change of the validation error from one epoch to the next over the last ten.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from core.schedules import SCHEDULES
from studies.common import charts, cost
from studies.common.params import TRAINING
from studies.common.schema import Param, Schema, with_defaults, without
from studies.common.takeaways import apart, best_setting, listed, validation_samples
from studies.common.training import StudyResult, assemble_training, sweep, train_trial, trial_detail  # noqa: F401

NAME = "schedules"
TITLE = "Learning-rate schedules"
FIGURES = "5.2.6"
SUMMARY = "Constant, piecewise, performance, exponential and power schedules: alpha(t) beside the errors it gives."
SWEPT = "schedule"
LABEL_KEYS = (SWEPT, "repeat")
TRIAL = train_trial
COST = cost.training
WOBBLE_EPOCHS = 10  # the last epochs over which the epoch-to-epoch change of the validation error is averaged

SCHEMA = Schema([
    *with_defaults(without(TRAINING, SWEPT), activation="tanh", learning_rate=1.0, batch_size=4, epochs=30,
                   repeats=4),
    Param("schedules", "choices", SCHEDULES, "Schedules to compare (lecture 5.2.6); constant is the baseline.",
          "study", choices=SCHEDULES, min_len=1, max_len=len(SCHEDULES)),
])

QUICK = {"epochs": "3"}

PRESETS = {
    "5.2.6.1's table: a tenth every 100 epochs from 0.1": {
        "learning_rate": "0.1", "schedules": "constant,piecewise", "schedule_T": "100", "epochs": "300",
        "activation": "sigmoid", "repeats": "1"},
    "A rate that settles without a schedule (α0 0.1)": {"learning_rate": "0.1"},
}


def plan(values: dict) -> list[dict]:
    return sweep(values, SWEPT, values["schedules"], "schedules")


def assemble(values: dict, results: list) -> StudyResult:
    result = assemble_training(NAME, values, results, [SWEPT])
    result.tables["rates"] = pd.DataFrame(
        [{"trial": r.trial.index, SWEPT: r.trial.params[SWEPT], "repeat": r.trial.params["repeat"], "epoch": epoch,
          "learning_rate": rate} for r in results for epoch, rate in enumerate(r.payload.get("rates", []), start=1)],
        columns=["trial", SWEPT, "repeat", "epoch", "learning_rate"])
    result.summary["wobble"] = result.summary["trial"].map(wobble(result.tidy))
    return result


def wobble(tidy: pd.DataFrame) -> pd.Series:
    """Per trial: the mean absolute change of the validation error between consecutive epochs over
    the last ``WOBBLE_EPOCHS``: near 0 once a rate has settled, large while it still jumps."""
    val = tidy[(tidy["split"] == "val") & tidy["error"].notna()].sort_values("epoch")
    return val.groupby("trial")["error"].agg(lambda e: float(np.abs(np.diff(e.to_numpy()[-WOBBLE_EPOCHS - 1:])).mean())
                                             if len(e) > 1 else np.nan)


def _rate_chart(rates: pd.DataFrame, scale: alt.Scale) -> alt.Chart:
    mean = rates.groupby([SWEPT, "epoch"], as_index=False)["learning_rate"].mean()
    chart = alt.Chart(mean).mark_line(point=alt.OverlayMarkDef(size=10)).encode(
        x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("learning_rate:Q", title="learning rate α(t) (log)", scale=alt.Scale(type="log"),
                axis=alt.Axis(format="~g")),
        color=alt.Color(f"{SWEPT}:N", title="schedule", scale=scale, legend=charts.line_legend(scale.domain)),
        tooltip=[f"{SWEPT}:N", "epoch:Q", alt.Tooltip("learning_rate:Q", format=".4g", title="α")])
    return charts.finish(chart, "Learning rate per epoch, α(t) (5.2.6)",
                         "Look for: how soon and how far each schedule takes the rate down from α0; performance "
                         "scheduling steps down only when the validation error stalls.")


def charts_for(result: StudyResult, repeats: bool = False) -> list[alt.Chart]:
    order = [s for s in SCHEDULES if s in set(result.summary[SWEPT])]
    scale = charts.categorical(order)
    error, cost_line = look_fors(result.summary)
    shown = [
        charts.curves(result.tidy, SWEPT, split="val", repeats=repeats, scale=scale,
                      title="Validation error per epoch", look_for=error),
        charts.curves(result.tidy, SWEPT, y="cost", split="train", repeats=repeats, scale=scale, log_y=True,
                      y_title="training cost (log)", title="Training cost per epoch", look_for=cost_line),
    ]
    if len(result.tables.get("rates", [])):
        shown.insert(1, _rate_chart(result.tables["rates"], scale))
    return shown


def compare(runs: list) -> list[alt.Chart]:
    """Two runs' mean validation curves per schedule, the pinned one dashed."""
    return charts.compare_sweep(runs, SWEPT)


def against_constant(summary: pd.DataFrame) -> tuple[pd.Series, list, list] | None:
    """The constant rate's mean final error and wobble, and the schedules that end lower and that
    settle more than it, each outside the noise; None without the constant rate and a schedule."""
    ok = summary[summary["status"] == "ok"]
    means = ok.groupby(SWEPT)[["final_val_error", "wobble"]].mean()
    means = means.loc[[s for s in SCHEDULES if s in means.index]]
    if "constant" not in means.index or len(means) < 2:
        return None
    constant, samples = means.loc["constant"], validation_samples(ok)
    others = [s for s in means.index if s != "constant"]
    lower = [s for s in others if means.loc[s, "final_val_error"] < constant["final_val_error"]
             and apart(ok, SWEPT, s, "constant", "final_val_error", samples)]
    steadier = [s for s in others if means.loc[s, "wobble"] < constant["wobble"]
                and apart(ok, SWEPT, s, "constant", "wobble")]
    return constant, lower, steadier


def look_fors(summary: pd.DataFrame) -> tuple[str, str]:
    """The error and cost charts' lines, from what the takeaway found."""
    found = against_constant(summary)
    if found is None:
        return ("Look for: how each schedule's error settles over the epochs.",
                "Look for: how each schedule's cost falls once its rate has dropped (a log axis).")
    _, lower, steadier = found
    error = (f"Look for: the constant rate jumping from epoch to epoch (every repeat's own line shows it best) while "
             f"{listed(steadier)} settle." if steadier else
             "Look for: here the constant rate settles as well as the schedules: at this rate there is nothing to tame.")
    cost = (f"Look for: the constant rate's cost staying above {listed(lower)}'s once their rates have dropped "
            "(a log axis)." if lower else
            "Look for: the constant rate's cost against the schedules' (a log axis): no schedule ends lower here "
            "outside the noise.")
    return error, cost


def takeaway(result: StudyResult) -> list[str]:
    lines = best_setting(result.summary, SWEPT, "schedule", ordered=False, repeats=result.params["repeats"])
    found = against_constant(result.summary)
    if found is not None:
        constant, lower, steadier = found
        ok = result.summary[result.summary["status"] == "ok"]
        ends = ok.loc[ok[SWEPT] == "constant", "final_val_error"]
        spread = f" (its repeats from {ends.min():.1%} to {ends.max():.1%})" if ends.max() > ends.min() else ""
        parts = [f"The constant rate ends at {constant['final_val_error']:.1%}{spread}, each repeat's validation error "
                 f"still moving {100 * constant['wobble']:.2f} points per epoch over the last {WOBBLE_EPOCHS} (every "
                 "repeat's own line shows it; their mean moves less, as their jumps cancel)"]
        parts.append(f"{listed(lower)} end lower, outside the noise" if lower else "no schedule ends lower outside "
                     "the noise")
        parts.append(f"{listed(steadier)} settle more" if steadier else "none settles more outside the noise")
        lines[1] = ("; ".join(parts) + ". " + lines[1]).strip()
    return lines
