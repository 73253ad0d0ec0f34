"""Altair chart builders shared by the studies: pure functions DataFrame -> chart.

The house rules, so that every chart reads the same way in the app and in the HTML report:
- charts take the width of their column and a readable height; titles and legends are never cut
  (no length limit, legends list every value, below the plot);
- one colour per split everywhere (``SPLIT_COLOURS``); unordered settings (optimisers, methods) from
  one categorical palette, ordered ones (rates, sizes, σ) along one ramp, each value keeping its colour
  in every chart of a page (``categorical``, ``ordered``): every colour has at least 3:1 contrast with a
  white and with Streamlit's dark background (WCAG 1.4.11), so both themes read;
- a legend with one entry that says nothing ("trial status: ok") is left out; line legends draw lines,
  dash legends dashes;
- axes are labelled in words, with units; a log axis ticks at the values tried, extremes included,
  and is padded so no mark is cut at its edge;
- curves over repeats are the mean with a band of one standard deviation; single repeats on request;
- trials that diverged, failed or were cancelled are kept and marked, never dropped;
- every chart carries one line of "what to look for" from the lecture (its ``description``).
"""
from __future__ import annotations

import base64
import io
from typing import Callable

import altair as alt
import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from service.runner import STATUSES
from studies.common.training import StudyResult

HEIGHT = 260  # of the plot itself: axes, title and legends come on top (autosize fit-x)
LEGEND_COLUMNS = 4  # legends below the plot wrap into rows instead of running off its edge
SPLIT_LABELS = {"train": "training", "val": "validation", "test": "test"}
# Relative luminance 0.12-0.28: at least 3:1 against white (1.0) and against Streamlit's dark #0e1117.
PALETTE = ["#1f77b4", "#d95f02", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#c2419a", "#0f8b99", "#8a8a00",
           "#7f7f7f"]
RAMP = ["#3b5bdb", "#8e44ad", "#c2185b", "#d95f02"]  # low to high; mixed in linear light, so every step stays
NEUTRAL = "#808080"  # means and reference lines: readable on both themes (black vanished on the dark one)
BACKGROUNDS = {"light": "#ffffff", "dark": "#0e1117"}
SPLIT_COLOURS = alt.Scale(domain=list(SPLIT_LABELS.values()), range=PALETTE[:3])
STATUS_DASH = dict(zip(STATUSES, [[1, 0], [6, 3], [2, 2], [1, 3]]))
SHAPES = {"ok": "circle", "diverged": "cross", "failed": "triangle", "cancelled": "square"}
STATUS_COLOURS = dict(zip(STATUSES, ["#1f77b4", "#d62728", "#7f7f7f", "#8a8a00"]))
WORDS = {  # axis and legend titles in words, with units
    "learning_rate": "learning rate α", "batch_size": "batch size (samples per update)",
    "hidden_units": "hidden units", "init_sigma": "initial σ", "epoch": "epoch", "updates": "weight updates",
    "seconds": "training time (s)", "l2": "L2 penalty λ", "epochs": "epochs", "degree": "polynomial degree",
    "final_val_error": "validation error", "final_test_error": "test error",
    "max_train": "training samples", "train_samples": "training samples", "clip_norm": "clipping norm",
}
COUNTS = ("epoch", "updates")  # whole numbers: no ticks at 0.5 epochs


def words(name: str) -> str:
    return WORDS.get(name, name.replace("_", " "))


LEGEND_WIDTH = 300  # pixels a legend row may take: a phone's chart is about 330 wide
CHAR_WIDTH, SYMBOL_WIDTH = 7, 30  # pixels of one label character, and of a symbol with its gaps


def legend(labels=(), orient: str = "bottom", columns: int | None = None, **kwargs) -> alt.Legend:
    """Below the plot (a second legend: ``orient="top"``, so two never run off the chart side by side),
    every value listed in full, in as many columns as fit a phone's chart width for these ``labels``."""
    if columns is None:
        widest = max((len(str(label)) for label in labels), default=8)
        columns = max(1, min(LEGEND_COLUMNS, LEGEND_WIDTH // (widest * CHAR_WIDTH + SYMBOL_WIDTH)))
    return alt.Legend(orient=orient, direction="horizontal", columns=columns, symbolLimit=0, labelLimit=0,
                      titleLimit=0, symbolOpacity=1, **kwargs)


def line_legend(labels=(), **kwargs) -> alt.Legend:
    """A legend for lines: each entry drawn as a short line (a dot said nothing about a dash)."""
    return legend(labels, symbolType="stroke", symbolStrokeWidth=2.5, symbolSize=260, **kwargs)


def shape_legend(labels=(), **kwargs) -> alt.Legend:
    """A legend of a channel other than colour (dash, shape): its symbols in the neutral colour, which
    both themes show (Vega draws them black), above the plot beside the colour legend below."""
    return legend(labels, orient="top", symbolStrokeColor=NEUTRAL, symbolFillColor=NEUTRAL, **kwargs)


def dash_legend(labels=(), **kwargs) -> alt.Legend:
    return shape_legend(labels, symbolType="stroke", symbolStrokeWidth=2, symbolSize=260, **kwargs)


def _linear(hex_colour: str) -> np.ndarray:
    rgb = _rgb([hex_colour])[0] / 255
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _hex(linear: np.ndarray) -> str:
    rgb = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)
    return "#" + "".join(f"{int(round(v * 255)):02x}" for v in np.clip(rgb, 0, 1))


def ramp(n: int) -> list[str]:
    """``n`` colours from low to high along ``RAMP``, mixed in linear light: luminance is linear there,
    so each mixed colour's contrast lies between its neighbours' stops'."""
    stops = np.array([_linear(c) for c in RAMP])
    where = np.linspace(0, 1, n) if n > 1 else np.array([0.0])
    positions = np.linspace(0, 1, len(RAMP))
    return [_hex(np.array([np.interp(w, positions, stops[:, c]) for c in range(3)])) for w in where]


def categorical(domain: list, colours: dict | None = None) -> alt.Scale:
    """Unordered values, each its own palette colour in the order given (``colours``: fixed ones)."""
    colours = colours or {}
    return alt.Scale(domain=list(domain), range=[colours.get(v, PALETTE[i % len(PALETTE)])
                                                 for i, v in enumerate(domain)])


def ordered(domain: list) -> alt.Scale:
    """Ordered values (low to high as given) along the ramp."""
    return alt.Scale(domain=list(domain), range=ramp(len(domain)))


def status_encoding(channel, frame: pd.DataFrame, scale_range: dict, kind: Callable = legend):
    """Trial status as ``channel`` (alt.Color, alt.Shape, alt.StrokeDash) over the statuses present,
    with no legend when every trial is ok: a one-entry legend says nothing. Colour and shape given the
    same ``kind`` share one legend, each status in its colour and shape."""
    shown = statuses_in(frame)
    return channel("status:N", title="trial status", scale=alt.Scale(domain=shown, range=[scale_range[s] for s in shown]),
                   legend=kind(shown) if shown != ["ok"] else None)


TITLE_LINE = 52  # characters: a longer title is broken into lines, so a half-width chart shows all of it


def titled(text: str) -> alt.TitleParams:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > TITLE_LINE:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return alt.TitleParams(text=lines if len(lines) > 1 else text, limit=0, anchor="start")


def title_text(spec: dict) -> str:
    """A chart specification's title as one string (long titles are stored as lines)."""
    text = spec["title"]["text"] if isinstance(spec.get("title"), dict) else spec.get("title", "")
    return " ".join(text) if isinstance(text, list) else text


def finish(chart, title: str, look_for: str):
    """Column width, readable height, an uncut title and the lecture's line under the chart. fit-x:
    the plot keeps HEIGHT and the legends add below it, instead of squeezing the plot (Streamlit's
    default "fit" squeezed the hidden-unit chart to 40 px)."""
    return chart.properties(title=titled(title), width="container", height=HEIGHT, description=look_for,
                            autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))


def statuses_in(frame: pd.DataFrame) -> list[str]:
    """The trial statuses present, in the usual order (a legend lists what the chart shows)."""
    present = set(frame["status"].dropna())
    return [status for status in STATUSES if status in present] or ["ok"]


def log_axis(field: str, tried, title: str | None = None, labels: dict | None = None) -> alt.X:
    """A log x axis ticking at the values tried (extremes included), padded so no mark is cut;
    ``labels`` names ticks in words (batch size 1077 -> "full (1,077)")."""
    tried = sorted({float(v) for v in tried if v is not None and np.isfinite(v) and v > 0})
    expr = "format(datum.value, '~g')"
    for value, text in (labels or {}).items():
        expr = f"datum.value == {float(value)!r} ? {text!r} : {expr}"
    return alt.X(f"{field}:Q", title=title or words(field),
                 scale=alt.Scale(type="log", nice=False, padding=14, zero=False),
                 axis=alt.Axis(values=tried, labelExpr=expr, labelOverlap=False, grid=True))


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


PIXELS_PER_CELL = 8  # an image cell's side: the browser's smoothing then blurs one pixel, not half a cell


def lattice(cells: pd.DataFrame, value: str) -> tuple[np.ndarray, dict]:
    """Samples on a full regular lattice (columns ``x``, ``y``, ``value``, one row per point) as a
    (rows, columns) array, highest y first, and the rectangle it covers with each sample at the centre
    of its cell. A sort and a reshape: the decision-boundary page pivots 60 of them."""
    xs, ys = np.unique(cells["x"].to_numpy(dtype=float)), np.unique(cells["y"].to_numpy(dtype=float))[::-1]
    order = np.lexsort((cells["x"].to_numpy(), -cells["y"].to_numpy()))
    table = cells[value].to_numpy()[order].reshape(len(ys), len(xs))
    half_x = (xs[-1] - xs[0]) / (len(xs) - 1) / 2 if len(xs) > 1 else 0.5
    half_y = (ys[0] - ys[-1]) / (len(ys) - 1) / 2 if len(ys) > 1 else 0.5
    return table, {"x": xs[0] - half_x, "x2": xs[-1] + half_x, "y": ys[-1] - half_y, "y2": ys[0] + half_y}


def _data_url(png: io.BytesIO) -> str:
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")


def raster(cells: pd.DataFrame, value: str, colours: Callable[[np.ndarray], np.ndarray]) -> dict:
    """Values sampled on a regular lattice (columns ``x``, ``y`` and ``value``) as one picture for
    ``image_layer``: a PNG data URL and the rectangle it covers, each sample at the centre of its cell.
    ``colours`` maps the (rows, columns) values to (rows, columns, 4) RGBA bytes; a translucent alpha
    suits a light and a dark page alike.

    One image instead of a rectangle per cell: the decision-boundary page sent 3 MB of cells (and still
    0.2 MB merged into runs), and translucent rectangles showed seams where they met."""
    table, extent = lattice(cells, value)
    pixels = np.ascontiguousarray(colours(table), dtype=np.uint8)
    rows, columns = pixels.shape[:2]
    image = Image.fromarray(pixels, "RGBA").resize((columns * PIXELS_PER_CELL, rows * PIXELS_PER_CELL),
                                                   Image.Resampling.NEAREST)
    png = io.BytesIO()
    image.save(png, format="PNG", optimize=True)
    return {"url": _data_url(png), **extent}


ANIMATION_SIDE = 160  # pixels of a frame: smooth regions and a readable caption in 50-60 KB for 12 frames
ANIMATION_COLOURS = 48  # each frame reduced to a palette: a third of the bytes; shades step faintly
FRAME_MS, LAST_FRAME_MS = 450, 2500  # the final state stays longest before the loop starts again


def animation(frames: list[tuple[str, np.ndarray]], extent: dict) -> dict:
    """Pictures of one lattice (``lattice``'s extent), each (rows, columns, 4) RGBA bytes with a caption,
    as one looping animated PNG for ``image_layer``: the browser plays it, the server sends it once.
    Frames are scaled smoothly (bilinear) to ``ANIMATION_SIDE`` and captioned in the top left corner."""
    images = []
    for caption, pixels in frames:
        image = Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8), "RGBA").resize(
            (ANIMATION_SIDE, ANIMATION_SIDE), Image.Resampling.BILINEAR)
        ImageDraw.Draw(image).text((4, 2), caption, fill=(40, 40, 40, 255), stroke_width=2,
                                   stroke_fill=(255, 255, 255, 255), font=ImageFont.load_default(size=12))
        images.append(image.quantize(ANIMATION_COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE))
    png = io.BytesIO()
    images[0].save(png, format="PNG", save_all=True, append_images=images[1:], loop=0,
                   duration=[FRAME_MS] * (len(images) - 1) + [LAST_FRAME_MS])
    return {"url": _data_url(png), **extent}


def image_layer(images: pd.DataFrame, x: alt.X, y: alt.Y) -> alt.Chart:
    """``raster`` pictures (one per row of ``images``) drawn over their rectangles of the axes."""
    return alt.Chart(images).mark_image(aspect=False, clip=True).encode(x=x, x2="x2:Q", y=y, y2="y2:Q", url="url:N")


def _rgb(hex_colours: list[str]) -> np.ndarray:
    return np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in hex_colours], dtype=float)


def palette_colours(values: np.ndarray, domain: list, hex_colours: list[str], alpha: float) -> np.ndarray:
    """Each value's colour (``hex_colours[i]`` for ``domain[i]``) at ``alpha``, as RGBA bytes."""
    table = np.column_stack([_rgb(hex_colours), np.full(len(hex_colours), 255 * alpha)]).round().astype(np.uint8)
    index = np.searchsorted(np.asarray(domain), values)
    return table[np.clip(index, 0, len(table) - 1)]


BLUES = ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"]


def ramp_colours(values: np.ndarray, hex_colours: list[str], alpha: float) -> np.ndarray:
    """Values from their lowest to their highest along a colour ramp (Vega's ``blues`` scheme is
    ``BLUES``), at ``alpha``, as RGBA bytes."""
    low, high = np.nanmin(values), np.nanmax(values)
    where = (values - low) / (high - low) if high > low else np.zeros(values.shape)
    stops, rgb = np.linspace(0, 1, len(hex_colours)), _rgb(hex_colours)
    channels = [np.interp(where, stops, rgb[:, c]) for c in range(3)] + [np.full(values.shape, 255 * alpha)]
    return np.stack(channels, axis=-1).round().astype(np.uint8)


def _legend_pick(field: str):
    return alt.selection_point(fields=[field], bind="legend", name=f"pick_{field}")


def setting_order(frame: pd.DataFrame, swept: str) -> list[str]:
    """Setting labels in the numeric order of the swept value (so 10 comes after 2)."""
    pairs = frame[[swept, "setting"]].drop_duplicates().sort_values(swept)
    return list(dict.fromkeys(pairs["setting"]))


def curves(tidy: pd.DataFrame, swept: str, y: str = "error", x: str = "epoch", split: str = "val",
           title: str | None = None, log_x: bool = False, repeats: bool = False, look_for: str = "",
           scale: alt.Scale | None = None, y_title: str | None = None, log_y: bool = False) -> alt.Chart:
    """Learning curves of one split: ``y`` (cost or error) against epochs, updates or seconds, one
    colour per setting of ``swept``: along the ramp in the swept value's order, or as ``scale`` says
    (unordered settings: ``categorical``). The mean over repeats with a ±1 std band, or every repeat
    as its own line (``repeats``) with its status as the dash. The band stays within the quantity's
    range (an error rate in [0, 1], a cost above 0; on a log axis above the lowest value drawn)."""
    data = tidy.loc[(tidy["split"] == split) & tidy[y].notna(), list(dict.fromkeys(
        [x, y, swept, "setting", "trial", "repeat", "status"]))]
    if log_x:
        data = data[data[x] > 0]
    order = scale.domain if scale is not None else setting_order(tidy, swept)
    pick = _legend_pick("setting")
    y_title = y_title or f"{SPLIT_LABELS[split]} {'error rate' if y == 'error' else 'cost'}"
    colour = alt.Color("setting:N", title=words(swept), sort=order, scale=scale or ordered(order),
                       legend=line_legend(order))
    x_enc = alt.X(f"{x}:Q", title=words(x), scale=alt.Scale(type="log", nice=False, padding=8) if log_x
                  else alt.Scale(nice=False, padding=8),
                  axis=alt.Axis(tickMinStep=1, format="d") if x in COUNTS else alt.Axis(format="~g"))
    y_axis = alt.Axis(format="%") if y == "error" and not log_y else alt.Axis(format="~g")
    y_scale = alt.Scale(type="log") if log_y else alt.Undefined
    opacity = alt.condition(pick, alt.value(0.95), alt.value(0.08))
    if repeats:
        lines = alt.Chart(data).mark_line(point=alt.OverlayMarkDef(size=10)).encode(
            x=x_enc, y=alt.Y(f"{y}:Q", title=y_title, axis=y_axis, scale=y_scale), color=colour, detail="trial:N",
            strokeDash=status_encoding(alt.StrokeDash, data, STATUS_DASH, dash_legend),
            opacity=opacity,
            tooltip=["setting:N", "repeat:Q", "status:N", f"{x}:Q", alt.Tooltip(f"{y}:Q", format=".4f")])
        return finish(lines.add_params(pick), title or f"{y_title} against {words(x)}", look_for)
    # the mean is over the repeats that were not cancelled: a stopped trial's few epochs would bend it
    # (they stay drawn, marked, with every repeat on); a setting with only cancelled trials keeps them
    finished = tidy["status"] != "cancelled"
    if not finished.all():  # the group-wise pass only where some trial was cancelled
        finished |= ~tidy.groupby("setting")["status"].transform(lambda s: (s != "cancelled").any())
    if x == "epoch":
        keys = ["setting", swept, x]
        stats = data[finished.loc[data.index]].groupby(keys)[y].agg(["mean", "std", "count"]).reset_index()
    else:  # updates and seconds differ between repeats: average them as well
        keys = ["setting", swept, "epoch"]
        stats = tidy.loc[(tidy["split"] == split) & tidy[y].notna() & finished].groupby(keys).agg(
            mean=(y, "mean"), std=(y, "std"), count=(y, "count"), **{x: (x, "mean")}).reset_index()
        if log_x:
            stats = stats[stats[x] > 0]
    stats["std"] = stats["std"].fillna(0.0)
    stats["low"], stats["high"] = band_limits(stats["mean"], stats["std"], y, log_y)
    base = alt.Chart(stats).encode(x=x_enc, color=colour, opacity=opacity)
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("low:Q", title=y_title, axis=y_axis, scale=y_scale), y2="high:Q",
                                                opacity=alt.condition(pick, alt.value(0.2), alt.value(0.02)))
    mean = base.mark_line(point=alt.OverlayMarkDef(size=10)).encode(
        y=alt.Y("mean:Q", title=y_title, axis=y_axis, scale=y_scale),
        tooltip=["setting:N", f"{x}:Q", alt.Tooltip("mean:Q", format=".4f", title=f"mean {y}"),
                 alt.Tooltip("std:Q", format=".4f", title="std over repeats"), alt.Tooltip("count:Q", title="repeats")])
    return finish(alt.layer(band, mean).add_params(pick), title or f"{y_title} against {words(x)}", look_for)


def band_limits(mean: pd.Series, std: pd.Series, y: str, log_y: bool = False) -> tuple[pd.Series, pd.Series]:
    """mean ± std, kept inside what the quantity can be: an error rate within [0, 1], a cost or an MSE
    not below 0 and, on a log axis, not below the lowest mean drawn (a log axis has no 0)."""
    floor = mean[mean > 0].min() if log_y and (mean > 0).any() else 0.0
    low = (mean - std).clip(lower=floor)
    high = mean + std
    return low, (high.clip(upper=1.0) if y == "error" else high)


def final_against(summary: pd.DataFrame, x: str, y: str = "final_val_error", title: str | None = None,
                  y_title: str = "final validation error", y_format: str = "%", labels: dict | None = None,
                  look_for: str = "") -> alt.Chart:
    """One point per trial (status as colour and shape) and the mean over repeats that finished."""
    data = summary[[x, y, "setting", "repeat", "trial", "status", "message"]].copy()
    x_enc = log_axis(x, data[x], labels=labels)
    y_enc = alt.Y(f"{y}:Q", title=y_title, axis=alt.Axis(format=y_format))
    pick = _legend_pick("status")
    tip_format = ".2%" if y_format == "%" else y_format
    points = alt.Chart(data).mark_point(filled=True, size=60).encode(
        x=x_enc, y=y_enc, color=status_encoding(alt.Color, data, STATUS_COLOURS),
        shape=status_encoding(alt.Shape, data, SHAPES),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.15)),
        tooltip=["setting:N", "repeat:Q", "status:N", alt.Tooltip(f"{y}:Q", format=tip_format), "message:N"],
    ).add_params(pick)
    mean = alt.Chart(data[data["status"] == "ok"]).mark_line(color=NEUTRAL, strokeWidth=2).encode(
        x=x_enc, y=alt.Y(f"mean({y}):Q"),
        tooltip=["setting:N", alt.Tooltip(f"mean({y}):Q", format=tip_format, title="mean over repeats")])
    return finish(points + mean, title or f"{y_title} against {words(x)}", look_for)


def split_means(long: pd.DataFrame, x: str, title: str, look_for: str = "", y_title: str = "final error rate",
                y_format: str = "%", log_y: bool = False) -> alt.Chart:
    """Error per split (``split``, ``error`` columns) against ``x`` on a log axis: a point per
    trial, the mean over repeats with a ±1 std band; the gap between the splits is the overfitting.
    With ``y_title`` and ``y_format`` the column holds another final quantity (a cost: the band then
    stays above 0, not below 1)."""
    long = long.assign(split=long["split"].map(SPLIT_LABELS).fillna(long["split"]))
    ok = long[long["status"] == "ok"]
    stats = ok.groupby([x, "split"])["error"].agg(["mean", "std"]).reset_index()
    stats["std"] = stats["std"].fillna(0.0)
    rate = y_format == "%"
    stats["low"], stats["high"] = band_limits(stats["mean"], stats["std"], "error" if rate else "cost", log_y)
    x_enc = log_axis(x, long[x])
    present = [label for label in SPLIT_LABELS.values() if label in set(long["split"])]
    colour = alt.Color("split:N", title="split", legend=legend(present), scale=alt.Scale(
        domain=present, range=[SPLIT_COLOURS.range[SPLIT_COLOURS.domain.index(label)] for label in present]))
    pick = _legend_pick("split")
    y_scale = alt.Scale(type="log") if log_y else alt.Undefined
    y_enc = alt.Y("error:Q", axis=alt.Axis(format=y_format), title=y_title, scale=y_scale)
    points = alt.Chart(long).mark_point(size=40, filled=True).encode(
        x=x_enc, y=y_enc, color=colour,
        shape=status_encoding(alt.Shape, long, SHAPES, shape_legend),
        opacity=alt.condition(pick, alt.value(0.7), alt.value(0.1)),
        tooltip=[f"{x}:Q", "split:N", "repeat:Q", "status:N",
                 alt.Tooltip("error:Q", format=".2%" if rate else ".4g", title=y_title)]).add_params(pick)
    band = alt.Chart(stats).mark_area(opacity=0.15).encode(x=x_enc, y=alt.Y("low:Q", scale=y_scale), y2="high:Q",
                                                           color=colour)
    means = alt.Chart(stats).mark_line(strokeWidth=2.5).encode(
        x=x_enc, y=alt.Y("mean:Q", title=y_title, scale=y_scale), color=colour,
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.1)),
        tooltip=[f"{x}:Q", "split:N", alt.Tooltip("mean:Q", format=".2%" if rate else ".4g", title="mean")])
    return finish(alt.layer(band, means, points), title, look_for)


RUN_DASH = [[1, 0], [7, 4]]  # this run solid, the pinned one dashed


def compare_lines(frame: pd.DataFrame, x: str, y: str, colour: str, runs: list[str], title: str, look_for: str,
                  log_x: bool = False, y_title: str | None = None, y_format: str = "%",
                  colour_order: list | None = None, colour_title: str | None = None,
                  ordered_values: bool = True) -> alt.Chart:
    """Two runs on the same axes: one line per (``colour`` value, run), the pinned run dashed and
    named in the legend. ``frame`` has a ``run`` column holding one of ``runs``; ``colour_order``
    lists the colour field's values (low to high, or ``ordered_values=False``: unordered)."""
    colour_order = colour_order or list(dict.fromkeys(frame[colour]))
    axis = alt.Axis(tickMinStep=1, format="d") if x in COUNTS else alt.Axis(format="~g")
    x_enc = alt.X(f"{x}:Q", title=words(x), axis=axis,
                  scale=alt.Scale(type="log", nice=False, padding=10) if log_x else alt.Scale(nice=False, padding=10))
    chart = alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=12)).encode(
        x=x_enc, y=alt.Y(f"{y}:Q", title=y_title or words(y), axis=alt.Axis(format=y_format)),
        color=alt.Color(f"{colour}:N", title=colour_title or words(colour), sort=colour_order,
                        scale=ordered(colour_order) if ordered_values and colour != "run" else categorical(colour_order),
                        legend=line_legend(runs, orient="top", columns=1) if colour == "run"
                        else line_legend(colour_order)),
        strokeDash=alt.StrokeDash("run:N", title="run", scale=alt.Scale(domain=runs, range=RUN_DASH),
                                  legend=line_legend(runs, orient="top", columns=1) if colour == "run"
                                  else dash_legend(runs, columns=1)),
        detail="run:N",
        tooltip=["run:N", f"{colour}:N", f"{x}:Q", alt.Tooltip(f"{y}:Q", format=".4f")])
    return finish(chart, title, look_for)


def compare_per_setting(runs: list[tuple[str, StudyResult]], setting: str, metric: str, title: str, look_for: str,
                        y_title: str) -> list[alt.Chart]:
    """Two runs' mean ``metric`` per ``setting`` over the trials that finished ok, the settings in the
    order the run tried them (its summary's), the pinned run dashed."""
    frames = []
    for label, result in runs:
        ok = result.summary[result.summary["status"] == "ok"]
        means = ok.groupby(setting, sort=False)[metric].mean().reset_index()
        frames.append(means.assign(run=label, index=range(len(means))))
    frame = pd.concat(frames, ignore_index=True)
    return [compare_lines(frame, "index", metric, "run", [label for label, _ in runs], title, look_for,
                          y_title=y_title)]


def compare_sweep(runs: list[tuple[str, StudyResult]], swept: str, split: str = "val",
                  look_for: str = "Look for: where the dashed (pinned) curves part from the solid ones: "
                                  "that is what the changed parameters did.") -> list[alt.Chart]:
    """Mean learning curves of two runs of one sweep on the same axes."""
    frames = []
    for label, result in runs:
        tidy = result.tidy
        rows = tidy[(tidy["split"] == split) & tidy["error"].notna()]
        frames.append(rows.groupby(["setting", swept, "epoch"])["error"].mean().reset_index().assign(run=label))
    frame = pd.concat(frames, ignore_index=True)
    order = list(dict.fromkeys(frame.sort_values(swept)["setting"]))
    return [compare_lines(frame, "epoch", "error", "setting", [label for label, _ in runs],
                          f"{SPLIT_LABELS[split]} error per epoch, both runs", look_for,
                          y_title=f"{SPLIT_LABELS[split]} error rate", colour_order=order, colour_title=words(swept))]
