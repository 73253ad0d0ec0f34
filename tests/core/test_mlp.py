"""The network's formulas on hand-computed cases, and its training behaviour."""
import numpy as np
import pytest

from core.data import prepare
from core.mlp import MLP, Training


def perceptron(w, b, output="sigmoid", loss="mse"):
    net = MLP([len(w), 1], output=output, loss=loss, dtype=np.float64)
    net.weights[0][:, 0] = w
    net.biases[0][:] = b
    return net


def test_mse_has_half_factor_and_mean_over_samples():
    net = perceptron([1.0], 0.0)
    X = np.array([[0.0], [np.log(3.0)]])        # sigmoid outputs 0.5 and 0.75
    Y = np.array([[1.0], [0.0]])
    expected = (0.5 ** 2 + 0.75 ** 2) / (2 * 2)
    assert net.cost(X, Y) == pytest.approx(expected, rel=1e-12)


def test_binary_cross_entropy_is_mean_negative_log_likelihood():
    net = perceptron([1.0], 0.0, loss="ce")
    X = np.array([[0.0], [np.log(3.0)]])
    Y = np.array([[1.0], [0.0]])
    expected = -(np.log(0.5) + np.log(1 - 0.75)) / 2
    assert net.cost(X, Y) == pytest.approx(expected, rel=1e-12)


def test_softmax_cross_entropy_and_l2_penalty():
    net = MLP([2, 3], output="softmax", loss="ce", dtype=np.float64)
    net.weights[0][:] = [[1.0, 0.0, -1.0], [0.5, 2.0, 0.0]]
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    Y = net.targets(np.array([0, 1]))
    z = X @ net.weights[0]
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    expected = -(np.log(p[0, 0]) + np.log(p[1, 1])) / 2
    assert net.cost(X, Y) == pytest.approx(expected, rel=1e-12)
    penalty = 0.5 * (1 + 1 + 0.25 + 4)
    assert net.cost(X, Y, l2=0.3) == pytest.approx(expected + 0.3 * penalty, rel=1e-12)


def test_weights_layout_and_initialisation():
    net = MLP([5, 4, 3], init_sigma=0.1, seed=1, dtype=np.float64)
    assert [W.shape for W in net.weights] == [(5, 4), (4, 3)]
    assert all(np.all(b == 0) for b in net.biases)
    big = MLP([400, 300, 2], init_sigma=0.1, seed=1, dtype=np.float64)
    assert big.weights[0].std() == pytest.approx(0.1, rel=0.02)
    assert MLP([5, 4, 3], seed=1).weights[0].dtype == np.float32


def test_zero_init_keeps_hidden_units_identical():
    """Lecture Fig. 121/122: with sigma = 0 every hidden unit gets the same update forever."""
    split = prepare("digits")
    net = MLP([64, 8, 10], init_sigma=0.0, seed=0)
    net.fit(split.X_train, split.y_train, Training(epochs=3, learning_rate=0.5, batch_size=32))
    W = net.weights[0]
    assert np.allclose(W, W[:, :1], atol=1e-6)
    trained = MLP([64, 8, 10], init_sigma=0.05, seed=0)
    trained.fit(split.X_train, split.y_train, Training(epochs=3, learning_rate=0.5, batch_size=32))
    assert not np.allclose(trained.weights[0], trained.weights[0][:, :1], atol=1e-3)


@pytest.mark.parametrize("batch_size,updates_per_epoch", [(1, 40), (16, 3), (40, 1), (1000, 1)])
def test_batch_size_sets_updates_per_epoch(batch_size, updates_per_epoch):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, size=40)
    net = MLP([3, 2], seed=0)
    history = net.fit(X, y, Training(epochs=2, learning_rate=0.1, batch_size=batch_size), eval_sets={"train": (X, y)})
    assert [r["updates"] for r in history.rows] == [0, updates_per_epoch, 2 * updates_per_epoch]


def test_full_batch_step_equals_one_gradient_step():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 3, size=20)
    net = MLP([3, 4, 3], seed=2, dtype=np.float64)
    expected = [W - 0.3 * dW for W, (dW, _) in zip(net.weights, net.gradients(X, net.targets(y), l2=0.01))]
    net.fit(X, y, Training(epochs=1, learning_rate=0.3, batch_size=20, l2=0.01))
    for W, E in zip(net.weights, expected):
        np.testing.assert_allclose(W, E, rtol=1e-12)


def test_non_finite_cost_marks_diverged_without_raising():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 2, size=30)
    net = MLP([4, 5, 2], seed=0)
    net.weights[1][0, 0] = np.inf
    history = net.fit(X, y, Training(epochs=5, learning_rate=0.1, batch_size=10), eval_sets={"train": (X, y)})
    assert history.status == "diverged"
    assert history.rows == []


def test_float64_on_request_stays_float64():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 4)).astype(np.float32), rng.integers(0, 2, size=30)
    net = MLP([4, 5, 2], seed=0, dtype=np.float64)
    net.fit(X, y, Training(epochs=1, learning_rate=0.1, batch_size=10))
    assert all(W.dtype == np.float64 for W in net.weights)


def test_one_hidden_layer_reaches_below_five_percent_on_digits():
    split = prepare("digits", normalisation="z")
    net = MLP([64, 30, 10], activation="sigmoid", output="softmax", loss="ce", seed=0)
    history = net.fit(split.X_train, split.y_train, Training(epochs=30, learning_rate=0.5, batch_size=32), eval_sets={"test": (split.X_test, split.y_test)})
    assert history.status == "ok"
    assert history.rows[-1]["error"] < 0.05
    assert np.mean(net.predict(split.X_test) != split.y_test) == pytest.approx(history.rows[-1]["error"])


def test_generalised_perceptron_separates_one_from_seven():
    split = prepare("digits", classes=(1, 7), normalisation="z")
    net = MLP([64, 1], output="sigmoid", loss="mse", seed=0)
    net.fit(split.X_train, split.y_train, Training(epochs=30, learning_rate=0.5, batch_size=32))
    assert np.mean(net.predict(split.X_test) != split.y_test) < 0.02


def test_l2_penalty_shrinks_weights():
    split = prepare("digits")
    norms = []
    for l2 in (0.0, 0.01):
        net = MLP([64, 20, 10], seed=0)
        net.fit(split.X_train, split.y_train, Training(epochs=5, learning_rate=0.5, batch_size=32, l2=l2))
        norms.append(sum(np.sum(W ** 2) for W in net.weights))
    assert norms[1] < 0.8 * norms[0]


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="activation"):
        MLP([3, 2], activation="swish")
    with pytest.raises(ValueError, match="softmax"):
        MLP([3, 1], output="softmax")
