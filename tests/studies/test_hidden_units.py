import pytest

from cli import run_cli_study
from studies import hidden_units
from studies.common.launch import run_study


@pytest.mark.slow
def test_more_hidden_units_lower_the_error_and_training_error_falls_faster(tmp_path):
    _, summary, _ = run_cli_study(tmp_path, "hidden_units", "hidden_units=2,10,50", "epochs=20", "repeats=2")
    mean = summary.groupby("hidden_units")[["final_train_error", "final_test_error"]].mean()
    assert mean.loc[50, "final_test_error"] < mean.loc[2, "final_test_error"] - 0.2
    assert mean.loc[10, "final_test_error"] < mean.loc[2, "final_test_error"]
    assert mean["final_train_error"].is_monotonic_decreasing
    assert (mean.loc[50, "final_train_error"] <= mean.loc[50, "final_test_error"])   # the overfitting gap


def test_charts_and_takeaway():
    result = run_study(hidden_units, hidden_units.SCHEMA.parse({"hidden_units": "3,20", "epochs": "3", "repeats": "1"}),
                              n_jobs=1)
    specs = [chart.to_dict() for chart in hidden_units.charts_for(result)]
    assert len(specs) == 3 and '"bind": "legend"' in str(specs).replace("'", '"')
    assert hidden_units.takeaway(result)[0].startswith("Best hidden-unit count 20")
