"""Takeaways say what the numbers support: edges of the tried range, small numbers, partial runs."""
import numpy as np
import pandas as pd

from studies import bias_variance, pr_roc
from studies.common.launch import run_study
from studies.common.charts import title_text
from studies.common.takeaways import best_setting, number


def summary(errors: dict, statuses=None) -> pd.DataFrame:
    rows = [{"learning_rate": rate, "setting": f"{rate:g}", "final_val_error": e, "status": "ok", "repeat": r}
            for rate, values in errors.items() for r, e in enumerate(values)]
    return pd.DataFrame(rows)


def test_a_best_value_at_the_edge_says_try_beyond_it():
    high = best_setting(summary({0.1: [0.3, 0.3], 1.0: [0.2, 0.2], 10.0: [0.1, 0.12]}), "learning_rate", "rate")
    assert "largest value tried: try larger ones too" in high[0]
    low = best_setting(summary({0.1: [0.05], 1.0: [0.2], 10.0: [0.3]}), "learning_rate", "rate")
    assert "smallest value tried: try smaller ones too" in low[0] and "over 1 repeat." in low[0]
    inside = best_setting(summary({0.1: [0.3], 1.0: [0.1], 10.0: [0.3]}), "learning_rate", "rate")
    assert "tried" not in inside[0]
    floor = best_setting(summary({1: [0.05], 8: [0.2]}).rename(columns={"learning_rate": "batch"}), "batch",
                         "batch size", floor=1)
    assert "tried" not in floor[0]


def test_small_numbers_keep_their_digits():
    assert number(0.00001234) == "1.23e-05" and number(0.0123) == "0.0123" and number(3.0) == "3"


def test_bias_variance_defaults_show_overfitting_and_the_takeaway_has_no_zeros():
    result = run_study(bias_variance, bias_variance.SCHEMA.defaults(), n_jobs=1)
    t = result.tidy.set_index("degree")
    best = t["test_mse"].idxmin()
    assert t["test_mse"].iloc[-1] > 1.3 * t.loc[best, "test_mse"]          # the test error turns up again
    assert t["train_mse"].iloc[-1] < 0.3 * t.loc[best, "train_mse"]         # while the training error falls
    assert t["variance"].iloc[-1] > 3 * t.loc[best, "variance"]
    assert "0.0000" not in " ".join(bias_variance.takeaway(result))


def test_multiclass_confusion_matrix_is_of_the_model_the_takeaway_names():
    values = pr_roc.SCHEMA.parse({"classes": "", "hidden": "20", "output": "softmax", "loss": "ce", "epochs": "4",
                                  "compare_epochs": "1"})
    result = run_study(pr_roc, values, n_jobs=1)
    best = pr_roc.takeaway(result)[0].split(" (")[0].removeprefix("Chosen on validation: ")
    confusion, per_class = pr_roc.charts_for(result)
    assert best in title_text(confusion.to_dict()) and best in title_text(per_class.to_dict())


def test_binary_case_draws_the_confusion_table_it_promises():
    result = run_study(pr_roc, pr_roc.SCHEMA.parse({"epochs": "3", "threshold": "0.3"}), n_jobs=1)
    table = pr_roc.charts_for(result)[-1].to_dict()
    assert "Confusion table" in title_text(table) and "threshold 0.3" in title_text(table)
    (cells,) = [rows for rows in table["datasets"].values() if rows and "cell" in rows[0]]
    best = result.summary.sort_values("auc_roc").iloc[-1]
    assert {c["cell"]: c["count"] for c in cells} == {k.upper(): best[k] for k in ("tp", "fn", "fp", "tn")}


def test_a_tie_between_every_value_names_no_best_no_worst_and_no_edge():
    """Every batch size at 0 %: the table cannot tell them apart (it printed 'Best 64 ... try smaller')."""
    lines = best_setting(summary({1: [0.0, 0.0], 64: [0.0, 0.0], 256: [0.0]}).rename(
        columns={"learning_rate": "batch_size"}), "batch_size", "batch size")
    assert lines[0] == "Every batch size tried ends at 0.0% mean validation error: a tie, so this run does not " \
                       "tell them apart."
    assert "Worst" not in lines[1] and "tried:" not in lines[0]


def test_values_tied_for_best_are_all_named_and_the_edge_note_sees_any_of_them():
    lines = best_setting(summary({0.1: [0.3], 1.0: [0.1], 10.0: [0.1]}), "learning_rate", "rate")
    assert lines[0].startswith("Best rate 1 and 10 (tied): 10.0% mean validation error")
    assert "10, tied with it, is the largest value tried" in lines[0]
    assert lines[1] == "Worst rate: 0.1 at 30.0%."


def test_an_edge_reached_only_by_a_value_tied_within_noise_is_named_not_the_best():
    """The default hidden-unit run said "Best 30, tied within noise with 10, 300 and 100 … That is the
    largest value tried": 30 was not; 300, tied with it, was."""
    lines = best_setting(planted({10: 0.030, 30: 0.028, 300: 0.029, 2: 0.49}, 0.01, samples=270),
                         "learning_rate", "rate")
    assert lines[0].startswith("Best rate 30, tied within noise with")
    assert "300, tied with it, is the largest value tried: try larger ones too." in lines[0]
    assert "That is" not in lines[0]


def planted(means_by_setting: dict, spread: float, samples: int = 1000) -> pd.DataFrame:
    """A learning-rate summary: three repeats per setting at mean ± spread."""
    rows = [{"learning_rate": rate, "setting": f"{rate:g}", "status": "ok", "repeat": r, "val_samples": samples,
             "final_val_error": mean + (r - 1) * spread, "final_test_error": mean}
            for rate, mean in means_by_setting.items() for r in range(3)]
    return pd.DataFrame(rows)


def test_settings_closer_than_their_spread_tie_within_noise_and_no_test_error_is_named():
    """0.1 beats 0.5 by 0.3 points while each spreads ±2 points over its repeats: no best. The oracle:
    2 standard errors of the difference, sqrt(2 * 0.02^2 / 3 + (0.05 * 0.95 + 0.053 * 0.947) / 1000), is 3.8 points."""
    summary = planted({0.1: 0.05, 0.5: 0.053, 5.0: 0.5}, spread=0.02)
    margin = 2 * np.sqrt(2 * (0.02 ** 2) / 3 + 0.05 * 0.95 / 1000 + 0.053 * 0.947 / 1000)
    lines = best_setting(summary, "learning_rate", "learning rate")
    assert lines[0].startswith("Best learning rate 0.1, tied within noise with 0.5: 5.0% mean validation error")
    assert "test error" not in lines[0] and f"under {margin:.1%}" in lines[0]
    assert "Worst learning rate: 5 at 50.0%." in lines[1]


def test_a_best_outside_the_noise_is_named_with_its_test_error():
    summary = planted({0.1: 0.05, 0.5: 0.15, 5.0: 0.5}, spread=0.005)
    lines = best_setting(summary, "learning_rate", "learning rate")
    assert lines[0].startswith("Best learning rate 0.1: 5.0% mean validation error over 3 repeats, test error 5.0%.")
    assert "noise" not in lines[0]


def test_a_gap_of_one_validation_sample_is_noise_that_more_repeats_cannot_resolve():
    """Two settings a single sample apart on 270 validation samples, no spread over repeats: the
    binomial error of the split alone hides the gap, and no number of repeats changes that split."""
    summary = planted({100: 4 / 270, 200: 3 / 270}, spread=0.0, samples=270)
    lines = best_setting(summary, "learning_rate", "epoch count")
    assert "lies within noise of the best" in lines[0] and "does not tell them apart" in lines[0]
    assert "more repeats would not tell 200 from 100: the validation split is too small" in lines[0]


def test_the_repeats_that_would_separate_two_settings_follow_from_their_spread():
    """Gap 2 points, each spreading ±3 points per repeat (std 3), split error left out (no samples):
    n repeats separate them when 2 sqrt(2 * 0.03^2 / n) < 0.02, i.e. n > 18: about 19."""
    summary = planted({0.1: 0.10, 0.5: 0.12}, spread=0.03, samples=0).drop(columns="val_samples")
    lines = best_setting(summary, "learning_rate", "learning rate")
    assert "about 19 repeats would tell 0.1 from 0.5" in lines[0]
