"""A training trial's parameters as one frozen, checked configuration, and every size derived from
them, computed here once for all who need it: the trial that trains (its data, its network, its
``core.mlp.Training``), the cost model and the memory model (``studies.common.cost``, ``memory``).

A trial travels as a dict of the schema's names (``studies.common.params``) plus ``repeat`` and, in
k-fold, ``fold`` and ``k``; ``TrainingConfig.of`` reads it once where it is used. A name the dict
lacks takes the schema's default, so a default is written in one place only.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import Mapping

from core.data import CLASS_NAMES, DIGITS_TEST_FRACTION, dataset_shape
from core.mlp import MLP, Training
from studies.common.params import TRAINING

PARAMS = {p.name: p for p in TRAINING}


@dataclass(frozen=True)
class TrainingConfig:
    dataset: str
    classes: tuple
    normalisation: str
    val_fraction: float
    max_train: int
    toy_samples: int
    toy_noise: float
    hidden: tuple
    activation: str
    alpha: float
    batch_norm: str
    output: str
    loss: str
    init: str
    init_sigma: float
    learning_rate: float
    batch_size: int | str
    epochs: int
    optimiser: str
    momentum: float
    beta2: float
    l2: float
    l1: float
    dropout: float
    clip_value: float
    clip_norm: float
    schedule: str
    schedule_T: float
    schedule_c: float
    schedule_lambda: float
    schedule_N: int
    patience: int
    seed: int
    repeat: int | None = None
    fold: int | None = None  # k-fold: the fold validated; -1 the model retrained on every fold
    k: int | None = None

    @classmethod
    def of(cls, p: Mapping) -> TrainingConfig:
        """The configuration of a trial's parameters (a study's own names in them are ignored); a
        value of the wrong kind, or a choice no parameter offers, is a ValueError naming it."""
        values = {}
        for f in fields(cls):
            param = PARAMS.get(f.name)
            value = p.get(f.name, param.default if param else None)
            if param is not None:
                try:
                    value = param.coerce(value)
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"{f.name}: {exc}") from None
            values[f.name] = value
        return cls(**values)

    @cached_property
    def task(self) -> tuple[int, int, int, int]:
        """(pool of training + validation samples, test samples, inputs, classes) of the trial's task."""
        n, n_test, n_in = dataset_shape(self.dataset, self.toy_samples)
        all_classes = len(CLASS_NAMES[self.dataset])
        share = 2 / all_classes if len(self.classes) == 2 else 1.0
        if not n_test:  # digits and the toy sets: the test split is cut from the data
            n_test = round(n * DIGITS_TEST_FRACTION)
            n -= n_test
        return round(n * share), round(n_test * share), n_in, 2 if share < 1 else all_classes

    @cached_property
    def samples(self) -> tuple[int, int, int]:
        """(samples trained on, samples evaluated per epoch, splits evaluated). In k-fold the
        training and validation splits are pooled: a fold trains on all but its k-th part (the
        folds' sizes differ by one at most: the trial's own data says exactly), the final model
        on the whole pool."""
        pool, n_test, _, _ = self.task
        val = round(pool * self.val_fraction)
        train = min(pool - val, self.max_train or pool)
        if self.fold is None:
            return train, train + val + n_test, 3
        pool = train + val
        if self.fold < 0:
            return pool, pool + n_test, 2
        return pool - pool // self.k, pool, 2

    @cached_property
    def layers(self) -> list[int]:
        """[inputs, *hidden, outputs]: one output unit for a sigmoid output on two classes (the
        lecture's generalised perceptron), else one per class."""
        _, _, n_in, n_classes = self.task
        return [n_in, *self.hidden, 1 if self.output == "sigmoid" and n_classes == 2 else n_classes]

    def batch(self, n_train: int) -> int:
        """Samples per update on ``n_train`` samples: ``full`` is all of them; no batch is larger."""
        return n_train if self.batch_size == "full" else max(1, min(int(self.batch_size), n_train))

    def network(self, seed: int) -> MLP:
        """The trial's network. ``alpha`` is Leaky ReLU's slope and reaches no other activation:
        ELU keeps its own alpha of 1 (Table 6)."""
        return MLP(self.layers, activation=self.activation, output=self.output, loss=self.loss,
                   init_sigma=self.init_sigma, seed=seed, init=self.init,
                   alpha=self.alpha if self.activation == "leaky_relu" else None, batch_norm=self.batch_norm == "on")

    def training(self, n_train: int, patience: bool = True) -> Training:
        """How the network trains on ``n_train`` samples (without ``patience``: every epoch, nothing
        watched). ``beta2`` 0 is the optimiser's own default."""
        return Training(epochs=self.epochs, learning_rate=self.learning_rate, batch_size=self.batch(n_train),
                        l2=self.l2, l1=self.l1, dropout=self.dropout, optimiser=self.optimiser, momentum=self.momentum,
                        beta2=self.beta2 or None, clip_value=self.clip_value, clip_norm=self.clip_norm,
                        schedule=self.schedule, schedule_T=self.schedule_T, schedule_c=self.schedule_c,
                        schedule_lambda=self.schedule_lambda, schedule_N=self.schedule_N,
                        patience=self.patience if patience else 0)

    @property
    def general(self) -> bool:
        """Whether a batch leaves plain GD's fused path (``MLP.fit``): another optimiser, L1,
        dropout, clipping (``Training.plain``) or batch normalisation."""
        return not self.training(1).plain or self.batch_norm == "on"
