"""Learning-rate schedules of lecture 5.2.6: each epoch's rate from the initial rate alpha0.

    constant     alpha0
    piecewise    alpha0 * 10^-floor(t / T)        (5.2.6.1: a tenth every T epochs, as its table)
    performance  alpha <- lambda * alpha when the validation error has not dropped for N epochs (5.2.6.2)
    exponential  alpha0 * 10^(-t / T)             (5.2.6.3)
    power        alpha0 * (1 + t / T)^(-c)        (5.2.6.4)

The lecture's t counts iterations; here it counts the epochs finished before the one being trained
(0 for the first), so a schedule reads the same whatever the batch size. With batch GD, one update
per epoch, the two agree.
"""
from __future__ import annotations

from dataclasses import dataclass

SCHEDULES = ("constant", "piecewise", "performance", "exponential", "power")


def closed_form(kind: str, alpha0: float, t: int, T: float, c: float = 1.0) -> float:
    """alpha(t) of the schedules that depend on t alone."""
    if kind == "constant":
        return alpha0
    if kind == "piecewise":
        return alpha0 * 10.0 ** -(t // T)
    if kind == "exponential":
        return alpha0 * 10.0 ** (-t / T)
    if kind == "power":
        return alpha0 * (1 + t / T) ** -c
    raise ValueError(f"unknown schedule {kind!r}; choose one of {', '.join(SCHEDULES)}")


@dataclass
class Scheduler:
    """One training run's schedule. ``rate(alpha0, t)`` before epoch t+1; ``observe(val_error)``
    after every evaluated epoch (performance scheduling watches it; N = ``wait``, lambda = ``factor``)."""

    kind: str = "constant"
    T: float = 10.0
    c: float = 1.0
    factor: float = 0.5
    wait: int = 3

    def __post_init__(self):
        if self.kind not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.kind!r}; choose one of {', '.join(SCHEDULES)}")
        if not self.T > 0 or not 0 < self.factor <= 1 or self.wait < 1:
            raise ValueError("a schedule needs T > 0, 0 < lambda <= 1 and N >= 1")
        self._scale, self._best, self._since = 1.0, float("inf"), 0

    def rate(self, alpha0: float, t: int) -> float:
        if self.kind == "performance":
            return alpha0 * self._scale
        return closed_form(self.kind, alpha0, t, self.T, self.c)

    def observe(self, val_error: float | None) -> None:
        if self.kind != "performance" or val_error is None:
            return
        if val_error < self._best:
            self._best, self._since = val_error, 0
            return
        self._since += 1
        if self._since >= self.wait:
            self._scale *= self.factor
            self._since = 0
