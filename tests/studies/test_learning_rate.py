"""The learning-rate study and the CLI that runs it."""
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from studies import learning_rate
from studies.common.launch import run_study
from studies.common.schema import ParamError
from studies.common.training import TIDY_COLUMNS

CLI = [sys.executable, "-m", "studies"]


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_cli(*args, env=None, cwd=None):
    env = {**(env or os.environ), "PYTHONPATH": ROOT}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, cwd=cwd)


@pytest.fixture(scope="module")
def default_result():
    return run_study(learning_rate, learning_rate.SCHEMA.parse({}), n_jobs=2)


@pytest.mark.slow
def test_default_study_shows_the_lecture_lesson(default_result):
    summary = default_result.summary
    mean_final = summary.groupby("learning_rate")["final_val_error"].mean()
    best = mean_final.idxmin()
    assert 0.1 < best < 10
    assert mean_final[0.01] > mean_final[best] + 0.2          # too small: still far behind after 30 epochs
    assert mean_final[10.0] > mean_final[best] + 0.1          # too large: stuck or oscillating
    early = default_result.tidy.query("split == 'val' and epoch == 5").groupby("learning_rate")["error"].mean()
    assert early[0.01] > early[0.1] > early[0.5]               # larger steps learn faster at first
    assert len(summary) == 5 * 3 and set(summary["status"]) == {"ok"}


def test_takeaway_names_the_best_rate(default_result):
    lines = learning_rate.takeaway(default_result)
    best = default_result.summary.groupby("learning_rate")["final_val_error"].mean().idxmin()
    assert lines[0].startswith(f"Best learning rate {best:g}")
    assert len(lines) == 2


def test_tidy_table_has_design_columns_and_one_row_per_trial_epoch_split(default_result):
    tidy = default_result.tidy
    assert list(tidy.columns[:11]) == TIDY_COLUMNS
    assert {"learning_rate", "repeat"} <= set(tidy.columns)
    assert len(tidy) == 15 * 31 * 3
    assert tidy["fold"].isna().all()
    assert (tidy.groupby("trial")["seed"].nunique() == 1).all()


def test_repeats_share_initialisation_across_rates(default_result):
    tidy = default_result.tidy.query("epoch == 0 and split == 'train'")
    by_repeat = tidy.groupby("repeat")["cost"].nunique()
    assert (by_repeat == 1).all()  # same seed per repeat: same untrained network for every rate


@pytest.mark.slow
def test_cli_writes_design_csv_and_is_identical_for_one_and_two_jobs(tmp_path):
    outputs = []
    for n_jobs in ("1", "2"):
        out, summary = tmp_path / f"lr{n_jobs}.csv", tmp_path / f"s{n_jobs}.csv"
        proc = run_cli("run", "learning_rate", "--set", "learning_rates=0.01,0.1,1", "--set", "epochs=20",
                       "--n-jobs", n_jobs, "--out", str(out), "--summary-out", str(summary))
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.count("] learning_rate=") == 9     # one progress line per finished trial
        assert "Best learning rate" in proc.stdout
        outputs.append(pd.read_csv(out))
        assert len(pd.read_csv(summary)) == 9
    one, two = outputs
    assert list(one.columns[:11]) == TIDY_COLUMNS and "learning_rate" in one.columns
    assert sorted(one["learning_rate"].unique()) == [0.01, 0.1, 1.0]
    assert one["epoch"].max() == 20
    numbers = ["cost", "error", "updates", "seed"]
    np.testing.assert_array_equal(one[numbers].to_numpy(), two[numbers].to_numpy())


@pytest.mark.parametrize("args,message", [
    (["--set", "nope=1"], "unknown parameter 'nope'"),
    (["--set", "epochs=many"], "epochs: 'many' is not a number"),
    (["--set", "learning_rates=0.1,-2"], "learning_rates"),
    (["--set", "epochs"], "expected NAME=VALUE"),
    (["--set", "classes=3"], "classes"),
])
@pytest.mark.slow
def test_cli_rejects_bad_parameters_with_exit_code_2(args, message):
    proc = run_cli("run", "learning_rate", *args)
    assert proc.returncode == 2
    assert message in proc.stderr


@pytest.mark.slow
def test_cli_reports_missing_data_folder(tmp_path):
    import os
    proc = run_cli("run", "learning_rate", "--set", "dataset=mnist",
                   env={**os.environ, "EXPLORER_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 1
    assert str(tmp_path / "mnist") in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_cli_lists_studies_and_parameters():
    assert "learning_rate" in run_cli("list").stdout
    params = run_cli("params", "learning_rate").stdout
    assert "learning_rates=0.01,0.1,0.5,2,10" in params and "allowed:" in params


def test_schema_strict_and_lenient_reading():
    schema = learning_rate.SCHEMA
    with pytest.raises(ParamError, match="epochs"):
        schema.parse({"epochs": "0.5"})
    values, warnings = schema.parse_lenient({"epochs": "99999", "hidden": "", "bogus": "1", "l2": "nan",
                                              "learning_rates": "1,1,2"})
    assert values["epochs"] == 10_000 and values["hidden"] == () and values["l2"] == 0.0
    assert values["learning_rates"] == (1.0, 2.0)
    assert len(warnings) == 4


@pytest.mark.slow
def test_ctrl_c_writes_the_finished_trials(tmp_path):
    import signal
    out = tmp_path / "partial.csv"
    proc = subprocess.Popen([*CLI, "run", "learning_rate", "--set", "epochs=300", "--set", "repeats=4",
                             "--n-jobs", "1", "--out", str(out)], stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()                      # the first finished trial's progress line
    assert first.startswith("[1/20]"), first
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 130
    assert "interrupted after" in rest and "Traceback" not in rest
    partial = pd.read_csv(out)
    finished = partial[partial["status"] == "ok"]
    assert 1 <= finished["trial"].nunique() < 20 and (finished.groupby("trial")["epoch"].max() == 300).all()
    assert set(partial["status"]) <= {"ok", "cancelled"}  # stopped stacks keep their members' epochs, marked


@pytest.mark.slow
def test_cli_refuses_a_run_over_max_minutes_before_computing():
    proc = run_cli("run", "learning_rate", "--set", "epochs=500", "--set", "repeats=20", "--max-minutes", "0.05")
    assert proc.returncode == 2
    assert "over the limit of 0.05 min" in proc.stderr and "Reduce epochs, repeats" in proc.stderr
    assert "[1/" not in proc.stderr                        # nothing was trained


def test_every_parameter_kind_round_trips_through_its_text_exactly():
    """Texts are what links, the CLI and the store's keys share: typed -> text -> typed is the identity."""
    from studies import STUDIES
    from studies.common.execution import run_key
    odd = {"float": 0.1234567, "int": 17, "floats": (1e-06, 0.1234567, 3.0), "ints": (100, 100),
           "batches": (1, "full"), "batch": "full"}
    for study in STUDIES.values():
        for param in study.SCHEMA:
            value = param.default if param.kind not in odd or param.name == "classes" else odd[param.kind]
            if param.kind == "ints" and param.unique:
                value = (3, 17)
            value, _ = param.limit(value)                   # within the parameter's own limits
            values = {**study.SCHEMA.defaults(), param.name: value}
            again = study.SCHEMA.parse(study.SCHEMA.to_texts(values))
            assert again[param.name] == value, (study.NAME, param.name)
            assert run_key(study, again) == run_key(study, values)


def test_minus_zero_is_zero_in_values_texts_and_run_keys():
    """l2=-0 was stored and keyed apart from l2=0 (issue 18): one value, one text, one run."""
    from studies.common.execution import run_key
    for text in ("-0", "-0.0", "-0e5"):
        values = learning_rate.SCHEMA.parse({"l2": text})
        assert repr(values["l2"]) == "0.0" and learning_rate.SCHEMA.to_texts(values)["l2"] == "0"
        assert run_key(learning_rate, values) == run_key(learning_rate, learning_rate.SCHEMA.parse({"l2": "0"}))
    assert learning_rate.SCHEMA.to_texts({**learning_rate.SCHEMA.defaults(), "l2": -0.0})["l2"] == "0"


def test_hidden_layers_keep_their_repeats_and_train_two_layers():
    from studies.common.execution import trials_of
    from studies.common.training import fit_trial
    values = learning_rate.SCHEMA.parse({"hidden": "100,100", "epochs": "1", "repeats": "1", "learning_rates": "0.1"})
    assert values["hidden"] == (100, 100)
    net, *_ = fit_trial(trials_of(learning_rate, values)[0])
    assert net.sizes == [64, 100, 100, 10]


@pytest.mark.slow
def test_cli_refuses_an_output_path_it_cannot_write_before_computing(tmp_path):
    for bad, message in ((tmp_path, "is a folder"), (tmp_path / "missing" / "x.csv", "does not exist")):
        proc = run_cli("run", "learning_rate", "--out", str(bad))
        assert proc.returncode == 1 and message in proc.stderr and "[1/" not in proc.stderr


QUICK_CLI = ["run", "learning_rate", "--set", "epochs=2", "--set", "repeats=1", "--set", "learning_rates=0.1,1"]


@pytest.mark.slow
def test_cli_output_that_fails_while_written_loses_nothing(tmp_path):
    """Issue 18: --out /dev/full printed a traceback after the run, and the results were lost."""
    summary = tmp_path / "summary.csv"
    proc = run_cli(*QUICK_CLI, "--out", "/dev/full", "--summary-out", str(summary))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    rows = 2 * 3 * 3                                    # 2 trials x epochs 0-2 x 3 splits
    assert f"could not write /dev/full (No space left on device); the {rows} rows are in " in proc.stderr
    rescued = proc.stderr.split(f"the {rows} rows are in ")[1].split(" instead")[0]
    assert len(pd.read_csv(rescued)) == rows and len(pd.read_csv(summary)) == 2
    os.unlink(rescued)


@pytest.mark.parametrize("args, code, message", [
    (["--max-minutes", "nan"], 2, "'nan' is not a positive, finite number of minutes"),
    (["--max-minutes", "-1"], 2, "'-1' is not a positive, finite number of minutes"),
    (["--out", "same.csv", "--summary-out", "./same.csv"], 2, "--out and --summary-out both name same.csv"),
    (["--scheduler", "tcp://127.0.0.1:1"], 1, "no Dask scheduler answered at tcp://127.0.0.1:1"),
])
@pytest.mark.slow
def test_cli_mistakes_get_a_message_and_a_non_zero_exit_before_anything_is_lost(tmp_path, args, code, message):
    proc = run_cli(*QUICK_CLI, *args, cwd=tmp_path)
    assert proc.returncode == code and message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "same.csv").exists()


@pytest.mark.slow
def test_cli_exits_non_zero_when_every_trial_failed(tmp_path):
    import os
    from conftest import fake_idx_dataset, write_idx
    folder = tmp_path / "fashion-mnist"
    fake_idx_dataset(folder)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.full(200, 12))   # headers fine, labels broken
    out = tmp_path / "out.csv"
    proc = run_cli("run", "learning_rate", "--set", "dataset=fashion-mnist", "--set", "repeats=1", "--out", str(out),
                   env={**os.environ, "EXPLORER_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 1
    assert "every trial failed" in proc.stderr and "label 12 is outside" in proc.stderr
    assert set(pd.read_csv(out)["status"]) == {"failed"}


@pytest.mark.slow
def test_csv_exports_carry_the_runs_parameters(tmp_path):
    out = tmp_path / "lr.csv"
    proc = run_cli("run", "learning_rate", "--set", "epochs=2", "--set", "repeats=1", "--set", "l2=0.001",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(out)
    assert list(table.columns[:11]) == TIDY_COLUMNS
    assert (table["l2"] == 0.001).all() and (table["epochs"] == 2).all() and (table["dataset"] == "digits").all()


def test_the_u_shape_caption_is_dropped_when_every_rate_ends_at_the_same_error():
    """Fig. 55/56's preset ends at 0 % for every rate: the caption must not ask for a U shape there."""
    from studies.common.charts import vega_lite

    flat = pd.DataFrame({"learning_rate": [0.1, 0.5, 2.0], "status": "ok", "final_val_error": 0.0})
    assert "cannot show the U shape" in learning_rate.u_look_for(flat) and "0.0%" in learning_rate.u_look_for(flat)
    shaped = flat.assign(final_val_error=[0.3, 0.05, 0.4])
    assert learning_rate.u_look_for(shaped).startswith("Look for: the U shape")
    values = learning_rate.SCHEMA.parse({"learning_rates": "0.1,0.5", "classes": "0,1", "hidden": "",
                                         "output": "sigmoid", "epochs": "20", "repeats": "1"})
    result = run_study(learning_rate, values, n_jobs=1)
    final = vega_lite(learning_rate.charts_for(result)[-1])["description"]
    assert final == learning_rate.u_look_for(result.summary)
