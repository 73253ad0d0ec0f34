import pytest

from core.runner import derive_seed, make_trials, run_trials
from trial_functions import busy, echo_or_fail


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_failing_trial_is_recorded_and_the_others_go_on(n_jobs):
    trials = make_trials("t", 0, [{"x": 1}, {"x": 2, "fail": True}, {"x": 3, "status": "diverged"}, {"x": 4}])
    results = sorted(run_trials(echo_or_fail, trials, n_jobs=n_jobs), key=lambda r: r.trial.index)
    assert [r.status for r in results] == ["ok", "failed", "diverged", "ok"]
    assert results[1].message == "RuntimeError: trial 1 was told to fail"
    assert [r.payload.get("seed") for r in results] == [t.seed for t in trials[:1]] + [None] + \
        [t.seed for t in trials[2:]]


def test_two_jobs_use_two_worker_processes():
    trials = make_trials("t", 0, [{"seconds": 0.3, "i": i} for i in range(4)])
    pids = {r.payload["pid"] for r in run_trials(busy, trials, n_jobs=2)}
    assert len(pids) == 2


def test_seed_depends_on_study_seed_and_parameters_not_on_order():
    params = [{"learning_rate": 0.1, "repeat": r} for r in range(3)]
    forward = make_trials("s", 5, params)
    backward = make_trials("s", 5, params[::-1])
    assert [t.seed for t in forward] == [t.seed for t in backward][::-1]
    assert len({t.seed for t in forward}) == 3
    assert derive_seed(5, params[0]) != derive_seed(6, params[0])
    assert derive_seed(5, {"a": 1, "b": 2}) == derive_seed(5, {"b": 2, "a": 1})


def children_cpu_seconds() -> float:
    """CPU time used so far by this process's child processes (the joblib workers), from /proc."""
    import os
    total, me = 0.0, os.getpid()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


class Interrupt(BaseException):
    """What Streamlit raises in the script thread when Stop is pressed (a BaseException)."""


def test_stopping_cancels_the_remaining_trials_and_frees_the_cores():
    import time
    from studies.training import run_trials_collect

    seen = []

    def stop_after_first(result, done, total):
        seen.append(result)
        before = children_cpu_seconds()
        time.sleep(0.5)
        assert children_cpu_seconds() - before > 0.5      # the probe sees the busy workers
        raise Interrupt

    params = [{"seconds": 1.5, "i": i} for i in range(8)]
    with pytest.raises(Interrupt):
        run_trials_collect("t", {"seed": 0}, params, fn=busy, n_jobs=2, progress=stop_after_first)
    assert len(seen) == 1
    before = children_cpu_seconds()
    time.sleep(1.5)
    assert children_cpu_seconds() - before < 0.1          # no worker keeps burning CPU
