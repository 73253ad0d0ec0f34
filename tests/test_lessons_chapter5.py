"""The lessons of chapters 4.3.1, 4.6 and 5 as tests, each from its study's default run on the embedded
or generated data: initialisation, optimisers, regularisation, decision boundaries."""
import numpy as np
import pytest

from studies import decision_boundary, init, optimisers, regularisation
from studies.common.execution import run_study
from studies.trials import decision_boundary as trial_code


@pytest.fixture(scope="module")
def init_result():
    return run_study(init, init.SCHEMA.parse({"sigmas": "0,0.05"}), n_jobs=2)


def test_sigma_zero_stays_near_chance_while_a_moderate_sigma_learns(init_result):
    """Fig. 121: all hidden units identical for sigma 0."""
    final = init_result.summary.groupby("init_sigma")["final_val_error"].mean()
    assert final[0.0] > 0.5 and final[0.05] < 0.1


def spread(layers, scheme, activation, field="activation_std"):
    values = layers[(layers["scheme"] == scheme) & (layers["activation"] == activation)][field]
    assert len(values) == 5
    return values.max() / values.min()


def test_xavier_and_he_keep_activations_of_one_size_across_five_layers(init_result):
    """Fig. 128/130: within a factor 2 from the first to the fifth layer, where N(0, 1) is not."""
    layers = init_result.tables["layers"]
    assert spread(layers, "He", "relu") < 2 and spread(layers, "Xavier", "tanh") < 2
    assert spread(layers, "N(0, 1)", "relu") > 100                     # explodes layer after layer
    assert spread(layers, "N(0, 1)", "tanh", "gradient_std") > 2       # saturated units: uneven gradients


def test_each_optimiser_is_drawn_at_its_best_rate_and_adaptive_ones_win_on_the_bowl():
    result = run_study(optimisers, optimisers.SCHEMA.parse({"optimisers": "gd,adam,rmsprop", "rates": "0.01,0.5",
                                                            "epochs": "3"}), n_jobs=2)
    best = result.tables["best"]
    assert best.groupby("optimiser")["best"].sum().to_dict() == {"adam": 1, "gd": 1, "rmsprop": 1}
    for name, rows in best.groupby("optimiser"):
        assert rows.loc[rows["best"], "final_val_error"].item() == rows["final_val_error"].min()
    paths = result.tables["paths"]
    final = paths[(paths["surface"] == "elongated bowl") & (paths["step"] == 100)].set_index("optimiser")["cost"]
    assert final["adam"] < final["gd"] and final["rmsprop"] < final["gd"]


@pytest.fixture(scope="module")
def regularised():
    return run_study(regularisation, regularisation.SCHEMA.defaults(), n_jobs=2)


def test_l2_shrinks_the_weights_and_narrows_the_gap(regularised):
    s = regularised.summary.set_index("method")
    l2 = next(m for m in s.index if m.startswith("L2"))
    assert s.loc[l2, "weight_norm"] < 0.5 * s.loc["none", "weight_norm"]
    assert s.loc[l2, "gap"] < s.loc["none", "gap"]


def test_l1_sets_many_weights_to_zero(regularised):
    s = regularised.summary.set_index("method")
    l1 = next(m for m in s.index if m.startswith("L1"))
    assert s.loc[l1, "zero_share"] > 2 * s.loc["none", "zero_share"]


def test_early_stopping_is_no_worse_than_the_last_epoch(regularised):
    early = regularised.summary[regularised.summary["method"] == "early stopping"]
    assert len(early) == 1
    assert early["final_test_error"].item() <= early["last_epoch_test_error"].item()
    none = regularised.tidy[(regularised.tidy["method"] == "none") & (regularised.tidy["split"] == "val")]
    assert early["best_epoch"].item() == none.set_index("epoch")["error"].idxmin()


def test_xor_needs_a_hidden_layer():
    """4.3.1: no straight line separates XOR; eight hidden units do."""
    result = run_study(decision_boundary, decision_boundary.SCHEMA.parse({"hidden_units": "0,8"}), n_jobs=2)
    errors = result.summary.groupby("setting")["final_test_error"].mean()
    assert 0.35 < errors["no hidden layer"] < 0.65 and errors["8 hidden units"] < 0.05
    regions = result.tables["regions"]
    assert set(regions["setting"]) == {"no hidden layer", "8 hidden units"}
    assert regions[regions["setting"] == "no hidden layer"]["epoch"].nunique() > 5    # the slider's epochs
    assert len(np.unique(regions["x"])) == trial_code.GRID
