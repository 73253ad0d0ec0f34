"""The lecture's multi-layer perceptron in plain NumPy (chapters 3.3-3.8, 4.5, 5.3.1).

Notation differs from the lecture in one way: samples are rows. The lecture writes
``z = W x + b`` with ``W`` of shape ``(n_out, n_in)``; here ``Z = A @ W + b`` with ``W`` of shape
``(n_in, n_out)``, so a whole batch is one matrix product and the backward pass of chapter 4.5.4
reads ``dW = A.T @ delta``.

Also here: the initialisation schemes of 5.1.4 (Fig. 131), batch normalisation of the hidden
logits (5.1.5, backward pass of 8.1), the activations of Table 6, gradient clipping (5.1.7), the
optimisers of 5.2 (``core.optimisers``) with the learning-rate schedules of 5.2.6
(``core.schedules``), L1 beside L2 (5.3.1), inverted dropout on the hidden layers (5.3.2) and early
stopping with patience (5.3.3). Plain gradient descent without L1, dropout, batch normalisation or
clipping keeps its own fused update (the hot path of every study of chapters 3-4).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from core.optimisers import OPTIMISERS, Hyper, Optimiser, clip
from core.schedules import Scheduler


def _sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    # 0.5 * (1 + tanh(z / 2)) is the logistic function without exp overflow for large |z|.
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _relu(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.maximum(z, 0, out=out)


def _tanh(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    return np.tanh(z, out=out)


LEAKY_ALPHA = 0.01  # Leaky ReLU's slope for z < 0 (Table 6); the ``alpha`` of ``MLP``
ELU_ALPHA = 1.0     # ELU's saturation value -alpha for z -> -inf (Table 6)


def _leaky_relu(z: np.ndarray, out: np.ndarray | None = None, alpha: float = LEAKY_ALPHA) -> np.ndarray:
    return _into(np.where(z > 0, z, alpha * z), out)


def _elu(z: np.ndarray, out: np.ndarray | None = None, alpha: float = ELU_ALPHA) -> np.ndarray:
    negative = alpha * np.expm1(np.minimum(z, 0))
    return _into(np.where(z > 0, z, negative), out)


def _identity(z: np.ndarray, out: np.ndarray | None = None, alpha: float = 0.0) -> np.ndarray:
    return z if out is None or out is z else _into(z, out)


def _into(values: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    if out is None:
        return values
    out[...] = values
    return out


def _softmax(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    out = np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


# name -> (activation, its derivative written in terms of the activation's output a = f(z)); Table 6.
# Leaky ReLU and ELU take their alpha (``activation_pair``); their derivative is still a function of a:
# a > 0 exactly where z > 0, and for z <= 0 ELU's a = alpha (e^z - 1) has the slope alpha e^z = a + alpha.
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "sigmoid": (_sigmoid, lambda a, alpha=0.0: a * (1 - a)),
    "tanh": (_tanh, lambda a, alpha=0.0: 1 - a * a),
    "relu": (_relu, lambda a, alpha=0.0: (a > 0).astype(a.dtype)),
    "leaky_relu": (_leaky_relu, lambda a, alpha=LEAKY_ALPHA: np.where(a > 0, 1, alpha).astype(a.dtype)),
    "elu": (_elu, lambda a, alpha=ELU_ALPHA: np.where(a > 0, 1, a + alpha).astype(a.dtype)),
    "identity": (_identity, lambda a, alpha=0.0: np.ones_like(a)),
}


def activation_pair(name: str, alpha: float | None = None) -> tuple[Callable, Callable]:
    """(f(z, out), f'(a)) of a hidden activation, Leaky ReLU's and ELU's with ``alpha`` (None: the
    lecture's default of each)."""
    f, d = ACTIVATIONS[name]
    if name not in ("leaky_relu", "elu"):
        return (lambda z, out=None: f(z, out=out)), d
    alpha = (LEAKY_ALPHA if name == "leaky_relu" else ELU_ALPHA) if alpha is None else float(alpha)
    return (lambda z, out=None: f(z, out=out, alpha=alpha)), (lambda a: d(a, alpha))


# the output layer's activation; identity is the linear output of regression (4.3.2), used with MSE
OUTPUTS: dict[str, Callable] = {"sigmoid": _sigmoid, "softmax": _softmax, "identity": _identity}


def _ce_value(z: np.ndarray, Y: np.ndarray, output: str) -> float:
    """Mean negative log-likelihood (lecture Eq. 2 and 3.8), computed from the logits for stability."""
    if output == "sigmoid":
        # -[y log s(z) + (1-y) log(1-s(z))] = log(1 + e^z) - y z
        per_unit = np.logaddexp(0, z) - Y * z
        return float(per_unit.sum() / len(z))
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-(Y * log_p).sum() / len(z))


def _ce_delta(a: np.ndarray, Y: np.ndarray, output: str) -> np.ndarray:
    # With the matching output (sigmoid or softmax) the output's derivative cancels (lecture 3.4.5, 3.8.1).
    return a - Y


def _mse_value(z: np.ndarray, Y: np.ndarray, output: str) -> float:
    """J = 1/(2m) sum_i ||a_i - y_i||^2, the lecture's MSE with the 1/2 factor (3.4.1)."""
    diff = OUTPUTS[output](z) - Y
    return float(0.5 * np.einsum("ij,ij->", diff, diff) / len(z))


def _mse_delta(a: np.ndarray, Y: np.ndarray, output: str) -> np.ndarray:
    g = a - Y
    if output == "identity":
        return g
    if output == "sigmoid":
        return g * a * (1 - a)
    # softmax Jacobian applied to g: a * (g - <g, a>)
    return a * (g - np.einsum("ij,ij->i", g, a)[:, None])


# name -> (value from the output logits, delta = m * dJ/dz at the output layer)
LOSSES: dict[str, tuple[Callable, Callable]] = {
    "ce": (_ce_value, _ce_delta),
    "mse": (_mse_value, _mse_delta),
}


@dataclass(frozen=True)
class Training:
    """How a network is trained (``MLP.fit``): the hyperparameters of gradient descent (3.4.2, 3.7),
    its optimiser (5.2) and schedule (5.2.6, one of ``core.schedules.SCHEDULES`` with its T, c,
    lambda and N), the penalties and dropout (5.3.1, 5.3.2), clipping (5.1.7, 0: off) and early
    stopping's patience (5.3.3, 0: off). Checked when made, so a fit never starts on values that
    cannot train; ``beta2`` None is the optimiser's own default."""

    epochs: int
    learning_rate: float
    batch_size: int
    l2: float = 0.0
    l1: float = 0.0
    dropout: float = 0.0
    optimiser: str = "gd"
    momentum: float = 0.9
    beta2: float | None = None
    eps: float = 1e-8
    clip_value: float = 0.0
    clip_norm: float = 0.0
    schedule: str = "constant"
    schedule_T: float = 10.0
    schedule_c: float = 1.0
    schedule_lambda: float = 0.5
    schedule_N: int = 3
    patience: int = 0

    def __post_init__(self):
        wrong = [f"{name} {value!r}" for name, value, ok in (
            ("epochs", self.epochs, self.epochs >= 0), ("batch_size", self.batch_size, self.batch_size >= 1),
            ("learning_rate", self.learning_rate, 0 <= self.learning_rate < np.inf),
            ("optimiser", self.optimiser, self.optimiser in OPTIMISERS),
            ("dropout", self.dropout, 0 <= self.dropout < 1),
            *((name, getattr(self, name), getattr(self, name) >= 0) for name in ("l2", "l1", "clip_value", "clip_norm",
                                                                               "patience")))
            if not ok]
        if wrong:
            raise ValueError(f"cannot train with {', '.join(wrong)}")
        Scheduler(self.schedule, T=self.schedule_T, c=self.schedule_c, factor=self.schedule_lambda,
                  wait=self.schedule_N)  # ValueError for a schedule that cannot run

    @property
    def plain(self) -> bool:
        """Whether a batch may take plain GD's fused step: no other optimiser, L1, dropout or clipping
        (a network with batch normalisation takes the general step all the same)."""
        return self.optimiser == "gd" and not self.l1 and not self.dropout and not (self.clip_value or self.clip_norm)


@dataclass
class History:
    """What ``MLP.fit`` returns: one row per (epoch, split), epoch 0 being the untrained network.

    ``seconds`` is cumulative training time, without the time spent evaluating the splits, so
    that curves against wall-clock time compare optimisation schemes and not evaluation cost.
    ``cost`` is the data cost J0 without the L2 penalty, so runs with different ``l2`` compare.
    """

    rows: list[dict] = field(default_factory=list)
    status: str = "ok"  # "ok", "diverged" or "cancelled"
    rates: list[float] = field(default_factory=list)  # the learning rate of each training epoch (5.2.6)
    stopped_at: int | None = None  # early stopping: the epoch patience ended training after (None: the epochs ran out)
    restored: int | None = None    # with patience: the epoch whose weights it kept (the best validation error)


def _normal(rng, n_in, n_out, sigma):
    return rng.standard_normal((n_in, n_out)) * sigma


def _uniform(rng, n_in, n_out, r):
    return rng.uniform(-r, r, size=(n_in, n_out))


def xavier_scale(activation: str) -> float:
    """Fig. 131's factor on the tanh row: 4 for sigmoid (its slope at 0 is 1/4), 1 for tanh (and for
    anything else used with Xavier)."""
    return 4.0 if activation == "sigmoid" else 1.0


def init_spread(init: str, n_in: int, n_out: int, activation: str, sigma: float) -> float:
    """The lecture's spread of the initial weights of one layer (5.1.4, Fig. 131): the standard
    deviation of a normal scheme, the half-width r of a uniform U(-r, r) one.

    Xavier: 4 * sqrt(2 / (n_in + n_out)) for sigmoid, sqrt(2 / (n_in + n_out)) for tanh (normal), with
    6 in place of 2 for uniform. He (ReLU and its variants): sqrt(2) times the tanh row. Frameworks
    differ here: PyTorch's ``kaiming_normal_`` and Keras' ``he_normal`` use sqrt(2 / n_in), the fan-in
    only, and no framework applies the factor 4 for sigmoid. ``classic_uniform`` is Eq. 11, the state of
    the art in 2010 that Fig. 125 and 128 were made with: U(-1/sqrt(n_in), 1/sqrt(n_in))."""
    if init == "normal":
        return sigma
    if init == "classic_uniform":
        return float(1 / np.sqrt(n_in))
    kind, dist = init.split("_")
    base = np.sqrt((2.0 if dist == "normal" else 6.0) / (n_in + n_out))
    return float(base * (xavier_scale(activation) if kind == "xavier" else np.sqrt(2.0)))


# name -> distribution of the weights (n_in, n_out), drawn with the spread of ``init_spread``;
# biases always start at 0.
INITS: dict[str, Callable] = {
    "normal": _normal,
    "classic_uniform": _uniform,
    "xavier_normal": _normal,
    "xavier_uniform": _uniform,
    "he_normal": _normal,
    "he_uniform": _uniform,
}


class MLP:
    """Fully connected network ``sizes = [n_in, *hidden, n_out]``.

    With no hidden layer this is the lecture's generalised perceptron (``output="sigmoid"``, one
    output unit) or softmax regression. Weights are drawn by ``init`` (``normal``: N(0, init_sigma^2);
    ``xavier_*`` and ``he_*`` follow Fig. 131 for the hidden ``activation`` and ignore init_sigma),
    biases start at 0.
    """

    BN_EPS = 1e-3      # the epsilon of 5.1.5 (Keras' default, as the lecture notes)
    BN_MOMENTUM = 0.9  # beta of the running averages of mu and sigma used outside training (5.1.5)

    def __init__(self, sizes, activation="sigmoid", output="softmax", loss="ce", init_sigma=0.05,
                 seed=0, dtype=np.float32, init="normal", alpha=None, batch_norm=False):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must be [n_in, *hidden, n_out] with positive entries, got {sizes}")
        for name, value, table in (("activation", activation, ACTIVATIONS), ("output", output, OUTPUTS),
                                   ("loss", loss, LOSSES)):
            if value not in table:
                raise ValueError(f"unknown {name} {value!r}; choose one of {sorted(table)}")
        if not init_sigma >= 0:
            raise ValueError(f"init_sigma must be >= 0, got {init_sigma}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {sorted(INITS)}")
        if output == "softmax" and sizes[-1] < 2:
            raise ValueError("a softmax output needs at least 2 units; use output='sigmoid' for one unit")
        if output == "identity" and loss != "mse":
            raise ValueError("a linear (identity) output is for regression: use loss='mse'")
        self.sizes, self.activation, self.output, self.loss = sizes, activation, output, loss
        self.alpha = alpha
        self._f, self._df = activation_pair(activation, alpha)
        self.seed, self.dtype = seed, np.dtype(dtype)
        rng = np.random.default_rng([seed, 0])
        self.weights = [INITS[init](rng, n_in, n_out, init_spread(init, n_in, n_out, activation, init_sigma))
                        .astype(self.dtype) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        self.biases = [np.zeros(n_out, dtype=self.dtype) for n_out in sizes[1:]]
        hidden = sizes[1:-1] if batch_norm else []
        self.batch_norm = bool(batch_norm)
        self.gammas = [np.ones(n, dtype=self.dtype) for n in hidden]
        self.betas = [np.zeros(n, dtype=self.dtype) for n in hidden]
        self.running_mean = [np.zeros(n, dtype=self.dtype) for n in hidden]
        self.running_std = [np.ones(n, dtype=self.dtype) for n in hidden]

    def parameters(self) -> list[np.ndarray]:
        """Every trained array, in the order ``gradients`` returns theirs: W and b of each layer,
        input side first, then gamma and beta of each batch-normalised layer."""
        return [p for pair in zip(self.weights, self.biases) for p in pair] + \
            [p for pair in zip(self.gammas, self.betas) for p in pair]

    # -- forward -----------------------------------------------------------------------------
    def _hidden(self, X: np.ndarray, masks: list[np.ndarray] | None = None,
                batch: list | None = None, logits: list | None = None) -> list[np.ndarray]:
        """Activations of the input and every hidden layer: ``[X, A1, ..., A_{L-1}]``; with dropout
        ``masks`` (one per hidden layer, 0 or 1/keep) the activations are multiplied by them. With
        batch normalisation, ``batch`` (a list) asks for training mode: each layer is normalised by
        its batch's statistics and (z_hat, 1/sqrt(var + eps), mu, sigma) is appended to ``batch``;
        without it the running averages are used (validation, test, prediction). ``logits`` (a list)
        receives a copy of what each hidden activation is applied to."""
        acts = [X]
        for layer, (W, b) in enumerate(zip(self.weights[:-1], self.biases[:-1])):
            z = acts[-1] @ W
            z += b
            if self.batch_norm:
                z = self._normalise(layer, z, batch)
            if logits is not None:
                logits.append(z.copy())
            acts.append(self._f(z, out=z))
            if masks is not None:
                acts[-1] = acts[-1] * masks[layer]
        return acts

    def _normalise(self, layer: int, z: np.ndarray, batch: list | None) -> np.ndarray:
        """Batch normalisation of one layer's logits z : (n, units) (lecture 5.1.5): z_hat = (z - mu) /
        sqrt(sigma^2 + eps), then gamma * z_hat + beta. 8.1 writes sigma + eps as sqrt(sigma^2 + eps)
        for its derivation; this is that form, so the backward pass is exact."""
        if batch is None:
            mu, sigma = self.running_mean[layer], self.running_std[layer]
            inv = 1 / np.sqrt(sigma * sigma + self.BN_EPS)
        else:
            mu, var = z.mean(axis=0), z.var(axis=0)
            inv, sigma = 1 / np.sqrt(var + self.BN_EPS), np.sqrt(var)
        z_hat = (z - mu) * inv
        if batch is not None:
            batch.append((z_hat, inv, mu, sigma))
        return z_hat * self.gammas[layer] + self.betas[layer]

    def _update_running(self, batch: list) -> None:
        """The exponentially weighted averages of mu and sigma that stand in for the batch's outside
        training (5.1.5): mu <- (1 - beta) mu_batch + beta mu."""
        keep = self.BN_MOMENTUM
        for layer, (_, _, mu, sigma) in enumerate(batch):
            self.running_mean[layer] = (keep * self.running_mean[layer] + (1 - keep) * mu).astype(self.dtype)
            self.running_std[layer] = (keep * self.running_std[layer] + (1 - keep) * sigma).astype(self.dtype)

    def _logits(self, A: np.ndarray) -> np.ndarray:
        z = A @ self.weights[-1]
        z += self.biases[-1]
        return z

    def forward(self, X: np.ndarray, masks: list[np.ndarray] | None = None,
                batch: list | None = None) -> list[np.ndarray]:
        """X : (n_samples, n_in) -> activations of every layer, input first, output last (hidden
        layers multiplied by their dropout ``masks``, if given; ``batch``: see ``_hidden``)."""
        acts = self._hidden(np.asarray(X, dtype=self.dtype), masks, batch)
        z = self._logits(acts[-1])
        acts.append(OUTPUTS[self.output](z, out=z))
        return acts

    def hidden_logits(self, X: np.ndarray) -> list[np.ndarray]:
        """X : (n_samples, n_in) -> what each hidden layer's activation receives, (n_samples, units) per
        layer: z, or gamma * z_hat + beta with batch normalisation (by its running averages). Their
        spread says whether the units work in the linear or the saturated part of the activation."""
        found: list = []
        self._hidden(np.asarray(X, dtype=self.dtype), logits=found)
        return found

    def activation_slopes(self, X: np.ndarray) -> tuple[list[np.ndarray], float]:
        """X : (n_samples, n_in) -> the slope f'(z) each hidden unit passes back for each sample,
        (n_samples, units) per layer, and the activation's largest slope (sigmoid 1/4, the others 1):
        a unit with slope 0 for every sample is dead (5.1.6's dying ReLU), small slopes are saturation."""
        slopes = [self._df(self._f(z)) for z in self.hidden_logits(X)]
        probe = np.array([0.0, 1.0], dtype=self.dtype)
        return slopes, float(self._df(self._f(probe.copy())).max())

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """X : (n_samples, n_in) -> output activations (n_samples, n_out)."""
        return self.forward(X)[-1]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """X : (n_samples, n_in) -> predicted class index (n_samples,)."""
        return self._classes_from_logits(self._logits(self._hidden(np.asarray(X, dtype=self.dtype))[-1]))

    def _classes_from_logits(self, z: np.ndarray) -> np.ndarray:
        if z.shape[1] == 1:  # one sigmoid unit: class 1 where a >= 0.5, i.e. z >= 0
            return (z[:, 0] >= 0).astype(np.int64)
        return z.argmax(axis=1)

    def targets(self, y: np.ndarray) -> np.ndarray:
        """Class indices y : (n_samples,) -> targets (n_samples, n_out): a 0/1 column or one-hot rows."""
        y = np.asarray(y)
        if self.output == "identity":  # regression: the targets themselves
            return y.reshape(len(y), -1).astype(self.dtype)
        if self.sizes[-1] == 1:
            return y.reshape(-1, 1).astype(self.dtype)
        Y = np.zeros((len(y), self.sizes[-1]), dtype=self.dtype)
        Y[np.arange(len(y)), y] = 1
        return Y

    # -- cost and gradients ------------------------------------------------------------------
    def _penalty(self, l2: float, l1: float) -> float:
        value = 0.5 * l2 * sum(float(np.einsum("ij,ij->", W, W)) for W in self.weights) if l2 else 0.0
        return value + (l1 * sum(float(np.abs(W).sum()) for W in self.weights) if l1 else 0.0)

    def cost(self, X: np.ndarray, Y: np.ndarray, l2: float = 0.0, l1: float = 0.0,
             masks: list[np.ndarray] | None = None, training: bool = False) -> float:
        """J(X, Y) + l2/2 * sum ||W||^2 + l1 * sum |W| (lecture 5.3.1; biases are not penalised).
        Y : (n, n_out); ``masks`` fix the dropout of each hidden layer (n, units) for a gradient check;
        ``training``: batch normalisation by this batch's statistics (what ``gradients`` differentiates)."""
        z = self._logits(self._hidden(np.asarray(X, dtype=self.dtype), masks, [] if training else None)[-1])
        return LOSSES[self.loss][0](z, np.asarray(Y, dtype=self.dtype), self.output) + self._penalty(l2, l1)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """Data cost and error rate of class indices y : (n_samples,), from one forward pass. A
        regression network (identity output) has no classes: its "error" is its cost, the MSE."""
        z = self._logits(self._hidden(np.asarray(X, dtype=self.dtype))[-1])
        cost = LOSSES[self.loss][0](z, self.targets(y), self.output)
        if self.output == "identity":
            return cost, cost
        return cost, float(np.mean(self._classes_from_logits(z) != y))

    def _backward(self, acts: list[np.ndarray], delta: np.ndarray, masks: list[np.ndarray] | None = None,
                  batch: list | None = None, norm_grads: list | None = None):
        """Yield ``(layer, delta)`` from the output layer down (lecture 4.5.3, matrix form): the
        error signal of each layer, whose gradients are ``acts[layer].T @ delta`` and ``delta.sum(0)``.

        ``delta`` at the output comes scaled as the caller wants its gradients. The next layer's
        signal is computed before yielding, so the caller may update ``weights[layer]`` in place.
        With dropout, ``acts`` hold the masked activations a * mask: the derivative is taken of the
        unmasked a = acts / mask where the mask keeps a unit, and is 0 where it dropped it. With batch
        normalisation (``batch`` from the forward pass) the signal passes back through it (8.1) and
        (d gamma, d beta) of each normalised layer go into ``norm_grads``.
        """
        for layer in range(len(self.weights) - 1, -1, -1):
            below = None
            if layer:  # the input layer needs no error signal
                below = delta @ self.weights[layer].T
                if masks is None:
                    below *= self._df(acts[layer])
                else:
                    mask = masks[layer - 1]
                    kept = np.divide(acts[layer], mask, out=np.zeros_like(acts[layer]), where=mask != 0)
                    below *= self._df(kept) * mask
                if self.batch_norm:
                    below = self._normalise_back(layer - 1, below, batch, norm_grads)
            yield layer, delta
            delta = below

    def _normalise_back(self, layer: int, g: np.ndarray, batch: list, norm_grads: list) -> np.ndarray:
        """Lecture 8.1: from dJ/d(z tilde) : (n, units) to dJ/dz, through gamma * z_hat + beta and
        through the batch's mean and variance; d gamma = sum g z_hat, d beta = sum g."""
        z_hat, inv = batch[layer][:2]
        norm_grads[layer] = ((g * z_hat).sum(axis=0), g.sum(axis=0))
        d_hat = g * self.gammas[layer]
        return inv * (d_hat - d_hat.mean(axis=0) - z_hat * (d_hat * z_hat).mean(axis=0))

    def gradients(self, X: np.ndarray, Y: np.ndarray, l2: float = 0.0, l1: float = 0.0,
                  masks: list[np.ndarray] | None = None,
                  batch: list | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Gradient of ``cost(X, Y, l2, l1, masks, training=True)``: one (dW, db) pair per layer,
        input side first, then one (d gamma, d beta) pair per batch-normalised layer. The L1 term's
        gradient is l1 * sign(W) (0 at W = 0, where |W| has no derivative). ``batch`` (a list)
        receives the batch statistics of the forward pass."""
        batch = [] if batch is None else batch
        acts = self.forward(X, masks, batch)
        delta = LOSSES[self.loss][1](acts[-1], np.asarray(Y, dtype=self.dtype), self.output) / len(acts[0])
        grads = [None] * len(self.weights)
        norm_grads = [None] * len(self.gammas)
        for layer, d in self._backward(acts, delta, masks, batch, norm_grads):
            dW = acts[layer].T @ d
            if l2:
                dW += l2 * self.weights[layer]
            if l1:
                dW += l1 * np.sign(self.weights[layer])
            grads[layer] = (dW, d.sum(axis=0))
        return grads + norm_grads

    def dropout_masks(self, n: int, rate: float, rng: np.random.Generator) -> list[np.ndarray]:
        """Inverted dropout (lecture 5.3.2): each hidden unit of each sample kept with probability
        1 - rate and then scaled by 1 / (1 - rate), so nothing changes at test time."""
        keep = 1.0 - rate
        return [((rng.random((n, units)) < keep) / keep).astype(self.dtype) for units in self.sizes[1:-1]]

    # -- training ----------------------------------------------------------------------------
    def _step(self, xb: np.ndarray, yb: np.ndarray, learning_rate: float, l2: float, grad: list[np.ndarray]) -> None:
        """One gradient-descent update on a batch. ``grad`` holds one buffer per weight matrix, so
        the batch loop allocates no weight-sized arrays."""
        acts = self.forward(xb)
        delta = LOSSES[self.loss][1](acts[-1], yb, self.output)
        delta *= learning_rate / len(xb)  # scale once: the backward pass then yields the update itself
        shrink = 1 - learning_rate * l2
        for layer, d in self._backward(acts, delta):
            if l2:
                self.weights[layer] *= shrink
            self.weights[layer] -= np.matmul(acts[layer].T, d, out=grad[layer])
            self.biases[layer] -= d.sum(axis=0)

    def _general_step(self, xb, yb, optimiser: Optimiser, l2: float, l1: float, dropout: float, rng,
                      clip_value: float = 0.0, clip_norm: float = 0.0) -> None:
        """One update by any optimiser, with L1, dropout, batch normalisation and clipping:
        gradients first, clipped (5.1.7), then the rule."""
        masks = self.dropout_masks(len(xb), dropout, rng) if dropout else None
        params = self.parameters()
        offset = optimiser.gradient_point()
        if offset:  # Nesterov: the gradient at the look-ahead point
            for p, o in zip(params, offset):
                p += o
        batch: list = []
        grads = [g for pair in self.gradients(xb, yb, l2, l1, masks, batch) for g in pair]
        if offset:
            for p, o in zip(params, offset):
                p -= o
        if self.batch_norm:
            self._update_running(batch)
        optimiser.step(params, clip(grads, clip_value, clip_norm))

    def fit(self, X: np.ndarray, y: np.ndarray, how: Training, *, eval_sets: dict | None = None,
            on_epoch: Callable | None = None, stop: Callable[[], bool] | None = None) -> History:
        """Gradient descent as ``how`` says (``Training``); returns the per-epoch history.

        X : (n_samples, n_in), y : (n_samples,) class indices (regression: targets); samples are
        reshuffled every epoch, and no batch is larger than the training set. ``eval_sets`` maps a
        split name (``"train"``, ``"val"``, ``"test"``) to ``(X, y)`` evaluated after every epoch. A
        non-finite cost or weight stops training with status ``"diverged"``. With patience, training
        stops once the validation error has not improved for that many epochs, and whether patience
        or the epochs end it, the weights of its best epoch are returned (5.3.3). ``on_epoch(epoch,
        rows)`` is called after each evaluated epoch (for progress). ``stop()`` is asked before every
        batch (it must be cheap, see ``service.cancel``); when it says yes, training ends with status
        ``"cancelled"`` and the epochs finished so far are kept.
        """
        epochs, learning_rate, l2, l1, dropout = how.epochs, how.learning_rate, how.l2, how.l1, how.dropout
        optimiser, clip_value, clip_norm, patience = how.optimiser, how.clip_value, how.clip_norm, how.patience
        X = np.ascontiguousarray(X, dtype=self.dtype)
        Y = self.targets(y)
        n = len(X)
        batch_size = max(1, min(how.batch_size, n))
        eval_sets = eval_sets or {}
        if patience and "val" not in eval_sets:
            raise ValueError("early stopping with patience needs a validation split to watch")
        rng = np.random.default_rng([self.seed, 1])
        masks_rng = np.random.default_rng([self.seed, 2])  # dropout masks: from the trial's seed too
        schedule = Scheduler(how.schedule, T=how.schedule_T, c=how.schedule_c, factor=how.schedule_lambda,
                             wait=how.schedule_N)
        plain = how.plain and not self.batch_norm
        opt = None if plain else Optimiser(optimiser, self.parameters(),
                                           Hyper(learning_rate, how.momentum, how.beta2, how.eps))
        history = History()
        watch = _Patience(patience, self)
        seconds, updates = 0.0, 0
        grad = [np.empty_like(W) for W in self.weights]
        with np.errstate(all="ignore"):  # overflow is expected when a run diverges; it is detected below
            for epoch in range(epochs + 1):
                if epoch:
                    alpha = schedule.rate(learning_rate, epoch - 1)
                    history.rates.append(alpha)
                    if opt is not None:
                        opt.hyper = replace(opt.hyper, learning_rate=alpha)
                    start = time.perf_counter()
                    order = rng.permutation(n)
                    for lo in range(0, n, batch_size):
                        if stop is not None and stop():
                            history.status = "cancelled"
                            return history
                        idx = order[lo:lo + batch_size]
                        if plain:
                            self._step(X[idx], Y[idx], alpha, l2, grad)
                        else:
                            self._general_step(X[idx], Y[idx], opt, l2, l1, dropout, masks_rng, clip_value, clip_norm)
                    seconds += time.perf_counter() - start
                    updates += -(-n // batch_size)
                rows = [dict(epoch=epoch, split=name, cost=cost, error=error, seconds=seconds, updates=updates)
                        for name, (Xs, ys) in eval_sets.items() for cost, error in [self.evaluate(Xs, ys)]]
                if not self._finite(rows):
                    history.status = "diverged"
                    break
                history.rows.extend(rows)
                val = next((r["error"] for r in rows if r["split"] == "val"), None)
                schedule.observe(val)
                if on_epoch:
                    on_epoch(epoch, rows)
                if watch.done(epoch, val):
                    history.stopped_at, history.restored = epoch, watch.restore()
                    break
            else:  # the epochs ran out before the patience did: the best epoch's weights all the same
                if watch.saved is not None:
                    history.restored = watch.restore()
        return history

    def _finite(self, rows: list[dict]) -> bool:
        return (all(np.isfinite(r["cost"]) for r in rows)
                and all(np.isfinite(W.sum()) for W in self.weights))


class _Patience:
    """Early stopping (lecture 5.3.3): keep a copy of the parameters whenever the validation error
    improves; after ``patience`` epochs without improvement, say stop and put the best copy back."""

    def __init__(self, patience: int, net: MLP):
        self.patience, self.net = int(patience), net
        self.best, self.best_epoch, self.saved = np.inf, 0, None

    def done(self, epoch: int, val_error: float | None) -> bool:
        if not self.patience or val_error is None:
            return False
        if val_error < self.best:
            self.best, self.best_epoch = val_error, epoch
            self.saved = [p.copy() for p in self.net.parameters() + self.net.running_mean + self.net.running_std]
            return False
        return epoch - self.best_epoch >= self.patience

    def restore(self) -> int:
        for p, saved in zip(self.net.parameters() + self.net.running_mean + self.net.running_std, self.saved):
            p[...] = saved
        return self.best_epoch
