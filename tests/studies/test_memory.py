"""Memory is bounded before a run starts (issue 18): the estimate of ``studies.common.memory`` against
the peak resident size measured in fresh, warmed workers over a grid of sizes, the fixed rule that
cuts stacks too large to hold, and the refusal with what to reduce."""
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from service.pools import worker_budget
from studies import kfold, learning_rate
from studies.common import cost, memory
from studies.common.training import stacks, trial_seeds

pytestmark = pytest.mark.slow  # real processes, servers or browsers, or studies run to their lessons

ROOT = Path(__file__).resolve().parents[2]
MEASURE = """
import pickle, sys
from service.runner import execute
from studies.common.training import train_any, warm_up
warm_up()                                                  # what a worker does as it starts
result = execute(train_any, pickle.loads(sys.stdin.buffer.read()))
assert result.status == "ok", result.message
status = open("/proc/self/status").read()
print(int(status.split("VmHWM:")[1].split()[0]) * 1024)   # this process's own peak: getrusage's maxrss
"""                                                          # also counts the parent's size at the fork
GRID = [  # (study, parameters): small and large networks, batches, stacks, optimisers, data sets, folds
    (learning_rate, {"learning_rates": "0.1"}),
    (learning_rate, {"learning_rates": "0.1", "hidden": "2000,2000", "batch_size": "full"}),
    (learning_rate, {"learning_rates": "0.1,0.2,0.3", "hidden": "2000,2000", "batch_size": "full"}),
    (learning_rate, {"learning_rates": "0.1", "hidden": "1000,1000", "dropout": "0.5", "batch_size": "256"}),
    (learning_rate, {"learning_rates": "0.1", "hidden": "500", "optimiser": "adam"}),
    (learning_rate, {"dataset": "fashion-mnist", "learning_rates": "0.1", "hidden": "100"}),
    (learning_rate, {"dataset": "fashion-mnist", "classes": "0,1", "learning_rates": "0.1", "hidden": "100"}),
    (learning_rate, {"dataset": "fashion-mnist", "learning_rates": "0.1,0.5,1", "hidden": "300", "max_train": "20000"}),
    (learning_rate, {"dataset": "fashion-mnist", "learning_rates": "0.1", "hidden": "1000,1000", "batch_size": "full",
                     "max_train": "10000"}),
    (learning_rate, {"dataset": "fashion-mnist", "learning_rates": "0.1", "hidden": "2000,2000,2000,2000",
                     "batch_size": "full"}),                # the case: 3.7 GB
    (kfold, {"dataset": "fashion-mnist", "tune": "learning_rate", "values": "0.1", "hidden": "200", "k": "3"}),
]


def first_task(study, texts):
    values = study.SCHEMA.parse({"epochs": "1", **({"repeats": "1"} if "repeats" in study.SCHEMA.params else {}),
                                 **texts})
    return stacks(trial_seeds(study.NAME, 0, study.plan(values)))[0]


def estimate(task) -> float:
    members = task.params.get("members")
    return memory.task_bytes(members[0].params, len(members)) if members else memory.task_bytes(task.params)


@pytest.mark.parametrize("study, texts", GRID, ids=[f"{s.NAME}:{','.join(f'{k}={v}' for k, v in t.items())}"
                                                     for s, t in GRID])
def test_the_estimate_is_within_30_percent_of_the_measured_peak(study, texts, tmp_path):
    """Measured in the worker that prepares the split (an empty folder of saved splits): the one
    worker of a machine that decodes and normalises it, whose peak the estimate bounds."""
    task = first_task(study, texts)
    peak = measured_peak(task, tmp_path / "splits")
    assert abs(estimate(task) / peak - 1) <= 0.3, (estimate(task) / 2 ** 20, peak / 2 ** 20)


def measured_peak(task, splits: Path) -> int:
    measured = subprocess.run([sys.executable, "-c", MEASURE], input=pickle.dumps(task), capture_output=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "EXPLORER_SPLITS_DIR": str(splits)},
                              timeout=300)
    assert measured.returncode == 0, measured.stderr.decode()[-2000:]
    return int(measured.stdout.decode().split()[-1])


def test_a_worker_that_maps_a_saved_split_stays_below_the_estimate(tmp_path):
    """Every later worker maps the saved split (core.shared_splits) and skips the preparation, so
    the estimate, made for the worker that prepares it, still bounds them: it errs on the safe side."""
    task = first_task(learning_rate, {"dataset": "fashion-mnist", "learning_rates": "0.1", "hidden": "100"})
    building = measured_peak(task, tmp_path / "splits")
    mapping = measured_peak(task, tmp_path / "splits")
    assert mapping < 0.8 * building and mapping < estimate(task), (mapping / 2 ** 20, building / 2 ** 20)


def test_a_stack_too_large_to_hold_trains_as_single_trials_by_a_fixed_rule():
    small = first_task(learning_rate, {"learning_rates": "0.1,0.2,0.3"})
    assert len(small.params["members"]) == 3
    texts = {"dataset": "fashion-mnist", "learning_rates": "0.1,0.2,0.3", "hidden": "2000,2000,2000,2000",
             "batch_size": "full"}
    values = learning_rate.SCHEMA.parse({"epochs": "1", "repeats": "1", **texts})
    tasks = stacks(trial_seeds("learning_rate", 0, learning_rate.plan(values)))
    assert [len(t.params.get("members", [t])) for t in tasks] == [1, 1, 1]
    assert 3 * memory.task_bytes(tasks[0].params) - 2 * memory.WORKER_BASE > memory.STACK_MAX_BYTES


def test_a_run_a_worker_cannot_hold_is_refused_saying_what_to_reduce(monkeypatch):
    values = learning_rate.SCHEMA.parse({"dataset": "fashion-mnist", "hidden": "2000,2000,2000,2000",
                                         "batch_size": "full", "epochs": "1", "repeats": "1"})
    monkeypatch.setenv("EXPLORER_WORKER_MB", "2000")
    with pytest.raises(cost.TooLarge, match=r"about 3\.\d GB of memory, more than the 2\.0 GB one worker may use "
                                            r"\(2 workers would run it\)\. Use fewer or smaller hidden layers"):
        cost.check_memory(learning_rate, values, worker_budget(2), 2)
    monkeypatch.setenv("EXPLORER_WORKER_MB", "8000")
    assert cost.check_memory(learning_rate, values, worker_budget(2), 2) == pytest.approx(estimate(first_task(learning_rate, {
        "dataset": "fashion-mnist", "hidden": "2000,2000,2000,2000", "batch_size": "full", "learning_rates": "0.01"})))


def test_the_cli_refuses_it_before_computing(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "studies", "run", "learning_rate", "--set", "dataset=fashion-mnist",
                           "--set", "hidden=2000,2000,2000,2000", "--set", "batch_size=full", "--set", "epochs=1",
                           "--set", "repeats=1", "--out", str(tmp_path / "x.csv")], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "EXPLORER_WORKER_MB": "1000"}, timeout=120)
    assert proc.returncode == 2 and "of memory, more than the 1000 MB" in proc.stderr and "[1/" not in proc.stderr
    assert not (tmp_path / "x.csv").exists()


def test_the_page_refuses_it_with_the_same_message(monkeypatch):
    from streamlit.testing.v1 import AppTest

    from service import engine as engines
    from studies.common.training import WORKER_PRELOAD
    monkeypatch.setenv("EXPLORER_WORKER_MB", "1000")
    at = AppTest.from_file(str(ROOT / "app_pages" / "learning_rate.py"), default_timeout=60)
    at.query_params.update({"dataset": "fashion-mnist", "hidden": "2000,2000,2000,2000", "batch_size": "full",
                            "epochs": "1", "repeats": "1"})
    at = at.run().sidebar.button[0].click().run()
    assert not at.exception
    assert "of memory, more than the 1000 MB" in at.error[0].value.replace("\\", "")
    assert not engines.shared(WORKER_PRELOAD).active()
