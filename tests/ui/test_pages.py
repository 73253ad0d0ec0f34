"""Every page driven headless with Streamlit's AppTest: default run, share link, hostile link, stop."""
import json
import os
import re
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from service import engine as engines
from service.runner import execute
from studies import STUDIES
from studies.common import execution, launch
from studies.common.training import WORKER_PRELOAD
from ui.home import page_file
from ui.server import result_store

pytestmark = pytest.mark.slow  # real processes, servers or browsers, or studies run to their lessons

ROOT = Path(__file__).resolve().parents[2]
def link_change(name: str) -> tuple[str, int]:
    """The study's own quick run's first value (a whole number that differs from its default)."""
    param, text = next(iter(STUDIES[name].QUICK.items()))
    return param, int(text)


@pytest.fixture(autouse=True)
def store_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_STORE_DIR", str(tmp_path / "store"))
    return tmp_path / "store"


def page(name: str, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / page_file(name)), default_timeout=120)
    at.query_params.update({k: str(v) for k, v in query.items()})
    return at.run()


def wait_for_runs(timeout: float = 120) -> bool:
    """Let the engine finish what the pages submitted (a browser would poll meanwhile); whether
    there was anything to wait for."""
    runs = engines.shared(WORKER_PRELOAD).active()
    for run in runs:
        assert run.wait(timeout), f"run {run.job.title} did not finish"
    return bool(runs)


def press_run(at: AppTest) -> AppTest:
    at = at.sidebar.button[0].click().run()
    return at.run() if wait_for_runs() else at


@pytest.mark.parametrize("name", list(STUDIES))
def test_default_run_draws_charts_and_downloads(name):
    at = page(name)
    assert not at.exception and at.info and not at.get("vega_lite_chart")
    at = press_run(at)
    assert not at.exception
    study = STUDIES[name]
    stored = execution.load_result(result_store(), study, study.SCHEMA.defaults())
    assert len(at.get("vega_lite_chart")) == len(study.charts_for(stored)) >= 1
    assert [b.proto.label for b in at.get("download_button")] == ["Results CSV", "Summary CSV", "HTML report"]
    assert at.success and "Stop" not in [b.label for b in at.button]
    assert at.query_params["seed"] == "0"      # the form is mirrored into the address bar


@pytest.mark.parametrize("name", list(STUDIES))
def test_share_link_restores_form_and_shows_stored_results(name):
    param, value = link_change(name)
    first = page(name, **{param: value})
    assert first.sidebar.number_input(key=f"{name}:{param}").value == value
    assert not first.get("vega_lite_chart") and "not stored" in first.info[0].value
    press_run(first)
    assert [r for r in result_store().recent(50, study=name) if r["params"].get(param) == first.query_params[param]], \
        "the run is in the store (not only on the engine), so its link finds it after a restart too"
    reopened = page(name, **dict(first.query_params))
    assert not reopened.exception and not reopened.warning
    assert reopened.get("vega_lite_chart"), "stored results are shown without pressing Run"
    assert reopened.sidebar.number_input(key=f"{name}:{param}").value == value
    share = reopened.code[0].value
    assert f"/{name}?" in share and f"{param}={value}" in share


HOSTILE = {"epochs": "1e12", "seed": "-5", "l2": "nan", "hidden": "", "dataset": "", "bogus<b>[x](y)": "1",
           "learning_rates": "abc,,", "batch_sizes": "0,full", "values": "9" * 300, "max_degree": "-3",
           "threshold": "2", "classes": "1,1,1", "k": "1.5", "space": "hidden_units=1..1e9; os.system=1,2"}


@pytest.mark.parametrize("name", list(STUDIES))
def test_hostile_link_warns_and_never_crashes(name):
    at = page(name, **HOSTILE)
    assert not at.exception
    assert len(at.warning) >= 3
    assert all("Share link:" in w.value for w in at.warning)
    assert any("unknown parameter" in w.value for w in at.warning)
    schema = STUDIES[name].SCHEMA
    if "epochs" in schema.params:
        assert at.sidebar.number_input(key=f"{name}:epochs").value == schema.params["epochs"].high  # clamped
    if "seed" in schema.params:
        assert at.sidebar.number_input(key=f"{name}:seed").value == 0
    assert "bogus<b>[x](y)" not in at.query_params                            # the link is cleaned


def test_stopped_run_keeps_its_finished_trials():
    study = STUDIES["learning_rate"]
    values = study.SCHEMA.parse({"epochs": "11"})  # a run no other test left in the engine (its outcome would win)
    finished = [execute(study.TRIAL, t) for t in execution.trials_of(study, values)[:6]]
    finished[4:] = [replace(r, status="cancelled") for r in finished[4:]]   # two stopped while running
    execution.save_result(result_store(), study, values, execution.result_of(study, values, finished, 15, "cancelled"))
    at = page("learning_rate", epochs=11)
    assert not at.exception
    assert "Stopped: 4 of 15 trials finished; the others were cancelled or never started" in at.warning[0].value
    assert "1 finished trial for 0.01, 0.1, 0.5, 2" in at.warning[0].value and "none yet for 10" in at.warning[0].value
    assert at.get("vega_lite_chart") and len(at.get("download_button")) == 3


def test_bad_form_value_shows_error_and_keeps_results():
    at = press_run(page("learning_rate", epochs=3))
    at.sidebar.text_input(key="learning_rate:learning_rates").input("0.1,fast")
    at = press_run(at)
    assert not at.exception and "'fast' is not a number" in at.sidebar.error[0].value
    assert at.get("vega_lite_chart"), "the results already computed stay on the page"


def test_home_page_has_a_card_per_study():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert all(study.TITLE in text for study in STUDIES.values())


def test_missing_data_set_shows_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "data"))
    from core import data
    data.load_dataset.cache_clear()
    at = press_run(page("learning_rate", dataset="mnist"))
    assert not at.exception
    assert "not found in" in at.error[0].value and "EXPLORER" in at.error[0].value
    data.load_dataset.cache_clear()


def test_home_page_lists_recent_runs_with_their_links():
    press_run(page("bias_variance", datasets=20))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception
    links = [el for el in at.get("page_link") if "Bias-variance" in el.proto.label and "min ago" in el.proto.label]
    assert links and "datasets=20" in links[0].proto.query_string
    assert "datasets=20" in [c.value for c in at.caption]         # what differs, below the link where it wraps
    subheaders = [m.value for m in at.subheader]
    assert subheaders.index("Recent runs") < subheaders.index("Chapter 3 · Learning from data")  # above the cards


def test_another_link_in_the_same_session_wins_over_the_last_run():
    at = press_run(page("learning_rate", epochs=3))
    at.query_params.clear()
    at.query_params.update({"epochs": "5", "repeats": "1"})
    at.run()
    assert not at.exception
    assert at.sidebar.number_input(key="learning_rate:epochs").value == 5
    assert at.sidebar.number_input(key="learning_rate:repeats").value == 1


def test_address_bar_holds_the_share_link_after_navigating_back():
    at = press_run(page("learning_rate", epochs=3))
    at.query_params.clear()
    at.run()
    assert at.query_params["epochs"] == "3" and at.get("vega_lite_chart")


def test_home_page_lists_running_runs_with_their_progress():
    study = STUDIES["learning_rate"]
    values = study.SCHEMA.parse({"epochs": "400", "repeats": "4"})
    engine = engines.shared(WORKER_PRELOAD)
    run = engine.submit(execution.job(study, values, key="home-listing"), who="teacher")
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
        assert not at.exception
        assert any(m.value == "Running now" for m in at.subheader)
        (link,) = [el for el in at.get("page_link") if "running" in el.proto.label or "queued" in el.proto.label]
        assert study.TITLE in link.proto.label and "epochs=400" in link.proto.page + str(link.proto.query_string)
    finally:
        engine.cancel("home-listing", "teacher")
        run.wait(10)


def test_a_run_over_the_servers_limit_is_refused_with_what_to_reduce(monkeypatch):
    monkeypatch.setenv("EXPLORER_MAX_RUN_MINUTES", "0.01")
    at = press_run(page("learning_rate", epochs=200))
    assert not at.exception
    message = at.error[0].value.replace("\\", "")       # shown with Markdown escapes
    assert "over the limit of 0.01 min" in message and "Reduce epochs" in message
    assert not engines.shared(WORKER_PRELOAD).active()


def test_one_session_may_have_only_so_many_runs_going_and_the_page_says_so(monkeypatch):
    """Issue 18: one session pressed Run on eight 5-minute links and all were accepted."""
    monkeypatch.setenv("EXPLORER_MAX_RUNS_PER_SESSION", "1")
    engine = engines.shared(WORKER_PRELOAD)
    at = page("learning_rate", epochs=400, repeats=6)
    assert any("up to 1 runs at once per browser tab" in c.value for c in at.sidebar.caption)
    at = at.sidebar.button[0].click().run()
    (first,) = engine.active()
    try:
        at.sidebar.number_input(key="learning_rate:epochs").set_value(399)
        at = at.sidebar.button[0].click().run()
        assert not at.exception
        assert "already have 1 runs going" in at.error[0].value and engine.active() == [first]
    finally:
        for run in engine.active():
            engine.cancel(run.key, force=True)
            run.wait(10)


def test_a_viewer_sees_a_running_link_without_a_stop_button_that_would_do_nothing():
    engine = engines.shared(WORKER_PRELOAD)
    study = STUDIES["learning_rate"]
    values = study.SCHEMA.parse({"epochs": "400", "repeats": "6"})
    run = engine.submit(execution.job(study, values, key=execution.run_key(study, values)), who="owner")
    try:
        at = page("learning_rate", **study.SCHEMA.to_texts(values))
        assert not at.exception and "Stop" not in [b.label for b in at.button]
        assert any("only those who pressed Run can stop it" in c.value for c in at.caption)
        assert not run.ended and run.holders == {"owner"}          # watching holds nothing
    finally:
        engine.cancel(run.key, force=True)
        run.wait(10)


def test_the_sidebar_shows_the_runs_size_and_estimated_time():
    at = page("learning_rate")
    assert any(c.value.startswith("15 trials, ") and "on this server" in c.value for c in at.sidebar.caption)


def test_an_unwritable_store_keeps_the_result_on_the_page_with_a_warning(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("the store folder cannot be made below a file")
    monkeypatch.setenv("EXPLORER_STORE_DIR", str(blocker / "store"))
    at = press_run(page("bias_variance", datasets=15))
    assert not at.exception
    assert any("could not be saved" in w.value for w in at.warning)
    assert at.get("vega_lite_chart") and len(at.get("download_button")) == 3


def test_random_bytes_instead_of_the_database_leave_the_app_working(store_dir):
    store_dir.mkdir(parents=True)
    (store_dir / "results.sqlite").write_bytes(os.urandom(10_000))
    home = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not home.exception
    at = press_run(page("bias_variance", datasets=12))
    assert not at.exception and at.get("vega_lite_chart")
    assert not any("could not be saved" in w.value for w in at.warning)
    assert page("bias_variance", datasets=12).get("vega_lite_chart"), "stored in the new database"


def test_a_corrupt_row_is_computed_again():
    import sqlite3
    at = press_run(page("bias_variance", datasets=11))
    with sqlite3.connect(result_store().path) as db:
        db.execute("UPDATE tables SET data = ?", (b"garbage",))
    reopened = page("bias_variance", **dict(at.query_params))
    assert not reopened.exception and reopened.get("vega_lite_chart")   # the server still has it in memory
    study, values = STUDIES["bias_variance"], STUDIES["bias_variance"].SCHEMA.parse(dict(at.query_params))
    assert execution.load_result(result_store(), study, values) is None     # the bad row was dropped
    assert press_run(reopened).get("vega_lite_chart")
    assert execution.load_result(result_store(), study, values) is not None # computed and stored again


def test_every_parameter_kind_round_trips_through_a_link_to_the_same_stored_run():
    query = {"val_fraction": "0.1234567", "learning_rates": "1e-06,0.1234567,3", "hidden": "100,100",
             "classes": "1,7", "activation": "tanh", "epochs": "2", "repeats": "1", "batch_size": "full"}
    first = page("learning_rate", **query)
    assert not first.exception and not first.warning
    assert all(first.query_params[k] == v for k, v in query.items())
    assert first.sidebar.text_input(key="learning_rate:hidden").value == "100,100"
    press_run(first)
    reopened = page("learning_rate", **dict(first.query_params))
    assert not reopened.warning and reopened.get("vega_lite_chart")


def test_kfold_opened_plainly_shows_its_stored_defaults():
    study = STUDIES["kfold"]
    values = study.SCHEMA.defaults()
    execution.save_result(result_store(), study, values, launch.run_study(study, values, n_jobs=1))
    at = AppTest.from_file(str(ROOT / page_file("kfold")), default_timeout=60).run()
    assert not at.exception and at.get("vega_lite_chart"), "the defaults' stored result is found"


HOSTILE_QUESTION = "Why does **α** matter? <b>bold</b> [x](javascript:alert(1)) $x$"


def exercise_link(at: AppTest, question: str = HOSTILE_QUESTION) -> dict:
    """The teacher's side: after a run, write a question, lock epochs and the rates, hide the data set,
    make the link; its query parameters."""
    at.text_area(key="learning_rate:question").input(question)
    at.multiselect(key="learning_rate:lock").set_value(["epochs", "learning_rates"])
    at.multiselect(key="learning_rate:hide").set_value(["dataset"])
    at = at.button(key="learning_rate:make-exercise").click().run()
    link = [c.value for c in at.code if "exercise=" in c.value][0]
    return dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))


def test_an_exercise_link_locks_hides_asks_and_holds_results_back_until_run():
    teacher = press_run(page("learning_rate", epochs=5, repeats=1))
    query = exercise_link(teacher)
    assert re.fullmatch(r"[0-9a-f]{16}", query["exercise"]) and query["epochs"] == "5"
    student = page("learning_rate", **{**query, "epochs": "50", "dataset": "mnist"})   # an edited link
    assert not student.exception
    assert student.sidebar.number_input(key="learning_rate:epochs").value == 5 and \
        student.sidebar.number_input(key="learning_rate:epochs").disabled
    assert "learning_rate:dataset" not in [w.key for w in student.sidebar.selectbox]
    assert not student.sidebar.number_input(key="learning_rate:repeats").disabled
    warnings = [w.value.replace("\\", "") for w in student.warning]
    assert any("epochs is fixed by this exercise - kept 5" in w for w in warnings)
    assert any("dataset is fixed by this exercise - kept digits" in w for w in warnings)
    assert student.query_params["epochs"] == "5" and student.query_params["exercise"] == query["exercise"]
    assert HOSTILE_QUESTION in [t.value for t in student.text]              # as written, never as Markdown
    assert not student.get("vega_lite_chart") and not student.success       # stored, but held back
    assert "once you press **Run**" in student.info[0].value
    student = student.sidebar.button[0].click().run()                       # the stored result: at once
    assert student.get("vega_lite_chart") and student.success
    assert "Share as exercise" not in [e.label for e in student.expander]   # a student makes no exercises
    student.query_params.clear()                   # the same session opens a link without exercise=
    student.query_params.update({"epochs": "50", "repeats": "1"})
    student.run()
    assert student.sidebar.number_input(key="learning_rate:epochs").value == 5
    assert student.query_params["exercise"] == query["exercise"]


def test_a_made_up_or_hostile_exercise_is_refused_with_a_warning(store_dir):
    at = page("learning_rate", exercise="0123456789abcdef", epochs=7)
    assert not at.exception and at.sidebar.number_input(key="learning_rate:epochs").value == 7
    assert any("no such exercise on this server" in w.value for w in at.warning)
    store = result_store()
    good = store.save_exercise("learning_rate", {"question": "q", "lock": {"epochs": "9"}, "hide": {}})
    with sqlite3.connect(store.path) as connection:    # someone with write access to the folder edits the row
        connection.execute("UPDATE exercises SET spec = ? WHERE id = ?",
                           (json.dumps({"question": "q", "lock": {"epochs": ["9"]}, "hide": {}, "run": "rm"}), good))
    at = page("learning_rate", exercise=good, epochs=7)
    assert not at.exception and at.sidebar.number_input(key="learning_rate:epochs").value == 7
    assert any("no such exercise" in w.value for w in at.warning)
    other = store.save_exercise("batch_size", {"question": "", "lock": {"epochs": "1e12", "nonsense": "1"}, "hide": {}})
    at = page("batch_size", exercise=other)
    assert not at.exception and at.sidebar.number_input(key="batch_size:epochs").value == 10_000  # clamped
    assert at.sidebar.number_input(key="batch_size:epochs").disabled


def test_a_rejected_form_says_the_results_on_the_page_are_the_last_runs():
    at = press_run(page("learning_rate", epochs=3))
    at.sidebar.text_input(key="learning_rate:learning_rates").input("0.1,fast")
    at = at.sidebar.button[0].click().run()
    assert any("The form was not run" in e.value for e in at.error)
    assert at.get("vega_lite_chart")


PRESETS = [(name, label) for name, study in STUDIES.items() for label in study.PRESETS]


@pytest.mark.parametrize("name,label", PRESETS)
def test_each_lecture_preset_fills_the_form(name, label, monkeypatch, tmp_path):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "no-data"))     # Fashion-MNIST absent here
    study = STUDIES[name]
    preset = study.PRESETS[label]
    study.SCHEMA.parse(preset)                                              # the preset is valid input
    at = page(name)
    at.sidebar.selectbox(key=f"{name}:preset").select(label).run()
    assert not at.exception and not at.warning
    missing = "dataset" in preset and preset["dataset"] in ("fashion-mnist", "mnist")   # IDX files absent here
    expected = {**preset, "dataset": "digits"} if missing else preset
    assert {k: at.query_params[k] for k in expected} == expected
    for param, text in expected.items():
        widget = next(w for w in at.sidebar if getattr(w, "key", None) == f"{name}:{param}")
        assert study.SCHEMA.params[param].to_text(study.SCHEMA.params[param].coerce(widget.value)) == text
    if missing:
        assert "not installed on this server" in at.sidebar.info[0].value


def test_pin_a_run_change_the_form_and_see_both_on_the_same_axes():
    at = press_run(page("learning_rate", epochs=3, repeats=1))
    first_key = execution.run_key(STUDIES["learning_rate"], STUDIES["learning_rate"].SCHEMA.parse(
        {k: v for k, v in at.query_params.items() if k != "pin"}))
    at.button(key="learning_rate:pin-button").click().run()
    assert at.query_params["pin"] == first_key
    at.sidebar.number_input(key="learning_rate:epochs").set_value(5)
    at = press_run(at)
    assert not at.exception and at.query_params["pin"] == first_key and at.query_params["epochs"] == "5"
    assert any(h.value == "This run against the pinned one" for h in at.subheader)
    spec = str(at.get("vega_lite_chart")[-1].proto.spec)
    assert "pinned: epochs=3" in spec and "this run" in spec
    (compare,) = [b for b in at.get("download_button") if b.proto.label == "Compare CSV"]
    assert any(f"pin={first_key}" in c.value for c in at.code)
    reopened = page("learning_rate", **dict(at.query_params))          # the compare link, in a new session
    assert any(h.value == "This run against the pinned one" for h in reopened.subheader)


def test_compare_with_any_stored_run_of_the_study():
    press_run(page("bias_variance", datasets=13))
    at = press_run(page("bias_variance", datasets=14))
    picker = at.selectbox(key="bias_variance:compare-with")
    (other,) = [o for o in picker.options if o != "(choose a run)"]
    assert other == "datasets=13"
    picker.select_index(1).run()
    assert not at.exception and any(h.value == "This run against the pinned one" for h in at.subheader)
    at.button(key="bias_variance:unpin").click().run()
    assert "pin" not in at.query_params and not any(h.value == "This run against the pinned one" for h in at.subheader)


def test_a_hostile_pin_is_ignored_with_a_warning():
    at = page("learning_rate", pin="../../etc/passwd")
    assert not at.exception and any("pin: not a run key" in w.value.replace("\\", "") for w in at.warning)
    assert "pin" not in at.query_params


def test_an_exercise_that_both_locks_and_hides_a_parameter_is_refused_with_a_message():
    teacher = press_run(page("learning_rate", epochs=5, repeats=1))
    teacher.multiselect(key="learning_rate:lock").set_value(["epochs"])
    teacher.multiselect(key="learning_rate:hide").set_value(["epochs", "dataset"])
    teacher = teacher.button(key="learning_rate:make-exercise").click().run()
    assert not teacher.exception and not [c for c in teacher.code if "exercise=" in c.value]
    assert any("epochs: choose shown but locked or hidden, not both" in e.value for e in teacher.error)


def test_a_link_whose_server_stopped_beating_says_that_server_stopped():
    """Issue 29: after a take-over the page said only "not stored on this server yet"."""
    import time

    from service.store import STALE_SECONDS

    study = STUDIES["learning_rate"]
    key = execution.run_key(study, study.SCHEMA.parse({"epochs": "6"}))  # a run no other test left in the engine
    store = result_store()
    assert store.claim(key, "other-host:123:abcdef") is None
    with sqlite3.connect(store.path) as db:                                 # that server was killed
        db.execute("UPDATE inflight SET heartbeat = ?", (time.time() - STALE_SECONDS - 1,))
    at = page("learning_rate", epochs=6)
    assert not at.exception
    assert any("was computing this link's run and stopped" in w.value for w in at.warning)
    assert not any("Running on another server" in str(p.value) for p in at.get("progress"))


@pytest.mark.parametrize("typed, says", [(500.0, "learning_rate: 500 is outside a number between 1e-06 and 100"),
                                         (None, "learning_rate: empty: a value is needed")])
def test_a_number_out_of_range_or_emptied_is_refused_at_the_top_and_beside_its_field(typed, says):
    """Issue 28: learning rate 500 turned the field red below the fold and Run did nothing, without a
    word; an emptied field ran with the lower limit. Both now answer at the top of the page and beside
    the field, and Run starts nothing with a value nobody entered."""
    at = page("batch_size", epochs=4)
    at.sidebar.number_input(key="batch_size:learning_rate").set_value(typed)
    at = at.sidebar.button[0].click().run()
    assert not at.exception and not engines.shared(WORKER_PRELOAD).active()
    shown = lambda errors: [e.value.replace("\\", "") for e in errors]  # noqa: E731  (Markdown escapes)
    assert any(says in e and "The form was not run" in e for e in shown(at.main.error)), shown(at.error)
    assert sum(says in e for e in shown(at.sidebar.error)) == 2  # under Run, and beside the field
