"""The runs page (issue 21): the store's index of every run with its headline numbers, read without
loading any result; several runs compared in one table, charts and CSV; a link that reopens them."""
import json
import sqlite3

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from service.store import ResultStore
from studies import STUDIES
from studies.common import execution, launch
from studies.common.runs import parallel_chart, selection_table

RUNS = [("learning_rate", {"epochs": "3", "learning_rates": "0.1,1", "repeats": "1"}),
        ("learning_rate", {"epochs": "4", "learning_rates": "0.5,2", "repeats": "1"}),
        ("batch_size", {"epochs": "2", "batch_sizes": "16,64", "repeats": "1"})]


@pytest.fixture()
def stored(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_STORE_DIR", str(tmp_path))
    store, keys = ResultStore(tmp_path), []
    for name, texts in RUNS:
        study = STUDIES[name]
        values = study.SCHEMA.parse(texts)
        result = launch.run_study(study, values, n_jobs=1)
        execution.save_result(store, study, values, result)
        keys.append((execution.run_key(study, values), result))
    return tmp_path, keys


def test_the_index_lists_every_run_with_its_headline_after_a_restart_and_skips_a_corrupt_row(stored):
    folder, keys = stored
    index = ResultStore(folder).index()                                    # a new process: a new store object
    assert [row["study"] for row in index] == ["batch_size", "learning_rate", "learning_rate"]
    for key, result in keys:
        row = next(r for r in index if r["key"] == key)
        ok = result.summary[result.summary["status"] == "ok"]
        means = ok.groupby("setting")["final_val_error"].mean()           # chosen on validation (3.6.2)
        assert row["best_val_error"] == pytest.approx(means.min())
        assert row["test_error"] == pytest.approx(ok.loc[ok["setting"] == means.idxmin(), "final_test_error"].mean())
        assert row["selected"] == means.idxmin() and row["trials_done"] == row["trials_total"] == len(result.summary)
    with sqlite3.connect(folder / "results.sqlite") as connection:          # a hostile edit of one row's meta
        connection.execute("UPDATE runs SET meta = ? WHERE key = ?",
                           (json.dumps({"state": "done", "best_val_error": "DROP TABLE"}), keys[0][0]))
    assert [row["key"] for row in ResultStore(folder).index()] == [k for k, _ in keys[1:]][::-1]


def test_a_selection_is_one_table_whose_csv_concatenates_and_reads_back(stored):
    folder, keys = stored
    store = ResultStore(folder)
    runs = [(STUDIES[name], key, *execution.load_by_key(store, STUDIES[name], key))
            for (name, _), (key, _) in zip(RUNS, keys)]
    table = selection_table(runs)
    tidy = pd.read_csv(pd.io.common.StringIO(table["tidy"].to_csv(index=False)))
    assert sorted(set(tidy["key"])) == sorted(k for k, _ in keys)
    assert len(tidy) == sum(len(result.tidy) for _, result in keys)
    assert {"learning_rates", "batch_sizes", "epochs"} <= set(tidy.columns)   # each run's parameters as columns
    labels = sorted(set(table["curves"]["run"]))
    assert len(labels) == 3 and any("epochs=3" in label for label in labels) and any("epochs=4" in label for label in labels)
    trials = table["trials"]
    assert len(trials) == sum(len(result.summary) for _, result in keys)
    assert "p_learning_rate" in trials and "p_epochs" in trials and trials["final_val_error"].notna().all()


def runs_app():
    from ui.runs import runs_page
    runs_page()


def test_the_page_lists_filters_and_draws_a_linked_selection(stored):
    _, keys = stored
    at = AppTest.from_function(runs_app, default_timeout=60).run()
    assert not at.exception
    listed = at.dataframe[0].value
    assert len(listed) == 3 and "key" not in listed.columns
    at.text_input(key="runs:filter").input("epochs=4").run()
    assert len(at.dataframe[0].value) == 1
    linked = AppTest.from_function(runs_app, default_timeout=60)
    linked.query_params["runs"] = ",".join([k for k, _ in keys] + ["f" * 32])
    linked.run()
    assert not linked.exception and len(linked.get("vega_lite_chart")) == 3   # overlay, parallel, scatter
    assert any("not stored on this server" in w.value for w in linked.warning)
    assert [b.proto.label for b in linked.get("download_button")] == ["Selection CSV"]
    assert all(k in linked.code[0].value for k, _ in keys)


def test_one_row_created_in_the_year_1e300_does_not_take_the_page_down(stored):
    """Issue 29: ``created = 1e300`` raised OutOfBoundsDatetime on every visit to /runs."""
    folder, keys = stored
    with sqlite3.connect(folder / "results.sqlite") as connection:
        connection.execute("UPDATE runs SET created = 1e300 WHERE key = ?", (keys[0][0],))
    at = AppTest.from_function(runs_app, default_timeout=60).run()
    assert not at.exception and len(at.dataframe[0].value) == 2


def test_the_parallel_chart_has_an_axis_per_parameter_and_metric_each_from_0_to_1():
    """Numbers from their smallest (0) to their largest (1); listed choices at their places in sorted
    order; the metrics are axes too (a melt that also kept them as identifiers once dropped them)."""
    trials = pd.DataFrame({"run": "r", "trial": ["1", "2", "3"], "p_learning_rate": [0.1, 1.0, 0.55],
                           "p_optimiser": ["gd", "adam", "momentum"], "final_val_error": [0.2, 0.1, 0.4],
                           "final_test_error": [0.3, 0.3, 0.3]})
    drawn = parallel_chart({"trials": trials}).data
    at = drawn.set_index(["axis", "trial"])["position"]
    assert set(drawn["axis"]) == {"learning rate α", "optimiser", "validation error", "test error"}
    assert [at["learning rate α", t] for t in "123"] == pytest.approx([0, 1, 0.5])
    assert [at["optimiser", t] for t in "123"] == [0.5, 0, 1]          # sorted: adam, gd, momentum
    assert [at["validation error", t] for t in "123"] == pytest.approx([1 / 3, 0, 1])
    assert [at["test error", t] for t in "123"] == [0.5] * 3                # no spread: the middle
    assert set(drawn.loc[drawn["trial"] == "2", "colour"]) == {0.1}


def test_a_run_without_a_validation_error_says_so_instead_of_none(tmp_path, monkeypatch):
    """Issue 28: universal approximation's row read "None" as its best validation error."""
    from ui.runs import MISSING, NO_VALIDATION

    monkeypatch.setenv("EXPLORER_STORE_DIR", str(tmp_path))
    study = STUDIES["universal"]
    values = study.SCHEMA.parse({"epochs": "3", "hidden_units": "1,2", "repeats": "1"})
    execution.save_result(ResultStore(tmp_path), study, values, launch.run_study(study, values, n_jobs=1))
    at = AppTest.from_function(runs_app, default_timeout=60).run()
    assert not at.exception
    [row] = at.dataframe[0].value.to_dict("records")
    assert pd.isna(row["best validation error"]) and pd.isna(row["test error (selected)"])
    assert row["selected setting"] == NO_VALIDATION and at.dataframe[0].proto.placeholder == MISSING
