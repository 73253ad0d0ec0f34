"""Trials on a Dask distributed cluster: the pool the engine uses when a scheduler is named, and the
problems a cluster can have while it runs (unreachable, lost mid-run). It lives apart from the local
pools because it reads the cluster's facts (``service.cluster``), which itself uses the local pools'
settings."""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import threading
import time
import uuid

from service.cancel import PROGRESS_TOPIC, DaskEventToken
from service.cluster import check, missing_data, security
from service.pools import ClusterProblem
from service.runner import execute

log = logging.getLogger(__name__)


class ClusterUnreachable(ClusterProblem):
    """No Dask scheduler at the address given; the message says what to check."""


class ClusterLost(ClusterProblem):
    """The Dask scheduler stopped answering while this process used it; the message says what to do."""


WATCH_SECONDS = 0.5  # how often a Dask pool looks at its connection to the scheduler


class DaskPool:
    """Trials on a Dask distributed cluster (``tcp://host:port`` of its scheduler, or ``tls://`` with
    the credentials file the launcher wrote: ``service.cluster.credentials``). Its workers must
    import this project and find the data folder; start them with ``--nthreads 1`` (one trial per
    core, one BLAS thread each).

    A scheduler that goes away (killed, its machine cut off) is a cluster problem, never a hang:
    Dask's client drops the tasks in flight, or leaves those sent while it reconnects pending for
    good, so every task is handed to the engine as a future of this pool's own, which a watcher
    fails with ClusterLost once the client is no longer connected; the engine, sending such a task
    again, finds the pool refusing work and ends the run stopped with its finished trials. ``ready``
    replaces a client that gave up with a new one, so a server works again once the scheduler is back."""

    def __init__(self, address: str, timeout: float = 10, credentials: str | None = None):
        """Connect, then check the workers (``service.cluster.check``): ClusterProblem says what is wrong."""
        self.address, self._timeout, self._credentials = address, timeout, credentials
        self._capacity, self._memory, self._asked = 1, None, 0.0
        self._progress: dict[tuple[str, int], float] = {}
        self._pending: set[cf.Future] = set()
        self._lock, self._closed = threading.Lock(), threading.Event()
        self.client = self._connect(timeout)
        threading.Thread(target=self._watch, name="explorer-dask-watch", daemon=True).start()

    def _connect(self, timeout: float):
        from distributed import Client

        try:
            client = Client(self.address, set_as_default=False, timeout=timeout,
                            security=security(self._credentials))
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterUnreachable(
                f"no Dask scheduler answered at {self.address} within {timeout:g} s ({type(exc).__name__}: {exc}). "
                "Start one with 'python -m studies cluster scheduler', or check the address (tcp://HOST:PORT, "
                "tls://HOST:PORT with its credentials file) and the firewall.") from exc
        try:
            self.facts = check(client)  # every worker imports this project's code, of this version
        except ClusterProblem:
            client.close()
            raise
        client.subscribe_topic(PROGRESS_TOPIC, self._on_progress)
        return client

    def _connected(self) -> bool:
        return self.client.status == "running"

    def _lost(self) -> ClusterLost:
        return ClusterLost(f"the Dask scheduler at {self.address} stopped answering: the runs on it were stopped, "
                           "their finished trials kept. Start the scheduler and its workers again (python -m studies "
                           "cluster scheduler / worker); the app reconnects by itself on its next page.")

    def ready(self) -> None:
        """ClusterProblem unless the scheduler answers; a client that lost it is replaced by a new one
        (a few seconds' try), so the server works again as soon as the scheduler is back."""
        with self._lock:
            if self._connected():
                return
            try:  # a new client, even while Dask's own reconnection is under way: that one may be
                fresh = self._connect(min(self._timeout, 3))  # waiting out a back-off for seconds
            except ClusterUnreachable as exc:
                raise self._lost() from exc
            old, self.client = self.client, fresh
        with self._unless_lost():
            old.close(timeout=2)

    def _watch(self) -> None:
        while not self._closed.wait(WATCH_SECONDS):
            if not self._connected():
                with self._lock:
                    pending, self._pending = self._pending, set()
                for future in pending:
                    _settle(future, exception=self._lost())

    def _on_progress(self, event) -> None:
        message = event[1]
        self._progress[(message["token"], message["index"])] = float(message["done"])

    def progress(self, token: DaskEventToken) -> dict[int, float]:
        return {index: done for (name, index), done in list(self._progress.items()) if name == token.name}

    def missing_data(self, dataset: str) -> list[str]:
        """The workers that lack an IDX data set's files (as they were when the pool connected)."""
        return missing_data(self.facts, dataset)

    def capacity(self) -> int:
        """Threads of the cluster's workers (as last seen while the scheduler answered): never an
        error, which would stop the engine's dispatcher from ending the runs."""
        self._ask()
        return self._capacity

    def worker_memory(self) -> float | None:
        """Bytes a trial may use on the tightest worker: its memory limit as the scheduler reports it
        (``dask worker --memory-limit``; by default the machine's memory shared by its worker
        processes) over its threads. None when no worker has a limit."""
        self._ask()
        return self._memory

    def _ask(self) -> None:
        """The workers' threads and memory limits, asked again now and then (workers come and go)."""
        if self._connected() and time.monotonic() - self._asked > 2:
            with self._unless_lost():
                workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
                self._capacity = max(1, sum(w["nthreads"] for w in workers))
                limits = [w["memory_limit"] / max(1, w["nthreads"]) for w in workers if w.get("memory_limit")]
                self._memory = min(limits) if limits else None
            self._asked = time.monotonic()

    @contextlib.contextmanager
    def _unless_lost(self):
        """A call to a scheduler that the client's status said was there, and that may be going
        meanwhile (CommClosedError, "ConnectionPool is closed", a closed client's missing scheduler;
        the status changes after the call fails): the caller goes on without its answer, the
        watcher and ``ready`` deal with a lost scheduler."""
        try:
            yield
        except Exception as exc:
            log.warning("Dask scheduler %s did not answer a call: %s: %s", self.address, type(exc).__name__, exc)

    def start(self) -> None:
        self.capacity()

    def token(self) -> DaskEventToken:
        return DaskEventToken(f"explorer-cancel-{uuid.uuid4().hex}")

    def cancel(self, token: DaskEventToken) -> None:
        """Set the run's cancel event; without a scheduler its trials have stopped anyway."""
        from distributed import Event

        if self._connected():
            with self._unless_lost():
                Event(token.name, client=self.client).set()

    def forget(self, token: DaskEventToken) -> None:
        from distributed import Event

        if self._connected():
            with self._unless_lost():
                Event(token.name, client=self.client).clear()
        for key in [k for k in list(self._progress) if k[0] == token.name]:
            self._progress.pop(key, None)

    def submit(self, fn, trial, token) -> cf.Future:
        """The task as a future of this pool's: settled by Dask's, or failed by the watcher."""
        if not self._connected():
            raise self._lost()
        future = cf.Future()
        with self._lock:
            self._pending.add(future)
        remote = self.client.submit(execute, fn, trial, token, pure=False)
        remote.add_done_callback(lambda done: self._settle_from(done, future))
        return future

    def _settle_from(self, remote, future: cf.Future) -> None:
        """In a thread of Dask's: the remote task's result or error, fetched within the timeout."""
        try:
            _settle(future, result=remote.result(timeout=self._timeout))
        except BaseException as exc:  # the trial's machinery failed: the engine's retry decides
            _settle(future, exception=exc)
        with self._lock:
            self._pending.discard(future)

    def close(self) -> None:
        self._closed.set()
        self.client.close()


def _settle(future: cf.Future, result=None, exception: BaseException | None = None) -> None:
    """Settle ``future`` unless the other side (the task, or the watcher) did first."""
    try:
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result)
    except cf.InvalidStateError:
        pass
