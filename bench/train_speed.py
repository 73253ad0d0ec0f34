"""Seconds per epoch of our MLP against scikit-learn's MLPClassifier and a textbook NumPy loop.

All three run side by side in this process on the same data and settings: one sigmoid hidden
layer of 100 units, softmax output with cross-entropy, batch 64, plain SGD (no momentum, no L2),
learning rate 0.1. Fashion-MNIST (784-100-10) when installed, else digits (64-100-10).

The three take turns for several rounds, each round with a new seed. This VM's speed drifts by up
to 50 % within seconds, so the ratio "ours / it" is taken within each round, where the runs are
seconds apart, and the table shows the median of those ratios (their range in brackets), the
median seconds per epoch, and the mean test error (one round's error depends on its seed by a
few points).

    python bench/train_speed.py [--epochs 5] [--rounds 6] [--dataset fashion-mnist|digits]
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data import DataError, load_dataset, prepare  # noqa: E402
from core.mlp import MLP, Training  # noqa: E402
from machine import describe  # noqa: E402

HIDDEN, BATCH, LR = 100, 64, 0.1


def textbook_loop(X, y, X_test, y_test, epochs, seed):
    """The lecture slides' NumPy MLP, vectorised over the batch, float32: the baseline to beat."""
    rng = np.random.default_rng(seed)
    n, n_in = X.shape
    n_out = int(y.max()) + 1
    W1 = (rng.standard_normal((n_in, HIDDEN)) * 0.05).astype(np.float32)
    b1 = np.zeros(HIDDEN, np.float32)
    W2 = (rng.standard_normal((HIDDEN, n_out)) * 0.05).astype(np.float32)
    b2 = np.zeros(n_out, np.float32)
    Y = np.eye(n_out, dtype=np.float32)[y]
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(n)
        for lo in range(0, n, BATCH):
            idx = order[lo:lo + BATCH]
            xb, yb = X[idx], Y[idx]
            a1 = 1 / (1 + np.exp(-(xb @ W1 + b1)))
            z2 = a1 @ W2 + b2
            e = np.exp(z2 - z2.max(axis=1, keepdims=True))
            a2 = e / e.sum(axis=1, keepdims=True)
            d2 = (a2 - yb) / len(xb)
            d1 = (d2 @ W2.T) * a1 * (1 - a1)
            W2 -= LR * (a1.T @ d2)
            b2 -= LR * d2.sum(axis=0)
            W1 -= LR * (xb.T @ d1)
            b1 -= LR * d1.sum(axis=0)
    seconds = time.perf_counter() - start
    a1 = 1 / (1 + np.exp(-(X_test @ W1 + b1)))
    return seconds, float(np.mean((a1 @ W2 + b2).argmax(axis=1) != y_test))


def ours(X, y, X_test, y_test, epochs, seed):
    net = MLP([X.shape[1], HIDDEN, int(y.max()) + 1], activation="sigmoid", output="softmax", loss="ce",
              init_sigma=0.05, seed=seed)
    start = time.perf_counter()
    net.fit(X, y, Training(epochs=epochs, learning_rate=LR, batch_size=BATCH))
    seconds = time.perf_counter() - start
    return seconds, float(np.mean(net.predict(X_test) != y_test))


def sklearn_mlp_float64(X, y, X_test, y_test, epochs, seed):
    """The same, with the data in float64, scikit-learn's usual precision (context, not the target)."""
    return sklearn_mlp(X.astype(np.float64), y, X_test.astype(np.float64), y_test, epochs, seed)


def sklearn_mlp(X, y, X_test, y_test, epochs, seed):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(HIDDEN,), activation="logistic", solver="sgd", alpha=0.0,
                        batch_size=BATCH, learning_rate_init=LR, momentum=0.0, nesterovs_momentum=False,
                        max_iter=epochs, shuffle=True, tol=0.0, n_iter_no_change=epochs + 1, random_state=seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    seconds = time.perf_counter() - start
    return seconds, float(np.mean(clf.predict(X_test) != y_test))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["fashion-mnist", "digits"], default=None)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    print(describe(), flush=True)
    name = args.dataset
    if name is None:
        try:
            load_dataset("fashion-mnist")
            name = "fashion-mnist"
        except DataError:
            name = "digits"
    split = prepare(name, normalisation="rescale", val_fraction=0.01)
    X, y, X_test, y_test = split.X_train, split.y_train, split.X_test, split.y_test
    print(f"{name}: {X.shape[0]} training samples, {X.shape[1]}-{HIDDEN}-{split.n_classes}, batch {BATCH}, "
          f"lr {LR}, {args.epochs} epochs x {args.rounds} rounds, all three in float32 (scikit-learn keeps float32 input)")
    peers = {"ours": ours, "scikit-learn MLPClassifier": sklearn_mlp, "textbook NumPy loop": textbook_loop,
             "(scikit-learn on float64 data)": sklearn_mlp_float64}
    seconds = {label: [] for label in peers}
    errors = {label: [] for label in peers}
    for seed in range(args.rounds):
        for label, fn in peers.items():
            took, error = fn(X, y, X_test, y_test, args.epochs, seed)
            seconds[label].append(took / args.epochs)
            errors[label].append(error)
    print(f"{'':32s} {'s/epoch':>8s} {'ours / it':>10s} {'(range)':>12s} {'test error':>11s}   (s/epoch of each round)")
    for label in peers:
        ratios = np.array(seconds["ours"]) / np.array(seconds[label])
        rounds = " ".join(f"{t:.3f}" for t in seconds[label])
        print(f"{label:32s} {np.median(seconds[label]):8.3f} {np.median(ratios):10.2f} "
              f"({ratios.min():.2f}-{ratios.max():.2f}) {100 * np.mean(errors[label]):10.2f}%   ({rounds})")


if __name__ == "__main__":
    main()
