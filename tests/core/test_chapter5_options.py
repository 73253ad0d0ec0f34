"""Chapter 5's network options against independent oracles: batch normalisation (5.1.5, 8.1), the
activations of Table 6, gradient clipping (5.1.7), learning-rate schedules (5.2.6) and early
stopping with patience (5.3.3)."""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.data import prepare
from core.mlp import MLP, Training
from core.optimisers import clip
from core.schedules import Scheduler, closed_form
from test_mlp_gradients import central_differences, relative_error


def numeric_gradient(net, X, Y, params, **fixed):
    """Central differences of the training-mode cost for each array in ``params``."""
    return central_differences(lambda: net.cost(X, Y, training=True, **fixed), params)


def network(activation="sigmoid", batch_norm=False, hidden=(6, 5), output="softmax", loss="ce", n_out=3, **kw):
    net = MLP([4, *hidden, n_out], activation=activation, output=output, loss=loss, init_sigma=0.8, seed=4,
              dtype=np.float64, batch_norm=batch_norm, **kw)
    rng = np.random.default_rng(11)
    for b in net.biases:
        b[:] = rng.normal(scale=0.3, size=b.shape)
    for g, beta in zip(net.gammas, net.betas):   # away from the initial 1 and 0: general position
        g[:] = rng.uniform(0.5, 1.5, size=g.shape)
        beta[:] = rng.normal(scale=0.3, size=beta.shape)
    return net


def data(n=10, n_out=3, seed=5):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.integers(0, n_out, size=n)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "elu"])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_gradients_with_batch_norm_and_table_6_activations_match_central_differences(activation, batch_norm):
    """Every weight, bias, gamma and beta, in float64, batch statistics in the cost as in training."""
    net = network(activation, batch_norm, **({"alpha": 0.2} if activation in ("leaky_relu", "elu") else {}))
    X, y = data()
    Y = net.targets(y)
    analytic = [g for pair in net.gradients(X, Y, l2=0.01) for g in pair]
    numeric = numeric_gradient(net, X, Y, net.parameters(), l2=0.01)
    assert len(analytic) == len(net.parameters()) == 2 * 3 + (4 if batch_norm else 0)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        assert relative_error(a, n) < 1e-6 or (np.abs(a).max() < 1e-9 and np.abs(n).max() < 1e-7), i


def test_a_linear_output_regresses_with_the_lectures_mse():
    """Identity output with MSE (the universal-approximation set-up of 4.3.2): J = 1/(2m) sum (h - y)^2."""
    net = network("tanh", hidden=(7,), output="identity", loss="mse", n_out=1)
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(12, 4)), rng.normal(size=12)
    Y = net.targets(y)
    h = net.predict_proba(X)[:, 0]
    assert net.cost(X, Y) == pytest.approx(0.5 * np.mean((h - y) ** 2), rel=1e-12)
    analytic = [g for pair in net.gradients(X, Y) for g in pair]
    for a, n in zip(analytic, numeric_gradient(net, X, Y, net.parameters())):
        assert relative_error(a, n) < 1e-6
    assert net.evaluate(X, y) == (pytest.approx(net.cost(X, Y)), pytest.approx(net.cost(X, Y)))
    with pytest.raises(ValueError, match="regression"):
        MLP([4, 3, 1], output="identity", loss="ce")


def batch_norm_by_the_book(z, gamma, beta, g, eps):
    """One feature at a time, with the m x m Jacobian d z_hat_k / d z_i written out as in 8.1.1.2:
    (delta_ik - 1/m) / sqrt(var + eps) - (z_k - mu)(z_i - mu) / (m (var + eps)^(3/2))."""
    m, units = z.shape
    out, dz = np.zeros_like(z), np.zeros_like(z)
    dgamma, dbeta = np.zeros(units), np.zeros(units)
    for j in range(units):
        col = z[:, j]
        mu = sum(col) / m
        var = sum((v - mu) ** 2 for v in col) / m
        root = (var + eps) ** 0.5
        hat = [(v - mu) / root for v in col]
        for i in range(m):
            out[i, j] = gamma[j] * hat[i] + beta[j]
            dgamma[j] += g[i, j] * hat[i]
            dbeta[j] += g[i, j]
        for i in range(m):
            total = 0.0
            for k in range(m):
                jacobian = ((1.0 if i == k else 0.0) - 1 / m) / root - (col[k] - mu) * (col[i] - mu) / (m * root ** 3)
                total += g[k, j] * gamma[j] * jacobian
            dz[i, j] = total
    return out, dz, dgamma, dbeta


def test_batch_norm_forward_and_backward_agree_with_an_independent_implementation():
    rng = np.random.default_rng(0)
    net = network("sigmoid", batch_norm=True, hidden=(5,))
    z = rng.normal(loc=2.0, scale=3.0, size=(7, 5))
    g = rng.normal(size=(7, 5))
    batch: list = []
    out = net._normalise(0, z.copy(), batch)
    grads = [None]
    dz = net._normalise_back(0, g, batch, grads)
    want_out, want_dz, want_dgamma, want_dbeta = batch_norm_by_the_book(z, net.gammas[0], net.betas[0], g, net.BN_EPS)
    np.testing.assert_allclose(out, want_out, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dz, want_dz, rtol=0, atol=1e-10)
    np.testing.assert_allclose(grads[0][0], want_dgamma, rtol=0, atol=1e-10)
    np.testing.assert_allclose(grads[0][1], want_dbeta, rtol=0, atol=1e-10)


def test_batch_norm_uses_running_averages_outside_training():
    """Validation and test see the running mu and sigma (5.1.5's weighted averages), not their own
    batch: one sample alone gets the same output as inside a large batch."""
    split = prepare("digits")
    net = MLP([64, 20, 10], batch_norm=True, seed=1, dtype=np.float64, init_sigma=0.3)
    net.fit(split.X_train, split.y_train, Training(epochs=3, learning_rate=0.5, batch_size=32))
    one = net.predict_proba(split.X_val[:1])
    assert np.allclose(one, net.predict_proba(split.X_val)[:1], atol=1e-12)
    z = split.X_train @ net.weights[0] + net.biases[0]
    assert np.allclose(net.running_mean[0], z.mean(axis=0), atol=0.25 * z.std(axis=0).mean())
    assert net.evaluate(split.X_val, split.y_val)[1] < 0.2


def test_clipping_keeps_small_gradients_and_shortens_large_ones_along_their_direction():
    net = network("tanh")
    X, y = data()
    Y = net.targets(y)
    exact = [g for pair in net.gradients(X, Y) for g in pair]
    numeric = numeric_gradient(net, X, Y, net.parameters())
    length = np.sqrt(sum((n * n).sum() for n in numeric))
    kept = clip([g.copy() for g in exact], norm=2 * length)
    assert all(relative_error(k, n) < 1e-6 for k, n in zip(kept, numeric))
    short = clip([g.copy() for g in exact], norm=length / 4)
    assert np.sqrt(sum((s * s).sum() for s in short)) == pytest.approx(length / 4, rel=1e-6)
    assert all(relative_error(4 * s, n) < 1e-6 for s, n in zip(short, numeric))
    limit = 0.5 * max(np.abs(n).max() for n in numeric)
    by_value = clip([g.copy() for g in exact], value=limit)
    for b, n in zip(by_value, numeric):
        np.testing.assert_allclose(b, np.clip(n, -limit, limit), atol=1e-7)


def test_each_schedule_follows_the_lectures_formula():
    """5.2.6's table (rates 0.1 for epochs 1-100, 0.01 for 101-200, 0.001 for 201-300), exponential
    10x per T, power halving at t = T with c = 1; and what fit uses is what the formula says."""
    piecewise = [closed_form("piecewise", 0.1, epoch - 1, 100) for epoch in (1, 100, 101, 200, 201, 300)]
    assert piecewise == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    assert closed_form("exponential", 2.0, 30, 30) == pytest.approx(0.2)
    assert closed_form("exponential", 2.0, 15, 30) == pytest.approx(2.0 / np.sqrt(10))
    assert closed_form("power", 2.0, 30, 30, c=1) == pytest.approx(1.0)
    assert closed_form("power", 2.0, 90, 30, c=2) == pytest.approx(2.0 / 16)
    split = prepare("digits")
    for kind in ("constant", "piecewise", "exponential", "power"):
        net = MLP([64, 10, 10], seed=0)
        history = net.fit(split.X_train[:200], split.y_train[:200],
                          Training(epochs=12, learning_rate=0.5, batch_size=50, schedule=kind, schedule_T=4, schedule_c=1.5))
        assert history.rates == pytest.approx([closed_form(kind, 0.5, t, 4, 1.5) for t in range(12)]), kind


def test_performance_scheduling_cuts_the_rate_after_n_epochs_without_a_better_validation_error():
    schedule = Scheduler("performance", factor=0.1, wait=2)
    seen = []
    for error in [0.5, 0.4, 0.45, 0.41, 0.3, 0.35, 0.36, 0.37, 0.38]:
        seen.append(schedule.rate(1.0, len(seen)))
        schedule.observe(error)
    assert seen == pytest.approx([1, 1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01])


def test_patience_stops_at_the_right_epoch_and_keeps_the_best_weights():
    """The stop comes at the first epoch p epochs after the best validation error of the same run
    trained without patience (same seed, so the same curve up to there); the weights are those of
    the best epoch, so the validation error after training is that minimum."""
    split = prepare("digits", max_train=150)
    evals = {"val": (split.X_val, split.y_val)}
    how = Training(epochs=120, learning_rate=2.0, batch_size=16)
    full = MLP([64, 40, 10], seed=3).fit(split.X_train, split.y_train, how, eval_sets=evals)
    val = [r["error"] for r in full.rows]
    patience = 5
    expected = next(e for e in range(len(val)) if e - int(np.argmin(val[:e + 1])) >= patience)
    net = MLP([64, 40, 10], seed=3)
    history = net.fit(split.X_train, split.y_train, replace(how, patience=patience), eval_sets=evals)
    assert expected < 120, "the run must overfit for this test to mean anything"
    assert history.stopped_at == expected and history.restored == int(np.argmin(val[:expected + 1]))
    assert [r["error"] for r in history.rows] == val[:expected + 1]
    assert net.evaluate(split.X_val, split.y_val)[1] == min(val[:expected + 1])
    with pytest.raises(ValueError, match="validation"):
        MLP([64, 10]).fit(split.X_train, split.y_train, Training(epochs=2, learning_rate=0.1, batch_size=8, patience=2))


def test_a_study_trains_with_the_new_options_alone_and_reports_where_patience_stopped():
    """Batch norm, a schedule, clipping and patience through a whole study: such trials are not
    stacked (they train alone, on the general path), each reports its epoch rates, and a stopped
    trial's final errors are those of the epoch whose weights it kept."""
    from studies import learning_rate
    from studies.common import cost
    from studies.common.execution import trials_of
    from studies.common.launch import run_study
    from studies.common.training import stacks

    values = learning_rate.SCHEMA.parse({"learning_rates": "0.5,4", "epochs": "60", "repeats": "1", "max_train": "200",
                                         "batch_norm": "on", "schedule": "exponential", "schedule_T": "20",
                                         "clip_norm": "5", "patience": "4"})
    plan = learning_rate.plan(values)
    trials = trials_of(learning_rate, values)
    assert len(stacks(trials)) == len(trials) == 2                 # each alone, not one stack of two
    plain = learning_rate.SCHEMA.parse({"learning_rates": "0.5,4", "epochs": "60", "repeats": "1", "max_train": "200"})
    one = learning_rate.plan(plain)[0]
    assert cost.training({**one, "batch_norm": "on"})[1] > cost.training(one)[1]   # the estimate counts it
    result = run_study(learning_rate, values, n_jobs=1)
    summary = result.summary
    assert (summary["status"] == "ok").all()
    stopped = summary[summary["stopped_epoch"].notna()]
    assert len(stopped), "patience 4 stops a 60-epoch run on 200 samples"
    for _, row in stopped.iterrows():
        val = result.tidy[(result.tidy["trial"] == row["trial"]) & (result.tidy["split"] == "val")]
        assert val["epoch"].max() == row["stopped_epoch"]
        assert row["final_val_error"] == val["error"].min()


def test_hidden_logits_are_what_each_activation_receives():
    net = network("tanh", batch_norm=False)
    X, _ = data()
    z1 = X @ net.weights[0] + net.biases[0]
    z2 = np.tanh(z1) @ net.weights[1] + net.biases[1]
    got = net.hidden_logits(X)
    np.testing.assert_allclose(got[0], z1, atol=1e-12) and np.testing.assert_allclose(got[1], z2, atol=1e-12)
    normed = network("tanh", batch_norm=True)
    z1 = X @ normed.weights[0] + normed.biases[0]
    by_running = (z1 - normed.running_mean[0]) / np.sqrt(normed.running_std[0] ** 2 + normed.BN_EPS)
    np.testing.assert_allclose(normed.hidden_logits(X)[0], by_running * normed.gammas[0] + normed.betas[0], atol=1e-12)


def test_a_relu_unit_whose_logit_is_negative_for_every_sample_is_dead_and_gets_no_gradient():
    """5.1.6's dying unit, made by hand: bias -100 on one ReLU unit. Its slope is 0 for every sample,
    so its incoming weights get exactly zero gradient; the same unit with Leaky ReLU still learns."""
    X, y = data()
    for activation, dead in (("relu", True), ("leaky_relu", False)):
        net = network(activation, hidden=(5,))
        net.biases[0][2] = -100.0
        slopes, peak = net.activation_slopes(X)
        assert peak == 1.0 and bool((slopes[0][:, 2] == 0).all()) == dead
        dW = net.gradients(X, net.targets(y))[0][0]
        assert bool((dW[:, 2] == 0).all()) == dead
    assert network("sigmoid").activation_slopes(X)[1] == pytest.approx(0.25)


def test_patience_that_outlasts_the_epochs_still_returns_the_best_epochs_weights():
    """5.3.3: the parameters where the smallest validation error was observed, also when the epoch budget
    ends training before the patience runs out (then ``stopped_at`` stays empty: patience did not end it).
    The oracle is the same run without patience: its validation curve, and its last epoch's error."""
    split = prepare("digits", max_train=150)
    evals = {"val": (split.X_val, split.y_val)}
    how = Training(epochs=40, learning_rate=2.0, batch_size=16)
    full = MLP([64, 40, 10], seed=3).fit(split.X_train, split.y_train, how, eval_sets=evals)
    val = [r["error"] for r in full.rows]
    best = int(np.argmin(val))
    assert val[-1] > min(val), "the last epoch must be worse than the best for this test to mean anything"
    net = MLP([64, 40, 10], seed=3)
    history = net.fit(split.X_train, split.y_train, replace(how, patience=1000), eval_sets=evals)
    assert history.stopped_at is None and history.restored == best
    assert net.evaluate(split.X_val, split.y_val)[1] == min(val)


def test_a_study_whose_epochs_end_before_patience_reports_the_best_epoch_and_says_so():
    """Through the learning-rate study: the summary's final errors are the best epoch's, and the takeaway
    says the epochs, not patience, ended those trials."""
    from studies import learning_rate
    from studies.common.launch import run_study

    values = learning_rate.SCHEMA.parse({"learning_rates": "4", "epochs": "60", "repeats": "1", "max_train": "150",
                                         "batch_size": "16", "patience": "1000", "dropout": "0.1"})
    result = run_study(learning_rate, values, n_jobs=1)
    row = result.summary.iloc[0]
    val = result.tidy[(result.tidy["trial"] == row["trial"]) & (result.tidy["split"] == "val")].set_index("epoch")
    assert pd.isna(row["stopped_epoch"]) and row["kept_epoch"] == val["error"].idxmin()
    assert row["final_val_error"] == val["error"].min() < val["error"].iloc[-1]
    text = " ".join(learning_rate.takeaway(result))
    assert "1 of 1 trials ran out of epochs before their patience did" in text and "Early stopping ended" not in text


@pytest.mark.slow
def test_elu_trains_with_its_own_alpha_of_1_through_a_study_against_pytorch():
    """Table 6's ELU is alpha (e^z - 1) below 0 with alpha 1, whatever Leaky ReLU's ``alpha`` says: the
    network a study's trial trains, evaluated by PyTorch's ELU (alpha 1) from the same weights."""
    import torch
    import torch.nn.functional as F

    from studies import activations
    from studies.common.execution import trials_of
    from studies.common.training import fit_trial

    values = activations.SCHEMA.parse({"activations": "elu", "depth": "2", "width": "8", "epochs": "1",
                                       "repeats": "1", "max_train": "100", "alpha": "0.01"})
    net, _, split, *_ = fit_trial(trials_of(activations, values)[0])
    X = torch.tensor(split.X_val, dtype=torch.float64)
    a = X
    for W, b in zip(net.weights[:-1], net.biases[:-1]):
        a = F.elu(a @ torch.tensor(W, dtype=torch.float64) + torch.tensor(b, dtype=torch.float64), alpha=1.0)
    logits = a @ torch.tensor(net.weights[-1], dtype=torch.float64) + torch.tensor(net.biases[-1], dtype=torch.float64)
    expected = torch.softmax(logits, dim=1).numpy()
    assert a.min().item() < -0.05, "some units must sit well below 0, where alpha matters"
    np.testing.assert_allclose(net.predict_proba(split.X_val), expected, rtol=1e-4, atol=1e-5)
