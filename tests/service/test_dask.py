"""The engine on a Dask distributed cluster (LocalCluster on loopback): the same numbers as local
processes, and Stop reaches the remote workers."""
import subprocess
import sys
import time
import types

import pandas as pd
import pytest

from service.engine import Engine, Job, make_pool
from service.runner import make_trials
from trial_functions import busy

pytestmark = pytest.mark.slow  # real processes, servers or browsers, or studies run to their lessons

SETS = ["--set", "learning_rates=0.1,1", "--set", "epochs=3", "--set", "repeats=2"]


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    # spawned workers re-run the parent's __main__ file: after an AppTest that is the AppTest's
    # temporary script, gone by now, and every worker failed to start
    main, sys.modules["__main__"] = sys.modules["__main__"], types.ModuleType("__main__")
    try:
        local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                             dashboard_address=None)
    finally:
        sys.modules["__main__"] = main
    with local:
        yield local


def cli(*args):
    proc = subprocess.run([sys.executable, "-m", "studies", "run", "learning_rate", *SETS, *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_cli_on_the_cluster_writes_the_same_csv_as_local_processes(cluster, tmp_path):
    cli("--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "dask.csv"))
    cli("--n-jobs", "2", "--out", str(tmp_path / "local.csv"))
    remote, local = pd.read_csv(tmp_path / "dask.csv"), pd.read_csv(tmp_path / "local.csv")
    assert len(remote) == 4 * 4 * 3
    pd.testing.assert_frame_equal(remote.drop(columns="seconds"), local.drop(columns="seconds"))


def test_stop_reaches_a_trial_running_on_the_cluster(cluster):
    engine = Engine(make_pool(scheduler=cluster.scheduler_address))
    try:
        run = engine.submit(Job("huge", "huge", busy, make_trials("huge", 0, [{"seconds": 60, "i": 0}])), who="ann")
        deadline = time.time() + 30
        while run.state != "running" and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(1.0)
        started = time.time()
        engine.cancel("huge", "ann")
        assert run.wait(10)
        assert time.time() - started < 3
        assert [r.status for r in run.results] == ["cancelled"]
    finally:
        engine.shutdown()


def test_a_dask_worker_killed_mid_run_is_replaced_and_both_runs_end_as_undisturbed(cluster):
    """kill -9 of a cluster worker process while two runs go: its tasks are computed again (Dask
    reschedules them, the engine would send them again), nothing is marked failed, and both runs
    have the numbers of an undisturbed local run."""
    import os
    import signal

    from studies import learning_rate
    from studies.common import execution, launch

    values = {"a": learning_rate.SCHEMA.parse({"epochs": "60", "repeats": "2"}),
              "b": learning_rate.SCHEMA.parse({"epochs": "60", "repeats": "2", "seed": "1"})}
    engine = Engine(make_pool(scheduler=cluster.scheduler_address))
    try:
        runs = {name: engine.submit(execution.job(learning_rate, v, key=name), who=name) for name, v in values.items()}
        deadline = time.time() + 60
        while engine.busy < 2 and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        pids = engine.pool.client.run(os.getpid)
        os.kill(next(iter(pids.values())), signal.SIGKILL)
        numbers = ["trial", "seed", "epoch", "split", "cost", "error", "updates", "status"]
        for name, run in runs.items():
            assert run.wait(180) and run.state == "done", name
            assert {r.status for r in run.results} == {"ok"}
            shared = execution.result_of(learning_rate, values[name], run.results, run.total, "done").tidy
            alone = launch.run_study(learning_rate, values[name], n_jobs=1).tidy
            pd.testing.assert_frame_equal(shared[numbers], alone[numbers])
    finally:
        engine.shutdown()
        cluster.scale(2)


def test_a_search_asks_the_same_trials_on_the_cluster_as_on_one_local_worker(cluster):
    """Issue 21: waves of a fixed size, so the sampler sees the same results in the same order
    whatever runs the trials."""
    from studies import search
    from studies.common.launch import run_study

    values = search.SCHEMA.parse({"epochs": "2", "max_train": "300", "budget": "6", "wave": "3",
                                  "space": "learning_rate=0.05..3 log; hidden_units=4,12"})
    columns = ["trial", "setting", "status", "final_val_error", "final_test_error"]
    remote = run_study(search, values, scheduler=cluster.scheduler_address).summary[columns]
    local = run_study(search, values, n_jobs=1).summary[columns]
    pd.testing.assert_frame_equal(remote.reset_index(drop=True), local.reset_index(drop=True))


def test_a_training_trials_progress_reaches_the_engine_from_a_cluster_worker(cluster):
    """Progress travels as Dask worker events (issue 22), so a page's bar moves during a remote trial."""
    from test_runner import progress_rises_before_the_trial_ends

    engine = Engine(make_pool(scheduler=cluster.scheduler_address))
    try:
        progress_rises_before_the_trial_ends(engine)
    finally:
        engine.shutdown()


def test_a_run_is_checked_against_the_memory_limit_each_cluster_worker_reports():
    """Issue 30: the page and the CLI start a run the same way (``launch.start``), checking its largest
    task against the workers that will run it: on Dask, the memory limit each worker reports to the
    scheduler (here 500 MiB), not this machine's memory. A run over it is refused before anything
    runs, by the engine the page uses and by the CLI; a run under it starts and finishes."""
    from distributed import LocalCluster

    from service.pools import worker_budget
    from studies import learning_rate
    from studies.common import cost, launch

    texts = {"hidden": "2000,2000,2000,2000", "batch_size": "full", "epochs": "1", "repeats": "1",
             "learning_rates": "0.1,0.2,0.3"}
    large, small = learning_rate.SCHEMA.parse(texts), learning_rate.SCHEMA.parse({"epochs": "2", "repeats": "1"})
    peak = max(cost.task_peaks(learning_rate, learning_rate.plan(large)))
    assert 500 * 2 ** 20 < peak < worker_budget(1)  # the cluster's workers cannot hold it; this machine could
    main, sys.modules["__main__"] = sys.modules["__main__"], types.ModuleType("__main__")
    try:
        limited = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, memory_limit="500MiB")
    finally:
        sys.modules["__main__"] = main
    with limited:
        engine = Engine(make_pool(scheduler=limited.scheduler_address))
        try:
            assert engine.pool.worker_memory() == 500 * 2 ** 20
            with pytest.raises(cost.TooLarge, match=r"more than the 500 MB one worker may use \(1 worker would run it\)"):
                launch.start(learning_rate, large, engine, holder="ann")
            assert not engine.active()
            run = launch.start(learning_rate, small, engine, holder="ann")
            assert run.wait(120) and run.state == "done" and {r.status for r in run.results} == {"ok"}
        finally:
            engine.shutdown()
        proc = subprocess.run([sys.executable, "-m", "studies", "run", "learning_rate", "--scheduler",
                               limited.scheduler_address, *[f"--set={k}={v}" for k, v in texts.items()]],
                              capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "more than the 500 MB one worker may use" in proc.stderr, proc.stderr
    assert "[1/" not in proc.stderr
