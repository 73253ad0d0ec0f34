"""Altair chart builders shared by the training studies: pure functions DataFrame -> chart.

Every chart has tooltips, a legend that highlights a setting when clicked, and marks trials that
diverged or failed (dashed lines, crosses) instead of dropping them.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from core.runner import STATUSES

STATUS_DASH = alt.Scale(domain=list(STATUSES), range=[[1, 0], [6, 3], [2, 2]])
SPLIT_LABELS = {"train": "training", "val": "validation", "test": "test"}
COUNTS = ("epoch", "updates")  # whole numbers: no ticks at 0.5 epochs


def vega_lite(chart: alt.TopLevelMixin) -> dict:
    """``chart`` as a Vega-Lite dict with every row inline, for the page and the HTML report.

    Not through Altair's data transformer: its default refuses more than 5000 rows (a notebook
    safeguard that a long sweep passes), and it is process-wide state that Streamlit switches while
    it converts charts in other sessions' threads. Encodings must therefore name their types."""
    return _inline(chart).to_dict()


def _inline(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    chart = chart.copy(deep=False)
    if isinstance(chart.data, pd.DataFrame):
        chart.data = alt.to_values(chart.data)
    if isinstance(chart, alt.LayerChart):
        chart.layer = [_inline(layer) for layer in chart.layer]
    return chart


def _legend_pick(field: str):
    return alt.selection_point(fields=[field], bind="legend", name=f"pick_{field}")


def curves(tidy: pd.DataFrame, color: str, y: str = "error", x: str = "epoch", split: str = "val",
           title: str | None = None, log_x: bool = False) -> alt.Chart:
    """Learning curves of one split: ``y`` (cost or error) against epochs, updates or seconds, one
    line per trial, coloured by the swept parameter ``color``."""
    data = tidy.loc[(tidy["split"] == split) & tidy[y].notna(), list(dict.fromkeys(
        [x, y, color, "trial", "repeat", "status"]))]  # only what is drawn: less to send and parse
    if log_x:
        data = data[data[x] > 0]
    pick = _legend_pick(color)
    y_title = f"{SPLIT_LABELS[split]} {'error rate' if y == 'error' else 'cost'}"
    return (
        alt.Chart(data, title=title or f"{y_title} against {x}")
        .mark_line(point=alt.OverlayMarkDef(size=12))
        .encode(
            x=alt.X(f"{x}:Q", title=x, scale=alt.Scale(type="log") if log_x else alt.Undefined,
                    axis=alt.Axis(tickMinStep=1, format="d") if x in COUNTS else alt.Undefined),
            y=alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format="%") if y == "error" else alt.Undefined),
            color=alt.Color(f"{color}:O", title=color, scale=alt.Scale(scheme="viridis")),
            detail="trial:N",
            strokeDash=alt.StrokeDash("status:N", scale=STATUS_DASH, title="status"),
            opacity=alt.condition(pick, alt.value(0.9), alt.value(0.08)),
            tooltip=[f"{color}:Q", "repeat:Q", "trial:Q", "status:N", f"{x}:Q", alt.Tooltip(f"{y}:Q", format=".4f")],
        )
        .add_params(pick)
        .properties(width=360, height=240)
    )


def final_against(summary: pd.DataFrame, x: str, y: str = "final_val_error", log_x: bool = True,
                  title: str | None = None, y_format: str = "%") -> alt.Chart:
    """One point per trial (crosses for diverged or failed ones) and the mean over repeats."""
    data = summary[[x, y, "repeat", "trial", "status", "message"]].copy()
    data["marker"] = data["status"].map({"ok": "circle"}).fillna("cross")
    x_enc = alt.X(f"{x}:Q", title=x, scale=alt.Scale(type="log") if log_x else alt.Undefined)
    y_enc = alt.Y(f"{y}:Q", title=y.replace("_", " "), axis=alt.Axis(format=y_format))
    pick = _legend_pick("status")
    tip_format = ".2%" if y_format == "%" else y_format
    points = alt.Chart(data).mark_point(filled=True, size=60).encode(
        x=x_enc, y=y_enc, color=alt.Color("status:N", scale=alt.Scale(domain=list(STATUSES),
                                                                       range=["#1f77b4", "#d62728", "#7f7f7f"])),
        shape=alt.Shape("marker:N", legend=None),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=[f"{x}:Q", "repeat:Q", "trial:Q", "status:N", alt.Tooltip(f"{y}:Q", format=tip_format),
                 "message:N"],
    ).add_params(pick)
    mean = alt.Chart(data[data["status"] == "ok"]).mark_line(color="black", strokeWidth=1.5).encode(
        x=x_enc, y=alt.Y(f"mean({y}):Q"), tooltip=[f"{x}:Q", alt.Tooltip(f"mean({y}):Q", format=tip_format, title="mean")])
    return (points + mean).properties(title=title or f"{y.replace('_', ' ')} against {x}", width=360, height=240)


def split_means(long: pd.DataFrame, x: str, title: str) -> alt.Chart:
    """Error per split (``split``, ``error`` columns) against ``x`` on a log axis: a point per
    trial, a line through the means; the gap between the lines is the overfitting."""
    x_enc = alt.X(f"{x}:Q", title=x.replace("_", " "), scale=alt.Scale(type="log"))
    color = alt.Color("split:N", title="split")
    pick = _legend_pick("split")
    ok = long[long["status"] == "ok"]
    points = alt.Chart(long).mark_point(size=40).encode(
        x=x_enc, y=alt.Y("error:Q", axis=alt.Axis(format="%"), title="final error rate"), color=color,
        shape=alt.Shape("status:N", scale=alt.Scale(domain=list(STATUSES),
                                                    range=["circle", "cross", "triangle"]),
                        legend=alt.Legend(orient="bottom", direction="horizontal")),
        opacity=alt.condition(pick, alt.value(0.8), alt.value(0.1)),
        tooltip=[f"{x}:Q", "split:N", "repeat:Q", "status:N", alt.Tooltip("error:Q", format=".2%")]).add_params(pick)
    means = alt.Chart(ok).mark_line().encode(x=x_enc, y="mean(error):Q", color=color,
                                             opacity=alt.condition(pick, alt.value(1.0), alt.value(0.1)))
    return (points + means).properties(title=title, width=360, height=240)
