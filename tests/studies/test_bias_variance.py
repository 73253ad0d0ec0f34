import numpy as np
import pytest
from numpy.polynomial import legendre

from cli import run_cli_study
from studies import bias_variance
from studies.common.charts import title_text
from studies.common.launch import run_study
from studies.trials import bias_variance as trial_code


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    tidy, summary, _ = run_cli_study(tmp_path_factory.mktemp("bv"), "bias_variance", "max_degree=25", "datasets=300",
                                 "samples=30", "noise=0.1")
    return tidy, summary


@pytest.mark.slow
def test_measured_test_mse_is_bias2_plus_variance_plus_noise(table):
    tidy, _ = table
    gap = (tidy["test_mse"] - (tidy["bias2"] + tidy["variance"] + tidy["noise"])).abs()
    assert (gap < 3 * tidy["test_mse_se"]).all()
    assert np.allclose(tidy["noise"], 0.01)


def test_bias_falls_and_variance_rises_with_degree(table):
    tidy, summary = table
    bias = tidy.set_index("degree")["bias2"]
    variance = tidy.set_index("degree")["variance"]
    assert bias[1] > 10 * bias[3] > 10 * bias[5] * 10
    assert variance.is_monotonic_increasing
    assert variance[25] > 5 * variance[1]
    assert 3 <= summary["best_degree"].item() <= 10                    # the trade-off sits in the middle
    train = tidy.set_index("degree")["train_mse"]
    assert train.is_monotonic_decreasing and train[25] < tidy["test_mse"].min()
    assert np.isfinite(tidy["variance"]).all() and variance[25] < 0.1   # degree 25 does not blow up


def test_variance_matches_the_least_squares_formula():
    """Independent oracle: for fixed inputs, Var[h(x_g)] = sigma^2 * ||row g of G V^+||^2."""
    m, degree, sigma = 30, 8, 0.1
    x = trial_code.inputs("chebyshev", m, 1, np.random.default_rng(0))[0]
    grid = np.linspace(0, 1, trial_code.GRID)
    P = legendre.legvander(2 * grid - 1, degree) @ np.linalg.pinv(legendre.legvander(2 * x - 1, degree))
    exact = sigma ** 2 * np.mean(np.sum(P ** 2, axis=1))
    trial = type("T", (), {"params": {"degree": degree, "samples": m, "noise": sigma, "datasets": 2000,
                                      "seed": 1, "design": "chebyshev"}})
    measured = trial_code.fit_degree(trial)["row"]["variance"]
    assert measured == pytest.approx(exact, rel=0.08)


def test_random_design_shows_the_blow_up_on_purpose():
    values = bias_variance.SCHEMA.parse({"design": "random", "max_degree": "20", "datasets": "50"})
    tidy = run_study(bias_variance, values, n_jobs=1).tidy.set_index("degree")
    assert tidy.loc[20, "variance"] > 100 * tidy.loc[5, "variance"]


def test_charts():
    result = run_study(bias_variance, bias_variance.SCHEMA.parse({"max_degree": "6", "datasets": "20",
                                                                   "show_degree": "4"}), n_jobs=1)
    specs = [c.to_dict() for c in bias_variance.charts_for(result)]
    assert len(specs) == 3 and "Fits of degree 4" in str(specs[0])


def test_the_test_error_turning_up_is_drawn_on_a_linear_axis_cut_where_it_says():
    """Fig. 75: on a log axis the upturn of the test MSE looked flat. The linear axis ends at CUT times
    the lowest test MSE when larger values would squash the curve, and the title gives that number."""
    result = run_study(bias_variance, bias_variance.SCHEMA.defaults(), n_jobs=1)
    spec = bias_variance.charts_for(result)[2].to_dict()
    scale = spec["encoding"]["y"]["scale"]
    assert scale.get("type", "linear") == "linear"
    lowest, highest = result.tidy["test_mse"].min(), result.tidy[["train_mse", "test_mse"]].max().max()
    if highest > bias_variance.CUT * lowest:
        assert scale["domain"] == [0, pytest.approx(bias_variance.CUT * lowest)]
        assert f"axis cut at {bias_variance.CUT * lowest:.3g}" in title_text(spec)
    else:
        assert "domain" not in scale and "cut" not in title_text(spec)
    runge = bias_variance.SCHEMA.parse(bias_variance.PRESETS["Runge's blow-up: equispaced inputs"])
    runge = run_study(bias_variance, runge, 1)
    assert "axis cut at" in title_text(bias_variance.charts_for(runge)[2].to_dict())
