"""Two-dimensional toy data sets, the pictures TensorFlow Playground draws its decision boundaries on.

Each is generated from (samples, noise, seed) alone, so every worker makes the same points without
any file: ``moons`` and ``circles`` (scikit-learn), ``xor`` (the four quadrants, which no straight
line separates), ``spiral`` (two interleaved arms) and ``blobs`` (three Gaussian clusters).
"""
from __future__ import annotations

import numpy as np
from sklearn.datasets import make_circles, make_moons

TOY_CLASSES = {"moons": 2, "circles": 2, "xor": 2, "spiral": 2, "blobs": 3}
BLOB_CENTRES = np.array([[-2.0, -1.5], [2.0, -1.5], [0.0, 2.0]])


def make(name: str, samples: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """X : (samples, 2) float64, y : (samples,) class indices; balanced classes."""
    rng = np.random.default_rng([seed, 7])
    if name == "moons":
        return make_moons(samples, noise=noise, random_state=int(rng.integers(2**31)))
    if name == "circles":
        return make_circles(samples, noise=noise, factor=0.5, random_state=int(rng.integers(2**31)))
    if name == "xor":  # as TensorFlow Playground: a margin of 0.1 on either side of the axes
        X = rng.uniform(0.1, 1, size=(samples, 2)) * rng.choice([-1, 1], size=(samples, 2))
        y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
        return X + noise * rng.standard_normal(X.shape), y
    if name == "spiral":
        y = np.arange(samples) % 2
        t = rng.uniform(0.25, 1, samples) * 3 * np.pi                     # angle along the arm
        X = np.column_stack([t * np.cos(t + np.pi * y), t * np.sin(t + np.pi * y)]) / (3 * np.pi)
        return X + noise * 0.3 * rng.standard_normal(X.shape), y
    if name == "blobs":
        y = np.arange(samples) % 3
        return BLOB_CENTRES[y] + (0.5 + 2 * noise) * rng.standard_normal((samples, 2)), y
    raise ValueError(f"unknown toy data set {name!r}; choose one of {', '.join(TOY_CLASSES)}")
