"""Chart specifications: every row kept, legends and titles never cut, one colour per split across
the app, log axes that tick at the tried extremes, a line of the lecture under every chart."""
import base64
import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from studies import STUDIES
from studies.common import charts
from studies.common.launch import run_study

@pytest.fixture(scope="module")
def specs():
    """Every study's chart specifications, as drawn by the page, with means and with repeats."""
    found = {}
    for name, study in STUDIES.items():
        result = run_study(study, study.SCHEMA.parse(study.QUICK), n_jobs=1)
        found[name] = [charts.vega_lite(c) for flag in (False, True) for c in study.charts_for(result, repeats=flag)]
    return found


def walk(node, key):
    """Every value stored under ``key`` anywhere in a nested spec."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from walk(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, key)


@pytest.mark.slow
def test_every_legend_lists_every_value_and_nothing_is_cut(specs):
    for name, study_specs in specs.items():
        for spec in study_specs:
            for legend in walk(spec, "legend"):
                if legend is not None:
                    assert legend.get("symbolLimit") == 0 and legend.get("labelLimit") == 0, (name, legend)
            assert spec["title"]["limit"] == 0, name
            assert spec["width"] == "container" and spec["height"] >= 200, name
            assert len(spec["description"]) > 30 and spec["description"].startswith("Look for"), name


def luminance(hex_colour: str) -> float:
    """WCAG 2.1 relative luminance, written out here as the standard gives it."""
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted([luminance(a), luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def colour_scales(spec):
    """(value -> colour) of every colour or fill encoding over categories in a spec."""
    for channel in ("color", "fill"):
        for enc in walk(spec, channel):
            if isinstance(enc, dict) and enc.get("type") == "nominal":
                yield enc


def test_split_colours_are_the_same_in_every_study(specs):
    split = dict(zip(charts.SPLIT_COLOURS.domain, charts.SPLIT_COLOURS.range))
    scales = [enc["scale"] for study_specs in specs.values() for spec in study_specs
              for enc in colour_scales(spec) if enc.get("field") == "split"]
    assert scales, "some chart colours by split"
    for scale in scales:
        assert all(split[value] == colour for value, colour in zip(scale["domain"], scale["range"])), scale


def test_every_category_has_one_colour_on_its_page_readable_on_both_themes(specs):
    """Issue 19: viridis for unordered settings, one optimiser in two colours on a page, lr 0.01 in
    near-black on the dark theme. Every categorical colour scale is explicit (Streamlit's theme
    otherwise swaps in its own pale palette), a value keeps its colour in every chart of its page,
    and every series colour and fixed mark colour has 3:1 contrast with both themes' backgrounds."""
    fixed = {"white", "black"}  # text on heatmap cells, chosen by the cell's shade (tested in test_pr_roc)
    for name, study_specs in specs.items():
        page = {}
        for spec in study_specs:
            for enc in colour_scales(spec):
                scale = enc.get("scale", {})
                assert "range" in scale and "scheme" not in scale, (name, enc)
                for value, colour in zip(scale["domain"], scale["range"]):
                    assert page.setdefault(value, colour) == colour, (name, value, colour, page[value])
            marks = [m.get("color") for m in walk(spec, "mark") if isinstance(m, dict)]
            values = [v.get("value") for v in walk(spec, "color") if isinstance(v, dict) and "value" in v]
            for colour in [*page.values(), *(c for c in marks + values if c and c not in fixed)]:
                for theme, background in charts.BACKGROUNDS.items():
                    assert contrast(colour, background) >= 3, (name, colour, theme)


def test_the_ramp_keeps_its_order_and_contrast_however_many_values():
    for n in (1, 2, 5, 12):
        colours = charts.ramp(n)
        assert len(set(colours)) == n and colours[0] == charts.RAMP[0]
        assert all(contrast(c, bg) >= 3 for c in colours for bg in charts.BACKGROUNDS.values()), colours


def test_one_entry_status_legends_are_left_out_and_dash_legends_draw_dashes(specs):
    """Every trial here finished ok: no chart carries a "trial status" legend (one entry, "ok", said
    nothing); every legend of a dash draws strokes, not dots."""
    for name, study_specs in specs.items():
        for spec in study_specs:
            for channel in ("color", "shape", "strokeDash"):
                for enc in walk(spec, channel):
                    if isinstance(enc, dict) and enc.get("field") == "status":
                        assert enc.get("legend", "absent") is None, (name, channel)
            for enc in walk(spec, "strokeDash"):
                if isinstance(enc, dict) and enc.get("legend"):
                    assert enc["legend"]["symbolType"] == "stroke", (name, enc)


def test_log_axes_tick_at_the_tried_extremes(specs):
    tried = {"learning_rate": [0.01, 10.0], "batch_size": [8.0, 1077.0], "hidden_units": [2.0, 300.0]}
    for name, (low, high) in tried.items():
        log_axes = [x for spec in specs[name] for x in walk(spec, "x")
                    if isinstance(x, dict) and x.get("scale", {}).get("type") == "log" and "values" in x.get("axis", {})]
        assert log_axes, name
        for x in log_axes:
            assert low in x["axis"]["values"] and high in x["axis"]["values"], (name, x["axis"]["values"])
            assert x["scale"]["padding"] > 0                        # no mark cut at the edge


def test_batch_gd_reads_full_with_its_size():
    study = STUDIES["batch_size"]
    result = run_study(study, study.SCHEMA.parse(study.QUICK), n_jobs=1)
    assert "full (1,077)" in set(result.summary["setting"]) and "full (1,077)" in set(result.tidy["setting"])
    spec = str([charts.vega_lite(c) for c in study.charts_for(result)])
    assert "full (1,077)" in spec


def long_sweep(trials=30, epochs=250):
    """A tidy table with more rows than Altair's default transformer accepts (5000)."""
    trial, epoch = np.divmod(np.arange(trials * epochs), epochs)
    rates = 10.0 ** -(trial % 5)
    return pd.DataFrame({"trial": trial, "epoch": epoch + 1, "repeat": trial // 5, "status": "ok", "split": "val",
                         "learning_rate": rates, "setting": [f"{r:g}" for r in rates], "error": 1 / (epoch + 1.0),
                         "cost": np.nan})


def test_curves_of_a_long_sweep_keep_every_row():
    tidy = long_sweep()
    spec = charts.vega_lite(charts.curves(tidy, "learning_rate", repeats=True))
    (rows,) = spec["datasets"].values()
    assert len(rows) == len(tidy) > 5000


def test_mean_band_is_the_mean_and_std_over_repeats():
    tidy = long_sweep(trials=10, epochs=3)
    tidy["error"] = tidy["error"] + tidy["repeat"] * 0.1                 # repeat 0 and 1 differ by 0.1
    spec = charts.vega_lite(charts.curves(tidy, "learning_rate"))
    (rows,) = spec["datasets"].values()
    row = next(r for r in rows if r["setting"] == "1" and r["epoch"] == 1)
    assert row["mean"] == pytest.approx(1.0 + 0.05) and row["std"] == pytest.approx(np.std([1.0, 1.1], ddof=1))
    assert row["low"] == pytest.approx(row["mean"] - row["std"]) and row["count"] == 2


def test_every_layer_keeps_its_own_data():
    summary = pd.DataFrame({"learning_rate": [0.1, 0.1, 1.0], "final_val_error": [0.2, 0.3, 0.9],
                            "setting": ["0.1", "0.1", "1"], "repeat": [0, 1, 0], "trial": [0, 1, 2],
                            "status": ["ok", "ok", "diverged"], "message": ["", "", "cost is not finite"]})
    spec = charts.vega_lite(charts.final_against(summary, "learning_rate"))
    sizes = sorted(len(rows) for rows in spec["datasets"].values())
    assert sizes == [2, 3]                   # the mean line over ok trials, the points of all three


def test_a_lattice_becomes_one_picture_with_each_sample_at_the_centre_of_its_cell():
    """Decoded back, the PNG holds every sample's colour where the axes put it: the top row is the
    highest y, each cell PIXELS_PER_CELL pixels wide, and the picture reaches half a cell beyond the
    outermost samples."""
    rng = np.random.default_rng(3)
    xs, ys = np.arange(6) * 0.5, np.arange(4) * 0.25
    X, Y = np.meshgrid(xs, ys)
    cells = pd.DataFrame({"x": X.ravel(), "y": Y.ravel(), "class": rng.integers(0, 3, X.size)})
    colours = ["#ff0000", "#00ff00", "#0000ff"]
    picture = charts.raster(cells, "class", lambda v: charts.palette_colours(v, [0, 1, 2], colours, 0.4))
    assert (picture["x"], picture["x2"], picture["y"], picture["y2"]) == pytest.approx((-0.25, 2.75, -0.125, 0.875))
    assert picture["url"].startswith("data:image/png;base64,")
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(picture["url"].split(",", 1)[1]))).convert("RGBA"))
    k = charts.PIXELS_PER_CELL
    assert pixels.shape == (4 * k, 6 * k, 4)
    for cell in cells.itertuples():
        row, column = int(round((0.75 - cell.y) / 0.25)), int(round(cell.x / 0.5))
        block = pixels[row * k:(row + 1) * k, column * k:(column + 1) * k]
        expected = [int(colours[cell._3][i:i + 2], 16) for i in (1, 3, 5)] + [102]
        assert (block == expected).all()


def test_a_colour_ramp_runs_from_its_first_to_its_last_colour():
    levels = np.array([[0.0, 0.5], [1.0, 2.0]])
    rgba = charts.ramp_colours(levels, ["#000000", "#ffffff"], 1.0)
    assert rgba[..., 0].tolist() == [[0, 64], [128, 255]] and (rgba[..., 3] == 255).all()


def test_mean_curves_leave_out_cancelled_trials_unless_a_setting_has_nothing_else():
    """A stopped run: a cancelled repeat's few epochs must not bend its setting's mean curve (they
    showed as a jump where the cancelled trial ended); a setting whose every trial was cancelled
    still draws what it has."""
    study = STUDIES["learning_rate"]
    values = study.SCHEMA.parse({"learning_rates": "0.1,1", "epochs": "3", "repeats": "2"})
    result = run_study(study, values, n_jobs=1)
    tidy = result.tidy.copy()
    cancelled = tidy["trial"].isin([1, 2])        # α 1's first repeat, α 0.1's second
    tidy.loc[cancelled, "status"] = "cancelled"
    tidy.loc[cancelled & (tidy["split"] == "val"), "error"] = 0.99
    spec = charts.vega_lite(charts.curves(tidy, "learning_rate", split="val"))
    means = pd.DataFrame(spec["datasets"][spec["data"]["name"]])
    ok = tidy[(tidy["split"] == "val") & ~cancelled]
    for (setting, epoch), group in ok.groupby(["setting", "epoch"]):
        row = means[(means["setting"] == setting) & (means["epoch"] == epoch)]
        assert float(row["mean"].iloc[0]) == pytest.approx(group["error"].mean()) and int(row["count"].iloc[0]) == 1
    only_cancelled = tidy.assign(status="cancelled")
    spec = charts.vega_lite(charts.curves(only_cancelled, "learning_rate", split="val"))
    drawn = pd.DataFrame(spec["datasets"][spec["data"]["name"]])
    assert len(drawn) == only_cancelled[only_cancelled["split"] == "val"].groupby(["setting", "epoch"]).ngroups


def test_the_universal_mse_curves_are_titled_as_mse_on_a_log_axis_that_shows_every_fit(specs):
    """The curve of a regression's training MSE is an MSE, not an error rate, and on a log axis: the first
    epoch's spike would otherwise flatten every curve (seen: 'training error rate' from -2000 % to 18000 %)."""
    curve = next(s for s in specs["universal"] if s["title"]["text"] == "Training MSE per epoch")
    titles = [t for t in walk(curve, "title") if isinstance(t, str)]
    assert "training MSE (log)" in titles and not any("error rate" in t for t in titles)
    assert {"type": "log"} in list(walk(curve, "scale"))
    assert not any(axis.get("format") == "%" for axis in walk(curve, "axis") if isinstance(axis, dict))


def test_bands_never_leave_the_quantitys_range():
    """mean ± std of an error rate stays in [0, 1], of a cost above 0, on a log axis above the lowest mean:
    a planted spread larger than the mean (the schedules' cost band reached -0.5)."""
    tidy = pd.DataFrame({"trial": [0, 1, 0, 1], "epoch": [1, 1, 2, 2], "split": "val", "status": "ok",
                         "cost": [0.02, 2.0, 0.01, 1.5], "error": [0.01, 0.99, 0.02, 0.97],
                         "learning_rate": 0.1, "setting": "0.1", "repeat": [0, 1, 0, 1]})
    for y, log_y in (("error", False), ("cost", False), ("cost", True)):
        spec = charts.vega_lite(charts.curves(tidy, "learning_rate", y=y, log_y=log_y))
        rows = [row for data in spec["datasets"].values() for row in data if "low" in row]
        assert rows and all(row["low"] >= (min(r["mean"] for r in rows) if log_y else 0) for row in rows)
        assert all(row["high"] <= 1 for row in rows) or y == "cost"
        assert any(row["mean"] - row["std"] < 0 for row in rows), "the planted spread must cross 0"
