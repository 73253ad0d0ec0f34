"""Backpropagation against central finite differences (float64), for every layer."""
import itertools

import numpy as np
import pytest

from core.mlp import MLP

EPS = 1e-6


def central_differences(cost, arrays) -> list:
    """Central differences of ``cost()`` for every entry of every array in ``arrays`` (each entry moved
    by EPS either way in place, then restored)."""
    found = []
    for P in arrays:
        G = np.zeros_like(P)
        for idx in np.ndindex(P.shape):
            old = P[idx]
            P[idx] = old + EPS
            up = cost()
            P[idx] = old - EPS
            down = cost()
            P[idx] = old
            G[idx] = (up - down) / (2 * EPS)
        found.append(G)
    return found


def numerical(net, X, Y, **fixed):
    """Central differences of net.cost(X, Y, **fixed): a (dW, db) pair per layer."""
    return [central_differences(lambda: net.cost(X, Y, **fixed), pair) for pair in zip(net.weights, net.biases)]


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12)


CASES = [(act, loss, hidden, output, n_out)
         for act, loss, hidden in itertools.product(("sigmoid", "tanh", "relu"), ("mse", "ce"), ((), (5,), (6, 4)))
         for output, n_out in (("sigmoid", 1), ("sigmoid", 3), ("softmax", 3))]


@pytest.mark.parametrize("activation,loss,hidden,output,n_out", CASES)
def test_backprop_matches_central_differences(activation, loss, hidden, output, n_out):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(9, 4))
    y = rng.integers(0, max(n_out, 2), size=9)
    net = MLP([4, *hidden, n_out], activation=activation, output=output, loss=loss, init_sigma=0.7, seed=3,
              dtype=np.float64)
    for b in net.biases:  # non-zero biases so their gradients are exercised in general position
        b[:] = rng.normal(scale=0.3, size=b.shape)
    Y = net.targets(y)
    l2 = 0.1 if hidden == (5,) else 0.0
    analytic = net.gradients(X, Y, l2)
    numeric = numerical(net, X, Y, l2=l2)
    assert len(analytic) == len(hidden) + 1
    for layer, ((dW, db), (nW, nb)) in enumerate(zip(analytic, numeric)):
        assert dW.shape == net.weights[layer].shape and db.shape == net.biases[layer].shape
        assert relative_error(dW, nW) < 1e-6, f"weights of layer {layer}"
        assert relative_error(db, nb) < 1e-6, f"biases of layer {layer}"


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_l1_and_dropout_gradients_match_central_differences(activation):
    """L1 away from zero (|W| has no derivative at 0), dropout with its masks held fixed."""
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8)
    net = MLP([4, 6, 5, 3], activation=activation, init_sigma=0.7, seed=2, dtype=np.float64)
    for W in net.weights:
        W[np.abs(W) < 0.05] = 0.3                       # keep every weight away from the kink of |W|
    for b in net.biases:
        b[:] = rng.normal(scale=0.3, size=b.shape)
    masks = net.dropout_masks(len(X), 0.4, np.random.default_rng(5))
    assert any((m == 0).any() for m in masks) and any((m > 1).any() for m in masks)
    fixed = {"l2": 0.05, "l1": 0.02, "masks": masks}
    for (dW, db), (nW, nb) in zip(net.gradients(X, net.targets(y), **fixed), numerical(net, X, net.targets(y), **fixed)):
        assert relative_error(dW, nW) < 1e-6 and relative_error(db, nb) < 1e-6
