"""The optimisers of lecture 5.2 as small update rules looked up by name.

Each rule updates a list of parameter arrays in place from their gradients, keeping what it needs
(momentum ``m``, squared-gradient average ``s``) in a state dict, exactly as the lecture writes it:

    gd        theta <- theta - alpha g
    momentum  m <- beta m + alpha g;                   theta <- theta - m                    (5.2.1)
    nesterov  m <- beta m + alpha g(theta - beta m);   theta <- theta - m                    (5.2.1.1)
    adagrad   s <- s + g*g;                            theta <- theta - alpha g / sqrt(s + eps)  (5.2.2)
    rmsprop   s <- beta2 s + (1 - beta2) g*g;          theta <- theta - alpha g / sqrt(s + eps)  (5.2.3)
    adam      m <- beta m + (1 - beta) g;  s <- beta2 s + (1 - beta2) g*g;
              m^ = m / (1 - beta^t);  s^ = s / (1 - beta2^t);  theta <- theta - alpha m^ / (sqrt(s^) + eps)  (5.2.4)

Nesterov needs the gradient at the look-ahead point theta - beta m: ``gradient_point`` gives the
offset to apply before the gradient is taken. ``beta`` is the ``momentum`` parameter (default
0.9); ``beta2`` defaults to 0.999 for Adam and 0.9 for RMSProp's decay.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

OPTIMISERS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
BETA2_DEFAULT = {"rmsprop": 0.9, "adam": 0.999}


@dataclass(frozen=True)
class Hyper:
    learning_rate: float
    momentum: float = 0.9
    beta2: float | None = None  # None: the optimiser's own default (BETA2_DEFAULT)
    eps: float = 1e-8

    def decay(self, name: str) -> float:
        return self.beta2 if self.beta2 is not None else BETA2_DEFAULT.get(name, 0.999)


def _gd(params, grads, state, t, h, name):
    for p, g in zip(params, grads):
        p -= h.learning_rate * g


def _momentum(params, grads, state, t, h, name):  # momentum and Nesterov: only the gradient's point differs
    for p, g, m in zip(params, grads, state["m"]):
        m *= h.momentum
        m += h.learning_rate * g
        p -= m


def _adagrad(params, grads, state, t, h, name):
    for p, g, s in zip(params, grads, state["s"]):
        s += g * g
        p -= h.learning_rate * g / np.sqrt(s + h.eps)


def _rmsprop(params, grads, state, t, h, name):
    beta2 = h.decay(name)
    for p, g, s in zip(params, grads, state["s"]):
        s *= beta2
        s += (1 - beta2) * g * g
        p -= h.learning_rate * g / np.sqrt(s + h.eps)


def _adam(params, grads, state, t, h, name):
    beta1, beta2 = h.momentum, h.decay(name)
    for p, g, m, s in zip(params, grads, state["m"], state["s"]):
        m *= beta1
        m += (1 - beta1) * g
        s *= beta2
        s += (1 - beta2) * g * g
        # bias correction with 1 - beta^t, t the update count from 1: the lecture prints 1 - beta,
        # a typo (that would rescale every step by a constant and correct no bias at all)
        m_hat = m / (1 - beta1 ** t)
        s_hat = s / (1 - beta2 ** t)
        p -= h.learning_rate * m_hat / (np.sqrt(s_hat) + h.eps)


RULES: dict[str, Callable] = {"gd": _gd, "momentum": _momentum, "nesterov": _momentum, "adagrad": _adagrad,
                              "rmsprop": _rmsprop, "adam": _adam}
STATE = {"gd": (), "momentum": ("m",), "nesterov": ("m",), "adagrad": ("s",), "rmsprop": ("s",), "adam": ("m", "s")}


class Optimiser:
    """One optimiser's state over a list of parameter arrays; ``step`` applies update number t."""

    def __init__(self, name: str, params: list[np.ndarray], hyper: Hyper):
        if name not in RULES:
            raise ValueError(f"unknown optimiser {name!r}; choose one of {', '.join(OPTIMISERS)}")
        self.name, self.hyper, self.t = name, hyper, 0
        self.state = {key: [np.zeros_like(p) for p in params] for key in STATE[name]}

    def gradient_point(self) -> list[np.ndarray] | None:
        """Where to take the gradient, as an offset from the parameters (Nesterov's look-ahead
        -beta m), or None for the parameters themselves."""
        if self.name != "nesterov":
            return None
        return [-self.hyper.momentum * m for m in self.state["m"]]

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        self.t += 1
        RULES[self.name](params, grads, self.state, self.t, self.hyper, self.name)


def clip(grads: list[np.ndarray], value: float = 0.0, norm: float = 0.0) -> list[np.ndarray]:
    """Gradient clipping (lecture 5.1.7, Fig. 132), in place: by ``value``, every component into
    [-value, value]; by ``norm``, all gradients together scaled down to that Euclidean norm when
    they are longer (the direction kept). 0 turns either off."""
    if value:
        for g in grads:
            np.clip(g, -value, value, out=g)
    if norm:
        total = float(np.sqrt(sum(float(np.vdot(g, g)) for g in grads)))
        if total > norm:
            for g in grads:
                g *= norm / total
    return grads


def minimise(name: str, theta: np.ndarray, gradient: Callable[[np.ndarray], np.ndarray], steps: int,
             hyper: Hyper) -> np.ndarray:
    """The path of ``steps`` updates from ``theta`` on a function with the given gradient:
    (steps + 1, n_params), the start first (the optimisers page draws these on cost surfaces)."""
    theta = np.array(theta, dtype=np.float64)
    optimiser = Optimiser(name, [theta], hyper)
    path = [theta.copy()]
    with np.errstate(all="ignore"):
        for _ in range(steps):
            offset = optimiser.gradient_point()
            g = gradient(theta + offset[0] if offset else theta)
            optimiser.step([theta], [np.asarray(g, dtype=np.float64)])
            path.append(theta.copy())
    return np.array(path)
