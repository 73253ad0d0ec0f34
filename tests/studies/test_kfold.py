import numpy as np
import pytest

from cli import run_cli_study
from studies import kfold
from studies.common import execution
from studies.common.launch import run_study
from studies.common.config import TrainingConfig
from studies.common.training import trial_data


def test_folds_partition_the_training_pool():
    values = kfold.SCHEMA.parse({"k": "4"})
    pool_X, _, _ = trial_data(TrainingConfig.of({**values, "fold": -1}))
    seen = []
    for fold in range(4):
        X_train, _, eval_sets = trial_data(TrainingConfig.of({**values, "fold": fold}))
        X_val = eval_sets["val"][0]
        assert len(X_train) + len(X_val) == len(pool_X)
        seen += [row.tobytes() for row in X_val]
    pool = sorted(row.tobytes() for row in pool_X)
    assert sorted(seen) == pool                    # every sample validated exactly once


@pytest.mark.slow
def test_epoch_tuning_matches_fig_79_and_picks_lowest_mean(tmp_path):
    tidy, summary, proc = run_cli_study(tmp_path, "kfold", "values=1,3,10,30", "k=4")
    assert summary.loc[summary["best"], "value"].item() == summary.loc[summary["mean_val_error"].idxmin(), "value"]
    assert summary["mean_val_error"].iloc[0] > summary["mean_val_error"].min() + 0.03   # 1 epoch underfits
    assert (summary["folds"] == 4).all()
    pool = tidy.loc[tidy["split"] == "test", "n_train"].iloc[0]
    assert (summary["validated"] == pool).all()
    sizes = tidy[tidy["fold"].notna()].groupby("fold")[["n_train", "n_val"]].first()
    assert (sizes["n_train"] + sizes["n_val"] == pool).all() and sizes["n_val"].sum() == pool
    assert summary["test_error"].notna().sum() == 1 and tidy["fold"].isna().any()
    assert "Retrained on all" in proc.stdout


@pytest.mark.slow
def test_learning_rate_tuning_and_std_error_bars(tmp_path):
    tidy, summary, _ = run_cli_study(tmp_path, "kfold", "tune=learning_rate", "values=0.001,0.5", "epochs=5", "k=3")
    assert "learning_rate" in tidy.columns
    folds = tidy[(tidy["split"] == "val") & (tidy["epoch"] == 5) & tidy["fold"].notna()]
    for lr, group in folds.groupby("learning_rate"):
        row = summary[summary["value"] == lr].iloc[0]
        assert row["mean_val_error"] == pytest.approx(group["error"].mean())
        assert row["std_val_error"] == pytest.approx(np.std(group["error"], ddof=1))
    assert summary.loc[summary["best"], "value"].item() == 0.5


def test_chart_marks_the_best_value():
    result = run_study(kfold, kfold.SCHEMA.parse({"values": "1,5", "k": "2"}), n_jobs=1)
    spec = kfold.charts_for(result)[0].to_dict()
    assert "errorbar" in str(spec)
    (marks,) = [layer for layer in spec["layer"] if layer["encoding"].get("shape")]
    best = [row for row in spec["datasets"][marks["data"]["name"]] if row["marker"] == "best (lowest mean)"]
    assert [row["value"] for row in best] == [result.summary.loc[result.summary["best"], "value"].item()]


def test_the_export_says_how_many_epochs_each_trial_trained_when_tuning_epochs():
    """The folds train the longest value and the final model the best one; the form's 'epochs' field
    is not used, so the CSV must not carry it (it said 30 on every row of a 50-epoch run)."""
    values = kfold.SCHEMA.parse({"values": "1,5", "k": "2", "epochs": "30"})
    result = run_study(kfold, values, n_jobs=1)
    exported = execution.exported(kfold, values, result.tidy)
    trained = exported.groupby(exported["fold"].isna())["epochs"].unique()
    best = int(result.summary.loc[result.summary["best"], "value"].item())
    assert list(trained[False]) == [5] and list(trained[True]) == [best]
    assert exported.groupby("trial")["epoch"].max().max() == 5
