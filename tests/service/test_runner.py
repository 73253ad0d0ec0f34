"""The run engine: isolated runs, a real Stop, fair sharing of the workers, one computation per key."""
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from service.engine import RETRIES, Engine, Job, TooManyRuns, make_pool
from service.pools import ProcessPool, ThreadPool, children_cpu
from service.runner import derive_seed, make_trials
from studies import STUDIES, learning_rate
from studies.common import execution
from studies.common.execution import trials_of
from studies.common.launch import run_study
from studies.common.training import WORKER_PRELOAD
from trial_functions import busy, die, echo_or_fail, worker_state

pytestmark = pytest.mark.slow  # real processes, servers or browsers, or studies run to their lessons


@pytest.fixture
def engine():
    engine = Engine(make_pool(2))
    engine.pool.start()
    yield engine
    engine.shutdown()


def job(key, fn, params, **kwargs):
    return Job(key=key, title=key, fn=fn, trials=make_trials(key, 0, params), **kwargs)


def children_cpu_seconds() -> float:
    return sum(children_cpu().values())


def test_failing_trial_is_recorded_and_the_others_go_on(engine):
    run = engine.submit(job("a", echo_or_fail, [{"x": 1}, {"x": 2, "fail": True}, {"x": 3, "status": "diverged"}]))
    assert run.wait(60) and run.state == "done"
    results = sorted(run.results, key=lambda r: r.trial.index)
    assert [r.status for r in results] == ["ok", "failed", "diverged"]
    assert results[1].message == "RuntimeError: trial 1 was told to fail"


def test_seed_depends_on_study_seed_and_parameters_not_on_order():
    params = [{"learning_rate": 0.1, "repeat": r} for r in range(3)]
    forward = make_trials("s", 5, params)
    backward = make_trials("s", 5, params[::-1])
    assert [t.seed for t in forward] == [t.seed for t in backward][::-1]
    assert len({t.seed for t in forward}) == 3
    assert derive_seed(5, params[0]) != derive_seed(6, params[0])
    assert derive_seed(5, {"a": 1, "b": 2}) == derive_seed(5, {"b": 2, "a": 1})


def test_two_submissions_of_one_key_run_once(engine):
    first = engine.submit(job("same", busy, [{"seconds": 0.3, "i": i} for i in range(2)]), who="ann")
    second = engine.submit(job("same", busy, [{"seconds": 0.3, "i": i} for i in range(2)]), who="bob")
    assert first is second and first.wait(30)
    assert len(first.results) == 2 and first.holders == {"ann", "bob"}


def test_stop_withdraws_one_hold_and_cancels_when_nobody_holds_the_run(engine):
    run = engine.submit(job("shared", busy, [{"seconds": 5, "i": i} for i in range(4)]), who="ann")
    engine.submit(job("shared", busy, []), who="bob")   # bob pressed Run on the same link: he holds it too
    assert not engine.cancel("shared", "ann")          # bob still holds it
    assert not run.wait(0.5)
    assert engine.cancel("shared", "bob")
    assert run.wait(10) and run.state == "cancelled"


def test_a_viewer_can_neither_keep_a_run_alive_nor_stop_it(engine):
    """Issue 18: a viewer who opened the owner's link and left made the owner's Stop say "it goes on"."""
    run = engine.submit(job("owned", busy, [{"seconds": 5, "i": i} for i in range(4)]), who="owner")
    assert engine.get("owned") is run                   # what a page opened on the link does: it only looks
    assert not engine.cancel("owned", "viewer")        # a viewer's Stop withdraws nothing
    assert not run.wait(0.5)
    assert engine.cancel("owned", "owner")             # the owner's Stop cancels: nobody else holds it
    assert run.wait(10) and run.state == "cancelled"


def test_one_person_may_hold_only_so_many_runs_at_once(engine):
    """Issue 18: one session pressed Run on eight 5-minute links and all were accepted."""
    runs = [engine.submit(job(f"mine{i}", busy, [{"seconds": 3, "i": 0}]), who="ann", limit=2) for i in range(2)]
    with pytest.raises(TooManyRuns, match="already have 2 runs going.*at once \\(2\\)"):
        engine.submit(job("mine2", busy, [{"seconds": 3, "i": 0}]), who="ann", limit=2)
    assert engine.submit(job("mine0", busy, []), who="ann", limit=2) is runs[0]   # joining adds no work
    assert engine.submit(job("bobs", busy, [{"seconds": 0.1, "i": 0}]), who="bob", limit=2).wait(30)
    engine.cancel("mine0", "ann")
    assert runs[0].wait(10)
    assert engine.submit(job("mine2", busy, [{"seconds": 0.1, "i": 0}]), who="ann", limit=2).wait(30)


def test_cancelling_one_of_two_concurrent_runs_leaves_the_other_intact(engine):
    """Two sessions submit studies at once from two threads; one stops; the other finishes with every
    trial ok and the same numbers as when it runs alone."""
    study = learning_rate
    values = {"long": study.SCHEMA.parse({"epochs": "300"}), "short": study.SCHEMA.parse({"epochs": "4"})}
    runs = {}

    def start(name):
        runs[name] = engine.submit(execution.job(study, values[name], key=name, stack=False), who=name)

    threads = [threading.Thread(target=start, args=(name,)) for name in values]
    [t.start() for t in threads]
    [t.join() for t in threads]
    time.sleep(0.5)
    assert engine.cancel("long", "long")
    assert runs["short"].wait(60) and runs["long"].wait(10)
    assert runs["long"].state == "cancelled" and len(runs["long"].results) < 15
    assert "cancelled" in {r.status for r in runs["long"].results}
    assert runs["short"].state == "done" and [r.status for r in runs["short"].results] == ["ok"] * 15
    shared = execution.result_of(study, values["short"], runs["short"].results, 15, "done").tidy
    alone = run_study(study, values["short"], n_jobs=1, stack=False).tidy
    numbers = ["trial", "seed", "epoch", "split", "cost", "error", "updates", "status"]
    pd.testing.assert_frame_equal(shared[numbers], alone[numbers])


def test_a_cancelled_long_trial_stops_using_cpu_within_two_seconds(engine):
    run = engine.submit(job("huge", busy, [{"seconds": 60, "i": 0}]), who="ann")
    time.sleep(1.0)
    before = children_cpu_seconds()
    time.sleep(0.5)
    assert children_cpu_seconds() - before > 0.3        # the probe sees the busy worker
    engine.cancel("huge", "ann")
    assert run.wait(2.0)
    assert [r.status for r in run.results] == ["cancelled"]
    time.sleep(0.2)
    before = children_cpu_seconds()
    time.sleep(1.0)
    assert children_cpu_seconds() - before < 0.1


def test_runs_share_the_workers_round_robin(engine):
    """A long run submitted first does not starve a short one submitted after it."""
    long = engine.submit(job("long", busy, [{"seconds": 0.4, "i": i} for i in range(12)]))
    short = engine.submit(job("short", busy, [{"seconds": 0.4, "i": i} for i in range(2)]))
    assert short.wait(30)
    assert len(long.results) <= 4                       # the short run waited for two trials at most
    assert long.wait(30)
    assert engine.peak_busy <= 2


def test_a_task_that_keeps_killing_its_worker_is_retried_then_given_up_never_called_failed(engine):
    """Lost to the machinery is not the trial's own failure: sent again RETRIES times, then cancelled,
    and the run ends as a stopped one (stored so that Run computes it again), not as done."""
    dead = engine.submit(job("dies", die, [{"i": 0}]))
    assert dead.wait(120)
    assert [r.status for r in dead.results] == ["cancelled"] and dead.state == "cancelled"
    assert f"lost to the machinery {RETRIES + 1} times" in dead.results[0].message
    after = engine.submit(job("after", echo_or_fail, [{"i": i} for i in range(3)]))
    assert after.wait(60) and [r.status for r in after.results] == ["ok"] * 3


def test_a_worker_killed_mid_run_costs_only_its_own_task_and_both_runs_end_as_undisturbed(engine):
    """Issue 18: kill -9 of one worker failed every task in flight, of both runs. Now only the killed
    worker's task is lost (one executor per worker), sent again, and both runs end complete, with the
    numbers of a run nobody disturbed."""
    study = learning_rate
    values = {"a": study.SCHEMA.parse({"epochs": "60", "repeats": "2"}),
              "b": study.SCHEMA.parse({"epochs": "60", "repeats": "2", "seed": "1"})}
    runs = {name: engine.submit(execution.job(study, v, key=name), who=name) for name, v in values.items()}
    deadline = time.time() + 60
    while engine.busy < 2 and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    os.kill(engine.pool.worker_pids()[0], signal.SIGKILL)
    for name, run in runs.items():
        assert run.wait(120) and run.state == "done", name
        assert {r.status for r in run.results} == {"ok"}
    assert sum(sum(run.losses.values()) for run in runs.values()) == 1
    numbers = ["trial", "seed", "epoch", "split", "cost", "error", "updates", "status"]
    for name, run in runs.items():
        shared = execution.result_of(study, values[name], run.results, run.total, "done").tidy
        alone = run_study(study, values[name], n_jobs=1).tidy
        pd.testing.assert_frame_equal(shared[numbers], alone[numbers])


def test_waves_follow_each_other_until_none_is_left_and_each_sees_every_earlier_result(engine):
    seen = []

    def wave(results):
        seen.append(sorted(r.trial.params["x"] for r in results))
        return make_trials("w", 0, [{"x": 10 + len(results)}], start=len(results)) if len(results) < 4 else []

    run = engine.submit(job("w", echo_or_fail, [{"x": 1}, {"x": 2}], next_wave=wave, planned=4))
    assert run.wait(30) and run.total == 4 and run.state == "done"
    assert sorted(r.trial.params["x"] for r in run.results) == [1, 2, 12, 13]
    assert seen == [[1, 2], [1, 2, 12], [1, 2, 12, 13]]


def test_workers_start_warm_and_no_study_trial_loads_charting_or_the_ui_into_them():
    """A worker starts with the trial code imported and the embedded data read (the first Run on a
    fresh server pays for neither); then the first trial of every study runs in it, and Altair and
    Streamlit are still not loaded there."""
    engine = Engine(ProcessPool(1, WORKER_PRELOAD))
    engine.pool.start()

    def state(key):
        run = engine.submit(job(key, worker_state, [{}]))
        assert run.wait(60)
        return run.results[0].payload

    try:
        before = state("before")
        assert before["trial_code"] and before["datasets"] >= 1 and before["ui"] == []
        for name, study in STUDIES.items():
            run = engine.submit(Job(key=name, title=name, fn=study.TRIAL,
                                    trials=trials_of(study, study.SCHEMA.defaults())[:1]))
            assert run.wait(120) and run.results[0].status != "failed", (name, run.results[0].message)
        after = state("after")
        assert after["pid"] == before["pid"] and after["ui"] == []
    finally:
        engine.shutdown()


EXITS_MID_RUN = """
import time
from service import engine
from service.engine import Job
from service.runner import make_trials
from trial_functions import busy

run = engine.shared().submit(Job(key="k", title="k", fn=busy, trials=make_trials("k", 0, [{"seconds": 120}] * 3)))
while not run.snapshot()[1] == "running":
    time.sleep(0.1)
time.sleep(1)
"""


def test_a_process_that_exits_mid_run_stops_its_trials_and_leaves_no_cancel_folder(tmp_path):
    """A stopped server: its shared engine cancels the running trials (loky's exit alone waited for
    them) and removes its folder of cancel flags from the temp folder."""
    tests = Path(__file__).parents[1]
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": os.pathsep.join([str(tests.parent), str(tests)])}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", EXITS_MID_RUN], env=env, capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr[-2000:]
    assert time.perf_counter() - start < 60  # not the trials' 120 s
    assert not list(tmp_path.glob("explorer-cancel-*"))


SERVES_FOREVER = """
import json, time
from service import engine
from service.engine import Job
from service.runner import make_trials
from trial_functions import busy

shared = engine.shared()
run = shared.submit(Job(key="k", title="k", fn=busy, trials=make_trials("k", 0, [{"seconds": 120}] * 3)))
while run.snapshot()[1] != "running":
    time.sleep(0.1)
print(json.dumps({"workers": shared.pool.worker_pids(), "flags": shared.pool._folder}), flush=True)
time.sleep(300)
"""


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
    except OSError:
        return False


def test_workers_exit_within_seconds_when_their_server_is_killed(tmp_path):
    """Issue 18: after kill -9 of the server its workers kept running (and computing) and its folder
    of cancel flags stayed in the temp folder. Each worker watches its parent and exits."""
    import json

    tests = Path(__file__).parents[1]
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": os.pathsep.join([str(tests.parent), str(tests)])}
    server = subprocess.Popen([sys.executable, "-c", SERVES_FOREVER], env=env, stdout=subprocess.PIPE, text=True)
    try:
        started = json.loads(server.stdout.readline())
        assert started["workers"] and all(map(pid_alive, started["workers"]))
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        deadline = time.time() + 5
        while any(map(pid_alive, started["workers"])) and time.time() < deadline:
            time.sleep(0.1)
        assert not any(map(pid_alive, started["workers"]))
        assert not Path(started["flags"]).exists()
    finally:
        server.kill()


STARTS_POOL = """
import json, os, threading, time
from service.pools import ProcessPool

os.environ["EXPLORER_TEST_SLOW_START"] = "3"   # its workers' interpreters start slowly (sitecustomize)
pool = ProcessPool(2)
threading.Thread(target=pool.start, daemon=True).start()
while len(pool.worker_pids()) < 2:
    time.sleep(0.01)
print(json.dumps(pool.worker_pids()), flush=True)
time.sleep(300)
"""
SLOW_START = """
import os, time
time.sleep(float(os.environ.get("EXPLORER_TEST_SLOW_START", 0)))
"""


def test_workers_exit_when_their_server_is_killed_before_they_warm_up(tmp_path):
    """Issue 29: a worker read its server's pid (getppid) when it warmed up; a server killed while
    its worker was still importing left it watching its adopter, alive for good."""
    import json

    tests = Path(__file__).parents[1]
    (tmp_path / "sitecustomize.py").write_text(SLOW_START)
    env = {**os.environ, "TMPDIR": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(tests.parent), str(tests)])}
    server = subprocess.Popen([sys.executable, "-c", STARTS_POOL], env=env, stdout=subprocess.PIPE, text=True)
    workers = []
    try:
        workers = json.loads(server.stdout.readline())
        server.send_signal(signal.SIGKILL)                   # the workers are still starting
        server.wait(10)
        deadline = time.time() + 10                          # their start takes 3 s, the watchdog 0.5 s
        while any(map(pid_alive, workers)) and time.time() < deadline:
            time.sleep(0.1)
        assert not any(map(pid_alive, workers))
    finally:
        server.kill()
        for pid in filter(pid_alive, workers):
            os.kill(pid, signal.SIGKILL)


LONG = {"learning_rates": "0.5", "repeats": "1", "epochs": "5000"}  # one trial of many seconds


def progress_rises_before_the_trial_ends(engine: Engine) -> list[float]:
    """Run LONG's one training trial; the engine's progress readings, which must rise at least three
    times while no trial has finished (then the run is stopped)."""
    values = learning_rate.SCHEMA.parse(LONG)
    run = engine.submit(execution.job(learning_rate, values, "long", pool=engine.pool), who="ann")
    seen, deadline = [0.0], time.time() + 120
    try:
        while len(seen) < 4 and not run.results and time.time() < deadline:
            now = engine.progress(run)
            if now > seen[-1]:
                seen.append(now)
            time.sleep(0.05)
    finally:
        engine.cancel("long", "ann")
        run.wait(30)
    assert len(seen) == 4 and seen[-1] < 1, (seen, run.results)
    return seen


def test_a_training_trials_progress_reaches_the_engine_before_it_ends(engine):
    progress_rises_before_the_trial_ends(engine)


def test_a_queued_run_knows_the_runs_ahead_and_its_estimate_counts_their_work():
    engine = Engine(ThreadPool(1))
    try:
        first = engine.submit(job("first", busy, [{"seconds": 30, "i": 0}], work=30.0), who="ann")
        second = engine.submit(job("second", busy, [{"seconds": 1, "i": 1}], work=1.0), who="bob")
        while first.state != "running":
            time.sleep(0.02)
        assert second.state == "queued" and engine.ahead(second) == 1 and engine.ahead(first) == 0
        # one worker, taken by the first run's one 30 s task: the second's 1 s task waits for all of it
        assert 29 <= engine.seconds_left(second) - 1.0 <= 30.0
        # a new run's first task waits for one task of each run going: the first's and the second's
        assert engine.queue_seconds(1) == pytest.approx(engine.remaining_work(first) + 1.0, rel=0.01)
        assert engine.queue_seconds(5) == pytest.approx(engine.queue_seconds(1), rel=0.01)  # they have no more
    finally:
        engine.cancel("first", "ann")
        engine.cancel("second", "bob")
        engine.shutdown()


def test_a_run_whose_every_trial_was_lost_is_not_stored(engine, tmp_path, caplog):
    """Issue 29: such a run was saved, then deleted at the next open as "does not fit its schema"."""
    from dataclasses import replace

    from service.store import ResultStore

    store, values = ResultStore(tmp_path), learning_rate.SCHEMA.parse({"epochs": "2", "repeats": "1"})
    key = execution.run_key(learning_rate, values)
    lost = replace(execution.job(learning_rate, values, key, on_end=execution.storing(learning_rate, values, store)),
                   fn=die)                                             # every worker dies under its task
    run = engine.submit(lost)
    assert run.wait(180) and run.state == "cancelled" and run.outcome.trials_done == 0
    assert {r.status for r in run.results} == {"cancelled"}
    assert store.index() == [] and execution.load_result(store, learning_rate, values) is None
    assert "does not fit its schema" not in caplog.text


def test_the_time_left_follows_the_runs_measured_pace_once_it_has_some():
    """Issue 28: 'under a second to go' for 8 s where the cost model was off. Here the model says the
    run needs 0.01 s while its four trials take 0.4 s each: once one has finished, the time left is
    within a factor of two of what the run then really took, where the model's was 60 times too small."""
    engine = Engine(ThreadPool(1))
    try:
        run = engine.submit(job("paced", busy, [{"seconds": 0.4, "i": i} for i in range(4)], work=0.01), who="ann")
        while len(run.results) < 1:
            time.sleep(0.01)
        said, model, at = engine.seconds_left(run, 1.0), engine.remaining_work(run, 1.0), time.time()
        assert run.wait(30)
        took = time.time() - at
        assert took / 2 < said < took * 2 and model < took / 60
    finally:
        engine.shutdown()
