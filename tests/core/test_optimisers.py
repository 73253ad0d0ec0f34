"""The optimisers of lecture 5.2: first updates against the lecture's formulas worked by hand, the
MLP's general training path against its plain fast path, and the elongated bowl of Fig. 134."""
import math

import numpy as np
import pytest

from core.data import prepare
from core.mlp import MLP, Training
from core.optimisers import OPTIMISERS, Hyper, minimise

ALPHA, BETA = 0.1, 0.9


def grad(theta):
    """J(theta) = theta^2 / 2, so the gradient is theta itself."""
    return theta


# theta_1..3 from theta_0 = 1 with alpha = 0.1, worked out by hand from the lecture's formulas
EPS = 1e-8
HAND = {
    "gd": [0.9, 0.81, 0.729],
    # m1 = 0.1; m2 = 0.09 + 0.09 = 0.18; m3 = 0.162 + 0.072 = 0.234
    "momentum": [0.9, 0.72, 0.486],
    # m1 = 0.1 * J'(1) = 0.1; m2 = 0.09 + 0.1 * J'(0.9 - 0.09) = 0.171; m3 = 0.1539 + 0.1 * J'(0.729 - 0.1539)
    "nesterov": [0.9, 0.729, 0.729 - (0.1539 + 0.1 * (0.729 - 0.1539))],
}
# AdaGrad: s1 = 1, s2 = 1 + 0.81, s3 = s2 + theta_2^2
t1 = 1 - 0.1 / math.sqrt(1 + EPS)
t2 = t1 - 0.1 * t1 / math.sqrt(1 + t1 ** 2 + EPS)
HAND["adagrad"] = [t1, t2, t2 - 0.1 * t2 / math.sqrt(1 + t1 ** 2 + t2 ** 2 + EPS)]
# RMSProp with decay 0.9: s1 = 0.1; s2 = 0.09 + 0.1 theta_1^2; s3 = 0.9 s2 + 0.1 theta_2^2
r1 = 1 - 0.1 / math.sqrt(0.1 + EPS)
s2 = 0.09 + 0.1 * r1 ** 2
r2 = r1 - 0.1 * r1 / math.sqrt(s2 + EPS)
HAND["rmsprop"] = [r1, r2, r2 - 0.1 * r2 / math.sqrt(0.9 * s2 + 0.1 * r2 ** 2 + EPS)]
# Adam: after bias correction the first step is alpha * g / |g| = 0.1 whatever g
a1 = 1 - 0.1 * 1 / (1 + EPS)
m2, v2 = 0.9 * 0.1 + 0.1 * a1, 0.999 * 0.001 + 0.001 * a1 ** 2
a2 = a1 - 0.1 * (m2 / (1 - 0.9 ** 2)) / (math.sqrt(v2 / (1 - 0.999 ** 2)) + EPS)
m3, v3 = 0.9 * m2 + 0.1 * a2, 0.999 * v2 + 0.001 * a2 ** 2
HAND["adam"] = [a1, a2, a2 - 0.1 * (m3 / (1 - 0.9 ** 3)) / (math.sqrt(v3 / (1 - 0.999 ** 3)) + EPS)]


@pytest.mark.parametrize("name", OPTIMISERS)
def test_first_three_updates_follow_the_lecture(name):
    path = minimise(name, np.array([1.0]), grad, 3, Hyper(ALPHA, BETA, eps=EPS))
    np.testing.assert_allclose(path[1:, 0], HAND[name], rtol=1e-12)


def elongated_bowl(theta):
    """J = (theta_1^2 + 100 theta_2^2) / 2: very flat along theta_1, steep along theta_2 (Fig. 134)."""
    return np.array([theta[0], 100 * theta[1]])


def bowl_cost(theta):
    return 0.5 * (theta[0] ** 2 + 100 * theta[1] ** 2)


def test_adam_and_rmsprop_beat_gd_on_the_elongated_bowl():
    """Each at its own best learning rate from one grid, 60 steps from the same start (GD cannot go
    above 2/100 without diverging along the steep axis)."""
    start, steps, grid = np.array([-8.0, 1.0]), 60, (0.003, 0.01, 0.019, 0.03, 0.1, 0.3, 1.0)
    with np.errstate(all="ignore"):
        final = {name: np.nanmin([bowl_cost(minimise(name, start, elongated_bowl, steps, Hyper(rate))[-1])
                                  for rate in grid]) for name in ("gd", "adam", "rmsprop")}
    assert final["adam"] < final["gd"] / 10 and final["rmsprop"] < final["gd"] / 2


@pytest.mark.parametrize("name", OPTIMISERS)
def test_every_optimiser_trains_the_mlp_and_gd_matches_the_plain_path(name):
    split = prepare("digits")
    net = MLP([64, 20, 10], seed=1, dtype=np.float64)
    rate = {"gd": 0.5, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.05, "rmsprop": 0.005, "adam": 0.005}[name]
    history = net.fit(split.X_train, split.y_train,
                      Training(epochs=4, learning_rate=rate, batch_size=32, optimiser=name, l1=1e-12 if name == "gd" else 0.0),
                      eval_sets={"val": (split.X_val, split.y_val)})
    assert history.status == "ok" and history.rows[-1]["error"] < 0.2
    if name == "gd":  # the general path (forced by a negligible L1) agrees with the fused plain one
        plain = MLP([64, 20, 10], seed=1, dtype=np.float64)
        plain.fit(split.X_train, split.y_train, Training(epochs=4, learning_rate=rate, batch_size=32))
        for W, P in zip(net.weights, plain.weights):
            np.testing.assert_allclose(W, P, rtol=1e-6, atol=1e-9)


def test_dropout_masks_follow_the_seed_and_keep_the_expected_share():
    net = MLP([10, 200, 3], seed=4)
    first = net.dropout_masks(50, 0.3, np.random.default_rng([4, 2]))
    again = net.dropout_masks(50, 0.3, np.random.default_rng([4, 2]))
    np.testing.assert_array_equal(first[0], again[0])
    assert np.mean(first[0] > 0) == pytest.approx(0.7, abs=0.02)
    assert set(np.unique(first[0])) == {0.0, np.float32(1 / 0.7)}


def test_the_saddle_caption_orders_the_optimisers_by_the_steps_their_paths_took_to_escape():
    """The caption is a claim about this run's paths (it said 'momentum methods and Adam escape in far
    fewer steps' where AdaGrad took 3 and momentum 30): each path's first step below cost -0.2, read
    straight off the paths table."""
    from studies import optimisers
    from studies.common.charts import vega_lite
    from studies.common.launch import run_study

    values = optimisers.SCHEMA.parse({"epochs": "1", "rates": "0.1", "max_train": "100", "steps": "60"})
    result = run_study(optimisers, values, n_jobs=1)
    saddle = result.tables["paths"][result.tables["paths"]["surface"] == "saddle point"]
    steps = {}
    for name, path in saddle.groupby("optimiser"):
        below = path.loc[path["cost"] < -0.2, "step"]
        steps[name] = int(below.min()) if len(below) else None
    reached = sorted((s, n) for n, s in steps.items() if s is not None)
    caption = next(c for c in optimisers.charts_for(result) if vega_lite(c)["title"]["text"].startswith(
        "Paths on the saddle point"))
    said = vega_lite(caption)["description"]
    assert said.startswith("Look for: who leaves the ridge of the saddle first. Steps to a cost below -0.2 here: " +
                           ", ".join(f"{n} {s}" for s, n in reached))
    assert all(f"{n}" in said.split("; ")[-1] for n, s in steps.items() if s is None)
