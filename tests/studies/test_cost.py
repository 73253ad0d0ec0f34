"""The cost model counts what training really does; the limit refuses what exceeds it."""
import pytest

from service.runner import execute
from studies import batch_size, kfold
from studies.common import cost
from studies.common.execution import trials_of


@pytest.mark.parametrize("batch", ["1", "32", "full"])
def test_counted_batches_match_the_updates_training_makes(batch):
    values = batch_size.SCHEMA.parse({"batch_sizes": batch, "epochs": "2", "repeats": "1"})
    (trial,) = trials_of(batch_size, values)
    updates = execute(batch_size.TRIAL, trial).payload["rows"][-1]["updates"]
    _, calls = cost.training(trial.params)
    evaluation_calls = cost.EVAL_CALLS * 3 * (2 + 1)       # three splits after each of epochs 0, 1, 2
    assert calls - evaluation_calls == pytest.approx(updates, rel=0.01)


def test_fold_trials_train_on_k_minus_one_folds():
    values = kfold.SCHEMA.parse({"k": "4", "values": "5", "batch_size": "1"})
    fold = trials_of(kfold, values)[0]
    result = execute(kfold.TRIAL, fold)
    _, calls = cost.training(fold.params)
    evaluated = cost.EVAL_CALLS * 2 * (fold.params["epochs"] + 1)
    assert calls - evaluated == pytest.approx(result.payload["n_train"] * fold.params["epochs"], rel=0.01)


def test_limit_names_the_time_and_what_to_reduce():
    values = batch_size.SCHEMA.parse({"epochs": "500", "repeats": "20"})
    seconds = cost.estimate(batch_size, batch_size.plan(values), 2)
    assert cost.check_limit(batch_size, values, 2, max_minutes=seconds / 60 + 1) == seconds
    with pytest.raises(cost.TooLarge, match=r"over the limit of 1 min\. Reduce epochs, repeats"):
        cost.check_limit(batch_size, values, 2, max_minutes=1)
    assert cost.estimate(batch_size, batch_size.plan(values), 1) > 1.9 * (seconds - cost.STARTUP_SECONDS)


@pytest.mark.parametrize("seconds,words", [(0.3, "under a second"), (40, "about 40 s"), (600, "about 10 min"),
                                           (7200, "about 2.0 h")])
def test_estimates_read_as_words(seconds, words):
    assert cost.describe(seconds) == words
