"""Many runs side by side (the runs page): one table of their trials with parameters and metrics as
columns, and the charts over it. Pure functions of stored results, no streamlit."""
from __future__ import annotations

import numbers

import altair as alt
import pandas as pd

from studies.common import charts
from studies.common.execution import exported

METRICS = ("final_val_error", "final_test_error")


def _labels(runs: list) -> dict[str, str]:
    """Each run named by its study and what differs between the selected runs of that study."""
    labels = {}
    for study, key, values, _ in runs:
        mine = study.SCHEMA.to_texts(values)
        others = [study.SCHEMA.to_texts(v) for s, k, v, _ in runs if s is study and k != key]
        differ = [f"{n}={t}" for n, t in mine.items() if any(o.get(n) != t for o in others)]
        labels[key] = f"{study.TITLE}: {', '.join(differ[:3]) or key[:6]}" + (" …" if len(differ) > 3 else "")
    return labels


def selection_table(runs: list) -> dict[str, pd.DataFrame]:
    """``runs``: (study, key, values, result) each. Returns ``tidy`` (every run's tidy rows with its
    parameters as columns and ``run``, ``study``, ``key``: one CSV that concatenates), ``curves``
    (mean validation error per epoch and run; test where a study has no validation split) and
    ``trials`` (one row per trial: numeric parameters as ``p_name`` columns, then the metrics)."""
    labels = _labels(runs)
    tidy, curves, trials = [], [], []
    for study, key, values, result in runs:
        label = labels[key]
        tidy.append(exported(study, values, result.tidy).assign(run=label, study=study.NAME, key=key))
        rows = result.tidy[result.tidy["error"].notna()] if "error" in result.tidy else result.tidy.iloc[0:0]
        split = "val" if (rows.get("split") == "val").any() else "test"
        mean = rows[rows["split"] == split].groupby("epoch", as_index=False)["error"].mean()
        curves.append(mean.assign(run=label, split=split))
        fixed = {f"p_{n}": v for n, v in values.items() if isinstance(v, numbers.Real) and not isinstance(v, bool)}
        summary = result.summary
        for _, row in summary.iterrows():
            own = {f"p_{n}": row[n] for n in values if n in summary and isinstance(row[n], numbers.Real)}
            for name in ("learning_rate", "batch_size", "hidden_units", "init_sigma", "depth"):
                if name in summary and isinstance(row[name], numbers.Real):
                    own[f"p_{name}"] = row[name]
            trials.append({"run": label, "trial": f"{key[:6]}-{row.get('trial', _)}", **fixed, **own,
                           **{m: row.get(m) for m in METRICS}})
    trial_frame = pd.DataFrame(trials)
    varying = [c for c in trial_frame.columns if c.startswith("p_") and trial_frame[c].nunique(dropna=True) > 1]
    trial_frame = trial_frame[["run", "trial", *varying, *[m for m in METRICS if m in trial_frame]]]
    return {"tidy": pd.concat(tidy, ignore_index=True),
            "curves": pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(),
            "trials": trial_frame}


def overlay_chart(table: dict) -> alt.Chart:
    curves = table["curves"]
    order = list(dict.fromkeys(curves["run"]))
    chart = alt.Chart(curves).mark_line(point=alt.OverlayMarkDef(size=10)).encode(
        x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("error:Q", title="mean validation error (test where a study has none)", axis=alt.Axis(format="%")),
        color=alt.Color("run:N", title="run", sort=order, scale=charts.categorical(order),
                        legend=charts.line_legend(order, columns=1)),
        tooltip=["run:N", "split:N", "epoch:Q", alt.Tooltip("error:Q", format=".2%")])
    return charts.finish(chart, "The selected runs' curves on shared axes",
                         "Look for: which run gets lowest soonest; the legend names what differs between runs.")


def parallel_chart(table: dict) -> alt.Chart:
    """One line per trial across every varying parameter and the metrics, each axis scaled to its own
    range (a listed choice, such as an optimiser, at its place among the choices; the tooltip gives
    the value), coloured by the validation error."""
    trials = table["trials"].assign(colour=table["trials"]["final_val_error"])
    axes = [c for c in trials.columns if c.startswith("p_")] + [m for m in METRICS if m in trials]
    long = trials.melt(id_vars=["run", "trial", "colour"], value_vars=axes, var_name="axis", value_name="value")
    long["position"], long["shown"] = 0.5, long["value"].map(_shown)
    for axis, rows in long.groupby("axis"):
        numbers = pd.to_numeric(rows["value"], errors="coerce")
        if numbers.notna().all():
            span = numbers.max() - numbers.min()
            long.loc[rows.index, "position"] = (numbers - numbers.min()) / span if span > 0 else 0.5
        else:
            places = {v: i for i, v in enumerate(sorted(set(rows["shown"])))}
            long.loc[rows.index, "position"] = rows["shown"].map(places) / max(1, len(places) - 1)
    long["axis"] = long["axis"].str.removeprefix("p_").map(charts.words)
    chart = alt.Chart(long).mark_line(opacity=0.8).encode(
        x=alt.X("axis:N", title=None, sort=[charts.words(a.removeprefix("p_")) for a in axes],
                axis=alt.Axis(labelAngle=-30, labelOverlap=False, labelLimit=0)),
        y=alt.Y("position:Q", title="each axis from its smallest (0) to its largest (1) value",
                axis=alt.Axis(format=".0%")),
        detail="trial:N",
        color=alt.Color("colour:Q", title="validation error", scale=alt.Scale(range=charts.ramp(5)),
                        legend=charts.legend(format="%")),
        tooltip=["run:N", "trial:N", "axis:N", alt.Tooltip("shown:N", title="value"),
                 alt.Tooltip("colour:Q", format=".2%", title="validation error")])
    return charts.finish(chart, "Parallel coordinates: one line per trial",
                         "Look for: where the lines with low validation error (blue end) cross each parameter "
                         "axis: what the good trials have in common.")


def _shown(value) -> str:
    return f"{value:.4g}" if isinstance(value, numbers.Real) and not isinstance(value, bool) else str(value)


def scatter_chart(table: dict, x: str, y: str, metric: str) -> alt.Chart:
    trials = table["trials"]
    chart = alt.Chart(trials).mark_point(filled=True, size=80).encode(
        x=alt.X(f"{x}:Q", title=x.removeprefix("p_"), scale=alt.Scale(type="log" if (trials[x] > 0).all() else "linear")),
        y=alt.Y(f"{y}:Q", title=y.removeprefix("p_"), scale=alt.Scale(type="log" if (trials[y] > 0).all() else "linear")),
        color=alt.Color(f"{metric}:Q", title=metric.replace("_", " "), scale=alt.Scale(range=charts.ramp(5)),
                        legend=charts.legend(format="%")),
        tooltip=["run:N", "trial:N", f"{x}:Q", f"{y}:Q", alt.Tooltip(f"{metric}:Q", format=".2%")])
    return charts.finish(chart, f"{x.removeprefix('p_')} and {y.removeprefix('p_')} against the {metric.replace('_', ' ')}",
                         "Look for: the region of the two parameters where the colour is at the low end.")
