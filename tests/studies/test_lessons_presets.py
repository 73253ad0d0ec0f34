"""Every default and every lecture preset teaches its lesson on the data it runs on (direction and
rough size), not only finishes. Fashion-MNIST presets run on Debian's files, which CI installs;
the defaults of learning rate, regularisation and bias-variance are checked in their own files."""
import functools

import numpy as np
import pytest

from studies import STUDIES
from studies.common.launch import run_study
from studies.learning_rate import epochs_to_reach

pytestmark = pytest.mark.slow  # real processes, servers or browsers, or studies run to their lessons


@functools.lru_cache(maxsize=None)
def run(name: str, preset: str | None = None):
    study = STUDIES[name]
    values = study.SCHEMA.parse(study.PRESETS[preset]) if preset else study.SCHEMA.defaults()
    return run_study(study, values, n_jobs=2)


def ok_means(result, by, column):
    ok = result.summary[result.summary["status"] == "ok"]
    return ok.groupby(by)[column].mean()


def sweep_lessons_of_batch_size(result):
    """Table 4 / Fig. 119: after a fixed number of epochs the error rises with the batch size, and
    batch 1 costs far more time per epoch than one update per epoch."""
    final = ok_means(result, "batch_size", "final_val_error")
    sizes = sorted(final.index)
    assert final[sizes[-1]] > final[sizes[0]] + 0.1
    assert final.is_monotonic_increasing or final[sizes[-1]] == final.max()
    per_epoch = ok_means(result, "batch_size", "seconds_per_epoch")
    if sizes[0] == 1:
        assert per_epoch[1] > 3 * per_epoch[sizes[-1]]


def lesson_hidden_units(result):
    """Fig. 120/123: training error keeps falling with units, test error falls and levels off, and
    the gap between them grows; the best on validation is not the smallest network."""
    train = ok_means(result, "hidden_units", "final_train_error")
    test = ok_means(result, "hidden_units", "final_test_error")
    units = sorted(train.index)
    assert train[units[0]] > train[units[-1]] + 0.3
    assert test[units[0]] > test[units[-1]] + 0.2
    assert abs(test[units[-1]] - test[units[-2]]) < 0.02                      # levelled off
    assert test[units[-1]] - train[units[-1]] > test[units[0]] - train[units[0]]
    assert ok_means(result, "hidden_units", "final_val_error").idxmin() != units[0]


def lesson_kfold(result):
    """Fig. 79: the mean over the folds has its minimum inside the range; one epoch is far worse."""
    s = result.summary.set_index("value")
    best = s["mean_val_error"].idxmin()
    assert s.index.min() < best < s.index.max()
    assert s.loc[s.index.min(), "mean_val_error"] > s.loc[best, "mean_val_error"] + 0.05
    assert s.loc[best, "best"] and s.loc[best, "test_error"] < 0.1


def lesson_pr_roc_binary(result, floor):
    """Fig. 65/67: both curves far above the random classifier; the longer-trained model ahead."""
    s = result.summary.set_index("epochs")
    assert (s["auc_roc"] > floor).all() and (s["auc_pr"] > s["baseline_precision"] + 0.3).all()
    assert s["auc_roc"].iloc[-1] >= s["auc_roc"].iloc[0]


def lesson_init(result):
    """Fig. 121/122: from sigma 0 every hidden unit gets the same update, so the units stay a few groups
    at most (one where the BLAS rounds every column of a product alike; a few where its kernels round
    blocks of columns differently and training amplifies the difference), while a moderate sigma's 30
    units all differ and learn. A network of one distinct sigmoid unit cannot tell ten digits apart
    (error above 50 %); a few groups are a network of a few units, still behind sigma 0.05."""
    val = ok_means(result, "init_sigma", "final_val_error")
    units = result.summary.groupby("init_sigma")["distinct_units"].max()
    assert units[0.0] <= 10 and units[0.05] == 30 and val[0.05] < 0.1 and val[0.0] > val[0.05]
    if units[0.0] == 1:
        assert val[0.0] > 0.5


def lesson_init_not_converged(result):
    """Fig. 121: over the first 10 epochs sigma 0 does not converge (error above 50 %, under every BLAS
    measured: the split, where the rounding makes one, comes later) while sigma 0.05 learns."""
    lesson_init(result)
    val = ok_means(result, "init_sigma", "final_val_error")
    assert val[0.0] > 0.5


def lesson_learning_rate_fig_57(result):
    """Fig. 57/58: over 10,000 epochs the generalised perceptron's test error stops falling long before
    the end (the same at epoch 1,000 and 10,000) while its training cost keeps falling (by more than
    five times from epoch 1,000 to 10,000)."""
    tidy = result.tidy.set_index(["split", "epoch"])
    assert tidy.loc[("test", 1000), "error"] == tidy.loc[("test", 10000), "error"] < 0.05
    assert tidy.loc[("train", 10000), "cost"] < tidy.loc[("train", 1000), "cost"] / 5


def lesson_normalisation(result):
    """3.2.2: at one learning rate the raw inputs learn far worse than any normalised ones, which all
    learn (tanh units on digits' 0-16 pixel values)."""
    val = ok_means(result, "normalisation", "final_val_error")
    normalised = val.drop("none")
    assert val["none"] > normalised.max() + 0.3 and normalised.max() < 0.1


def lesson_clipping_at_a_cliff(result):
    """5.1.7, Fig. 132: at a rate that throws the unclipped network off the cliff (it stays near chance,
    90 % on ten classes), clipping the gradient's norm to 1 lets the same rate train; a threshold too
    high to act (10) helps no more than none."""
    val = ok_means(result, "clip_norm", "final_val_error")
    assert val[0.0] > 0.8 and val[10.0] > 0.8 and val[1.0] < 0.3


def lesson_clipping_not_needed(result):
    """Without a cliff (a gentle rate) every setting learns and clipping does not beat none by more than
    a couple of validation samples."""
    val = ok_means(result, "clip_norm", "final_val_error")
    assert val.max() < 0.1 and val.min() > val[0.0] - 0.01


def training_size_ends(result):
    ok = result.summary[result.summary["status"] == "ok"]
    means = ok.groupby("train_samples")[["final_train_cost", "final_val_cost", "final_val_error"]].mean()
    return means.iloc[0], means.iloc[-1]


def lesson_training_size(result, overfits: bool):
    """3.6.2.2, Fig. 80: with more training samples the training cost rises and the validation cost
    falls; the validation error falls by far. Softmax regression on 800 digits still overfits (its
    validation cost over twice its training cost); a strong L2 penalty makes the curves meet."""
    first, last = training_size_ends(result)
    assert last["final_train_cost"] > first["final_train_cost"] and last["final_val_cost"] < first["final_val_cost"]
    assert last["final_val_error"] < first["final_val_error"] - 0.2
    assert (last["final_val_cost"] > 2 * last["final_train_cost"]) == overfits


def lesson_optimisers(result, interior=True, far=("adagrad", "rmsprop", "adam")):
    """5.2: each optimiser compared at its best rate, found inside the tried range; on the elongated
    bowl the adaptive ones end below plain GD (Fig. 134), those in ``far`` at least a hundred times
    (over 200 steps GD catches up with RMSProp, whose fixed-size steps hover around the minimum)."""
    best = result.tables["best"]
    chosen = best[best["best"]].set_index("optimiser")["learning_rate"]
    rates = sorted(result.params["rates"])
    if interior:
        assert all(rates[0] < rate < rates[-1] for rate in chosen), chosen.to_dict()
    paths = result.tables["paths"]
    bowl = paths[(paths["surface"] == "elongated bowl") & (paths["step"] == paths["step"].max())]
    cost = bowl.set_index("optimiser")["cost"]
    for name in {"adagrad", "rmsprop", "adam"} & set(cost.index):
        assert cost[name] < cost["gd"] / (100 if name in far else 1), name


def lesson_decision_boundary(result, wide, narrow, margin=0.05):
    """4.3.1: the richer network separates what the poorer one cannot."""
    test = ok_means(result, "setting", "final_test_error")
    assert test[wide] + margin < test[narrow]


def lesson_learning_rate_fig_55(result):
    """Fig. 55: every rate gets there on this easy pair, the smallest one takes the longest."""
    _, reached = epochs_to_reach(result)
    assert None not in reached.values()
    assert reached[0.1] > max(reached[0.5], reached[2.0])


def lesson_learning_rate_fig_118(result):
    """Fig. 118: too small a rate is slow and too large a one does not converge; the best lies between."""
    val = ok_means(result, "learning_rate", "final_val_error")
    best = val.idxmin()
    assert min(val.index) < best < max(val.index)
    assert val[min(val.index)] > val[best] + 0.03 and val[max(val.index)] > val[best] + 0.05


def lesson_bias_variance_runge(result):
    """Equispaced inputs: the highest degree's test error blows up far beyond the best."""
    tidy = result.tidy.set_index("degree")
    assert tidy["test_mse"].iloc[-1] > 10 * tidy["test_mse"].min()


def lesson_bias_variance_fig_75(result):
    tidy = result.tidy.set_index("degree")
    best = tidy["test_mse"].idxmin()
    assert 3 <= best <= 10 and tidy["bias2"].iloc[0] > 10 * tidy.loc[best, "bias2"]
    assert tidy["variance"].iloc[-1] > 3 * tidy.loc[best, "variance"]


def lesson_multiclass(result):
    """Fig. 61/62: the chosen model's confusion matrix is mostly diagonal: under 10 % test error."""
    assert result.summary.groupby("model")["test_error"].first().min() < 0.1


def lesson_schedules_tame_a_too_high_rate(result):
    """5.2.6: from a rate too high to settle (the defaults), every decaying schedule jumps far less
    between the last epochs than the constant rate and ends below it; the smooth decays (exponential,
    power) at less than two thirds of its error. The takeaway says both, outside the noise."""
    final, wobble = ok_means(result, "schedule", "final_val_error"), ok_means(result, "schedule", "wobble")
    for schedule in final.index.drop("constant"):
        assert final[schedule] < final["constant"] and wobble[schedule] < wobble["constant"] / 2, schedule
    assert final["exponential"] < 2 / 3 * final["constant"] and final["power"] < 2 / 3 * final["constant"]
    line = STUDIES["schedules"].takeaway(result)[1]
    assert "exponential and power end lower, outside the noise" in line or "exponential and power end lower" in \
        line.replace("performance, ", "").replace("piecewise, ", "")
    assert "piecewise, performance, exponential and power settle more" in line


def lesson_schedules_table(result):
    """5.2.6.1's table reproduced: 0.1 for epochs 1-100, 0.01 for 101-200, 0.001 for 201-300; and at
    a rate that already settles the schedule does not help (a tenth of an already small rate crawls)."""
    rates = result.tables["rates"]
    piecewise = rates[rates["schedule"] == "piecewise"].groupby("epoch")["learning_rate"].first()
    for epochs, rate in (((1, 100), 0.1), ((101, 200), 0.01), ((201, 300), 0.001)):
        assert np.allclose(piecewise.loc[epochs[0]:epochs[1]], rate)
    final = ok_means(result, "schedule", "final_val_error")
    assert final["piecewise"] >= final["constant"] - 0.005


def lesson_schedules_at_a_good_rate(result):
    """A rate that settles by itself: no schedule beats it by more than half a point, and the one that
    decays fastest (exponential, a tenth every 10 epochs) stops learning early and ends worst."""
    final = ok_means(result, "schedule", "final_val_error")
    assert final.drop("constant").min() >= final["constant"] - 0.005
    assert final.idxmax() == "exponential"


def lesson_universal_more_units(result):
    """4.3.2: the test MSE on sin(3πx) falls by more than an order of magnitude from 1 to 32 units,
    and the largest network is within a factor 3 of the best one."""
    mse = ok_means(result, "hidden_units", "final_test_mse")
    assert mse[mse.index.max()] < mse[mse.index.min()] / 10
    assert mse[mse.index.max()] < 3 * mse.min()


def lesson_universal_step(result):
    """Fig. 101-103: one steep sigmoid already draws the step: its MSE is under a tenth of the step's
    variance (0.25), and four units do better still."""
    mse = ok_means(result, "hidden_units", "final_test_mse")
    assert mse[1] < 0.025 and mse[4] < mse[1]


def lesson_universal_bump(result):
    """A bump goes up and down: one sigmoid can only go one way (MSE over 0.03), four units draw it
    at under a twentieth of that error."""
    mse = ok_means(result, "hidden_units", "final_test_mse")
    assert mse[1] > 0.03 and mse[4] < mse[1] / 20


def bn_means(result):
    return ok_means(result, ["depth", "learning_rate", "batch_norm"], "final_val_error")


def lesson_batch_norm_deep_sigmoid(result):
    """5.1.5: plain sigmoid networks of 3 and 4 layers stay at chance (90 %) after 20 epochs, the
    batch-normalised ones get below 6 % at every rate; with one layer both train (under 8 %)."""
    means = bn_means(result)
    for rate in (0.1, 1.0):
        for depth in (3, 4):
            assert means[(depth, rate, "off")] > 0.85 and means[(depth, rate, "on")] < 0.06
        assert means[(1, rate, "off")] < 0.08 and means[(1, rate, "on")] < 0.08


def lesson_batch_norm_high_rates(result):
    """5.1.5, "it allows much higher learning rates": at α 20 the plain 2-layer network is at chance,
    the batch-normalised one under 10 %."""
    means = bn_means(result)
    assert means[(2, 20.0, "off")] > 0.85 and means[(2, 20.0, "on")] < 0.1


def lesson_batch_norm_not_needed_with_he_and_relu(result):
    """With He initialisation and ReLU (5.1.4) deep plain networks train as well: batch normalisation
    changes the error by less than two points."""
    means = bn_means(result)
    for depth in (2, 4):
        assert means[(depth, 0.1, "off")] < 0.06 and abs(means[(depth, 0.1, "off")] - means[(depth, 0.1, "on")]) < 0.02


def lesson_activations_deep_net_at_a_high_rate(result):
    """5.1.6 from small weights at α 1 through four layers: the sigmoid network learns nothing
    (vanishing gradients), ReLU loses over a third of its units for good, Leaky ReLU none; tanh is the
    one that trains (under 8 %), with over a third of its unit-sample pairs saturated."""
    error = ok_means(result, "activation", "final_val_error")
    dead = ok_means(result, "activation", "dead")
    saturated = ok_means(result, "activation", "saturated")
    assert error["sigmoid"] > 0.85 and error["tanh"] < 0.08
    assert dead["relu"] > 0.33 and dead["leaky_relu"] == 0 and dead["sigmoid"] == 0
    assert saturated["tanh"] > 0.33


def lesson_activations_table_6(result):
    """Table 6 and 5.1.6 in six layers from He weights: the sigmoid network lags far behind (over 50 %),
    the ReLU family and tanh train (under 6 %); ReLU loses units for good, Leaky ReLU and ELU lose none.
    The takeaway names sigmoid worst and no activation of the ReLU family as worst."""
    error, dead = ok_means(result, "activation", "final_val_error"), ok_means(result, "activation", "dead")
    for name in ("tanh", "relu", "leaky_relu", "elu"):
        assert error[name] < 0.06, name
    assert error["sigmoid"] > 0.5 and dead["relu"] > 0 and dead["leaky_relu"] == dead["elu"] == 0
    lines = STUDIES["activations"].takeaway(result)
    assert "Worst activation: sigmoid at" in lines[1] and not lines[0].startswith("Best activation sigmoid")


CASES = {
    ("activations", None): lesson_activations_table_6,
    ("activations", "Small weights at α 1: ReLU units die, tanh saturates (5.1.6)"):
        lesson_activations_deep_net_at_a_high_rate,
    ("batch_norm", None): lesson_batch_norm_deep_sigmoid,
    ("batch_norm", "Higher rates (5.1.5: BN allows much higher learning rates)"): lesson_batch_norm_high_rates,
    ("batch_norm", "He initialisation with ReLU: deep plain nets train too"): lesson_batch_norm_not_needed_with_he_and_relu,
    ("schedules", None): lesson_schedules_tame_a_too_high_rate,
    ("schedules", "5.2.6.1's table: a tenth every 100 epochs from 0.1"): lesson_schedules_table,
    ("schedules", "A rate that settles without a schedule (α0 0.1)"): lesson_schedules_at_a_good_rate,
    ("universal", None): lesson_universal_more_units,
    ("universal", "Fig. 101-103: a step from sigmoids"): lesson_universal_step,
    ("universal", "A bump: one unit cannot draw it, four can"): lesson_universal_bump,
    ("batch_size", None): sweep_lessons_of_batch_size,
    ("batch_size", "Table 4: SGD, mini-batch and batch GD"): sweep_lessons_of_batch_size,
    ("batch_size", "Fig. 119: batch sizes on Fashion-MNIST"): sweep_lessons_of_batch_size,
    ("hidden_units", None): lesson_hidden_units,
    ("hidden_units", "Fig. 120/123: Fashion-MNIST, 2 to 400 units"): lesson_hidden_units,
    ("kfold", None): lesson_kfold,
    ("kfold", "Fig. 79: perceptron, 5 folds over the epochs"): lesson_kfold,
    ("pr_roc", None): lambda r: lesson_pr_roc_binary(r, 0.8),
    ("pr_roc", "Fig. 65/67: T-shirt vs trouser on Fashion-MNIST"): lambda r: lesson_pr_roc_binary(r, 0.98),
    ("pr_roc", "Fig. 61/62: confusion matrix of all ten classes"): lesson_multiclass,
    ("init", None): lesson_init,
    ("init", "Fig. 121/122: sigma 0 against sigma 0.05"): lesson_init_not_converged,
    ("init", "Fig. 122: sigma 0 for 50 epochs (the rounding may split the units)"): lesson_init,
    ("optimisers", None): lesson_optimisers,
    ("optimisers", "5.2.5: all six optimisers, 200 steps on the surfaces"):
        lambda r: lesson_optimisers(r, far=("adagrad", "adam")),
    ("optimisers", "Fig. 134: GD against AdaGrad and RMSProp"): lesson_optimisers,
    ("decision_boundary", None): lambda r: lesson_decision_boundary(r, "4 hidden units", "no hidden layer", 0.3),
    ("decision_boundary", "XOR: no hidden layer against 8 units"):
        lambda r: lesson_decision_boundary(r, "8 hidden units", "no hidden layer", 0.3),
    ("decision_boundary", "Spiral: depth helps"): lambda r: lesson_decision_boundary(r, "3 × 16 units", "1 × 16 units"),
    ("learning_rate", "Fig. 55/56: generalised perceptron, rates 0.1, 0.5 and 2"): lesson_learning_rate_fig_55,
    ("learning_rate", "Fig. 118: MLP on Fashion-MNIST, rates 0.01 to 10"): lesson_learning_rate_fig_118,
    ("learning_rate", "Fig. 57: the generalised perceptron over 10,000 epochs"): lesson_learning_rate_fig_57,
    ("bias_variance", "Fig. 70-75: m = 30, sigma = 0.1, degrees 1 to 25"): lesson_bias_variance_fig_75,
    ("bias_variance", "Runge's blow-up: equispaced inputs"): lesson_bias_variance_runge,
    ("normalisation", None): lesson_normalisation,
    ("clipping", None): lesson_clipping_at_a_cliff,
    ("clipping", "A gentle rate (α 0.1): without a cliff, clipping does not help"): lesson_clipping_not_needed,
    ("training_size", None): lambda r: lesson_training_size(r, overfits=True),
    ("training_size", "Fig. 80, left: strong L2 (λ 0.01) underfits"):
        lambda r: lesson_training_size(r, overfits=False),
    ("search", None): lambda r: lesson_search(r, "learning_rate"),
    ("search", "The defaults by grid (4 x 4 points)"): lambda r: lesson_search(r, "learning_rate", grid=16),
    ("search", "The defaults by random search (16 trials)"): lambda r: lesson_search(r, "learning_rate"),
    ("search", "Optimiser, rate and L2, random (24 trials)"): lambda r: lesson_search(r, "l2"),
}
def lesson_search(result, most: str, grid: int | None = None):
    """3.6.2: the configuration selected on validation is good (under 5 % on digits) and its test error,
    looked at once, is close to its validation error (an honest estimate, not a lucky pick); ``most``
    is the parameter the importance ranks first; a grid tries each of its points exactly once."""
    summary = result.summary
    ok = summary[summary["status"] == "ok"]
    best = ok.loc[ok["final_val_error"].idxmin()]
    assert best["final_val_error"] < 0.05 and abs(best["final_test_error"] - best["final_val_error"]) < 0.03
    importance = result.tables["importance"]  # named first where the resampled trials support a ranking
    line = STUDIES["search"].takeaway(result)[1]
    assert line.endswith(f"{most} matters most (what it means: under the importance chart).") or \
        (line.startswith("Importance withheld") and importance["low"].iloc[0] <= importance["high"].iloc[1])
    if grid:
        assert len(summary) == grid == summary["setting"].nunique()


ELSEWHERE = {  # (study, preset) whose lesson another file asserts, and which test does
    ("learning_rate", None): "test_learning_rate.py::test_default_study_shows_the_lecture_lesson",
    ("bias_variance", None): "test_takeaways.py::test_bias_variance_defaults_show_overfitting_and_the_takeaway_has_no_zeros",
    ("regularisation", None): "test_lessons_chapter5.py (the defaults are the Fig. 138-145 preset)",
    ("regularisation", "Fig. 138-145: 250-150 units on 100 samples"): "test_lessons_chapter5.py",
    ("regularisation", "Too strong: L2 0.01 and L1 0.001 underfit"):
        "test_lessons_chapter5.py::test_too_strong_penalties_are_named_as_underfitting_not_praised",
}


def test_every_default_and_every_preset_has_a_lesson_test():
    every = {(name, None) for name in STUDIES} | {(name, p) for name, s in STUDIES.items() for p in s.PRESETS}
    assert every == set(CASES) | set(ELSEWHERE)
    assert not set(CASES) & set(ELSEWHERE)


@pytest.mark.parametrize("name, preset", list(CASES), ids=[f"{n}:{p or 'defaults'}" for n, p in CASES])
def test_the_lesson_holds(name, preset):
    CASES[(name, preset)](run(name, preset))
