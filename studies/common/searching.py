"""A search space over the training parameters and Optuna's samplers asked in waves (issue 21).

A space is text, so that a link carries it: up to four parameters separated by ``;``, each a range
(``learning_rate=0.001..1 log``, ``l2=0..0.01``) or a list of choices (``optimiser=gd,adam``,
``batch_size=16,32,full``). Every value is checked by the parameter's own rule in the training schema.

``configurations`` is a pure function of the search's settings and the trials finished so far: it
replays the search from its seed (ask a wave, tell its results, ask the next) and returns the next
wave to run. Waves have a fixed size and are told in trial order, so the same link asks the same
trials whatever the number of workers, and a server restart loses nothing a replay cannot rebuild.
Optuna does the sampling (grid, random, TPE) and the parameter importance; nothing here samples.
"""
from __future__ import annotations

import math
import re
from typing import NamedTuple

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from studies.common.params import MODEL, OPTIMISATION
from studies.common.schema import Param, _fmt

optuna.logging.set_verbosity(optuna.logging.WARNING)  # no line per trial in the server's log

MAX_DIMENSIONS = 4
MAX_CHOICES = 12
SAMPLERS = ("tpe", "random", "grid")
DIVERGED_VALUE = 1.0  # what a diverged trial tells the sampler: the worst error there is, a region to avoid
HIDDEN_UNITS = Param("hidden_units", "int", 30, "Width of every hidden layer (one layer when the form has none).",
                     low=1, high=2000)
SEARCHABLE = {p.name: p for p in [*MODEL, *OPTIMISATION, HIDDEN_UNITS] if p.kind in ("int", "float", "batch", "choice")}
RULE = ("up to four parameters separated by ';', each a range 'name=low..high' (add ' log' for a log scale) or "
        "a list 'name=a,b,c', e.g. learning_rate=0.01..2 log; hidden_units=8,16,32,64")


class Dimension(NamedTuple):
    """One searched parameter: a range (``low``, ``high``) on a linear or log scale, or ``choices``."""

    name: str
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    log: bool = False

    @property
    def integer(self) -> bool:
        return SEARCHABLE[self.name].kind in ("int", "batch")

    def __str__(self) -> str:
        if self.choices:
            return f"{self.name}={','.join(map(_fmt, self.choices))}"
        return f"{self.name}={_fmt(self.low)}..{_fmt(self.high)}{' log' if self.log else ''}"


class Space(tuple):
    """The dimensions of a search; its text (``str``) is the canonical one links and keys carry."""

    def __str__(self) -> str:
        return "; ".join(map(str, self))

    @property
    def names(self) -> list[str]:
        return [d.name for d in self]


def text(value) -> str:
    """A value as the space's text writes it (0.01, 64, full)."""
    return _fmt(value)


def read_space(text) -> Space:
    """A space from its text; ValueError naming what is wrong and what is allowed."""
    if isinstance(text, Space):
        return text
    parts = [part.strip() for part in str(text).split(";") if part.strip()]
    if not parts:
        raise ValueError("no parameter to search")
    if len(parts) > MAX_DIMENSIONS:
        raise ValueError(f"{len(parts)} parameters; search at most {MAX_DIMENSIONS} at once")
    dims = [_dimension(part) for part in parts]
    names = [d.name for d in dims]
    if len(set(names)) < len(names):
        raise ValueError(f"{max(names, key=names.count)} is named twice")
    if "hidden_units" in names and "hidden" in names:
        raise ValueError("search hidden_units or hidden, not both")
    return Space(dims)


def _dimension(part: str) -> Dimension:
    name, sep, spec = (s.strip() for s in part.partition("="))
    if not sep:
        raise ValueError(f"{part[:40]!r} is not name=values")
    param = SEARCHABLE.get(name)
    if param is None:
        raise ValueError(f"{name[:40]!r} cannot be searched; one of {', '.join(SEARCHABLE)}")
    found = re.fullmatch(r"(\S+?)\s*\.\.\s*(\S+?)(\s+log)?", spec)
    if found:
        if param.kind == "choice":
            raise ValueError(f"{name} has no range; list its choices, e.g. {name}={','.join(param.choices[:2])}")
        low, high = (_checked(param, text) for text in found.group(1, 2))
        if "full" in (low, high):
            raise ValueError(f"{name}: 'full' can only be listed, not a range's end")
        if not low < high:
            raise ValueError(f"{name}: the range {spec!r} needs low < high")
        log = bool(found.group(3))
        if log and low <= 0:
            raise ValueError(f"{name}: a log range needs a positive low end, not {_fmt(low)}")
        return Dimension(name, low=low, high=high, log=log)
    choices = tuple(dict.fromkeys(_checked(param, text) for text in spec.split(",") if text.strip()))
    if not 2 <= len(choices) <= MAX_CHOICES:
        raise ValueError(f"{name}: list 2 to {MAX_CHOICES} different values, or give a range low..high")
    return Dimension(name, choices=choices)


def _checked(param: Param, text: str):
    value = param.coerce(text)
    if param.limit(value)[1]:
        raise ValueError(f"{param.name}: {text.strip()!r} is not {param.allowed()}")
    return value


def grid_values(dim: Dimension, points: int) -> tuple:
    """A range as ``points`` values (log-spaced on a log scale, whole numbers for whole parameters;
    three significant digits between the ends); a list as its choices."""
    if dim.choices:
        return dim.choices
    spaced = (np.geomspace if dim.log else np.linspace)(dim.low, dim.high, points)
    if dim.integer:
        return tuple(dict.fromkeys(int(round(v)) for v in spaced))
    inner = [float(f"{v:.3g}") for v in spaced[1:-1]]
    return tuple(dict.fromkeys([float(dim.low), *inner, float(dim.high)]))


def distribution(dim: Dimension):
    """The dimension as Optuna's distribution (for sampling and for the importance)."""
    if dim.choices:
        return CategoricalDistribution(dim.choices)
    if dim.integer:
        return IntDistribution(int(dim.low), int(dim.high), log=dim.log)
    return FloatDistribution(float(dim.low), float(dim.high), log=dim.log)


def grid_size(space: Space, points: int) -> int:
    return math.prod(len(grid_values(d, points)) for d in space)


def trial_count(values: dict) -> int:
    """Trials the search runs: its budget, or the whole grid where that is smaller."""
    if values["sampler"] == "grid":
        return min(values["budget"], grid_size(values["space"], values["grid_points"]))
    return values["budget"]


TPE_STARTUP = 10  # TPE's first trials are random draws (Optuna's n_startup_trials): it chooses from results after them


def informed(values: dict, told: dict[int, float | None]) -> int:
    """How many of the trials asked so far the sampler chose from the results before them: none for
    grid and random (by design), and for TPE those asked once ``TPE_STARTUP`` trials had been told
    a value. A wave is asked when every trial before it has been told, so its trials count alike."""
    if values["sampler"] != "tpe":
        return 0
    count, size = 0, values["wave"]
    for start in range(0, trial_count(values), size):
        finished = sum(1 for n in range(start) if told.get(n) is not None)
        count += min(size, trial_count(values) - start) if finished >= TPE_STARTUP else 0
    return count


def _sampler(values: dict):
    seed = values["seed"]
    if values["sampler"] == "grid":
        grid = {d.name: list(grid_values(d, values["grid_points"])) for d in values["space"]}
        return optuna.samplers.GridSampler(grid, seed=seed)
    if values["sampler"] == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def _distributions(values: dict) -> dict:
    if values["sampler"] == "grid":  # the grid's own values, so the sampler and the trial agree on them
        return {d.name: CategoricalDistribution(grid_values(d, values["grid_points"])) for d in values["space"]}
    return {d.name: distribution(d) for d in values["space"]}


def configurations(values: dict, told: dict[int, float | None]) -> list[dict]:
    """The next wave of configurations ({name: value}), given ``told``: trial number -> the value the
    trial reached (its validation error), or None where it failed. Replays every earlier wave from the
    seed; [] once the budget is spent. ``told`` must hold every trial of the waves before the next."""
    study = optuna.create_study(sampler=_sampler(values))
    distributions, total, asked = _distributions(values), trial_count(values), 0
    while asked < total:
        wave = [study.ask(distributions) for _ in range(min(values["wave"], total - asked))]
        numbers = range(asked, asked + len(wave))
        if not all(n in told for n in numbers):
            return [dict(trial.params) for trial in wave]
        for trial, n in zip(wave, numbers):
            if asked + len(wave) < total:  # the last wave is never told: nothing is asked after it
                if told[n] is None:
                    study.tell(trial, state=TrialState.FAIL)
                else:
                    study.tell(trial, told[n])
        asked += len(wave)
    return []


RESAMPLES = 20       # bootstrap resamples of the trials behind each importance's spread
IMPORTANCE_RANGE = (10, 90)  # the percentiles of those resamples shown as its spread


def importance_spread(space: Space, rows: list[tuple[dict, float]], seed: int = 0) -> list[dict]:
    """Each parameter's importance over the finished trials with its spread: the ``IMPORTANCE_RANGE``
    percentiles of the importance over ``RESAMPLES`` bootstrap resamples of the trials (drawn from
    ``seed``: the same trials give the same spread). Largest first; [] while it cannot be computed."""
    weights = importance(space, rows)
    if not weights:
        return []
    rng = np.random.default_rng([seed, 7])
    draws = [importance(space, [rows[i] for i in rng.integers(0, len(rows), len(rows))]) for _ in range(RESAMPLES)]
    spread = []
    for name, weight in weights.items():
        seen = [d.get(name, 0.0) for d in draws if d]
        low, high = np.percentile(seen, IMPORTANCE_RANGE) if seen else (weight, weight)
        spread.append({"parameter": name, "importance": weight, "low": float(low), "high": float(high)})
    return sorted(spread, key=lambda row: -row["importance"])


def importance(space: Space, rows: list[tuple[dict, float]]) -> dict[str, float]:
    """Optuna's parameter importance (PED-ANOVA, its default) of the finished trials' (params,
    value); {} while there are too few trials or the values do not vary."""
    if len(rows) < 2 or len({value for _, value in rows}) < 2:
        return {}
    distributions = {d.name: distribution(d) for d in space}
    study = optuna.create_study()
    study.add_trials([optuna.trial.create_trial(params=params, distributions=distributions, value=value)
                      for params, value in rows])
    try:
        return dict(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError):  # too few distinct trials for the evaluator
        return {}
