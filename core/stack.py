"""Several networks of one architecture trained together, as one stacked network.

A study's trials differ in a learning rate, an L2 penalty, an initialisation or a seed, and train the
same architecture on the same data. One at a time, a batch of a Fashion-MNIST 784-30-10 network costs
70-110 us here, of which the two first-layer products are about 45: the rest is the per-call overhead
of NumPy, paid again by every trial. Here the K members train in one loop:

- members with one seed shuffle alike (common random numbers), so they share each gathered batch,
  and groups of up to GROUP of them fuse their first layers into one matrix: ``X_b @ [W_1 | W_2 | W_3]``
  is one product reading the batch once, about a third cheaper per member than three (and so is
  the evaluation of a split). The rounding of a fused product depends on its width, so the groups
  are cut by a fixed rule (``fused_groups``) that no worker count or other member changes;
- every later layer is stacked, (K, n_in, n_out), and runs as one batched product for all members;
- members with other seeds gather their own batches and join from the second layer on.

The arithmetic is member by member that of ``MLP.fit``'s plain gradient descent (the same batches,
the same update order: the error signal of the layer below is taken before a layer's weights change,
the L2 shrink before the gradient step), so a member's history equals training it alone up to the
rounding of the wider products and of scoring in blocks (``EVAL_ROWS``). A member whose cost or
weights become non-finite stops alone: its history ends there and its weights are zeroed so that
the others never see a NaN.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from core.mlp import LOSSES, OUTPUTS, MLP, History, activation_pair


GROUP = 3  # most members of one seed whose first layers are fused into one matrix product
EVAL_ROWS = 512  # samples per block when scoring a split: the members' hidden layers stay in the cache


def cut(n: int, most: int = GROUP) -> list[int]:
    """Near-equal sizes, none over ``most``, that add up to n: 5 -> [3, 2], 7 -> [3, 2, 2]."""
    parts = -(-n // most)
    return [n // parts + (i < n % parts) for i in range(parts)]


def fused_groups(seeds: list) -> list[list[int]]:
    """Which members (indices into ``seeds``, one seed per member) fuse their first layers: each
    seed's members in order, cut by ``cut``. A fixed rule: a member's rounding depends on the width of
    its fused product, so the groups must not depend on how many workers share out the trials."""
    groups = []
    for seed in dict.fromkeys(seeds):
        members = [i for i, s in enumerate(seeds) if s == seed]
        for size in cut(len(members)):
            groups.append(members[:size])
            members = members[size:]
    return groups


class NetworkStack:
    """K networks (``MLP`` objects of equal sizes, activation, output, loss and dtype). ``groups``
    lists the members (indices into ``nets``, one seed per group) whose first layers are fused;
    by default ``fused_groups`` of the nets' seeds."""

    def __init__(self, nets: list[MLP], groups: list[list[int]] | None = None):
        first = nets[0]
        for net in nets[1:]:
            if (net.sizes, net.activation, net.alpha, net.output, net.loss, net.dtype) != (
                    first.sizes, first.activation, first.alpha, first.output, first.loss, first.dtype):
                raise ValueError("a stack needs networks of one architecture, activation, output, loss and dtype")
        if any(net.batch_norm for net in nets):
            raise ValueError("batch-normalised networks train alone (MLP.fit), not in a stack")
        groups = groups if groups is not None else fused_groups([net.seed for net in nets])
        if sorted(i for g in groups for i in g) != list(range(len(nets))) or any(
                len({nets[i].seed for i in g}) != 1 for g in groups):
            raise ValueError("groups must hold every net once, and one seed each")
        self.nets, self.k = nets, len(nets)
        self.sizes, self.activation, self.output, self.loss, self.dtype = (
            first.sizes, first.activation, first.output, first.loss, first.dtype)
        self._f, self._df = activation_pair(first.activation, first.alpha)
        self.order = [i for g in groups for i in g]  # stacked position -> net
        self.groups, start = [], 0  # (seed, first stacked position, members) of each fused group
        for g in groups:
            self.groups.append((nets[g[0]].seed, start, len(g)))
            start += len(g)
        self.seeds = list(dict.fromkeys(seed for seed, _, _ in self.groups))  # each shuffles and gathers once
        ordered = [nets[i] for i in self.order]
        width = self.sizes[1]
        self.first = [np.concatenate([ordered[j].weights[0] for j in range(s, s + n)], axis=1) for _, s, n in self.groups]
        self.first_bias = [np.concatenate([ordered[j].biases[0] for j in range(s, s + n)]) for _, s, n in self.groups]
        self.width = width
        self.weights = [np.stack([net.weights[l] for net in ordered]) for l in range(1, len(first.weights))]
        self.biases = [np.stack([net.biases[l] for net in ordered])[:, None, :] for l in range(1, len(first.biases))]

    def _group_of(self, position: int) -> tuple[int, int]:
        for g, (_, start, size) in enumerate(self.groups):
            if start <= position < start + size:
                return g, position - start
        raise IndexError(position)

    # -- forward ---------------------------------------------------------------------------------
    def _first_layer(self, inputs: list[np.ndarray]) -> np.ndarray:
        """Each seed group's inputs (n, n_in) through its fused first layer -> (K, n, width)."""
        parts = []
        for x, W, b, (_, _, size) in zip(inputs, self.first, self.first_bias, self.groups):
            z = x @ W
            z += b
            parts.append(z.reshape(len(x), size, self.width).transpose(1, 0, 2))
        return np.concatenate(parts) if len(parts) > 1 else np.ascontiguousarray(parts[0])

    def _forward(self, inputs: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray]:
        """Hidden activations [A1, ..., A_{L-1}] (K, n, units) and the output logits (K, n, n_out)."""
        f = self._f
        z = self._first_layer(inputs)
        acts = []
        for W, b in zip(self.weights, self.biases):
            acts.append(f(z, out=z))
            z = np.matmul(acts[-1], W)
            z += b
        return acts, z

    def evaluate(self, X: np.ndarray, y: np.ndarray, Y: np.ndarray) -> list[tuple[float, float]]:
        """(data cost, error rate) of every member, in the nets' order, on X : (n, n_in), y : (n,).
        In blocks of EVAL_ROWS samples, so that the K members' activations stay in the cache."""
        value = LOSSES[self.loss][0]
        costs, wrong = np.zeros(self.k), np.zeros(self.k)
        for lo in range(0, len(X), EVAL_ROWS):
            rows = slice(lo, lo + EVAL_ROWS)
            _, z = self._forward([X[rows]] * len(self.groups))
            for position, zk in enumerate(z):
                predicted = (zk[:, 0] >= 0).astype(np.int64) if zk.shape[1] == 1 else zk.argmax(axis=1)
                costs[position] += value(zk, Y[rows], self.output) * len(zk)
                wrong[position] += np.count_nonzero(predicted != y[rows])
        found = [None] * self.k
        for position, member in enumerate(self.order):
            found[member] = (float(costs[position] / len(X)), float(wrong[position] / len(X)))
        return found

    # -- one step ----------------------------------------------------------------------------------
    def _step(self, batches: list[np.ndarray], targets: np.ndarray, scale: np.ndarray,
              shrink: np.ndarray | None) -> None:
        """batches : one (b, n_in) per seed group; targets : (K, b, n_out); scale : (K,) rate / b."""
        acts, z = self._forward(batches)
        n_out = z.shape[-1]
        flat = z.reshape(-1, n_out)
        a = OUTPUTS[self.output](flat, out=flat)
        delta = LOSSES[self.loss][1](a, targets.reshape(-1, n_out), self.output).reshape(z.shape)
        delta *= scale[:, None, None]
        deriv = self._df
        for layer in range(len(self.weights) - 1, -1, -1):  # the stacked layers, from the output down
            below = np.matmul(delta, self.weights[layer].transpose(0, 2, 1))  # before this layer changes
            below *= deriv(acts[layer])
            if shrink is not None:
                self.weights[layer] *= shrink[:, None, None]
            self.weights[layer] -= np.matmul(acts[layer].transpose(0, 2, 1), delta)
            self.biases[layer] -= delta.sum(axis=1, keepdims=True)
            delta = below
        for g, (x, (_, start, size)) in enumerate(zip(batches, self.groups)):  # the fused first layers
            d = delta[start:start + size].transpose(1, 0, 2).reshape(len(x), size * self.width)
            if shrink is not None:
                self.first[g] *= np.repeat(shrink[start:start + size], self.width)
            self.first[g] -= x.T @ d
            self.first_bias[g] -= d.sum(axis=0)

    # -- training ----------------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray, *, epochs: int, learning_rates, batch_size: int, l2s=None,
            eval_sets: dict | None = None, stop: Callable[[], bool] | None = None) -> list[History]:
        """Plain gradient descent of every member, each with its own learning rate, L2 penalty and
        shuffling (from its network's seed, as ``MLP.fit``). X : (n, n_in), y : (n,); the rates and
        penalties in the nets' order. Returns one History per net; ``seconds`` is the stack's
        training time shared out equally."""
        X = np.ascontiguousarray(X, dtype=self.dtype)
        Y = self.nets[0].targets(y)
        n = len(X)
        batch_size = max(1, min(int(batch_size), n))
        rates = np.asarray(learning_rates, dtype=np.float64)[self.order]
        penalties = (np.zeros(self.k) if l2s is None else np.asarray(l2s, dtype=np.float64))[self.order]
        shrink = (1 - rates * penalties).astype(self.dtype) if penalties.any() else None
        rngs = [np.random.default_rng([seed, 1]) for seed in self.seeds]  # as MLP.fit shuffles
        source = [self.seeds.index(seed) for seed, _, _ in self.groups]  # each group's seed
        splits = {name: (np.ascontiguousarray(Xs, dtype=self.dtype), ys, self.nets[0].targets(ys))
                  for name, (Xs, ys) in (eval_sets or {}).items()}
        histories = [History() for _ in range(self.k)]
        active = np.ones(self.k, dtype=bool)  # in the nets' order
        seconds, updates = 0.0, 0
        with np.errstate(all="ignore"):  # a diverging member overflows; it is detected and stopped below
            for epoch in range(epochs + 1):
                if epoch:
                    start = time.perf_counter()
                    orders = [rng.permutation(n) for rng in rngs]
                    scale = (rates / batch_size).astype(self.dtype)  # per epoch: a retired member's rate is 0
                    for lo in range(0, n, batch_size):
                        if stop is not None and stop():
                            for history in histories:
                                history.status = "cancelled" if history.status == "ok" else history.status
                            return histories
                        idx = [order[lo:lo + batch_size] for order in orders]
                        batches, labels = [X[i] for i in idx], [Y[i] for i in idx]
                        targets = np.concatenate([np.broadcast_to(labels[s], (size, *labels[s].shape))
                                                  for s, (_, _, size) in zip(source, self.groups)])
                        self._step([batches[s] for s in source], targets, scale if len(idx[0]) == batch_size
                                   else (rates / len(idx[0])).astype(self.dtype), shrink)
                    seconds += (time.perf_counter() - start) / self.k
                    updates += -(-n // batch_size)
                scores = {name: self.evaluate(Xs, ys, Ys) for name, (Xs, ys, Ys) in splits.items()}
                for member in np.flatnonzero(active):
                    rows = [dict(epoch=epoch, split=name, cost=found[member][0], error=found[member][1],
                                 seconds=seconds, updates=updates) for name, found in scores.items()]
                    if self._finite(member, rows):
                        histories[member].rows.extend(rows)
                    else:
                        histories[member].status = "diverged"
                        active[member] = False
                        self._retire(self.order.index(member), rates, shrink)
        return histories

    def _finite(self, member: int, rows: list[dict]) -> bool:
        position = self.order.index(member)
        g, offset = self._group_of(position)
        first = self.first[g][:, offset * self.width:(offset + 1) * self.width]
        return (all(np.isfinite(r["cost"]) for r in rows) and np.isfinite(first.sum())
                and all(np.isfinite(W[position].sum()) for W in self.weights))

    def _retire(self, position: int, rates: np.ndarray, shrink: np.ndarray | None) -> None:
        """A diverged member trains no more: rate 0, weights 0 (its NaNs would only cost time)."""
        rates[position] = 0
        if shrink is not None:
            shrink[position] = 1
        g, offset = self._group_of(position)
        cols = slice(offset * self.width, (offset + 1) * self.width)
        self.first[g][:, cols] = 0
        self.first_bias[g][cols] = 0
        for W in self.weights:
            W[position] = 0
        for b in self.biases:
            b[position] = 0
