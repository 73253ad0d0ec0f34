"""Where trials execute: worker processes on this machine, threads (tests, one-job CLI runs), or a
Dask distributed cluster. All three offer the same four operations to ``core.engine``.

Each pool hands out cancel tokens (``core.cancel``) that reach its own workers; the engine never
kills a worker to stop a trial, so no run can take another's work down with it.
"""
from __future__ import annotations

import concurrent.futures as cf
import importlib
import os
import shutil
import tempfile
import time
import uuid

from core.cancel import DaskEventToken, FlagFileToken
from core.runner import execute


def cores() -> int:
    """CPU cores this process may use (a container or taskset may allow fewer than the machine has)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def children_cpu() -> dict[int, float]:
    """CPU seconds used so far by each child process of this one (its local workers), from /proc:
    what shows whether a stopped trial really stopped computing."""
    ticks, me, found = os.sysconf("SC_CLK_TCK"), os.getpid(), {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me:
            found[int(pid)] = (int(fields[11]) + int(fields[12])) / ticks
    return found


BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def warm(preload: tuple[str, ...]) -> None:
    """Worker start: each ``module`` imported, and each ``module:function`` called, before the
    first trial arrives.

    loky restarts a worker whose memory grew by 300 MB since it started, taking that for a leak;
    a loaded Fashion-MNIST split is that large, so the worker would drop its data cache and read
    the files again for the next trial. Our caches are bounded by ``EXPLORER_CACHE_MB`` instead."""
    from joblib.externals.loky import process_executor

    process_executor._MAX_MEMORY_LEAK_SIZE = 1 << 62
    for entry in preload:
        module, _, function = entry.partition(":")
        loaded = importlib.import_module(module)
        if function:
            getattr(loaded, function)()


class _LocalPool:
    """``workers`` on this machine, and cancel tokens as flag files in a private folder, removed
    when the pool closes."""

    def __init__(self, workers: int):
        self.workers = workers
        self._folder = tempfile.mkdtemp(prefix="explorer-cancel-")

    def capacity(self) -> int:
        return self.workers

    def token(self) -> FlagFileToken:
        return FlagFileToken(os.path.join(self._folder, uuid.uuid4().hex))

    def cancel(self, token: FlagFileToken) -> None:
        token.set()

    def forget(self, token: FlagFileToken) -> None:
        token.discard()

    def _remove_flags(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)


class ProcessPool(_LocalPool):
    """``workers`` processes of this pool alone (loky's executor, as joblib uses, but never its
    process-wide shared one: that one is what a Stop used to abort for everybody). loky starts
    workers without re-running the parent's ``__main__`` (a Streamlit page script), which the
    standard library's spawn would. A worker that dies (killed, out of memory) fails only the
    trials it held; the pool is rebuilt for the next ones."""

    def __init__(self, workers: int | None = None, preload: tuple[str, ...] = ()):
        super().__init__(max(1, workers or cores()))
        self._preload = tuple(preload)
        self._executor = None

    def _pool(self):
        from joblib.externals.loky import ProcessPoolExecutor

        if self._executor is None or self._executor._flags.broken is not None:
            self._executor = ProcessPoolExecutor(self.workers, initializer=warm, initargs=(self._preload,),
                                                 env={name: "1" for name in BLAS_THREADS})
        return self._executor

    def start(self) -> None:
        """Start every worker now (and warm it with ``preload``), not on the first Run."""
        pool = self._pool()
        for future in [pool.submit(time.sleep, 0.05) for _ in range(self.workers)]:
            future.result()

    def submit(self, fn, trial, token) -> cf.Future:
        return self._pool().submit(execute, fn, trial, token)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
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


class DaskPool:
    """Trials on a Dask distributed cluster (``tcp://host:port`` of its scheduler). Its workers must
    import this project and find the data folder; start them with ``--nthreads 1`` (one trial per
    core, one BLAS thread each)."""

    def __init__(self, address: str, timeout: float = 10):
        from distributed import Client

        self.address = address
        self.client = Client(address, set_as_default=False, timeout=timeout)
        self._capacity, self._asked = 1, 0.0

    def capacity(self) -> int:
        if time.monotonic() - self._asked > 2:  # workers come and go; ask the scheduler now and then
            self._capacity = max(1, sum(self.client.nthreads().values()))
            self._asked = time.monotonic()
        return self._capacity

    def start(self) -> None:
        self.capacity()

    def token(self) -> DaskEventToken:
        return DaskEventToken(f"explorer-cancel-{uuid.uuid4().hex}")

    def cancel(self, token: DaskEventToken) -> None:
        from distributed import Event

        Event(token.name, client=self.client).set()

    def forget(self, token: DaskEventToken) -> None:
        from distributed import Event

        Event(token.name, client=self.client).clear()

    def submit(self, fn, trial, token):
        return self.client.submit(execute, fn, trial, token, pure=False)

    def close(self) -> None:
        self.client.close()
