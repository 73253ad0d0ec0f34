import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from cli import run_cli_study
from studies import pr_roc
from service.runner import execute
from studies.common.execution import trials_of
from studies.common.launch import run_study


def test_equal_error_rate_hand_computed():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.6, 0.4, 0.7, 0.8, 0.9])   # one negative above one positive
    from sklearn.metrics import roc_curve
    eer, threshold = pr_roc.equal_error_rate(*roc_curve(y, scores))
    assert eer == pytest.approx(0.25)
    assert 0.4 <= threshold <= 0.6


def test_confusion_table_at_threshold_hand_computed():
    y = np.array([1, 1, 1, 0, 0])
    table = pr_roc.confusion_at(y, np.array([0.9, 0.6, 0.2, 0.7, 0.1]), 0.5)
    assert (table["tp"], table["fp"], table["fn"], table["tn"]) == (2, 1, 1, 1)
    assert table["precision"] == pytest.approx(2 / 3) and table["recall"] == pytest.approx(2 / 3)
    assert table["f1"] == pytest.approx(2 / 3) and table["accuracy"] == pytest.approx(3 / 5)


@pytest.mark.slow
def test_digits_pair_curves_and_longer_training_helps(tmp_path):
    tidy, summary, _ = run_cli_study(tmp_path, "pr_roc", "compare_epochs=1", "epochs=10")
    assert {"auc_roc", "auc_pr", "eer"} <= set(summary.columns)
    s = summary.set_index("epochs")
    assert 0.8 < s.loc[1, "auc_roc"] < s.loc[10, "auc_roc"] < 1.0      # not trivially separable; training helps
    assert s.loc[10, "baseline_precision"] == pytest.approx(0.5, abs=0.05)
    roc = tidy[(tidy["curve"] == "roc") & (tidy["epochs"] == 10)]
    assert np.trapezoid(roc["y"], roc["x"]) == pytest.approx(s.loc[10, "auc_roc"])
    assert roc["x"].is_monotonic_increasing and roc["y"].iloc[-1] == 1.0


def test_auc_agrees_with_scikit_learn_on_the_scores():
    values = pr_roc.SCHEMA.parse({"compare_epochs": ""})
    result = run_study(pr_roc, values, n_jobs=1)
    trial = execute(pr_roc.TRIAL, trials_of(pr_roc, values)[0])
    assert result.summary["auc_roc"].iloc[0] == pytest.approx(roc_auc_score(trial.payload["y_test"],
                                                                             trial.payload["scores"]))


@pytest.mark.slow
def test_compare_costs_and_multiclass_report(tmp_path):
    _, summary, _ = run_cli_study(tmp_path, "pr_roc", "compare_losses=ce", "compare_epochs=")
    assert sorted(summary["loss"]) == ["ce", "mse"]
    tidy, report, _ = run_cli_study(tmp_path, "pr_roc", "classes=", "hidden=30", "output=softmax", "loss=ce",
                                "learning_rate=0.5", "compare_epochs=")
    assert len(report) == 10 and report["test_error"].iloc[0] < 0.1
    assert tidy["count"].sum() == report["support"].sum()
    assert len(pr_roc.charts_for(run_study(pr_roc, pr_roc.SCHEMA.parse({"classes": "", "compare_epochs": ""}), 1))) == 2


@pytest.mark.slow
def test_fashion_mnist_tshirt_vs_trouser_reproduces_fig_65_and_67(tmp_path):
    """Needs Debian's dataset-fashion-mnist (installed by .ci/run)."""
    _, summary, _ = run_cli_study(tmp_path, "pr_roc", "dataset=fashion-mnist", "classes=0,1")
    assert (summary["auc_roc"] > 0.98).all() and (summary["auc_pr"] > 0.98).all()
