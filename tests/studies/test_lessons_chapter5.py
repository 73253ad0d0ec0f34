"""The lessons of chapters 4.3.1, 4.6 and 5 as tests, each from its study's default run on the embedded
or generated data: initialisation, optimisers, regularisation, decision boundaries."""
import base64
import io

import numpy as np
import pytest
from PIL import Image

from core.mlp import MLP

from studies import decision_boundary, init, optimisers, regularisation
from studies.common import charts
from studies.common.launch import run_study
from studies.common.params import TRAINING
from studies.trials import decision_boundary as trial_code

pytestmark = pytest.mark.slow  # real processes, servers or browsers, or studies run to their lessons


@pytest.fixture(scope="module")
def init_result():
    return run_study(init, init.SCHEMA.parse({"sigmas": "0,0.05"}), n_jobs=2)


def test_sigma_zero_stays_near_chance_while_a_moderate_sigma_learns(init_result):
    """Fig. 121: all hidden units identical for sigma 0."""
    final = init_result.summary.groupby("init_sigma")["final_val_error"].mean()
    assert final[0.0] > 0.5 and final[0.05] < 0.1


def test_sigma_zero_gives_every_hidden_unit_the_same_gradient():
    """Fig. 121/122's argument written out: from sigma 0 every hidden unit has the same weights, so the
    same activation and the same error signal, so the same gradient (float64: equal to rounding)."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 8)), rng.integers(0, 3, size=40)
    net = MLP([8, 12, 3], init_sigma=0.0, dtype=np.float64)
    dW, db = net.gradients(X, net.targets(y))[0]
    assert np.abs(dW).max() > 0 or np.abs(net.gradients(X, net.targets(y))[1][0]).max() > 0
    np.testing.assert_allclose(dW, dW[:, :1].repeat(12, axis=1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, np.full(12, db[0]), rtol=1e-12, atol=1e-15)


def test_sigma_zero_leaves_few_distinct_units_and_the_page_reports_the_count_it_has():
    """Fig. 122 over 50 epochs: sigma 0 leaves at most a few groups of equal units (one on a BLAS that
    rounds every column of a product alike; the column blocks of another's kernels round differently
    and drift apart), sigma 0.05 30 distinct units; the takeaway and the distinct-units chart report the
    count the network really has, and call the units identical only when there is one."""
    result = run_study(init, init.SCHEMA.parse({"sigmas": "0,0.05", "epochs": "50", "repeats": "1"}), n_jobs=2)
    distinct = result.summary.set_index("init_sigma")["distinct_units"]
    assert distinct[0.0] <= 10 and distinct[0.05] == 30
    line = init.takeaway(result)[1]
    assert f"σ = 0: {distinct[0.0]}, σ = 0.05: 30." in line
    assert ("With σ = 0 every hidden unit stayed identical" in line) == (distinct[0.0] == 1)
    units = init.charts_for(result)[1].to_dict()
    (rows,) = [rows for rows in units["datasets"].values() if rows and "distinct" in rows[0]]
    assert {r["sigma"]: r["distinct"] for r in rows} == {"σ = 0": distinct[0.0], "σ = 0.05": 30}


FIG_131 = {  # (scheme, activation) -> the table's normal standard deviation; uniform: sqrt(3) times that
    ("xavier", "sigmoid"): lambda n_in, n_out: 4 * np.sqrt(2 / (n_in + n_out)),
    ("xavier", "tanh"): lambda n_in, n_out: np.sqrt(2 / (n_in + n_out)),
    ("he", "relu"): lambda n_in, n_out: np.sqrt(2) * np.sqrt(2 / (n_in + n_out)),
}


@pytest.mark.parametrize("scheme, activation", sorted(FIG_131))
@pytest.mark.parametrize("dist", ["normal", "uniform"])
def test_initial_weights_have_the_spread_of_fig_131(scheme, activation, dist):
    """Every layer of a 400-300-200-10 network: the normal schemes' standard deviation and the uniform
    schemes' half-width r (U(-r, r), so std r / sqrt(3)) as the lecture's table writes them."""
    net = MLP([400, 300, 200, 10], activation=activation, init=f"{scheme}_{dist}", dtype=np.float64, seed=3)
    for W in net.weights:
        sigma = FIG_131[(scheme, activation)](*W.shape)
        assert W.std() == pytest.approx(sigma, rel=0.03)
        if dist == "uniform":
            assert sigma * np.sqrt(3) * 0.99 < np.abs(W).max() <= sigma * np.sqrt(3)


def test_he_ignores_the_activation_and_xavier_uses_the_tanh_row_for_relu():
    """Fig. 131 has no Xavier row for ReLU; the code uses tanh's (no factor 4), and He's is the same for all."""
    xavier = MLP([400, 300], activation="relu", init="xavier_normal", dtype=np.float64).weights[0]
    assert xavier.std() == pytest.approx(np.sqrt(2 / 700), rel=0.03)
    he = [MLP([400, 300], activation=a, init="he_normal", dtype=np.float64).weights[0] for a in ("sigmoid", "relu")]
    assert np.array_equal(he[0], he[1])


def test_the_init_takeaway_reports_the_probe_spreads_it_measured(init_result):
    spreads = init.probe_spreads(init_result.tables["layers"])["gradient_spread"]
    line = init.takeaway(init_result)[1]
    worst = spreads.idxmax()
    assert f"worst {worst[0]} with {worst[1]} ×{spreads[worst]:.3g}" in line
    for scheme, activation in init.MATCHED:
        assert f"{scheme} with {activation} ×{spreads[(scheme, activation)]:.3g}" in line


def spread(layers, scheme, activation, field="activation_std"):
    values = layers[(layers["scheme"] == scheme) & (layers["activation"] == activation)][field]
    assert len(values) == 5
    return values.max() / values.min()


def test_xavier_and_he_keep_activations_of_one_size_across_five_layers(init_result):
    """Fig. 128/130: within a factor 2 from the first to the fifth layer, where N(0, 1) is not."""
    layers = init_result.tables["layers"]
    assert spread(layers, "He", "relu") < 2 and spread(layers, "Xavier", "tanh") < 2
    assert spread(layers, "N(0, 1)", "relu") > 100                     # explodes layer after layer
    assert spread(layers, "N(0, 1)", "tanh", "gradient_std") > 2       # saturated units: uneven gradients


def saturated_mass(distributions, scheme: str) -> float:
    """Share of the last hidden layer's sigmoid activations within 0.05 of 0 or 1, read off the density."""
    rows = distributions[(distributions["scheme"] == scheme) & (distributions["activation"] == "sigmoid")
                         & (distributions["kind"] == "activations")]
    top = rows[rows["layer"] == rows["layer"].max()]
    width = top["x"].diff().median()
    return float((top["density"] * width)[(top["x"] < 0.05) | (top["x"] > 0.95)].sum())


def test_n01_weights_saturate_sigmoid_units_and_xavier_keeps_them_in_range(init_result):
    """Fig. 126/127: from N(0, 1) weights most of the deepest layer's sigmoid activations sit at 0 or
    1 (over half), at least twice the share Xavier leaves there."""
    distributions = init_result.tables["distributions"]
    assert saturated_mass(distributions, "N(0, 1)") > 0.5
    assert saturated_mass(distributions, "N(0, 1)") > 2 * saturated_mass(distributions, "Xavier")


def test_fig_125_from_the_2010_weights_the_top_layer_sinks_to_0_and_the_network_stays_at_chance(init_result):
    """Fig. 125 with Eq. 11's U(-1/sqrt(n), 1/sqrt(n)) weights (5.1.4: the 2010 state of the art): the
    top hidden layer's mean activation starts near 0.5 and falls below 0.2 within the 10 epochs while
    the validation error stays near chance (85 % or more on ten classes); from Xavier weights the same
    network learns (under 20 %)."""
    dynamics = init_result.tables["dynamics"]
    assert set(dynamics["epoch"]) == set(range(init_result.params["epochs"] + 1)) and init_result.params["epochs"] == 10
    top = dynamics[dynamics["layer"] == dynamics["layer"].max()].set_index(["scheme", "epoch"])
    classic = top.loc["U(±1/√n), 2010"]
    assert 0.4 < classic.loc[0, "mean"] < 0.6 and classic.loc[10, "mean"] < 0.2
    assert (classic["error"] >= 0.85).all() and top.loc["Xavier"].loc[10, "error"] < 0.2


def test_each_optimiser_is_drawn_at_its_best_rate_and_adaptive_ones_win_on_the_bowl():
    result = run_study(optimisers, optimisers.SCHEMA.parse({"optimisers": "gd,adam,rmsprop", "rates": "0.01,0.5",
                                                            "epochs": "3"}), n_jobs=2)
    best = result.tables["best"]
    assert best.groupby("optimiser")["best"].sum().to_dict() == {"adam": 1, "gd": 1, "rmsprop": 1}
    for name, rows in best.groupby("optimiser"):
        assert rows.loc[rows["best"], "final_val_error"].item() == rows["final_val_error"].min()
    paths = result.tables["paths"]
    final = paths[(paths["surface"] == "elongated bowl") & (paths["step"] == 100)].set_index("optimiser")["cost"]
    assert final["adam"] < final["gd"] and final["rmsprop"] < final["gd"]


@pytest.fixture(scope="module")
def regularised():
    return run_study(regularisation, regularisation.SCHEMA.defaults(), n_jobs=2)


def method_means(result):
    ok = result.summary[result.summary["status"] == "ok"]
    return ok.groupby("method")[["final_test_error", "final_train_error", "cost_rise", "weight_norm",
                                 "zero_share"]].mean()


def test_every_default_regulariser_is_at_or_below_the_unregularised_test_error_without_underfitting(regularised):
    """Fig. 138-145 on the embedded data: each method is at or below 'none' on the test split, and none
    of them pays for it with a training error more than 2 points above the unregularised one."""
    means = method_means(regularised)
    assert set(means.index) == {"none", "L2 λ=0.001", "L1 λ=3e-05", "dropout 0.2", "dropout 0.5", "early stopping"}
    none = means.loc["none"]
    for method, row in means.drop(index="none").iterrows():
        assert row.final_test_error <= none.final_test_error, method
        assert row.final_train_error <= none.final_train_error + 0.02, method


def test_the_penalties_keep_the_validation_cost_from_turning_up(regularised):
    """Fig. 138/139: without regularisation the validation cost ends well above its minimum; L2 and L1
    keep it within a third of that rise, and L2 halves the sum of squared weights (Fig. 140)."""
    means = method_means(regularised)
    assert means.loc["none", "cost_rise"] > 0.1
    for method in ("L2 λ=0.001", "L1 λ=3e-05"):
        assert means.loc[method, "cost_rise"] < means.loc["none", "cost_rise"] / 3, method
    assert means.loc["L2 λ=0.001", "weight_norm"] < 0.5 * means.loc["none", "weight_norm"]


def test_l1_leaves_many_weights_near_zero_but_not_at_exactly_zero(regularised):
    """Fig. 142; the help text says 'near zero': gradient steps do not land on exactly 0."""
    s = regularised.summary.groupby("method")[["zero_share", "exact_zero_share"]]
    assert s.min().loc["L1 λ=3e-05", "zero_share"] > 10 * s.max().loc["none", "zero_share"]
    assert s.max().loc["L1 λ=3e-05", "exact_zero_share"] < 0.01
    (l1,) = [p for p in TRAINING if p.name == "l1"]
    assert "near zero" in l1.help and "exactly zero" not in l1.help


def test_too_strong_penalties_are_named_as_underfitting_not_praised():
    result = run_study(regularisation, regularisation.SCHEMA.parse(
        {"l2_penalty": "0.01", "l1_penalty": "0.001", "dropout_rates": "", "repeats": "1"}), n_jobs=2)
    means = method_means(result)
    first, second = regularisation.takeaway(result)
    for method in ("L2 λ=0.01", "L1 λ=0.001"):
        assert means.loc[method, "final_test_error"] > means.loc["none", "final_test_error"]
        assert f"{method} {means.loc[method, 'final_test_error']:.1%}" in first.split("Above it:")[1]
        assert f"{method} underfits" in second


def test_weight_histograms_cover_every_weight(regularised):
    """Fig. 140 compares the ranges: no weight may fall outside the drawn bins."""
    hist = regularised.tables["histograms"]
    sizes = {"layer 1": 64 * 250, "layer 2": 250 * 150, "layer 3": 150 * 10}
    for (method, layer), rows in hist.groupby(["method", "layer"]):
        assert rows["count"].sum() == sizes[layer], (method, layer)
    reach = hist.groupby("method")["bin_right"].max()
    assert reach["L2 λ=0.001"] < reach["none"]


def test_early_stopping_reports_every_repeat(regularised):
    early = regularised.summary[regularised.summary["method"] == "early stopping"]
    assert len(early) == 2
    for _, row in early.iterrows():
        none = regularised.tidy[(regularised.tidy["trial"] == row["trial"]) & (regularised.tidy["split"] == "val")]
        assert row["best_epoch"] == none.set_index("epoch")["error"].idxmin()
    line = regularisation.takeaway(regularised)[1]
    epochs = ", ".join(str(int(e)) for e in early.sort_values("repeat")["best_epoch"])
    assert f"epochs {epochs} (one per repeat)" in line
    assert f"test error {early['final_test_error'].mean():.1%}" in line


def test_xor_needs_a_hidden_layer():
    """4.3.1: no straight line separates XOR; eight hidden units do. Every setting keeps its regions at
    the snapshot epochs (its animation's frames) on the full lattice."""
    result = run_study(decision_boundary, decision_boundary.SCHEMA.parse({"hidden_units": "0,8"}), n_jobs=2)
    errors = result.summary.groupby("setting")["final_test_error"].mean()
    assert 0.35 < errors["no hidden layer"] < 0.65 and errors["8 hidden units"] < 0.05
    regions = result.tables["regions"]
    assert set(regions["setting"]) == {"no hidden layer", "8 hidden units"}
    for _, frames in regions.groupby("setting"):
        assert sorted(frames["epoch"].unique()) == sorted(trial_code.snapshot_epochs(60))
        assert len(np.unique(frames["x"])) == trial_code.GRID


def frames_of(spec: dict) -> list[np.ndarray]:
    (url,) = [row["url"] for rows in spec["datasets"].values() for row in rows if "url" in row]
    image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    frames = []
    for index in range(image.n_frames):
        image.seek(index)
        frames.append(np.asarray(image.convert("RGBA")))
    return frames


def test_each_setting_plays_its_boundary_over_the_epochs_shaded_by_how_sure_the_network_is():
    """The animated picture of every setting has one frame per kept epoch; in the last, the cell under
    each lattice point has the colour of the class the trained network predicts there (decoded back
    from the PNG), and cells the network is sure of are more opaque than cells near the boundary."""
    result = run_study(decision_boundary, decision_boundary.SCHEMA.parse({"hidden_units": "0,8"}), n_jobs=2)
    regions = result.tables["regions"]
    palette = [[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in decision_boundary.PALETTE[:2]]
    for setting, spec in zip(["no hidden layer", "8 hidden units"], map(charts.vega_lite,
                                                                          decision_boundary.charts_for(result))):
        frames = frames_of(spec)
        cells = regions[(regions["setting"] == setting)]
        assert len(frames) == cells["epoch"].nunique()
        last = cells[cells["epoch"] == cells["epoch"].max()]
        predicted, _ = charts.lattice(last, "class")
        sure, _ = charts.lattice(last, "p")
        side = charts.ANIMATION_SIDE
        centres = ((np.arange(trial_code.GRID) + 0.5) * side / trial_code.GRID).astype(int)
        pixels = frames[-1][np.ix_(centres, centres)].astype(int)
        confident = (sure > 0.9) & (np.arange(trial_code.GRID)[:, None] > 10)  # below the epoch caption
        for cls in (0, 1):
            chosen = confident & (predicted == cls)
            if chosen.any():
                colours = pixels[chosen][:, :3]
                assert np.abs(colours - palette[cls]).max() <= 40, setting
        if (sure < 0.6).any() and confident.any():
            assert pixels[sure < 0.6][:, 3].mean() < pixels[confident][:, 3].mean()
