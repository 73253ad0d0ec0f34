"""Trials trained together as one stack give what they give trained one by one (core.stack)."""
import itertools

import numpy as np
import pytest

from core.data import prepare
from core.mlp import MLP, Training
from core.stack import NetworkStack, cut, fused_groups
from studies import learning_rate
from studies.common import training
from studies.common.execution import trials_of
from studies.common.launch import run_study

CASES = [(act, out, loss) for act, out, loss in itertools.product(
    ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "identity"), ("softmax", "sigmoid"),
                                                                   ("ce", "mse"))]


def train_both(dtype, activation, output, loss, seeds, rates, l2s, hidden=(12,), epochs=5, classes=(), sigmas=None,
               alpha=None):
    split = prepare("digits", classes=classes)
    n_out = 1 if output == "sigmoid" and classes else 10
    make = lambda seed, sigma: MLP([64, *hidden, n_out], activation=activation, output=output, loss=loss,  # noqa
                                   init_sigma=sigma, seed=seed, dtype=dtype, alpha=alpha)
    sigmas = sigmas or [0.05 + 0.05 * i for i in range(len(seeds))]
    evals = {"train": (split.X_train, split.y_train), "val": (split.X_val, split.y_val)}
    alone = [make(s, g).fit(split.X_train, split.y_train, Training(epochs=epochs, learning_rate=r, batch_size=32, l2=l2),
                            eval_sets=evals) for s, g, r, l2 in zip(seeds, sigmas, rates, l2s)]
    stack = NetworkStack([make(s, g) for s, g in zip(seeds, sigmas)])
    together = stack.fit(split.X_train, split.y_train, epochs=epochs, learning_rates=rates, batch_size=32, l2s=l2s,
                         eval_sets=evals)
    return alone, together


def costs(history):
    return np.array([row["cost"] for row in history.rows]), np.array([row["error"] for row in history.rows])


@pytest.mark.parametrize("activation,output,loss", CASES)
def test_float64_stack_equals_one_by_one_within_1e_10(activation, output, loss):
    seeds, rates, l2s = [3, 3, 3, 7, 7], [0.05, 0.2, 0.5, 0.1, 0.3], [0.0, 0.001, 0.0, 0.01, 0.0]
    alone, together = train_both(np.float64, activation, output, loss, seeds, rates, l2s)
    for a, t in zip(alone, together):
        assert a.status == t.status == "ok"
        (ca, ea), (ct, et) = costs(a), costs(t)
        np.testing.assert_allclose(ct, ca, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(et, ea)
        assert [r["updates"] for r in a.rows] == [r["updates"] for r in t.rows]


def test_a_stack_of_leaky_relu_nets_uses_their_alpha():
    alone, together = train_both(np.float64, "leaky_relu", "softmax", "ce", [1, 1, 2], [0.1, 0.3, 0.2], [0, 0, 0],
                                 alpha=0.3)
    for a, b in zip(alone, together):
        assert np.allclose(costs(a)[0], costs(b)[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("activation,output,loss", CASES[::3])
def test_float32_stack_within_1e_4_relative(activation, output, loss):
    alone, together = train_both(np.float32, activation, output, loss, [1, 1, 1, 2], [0.1, 0.3, 0.5, 0.2],
                                 [0.0] * 4, classes=(1, 7) if output == "sigmoid" else ())
    for a, t in zip(alone, together):
        np.testing.assert_allclose(costs(t)[0], costs(a)[0], rtol=1e-4)


def test_a_diverging_member_stops_alone():
    """A rate of 1e8 with cross-entropy and ReLU overflows; its neighbours in the stack train on unharmed."""
    alone, together = train_both(np.float64, "relu", "softmax", "ce", [5, 5, 5], [0.1, 1e8, 0.3], [0.0] * 3,
                                 hidden=(30,), sigmas=[0.5] * 3)
    assert [h.status for h in alone] == [h.status for h in together] == ["ok", "diverged", "ok"]
    assert len(together[1].rows) == len(alone[1].rows) < len(together[0].rows)
    for k in (0, 2):
        np.testing.assert_allclose(costs(together[k])[0], costs(alone[k])[0], rtol=1e-10)


def test_no_hidden_layer_and_two_hidden_layers_stack_too():
    for hidden in ((), (10, 6)):
        alone, together = train_both(np.float64, "tanh", "softmax", "ce", [2, 2, 4], [0.1, 0.4, 0.2], [0.0] * 3,
                                     hidden=hidden, epochs=3)
        for a, t in zip(alone, together):
            np.testing.assert_allclose(costs(t)[0], costs(a)[0], rtol=1e-10)


def test_fused_groups_cut_each_seed_by_a_fixed_rule():
    assert [cut(n) for n in (1, 2, 3, 4, 5, 7)] == [[1], [2], [3], [2, 2], [3, 2], [3, 2, 2]]
    assert fused_groups([9, 9, 4, 9, 4, 9, 9]) == [[0, 1, 3], [5, 6], [2, 4]]


def test_a_groups_numbers_do_not_depend_on_the_other_groups_in_its_stack():
    """Grouping, not company, decides a member's numbers: each fused group trained in a stack with other
    groups gives bit for bit what it gives in a stack of its own (a diverging member included)."""
    split = prepare("digits")
    evals = {"train": (split.X_train, split.y_train), "val": (split.X_val, split.y_val)}
    seeds, rates = [1, 1, 1, 1, 1, 2, 2], [0.1, 0.2, 1e8, 0.4, 0.5, 0.6, 0.7]
    for dtype, activation in ((np.float32, "relu"), (np.float64, "sigmoid")):
        def make(seed):
            return MLP([64, 20, 10], activation=activation, seed=seed, dtype=dtype, init_sigma=0.3)

        def fit(members):
            return NetworkStack([make(seeds[i]) for i in members]).fit(
                split.X_train, split.y_train, epochs=4, learning_rates=[rates[i] for i in members], batch_size=32,
                eval_sets=evals)
        def numbers(histories):
            return [(h.status, [(r["epoch"], r["split"], r["cost"], r["error"]) for r in h.rows]) for h in histories]
        together = fit(range(len(seeds)))
        assert numbers(together) == numbers([h for group in fused_groups(seeds) for h in fit(group)])
        if activation == "relu":
            assert [h.status for h in together] == ["ok", "ok", "diverged", "ok", "ok", "ok", "ok"]


@pytest.mark.slow
def test_the_engine_stacks_a_sweep_and_the_numbers_do_not_depend_on_the_workers():
    values = learning_rate.SCHEMA.parse({"epochs": "3", "learning_rates": "0.1,0.5,2", "repeats": "2"})

    def sizes(values):
        return sorted(len(t.params.get("members", [t])) for t in training.stacks(trials_of(learning_rate, values)))
    assert sizes(values) == [3, 3]                                          # one stack per seed
    assert sizes(learning_rate.SCHEMA.defaults()) == [2, 2, 2, 3, 3, 3]     # five rates: 3 + 2 per seed
    assert sizes(learning_rate.SCHEMA.parse({"learning_rates": "0.1", "repeats": "3"})) == [1, 1, 1]
    single, one, two = (run_study(learning_rate, values, n_jobs=1, stack=False),
                        run_study(learning_rate, values, n_jobs=1), run_study(learning_rate, values, n_jobs=2))
    columns = ["trial", "seed", "epoch", "split", "cost", "error", "updates", "status"]
    assert one.tidy[columns].equals(two.tidy[columns])                     # pure: any number of workers
    np.testing.assert_allclose(one.tidy["cost"], single.tidy["cost"], rtol=1e-4)
    assert one.tidy[["trial", "epoch", "split", "status"]].equals(single.tidy[["trial", "epoch", "split", "status"]])


def test_cancelling_a_stack_cancels_its_members(tmp_path):
    from service.cancel import FlagFileToken, watching
    from service.runner import execute
    values = learning_rate.SCHEMA.parse({"epochs": "200", "learning_rates": "0.1,0.5", "repeats": "1"})
    (task,) = training.stacks(trials_of(learning_rate, values))
    token = FlagFileToken(tmp_path / "stop")
    token.set()
    with watching(token):
        result = execute(training.train_any, task, token)
    assert [p["status"] for p in result.payload["members"]] == ["cancelled", "cancelled"]
