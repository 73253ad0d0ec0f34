import pytest

from cli import run_cli_study
from studies import batch_size
from studies.common.launch import run_study


@pytest.mark.slow
def test_sgd_needs_far_fewer_epochs_than_batch_gd(tmp_path):
    tidy, summary, _ = run_cli_study(tmp_path, "batch_size", "batch_sizes=1,32,full", "epochs=10", "repeats=1",
                                 "learning_rate=0.1")
    val = tidy[tidy["split"] == "val"].pivot_table(index="epoch", columns="batch_size", values="error")
    n_train = int(summary["batch_size"].max())
    assert val.loc[2, 1] < val.loc[10, n_train] - 0.2        # SGD after 2 epochs beats BGD after 10
    assert val.loc[2, 1] < val.loc[2, 32] < val.loc[2, n_train]
    updates = tidy[tidy["epoch"] == 1].groupby("batch_size")["updates"].first()
    assert updates[1] == n_train and updates[n_train] == 1 and updates[32] == -(-n_train // 32)
    per_epoch = summary.set_index("batch_size")["seconds_per_epoch"]
    assert per_epoch[1] > 3 * per_epoch[n_train]             # many small updates cost more time per epoch


def test_charts_and_takeaway():
    result = run_study(batch_size, batch_size.SCHEMA.parse({"batch_sizes": "8,full", "epochs": "3", "repeats": "1"}), n_jobs=1)
    specs = [chart.to_dict() for chart in batch_size.charts_for(result)]
    assert len(specs) == 5 and all("tooltip" in str(spec) for spec in specs)
    assert "Time per epoch" in batch_size.takeaway(result)[1]
