"""Where trials execute: worker processes on this machine, threads (tests, one-job CLI runs), or a
Dask distributed cluster. All three offer ``Pool``'s operations to ``service.engine`` and to the
code that checks a run before it starts.

Each pool hands out cancel tokens (``service.cancel``) that reach its own workers; the engine never
kills a worker to stop a trial, so no run can take another's work down with it.
"""
from __future__ import annotations

import concurrent.futures as cf
import importlib
import os
import shutil
import tempfile
import threading
import time
import uuid
from typing import Protocol

from service.cancel import FlagFileToken
from service.runner import execute

def cores() -> int:
    """CPU cores this process may use (a container or taskset may allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def process_stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name ([1] the parent, [11] and [12] the user and
    system CPU ticks), or [] for a process that has gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return []


def cpu_seconds(fields: list[str]) -> float:
    """CPU seconds used so far by the process whose ``process_stat`` these are (0 when gone)."""
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def children_cpu() -> dict[int, float]:
    """CPU seconds used so far by each child process of this one (its local workers), from /proc:
    what shows whether a stopped trial really stopped computing."""
    me, found = os.getpid(), {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        fields = process_stat(int(pid))
        if fields and int(fields[1]) == me:
            found[int(pid)] = cpu_seconds(fields)
    return found


BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def warm(preload: tuple[str, ...], cancel_folder: str, server: int) -> None:
    """Worker start: each ``module`` imported, and each ``module:function`` called, before the
    first trial arrives; and a watchdog that ends this worker when its server (``server``, the pid
    the server gave: asked here, ``getppid`` would name the adopter of a server killed while this
    worker was still importing, and the watchdog would wait on it forever) dies.

    loky restarts a worker whose memory grew by 300 MB since it started, taking that for a leak;
    a loaded Fashion-MNIST split is that large, so the worker would drop its data cache and read
    the files again for the next trial. Our caches are bounded by ``EXPLORER_CACHE_MB`` instead."""
    from joblib.externals.loky import process_executor

    process_executor._MAX_MEMORY_LEAK_SIZE = 1 << 62
    threading.Thread(target=_exit_with_parent, args=(server, cancel_folder), daemon=True,
                     name="explorer-watchdog").start()
    for entry in preload:
        module, _, function = entry.partition(":")
        loaded = importlib.import_module(module)
        if function:
            getattr(loaded, function)()


PARENT_CHECK_SECONDS = 0.5


def _exit_with_parent(parent: int, cancel_folder: str | None) -> None:
    """A server killed with ``kill -9`` cannot stop its workers: each notices that it has a new
    parent (the orphan's adopter), removes the server's folder of cancel flags, and exits."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    if cancel_folder:
        shutil.rmtree(cancel_folder, ignore_errors=True)
    os._exit(0)


def worker_budget(workers: int) -> float:
    """Bytes one of this machine's ``workers`` may use: ``$EXPLORER_WORKER_MB``, else 80 % of the
    machine's memory shared by them (all of them may run their largest task at once)."""
    if os.environ.get("EXPLORER_WORKER_MB"):
        return float(os.environ["EXPLORER_WORKER_MB"]) * 2 ** 20
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return 0.8 * total / max(1, workers)


class Pool(Protocol):
    """What the engine and a run's checks need of the workers, local or on a cluster."""

    def start(self) -> None: ...                        # start (and warm) the workers now
    def capacity(self) -> int: ...                      # trials that can run at once
    def worker_memory(self) -> float | None: ...        # bytes one trial's worker may use (None: no limit known)
    def ready(self) -> None: ...                        # ClusterProblem unless trials can run
    def missing_data(self, dataset: str) -> list[str]: ...  # workers without the data set's files
    def token(self): ...                                # a new run's cancel token
    def submit(self, fn, trial, token) -> cf.Future: ...  # one task; its future settles with a TrialResult
    def progress(self, token) -> dict[int, float]: ...  # share done of each running task of a run
    def cancel(self, token) -> None: ...                # stop a run's running tasks
    def forget(self, token) -> None: ...                # a run has ended: drop what its token holds
    def close(self) -> None: ...


class _LocalPool:
    """``workers`` on this machine, and cancel tokens as flag files in a private folder, removed
    when the pool closes."""

    def __init__(self, workers: int):
        self.workers = workers
        self._folder = tempfile.mkdtemp(prefix="explorer-cancel-")

    def capacity(self) -> int:
        return self.workers

    def worker_memory(self) -> float:
        return worker_budget(self.workers)

    def ready(self) -> None:
        """Local workers are always there (a dead one is started again with its next task)."""

    def missing_data(self, dataset: str) -> list[str]:
        """None: the local workers read this machine's files, which the run checks itself."""
        return []

    def token(self) -> FlagFileToken:
        return FlagFileToken(os.path.join(self._folder, uuid.uuid4().hex))

    def cancel(self, token: FlagFileToken) -> None:
        token.set()

    def forget(self, token: FlagFileToken) -> None:
        token.discard()

    def progress(self, token: FlagFileToken) -> dict[int, float]:
        """The share done of each running task of the run holding ``token``, by task index."""
        return token.progress()

    def _remove_flags(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)


class ProcessPool(_LocalPool):
    """``workers`` processes of this pool alone, each in a loky executor of its own (loky is what
    joblib uses; never its process-wide shared executor, which a Stop used to abort for everybody).
    loky starts workers without re-running the parent's ``__main__`` (a Streamlit page script), which
    the standard library's spawn would. One executor per worker because loky fails every task of an
    executor when one of its workers dies: a worker killed (or out of memory) now loses only its own
    task, which the engine sends again, and only its executor is rebuilt."""

    def __init__(self, workers: int | None = None, preload: tuple[str, ...] = ()):
        super().__init__(max(1, workers or cores()))
        self._preload = tuple(preload)
        self._executors: list = [None] * self.workers
        self._load = [0] * self.workers  # tasks in flight on each worker
        self._lock = threading.Lock()

    def _executor(self, slot: int):
        from joblib.externals.loky import ProcessPoolExecutor

        executor = self._executors[slot]
        if executor is None or executor._flags.broken is not None:
            executor = self._executors[slot] = ProcessPoolExecutor(
                1, initializer=warm, initargs=(self._preload, self._folder, os.getpid()),
                env={name: "1" for name in BLAS_THREADS})
        return executor

    def start(self) -> None:
        """Start every worker now (and warm it with ``preload``), not on the first Run."""
        for future in [self._executor(slot).submit(time.sleep, 0.05) for slot in range(self.workers)]:
            future.result()

    def submit(self, fn, trial, token) -> cf.Future:
        with self._lock:
            slot = min(range(self.workers), key=self._load.__getitem__)  # the engine keeps one free
            self._load[slot] += 1
            future = self._executor(slot).submit(execute, fn, trial, token)
        future.add_done_callback(lambda _: self._done(slot))
        return future

    def _done(self, slot: int) -> None:
        with self._lock:
            self._load[slot] -= 1

    def worker_pids(self) -> list[int]:
        """The process id of each worker started so far (for fault-injection tests and benches)."""
        return [pid for executor in self._executors if executor is not None for pid in executor._processes]

    def close(self) -> None:
        for executor in self._executors:
            if executor is not None:
                executor.shutdown(wait=True)
        self._remove_flags()


class ThreadPool(_LocalPool):
    """Trials in threads of this process: no start-up cost, for one-job runs and tests."""

    def __init__(self, workers: int = 1):
        super().__init__(workers)
        self._executor = cf.ThreadPoolExecutor(workers, thread_name_prefix="explorer-trial")

    def start(self) -> None:
        pass

    def submit(self, fn, trial, token) -> cf.Future:
        return self._executor.submit(execute, fn, trial, token)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._remove_flags()


class ClusterProblem(RuntimeError):
    """A Dask cluster that cannot run this project's trials; the message says what to do."""
