"""The private APIs of other projects that this code relies on, each tested for the behaviour relied
on, so that an upgrade that renames or changes one fails here, by name, instead of in a class.

- ``threading._register_atexit`` (``service.engine.shared``): a server's exit cancels its runs before
  Python joins non-daemon threads (loky's), which would otherwise wait for every running trial;
- loky's ``process_executor._MAX_MEMORY_LEAK_SIZE`` (``service.pools.warm``): the growth after which a
  worker is restarted as leaking, which a loaded Fashion-MNIST split exceeds;
- a loky executor's ``_flags.broken`` (``ProcessPool._executor``): set once its worker died, so that
  executor is replaced;
- a loky executor's ``_processes`` (``ProcessPool.worker_pids``): its workers by pid.
"""
import inspect
import os
import signal
import subprocess
import sys
import textwrap

import pytest


def test_register_atexit_runs_before_non_daemon_threads_are_joined():
    script = textwrap.dedent("""
        import threading
        done = threading.Event()
        threading.Thread(target=done.wait).start()  # non-daemon: the interpreter joins it at exit
        threading._register_atexit(done.set)
    """)
    proc = subprocess.run([sys.executable, "-c", script], timeout=30, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_lokys_memory_leak_limit_is_the_name_its_worker_reads():
    from joblib.externals.loky import process_executor

    assert isinstance(process_executor._MAX_MEMORY_LEAK_SIZE, int)
    assert "_MAX_MEMORY_LEAK_SIZE" in inspect.getsource(process_executor._process_worker)


@pytest.fixture
def executor():
    from joblib.externals.loky import ProcessPoolExecutor

    pool = ProcessPoolExecutor(1)
    yield pool
    pool.shutdown(wait=True)


def test_a_loky_executor_names_its_workers_and_says_when_one_died(executor):
    pid = executor.submit(os.getpid).result(timeout=60)
    assert pid in executor._processes and executor._flags.broken is None
    future = executor.submit(os.kill, pid, signal.SIGKILL)
    with pytest.raises(Exception):
        future.result(timeout=60)
    assert executor._flags.broken is not None
