"""The run engine: one per process, shared by every session of the app and by the CLI.

A run is identified by its result key. Submitting a key that is already running joins that run
(one computation, however many ask for it or watch it). The trials of all runs wait in per-run queues; one
dispatcher thread hands them to the pool's workers round-robin over runs, never more at once than
the pool has workers, so a long run cannot starve a short one and ten runs do not oversubscribe the
cores. A run ends ``done`` or ``cancelled``; its finished trials are kept either way.

Cancelling is per run: its queued trials are dropped at once and its running trials see their
cancel token within about a second (``service.cancel``). Nothing is shared between runs but the
workers, so one run's Stop or failure never touches another's trials.

A task may be a stack (``core.stack``): its ``params["members"]`` are the trials it trains together
and its payload's ``members`` one payload each; the engine hands those on as the members' results,
so a stack is scheduled and cancelled as one task but counted and shown as its trials.

Who may stop a run? Those who asked for it (pressed Run, or the CLI) hold it; Stop withdraws the
caller's hold and cancels the run once nobody holds it. Watching a run (opening its link) holds
nothing, so a viewer can neither keep a run alive nor stop it. Closing a tab withdraws nothing: runs
outlive tabs. One holder may hold at most ``limit`` runs at once (``submit``), so one person cannot
fill a class's queue.

A trial lost to the machinery (its worker killed or out of memory, a Dask worker gone) is not the
trial's failure: it goes back to the front of its run's queue, up to ``RETRIES`` times, and after
that ends ``cancelled`` (the run is then stored as a stopped run, which Run computes again), never
``failed``: ``failed`` is kept for a trial's own error, which ``service.runner.execute`` reports.
A pool that refuses a task (its Dask scheduler is gone) ends the run stopped at once, as Stop does.
"""
from __future__ import annotations

import concurrent.futures
import itertools
import logging
import os
import queue
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Callable

from service.runner import Trial, TrialResult

log = logging.getLogger(__name__)
KEEP_ENDED = 32  # ended runs remembered (their results also live in the store)
RETRIES = 3      # times a trial lost to the machinery is sent again
MEASURED_FROM = 0.05  # share of a run done from which its time left follows its measured pace


class TooManyRuns(RuntimeError):
    """A holder asked for more runs at once than the engine allows each; the message says so."""


@dataclass
class Job:
    """What a run computes. ``fn`` is a module-level trial function (workers import it);
    ``next_wave(results)`` adds trials each time every queued one has finished, until it returns none
    (k-fold retrains its best value; a search asks its sampler for the next wave); ``planned`` is the
    number of trials the run expects in all, where waves will add to ``trials`` (progress counts
    against it); ``on_end(run)`` runs in the engine thread when the run ends (assemble, store)."""

    key: str
    title: str
    fn: Callable[[Trial], dict]
    trials: list[Trial]
    next_wave: Callable[[list[TrialResult]], list[Trial]] | None = None
    on_end: Callable[["Run"], None] | None = None
    meta: dict = field(default_factory=dict)  # what a listing shows of the run (study, parameters)
    planned: int = 0
    work: float = 0.0  # estimated seconds of one worker for every trial (the queue's estimates count it)


class Run:
    """A run's live state; read it through ``snapshot()`` from any thread."""

    def __init__(self, job: Job, token, who):
        self.job, self.key, self.token = job, job.key, token
        self.queue: deque[Trial] = deque(job.trials)
        self.total = max(sum(_size(t) for t in job.trials), job.planned)
        self.results: list[TrialResult] = []
        self.tasks_running: dict[int, int] = {}  # task index -> trials in it (a stack holds several)
        self.state = "queued"          # queued -> running -> done | cancelled
        self.cancelled = False
        self.holders = {who}           # who asked for the run: Stop cancels it when none is left
        self.losses: dict[int, int] = {}  # task index -> times lost to the machinery
        self.incomplete = False        # a task was lost too often: the run ends as a stopped one
        self.submitted, self.ended_at = time.time(), None
        self.outcome = None            # what on_end made of the results (set by the caller's on_end)
        self.save_error: str | None = None
        self.listeners: list[Callable[[TrialResult, int, int], None]] = []
        self._ended = threading.Event()

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def snapshot(self) -> tuple[list[TrialResult], str, int]:
        """The finished trials so far (a copy), the state and the number of trials planned."""
        return list(self.results), self.state, self.total

    def wait(self, timeout: float | None = None) -> bool:
        return self._ended.wait(timeout)


class Engine:
    def __init__(self, pool):
        self.pool = pool
        self._lock = threading.RLock()
        self._active: dict[str, Run] = {}       # insertion order = round-robin order
        self._ended: OrderedDict[str, Run] = OrderedDict()
        self._turn = itertools.count()
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self.busy = self.peak_busy = 0
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="explorer-engine", daemon=True)
        self._thread.start()

    # -- what sessions and the CLI call ----------------------------------------------------------
    def submit(self, job: Job, who=None, limit: int | None = None) -> Run:
        """Start ``job`` held by ``who``, or add ``who``'s hold to the run of the same key already
        under way. TooManyRuns when ``who`` already holds ``limit`` other runs that are going."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the engine has been shut down")
            run = self._active.get(job.key)
            if run is not None:  # joining adds no work: never refused
                run.holders.add(who)
                return run
            held = self.held_by(who)
            if limit is not None and len(held) >= limit:
                raise TooManyRuns(f"You already have {len(held)} runs going on this server, the most one person may "
                                  f"have at once ({limit}). Wait for one to finish, or stop one, then press Run again.")
            run = Run(job, self.pool.token(), who)
            self._active[job.key] = run
            self._ended.pop(job.key, None)
        self._events.put(None)
        return run

    def held_by(self, who) -> list[Run]:
        """The runs going that ``who`` holds."""
        with self._lock:
            return [r for r in self._active.values() if who in r.holders and not r.cancelled]

    def cancel(self, key: str, who=None, force: bool = False) -> bool:
        """Withdraw ``who``'s hold; cancel when nobody holds the run any more (or ``force``). True if
        cancelled. A viewer (not a holder) withdraws nothing."""
        with self._lock:
            run = self._active.get(key)
            if run is None or run.cancelled or (who not in run.holders and not force):
                return False
            run.holders.discard(who)
            if run.holders and not force:
                return False
            run.cancelled = True
            run.queue.clear()
            self.pool.cancel(run.token)
        self._events.put(None)
        return True

    def get(self, key: str) -> Run | None:
        """The active run of ``key``, else the latest ended one still remembered."""
        with self._lock:
            return self._active.get(key) or self._ended.get(key)

    def active(self) -> list[Run]:
        with self._lock:
            return list(self._active.values())

    # -- what a page shows of a run under way ----------------------------------------------------
    def progress(self, run: Run) -> float:
        """Trials done, counting each running trial's share done as its workers report it (a page's
        bar moves during a long trial, not only when one ends)."""
        with self._lock:
            done, running = len(run.results), dict(run.tasks_running)
        shares = self.pool.progress(run.token) if running else {}
        return done + sum(size * min(max(shares.get(index, 0.0), 0.0), 0.99) for index, size in running.items())

    def ahead(self, run: Run) -> int:
        """Runs submitted before this one that are still going: those it waits behind while it has no
        worker (round robin then gives it its share)."""
        with self._lock:
            runs = list(self._active.values())
        return sum(1 for other in runs if other is not run and other.submitted <= run.submitted)

    def remaining_work(self, run: Run, done: float | None = None) -> float:
        """Estimated worker-seconds the run still needs (its ``work`` less the share done; ``done``:
        its ``progress`` where the caller has just read it)."""
        done = self.progress(run) if done is None else done
        return run.job.work * max(0.0, 1.0 - done / max(run.total, 1))

    def remaining_tasks(self, run: Run) -> int:
        with self._lock:
            return len(run.queue) + len(run.tasks_running)

    def seconds_left(self, run: Run, done: float | None = None) -> float:
        """Estimated seconds until the run ends. Before it has measurable progress: its own remaining
        work and, while it lasts, the other runs' share of the workers (the cost model). From
        ``MEASURED_FROM`` of its trials on: the pace it has kept since it was submitted, which holds the
        workers' real speed and the other runs' real share (the model said 'under a second' for 8 s
        where it was off)."""
        done = self.progress(run) if done is None else done
        if done >= MEASURED_FROM * max(run.total, 1):
            return (time.time() - run.submitted) * (run.total - done) / done
        own = self.remaining_work(run, done)
        return own / max(1, self.pool.capacity()) + self.queue_seconds(self.remaining_tasks(run), exclude=run)

    def queue_seconds(self, tasks: int, exclude: Run | None = None) -> float:
        """Seconds the runs going add to a run of ``tasks`` tasks. The workers go round robin over the
        runs one task at a time, so while this run's tasks wait their turn, each other run has up
        to as many of its own tasks done (of its average remaining length), or all it has left: a
        short run waits behind others' long tasks (a model of seconds, not tasks, was half the
        measured time in bench/classroom.py)."""
        added = 0.0
        for other in self.active():
            left = self.remaining_tasks(other) if other is not exclude else 0
            if left:
                added += min(left, max(tasks, 1)) * self.remaining_work(other) / left
        return added / max(1, self.pool.capacity())

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            for run in self._active.values():
                run.cancelled = True
                run.queue.clear()
                self.pool.cancel(run.token)
        self._events.put(_STOP)
        self._thread.join(timeout=30)
        self.pool.close()

    # -- the dispatcher thread -------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            event = self._events.get()
            if event is _STOP:
                return
            try:
                if event is not None:
                    self._complete(*event)
                self._dispatch()
            except Exception:  # the engine must outlive any one run's surprise
                log.exception("engine dispatcher")

    def _dispatch(self) -> None:
        with self._lock:
            while self.busy < self.pool.capacity():
                run = self._next_run()
                if run is None:
                    break
                self._start(run, run.queue.popleft())
            for run in [r for r in self._active.values() if not r.queue and not r.tasks_running]:
                self._wave_or_end(run)

    def _next_run(self) -> Run | None:
        """Round robin: the run after the one served last that still has queued trials."""
        waiting = [r for r in self._active.values() if r.queue]
        if not waiting:
            return None
        return waiting[next(self._turn) % len(waiting)]

    def _start(self, run: Run, trial: Trial) -> None:
        run.state = "running"
        run.tasks_running[trial.index] = _size(trial)
        self.busy += 1
        self.peak_busy = max(self.peak_busy, self.busy)
        try:
            future = self.pool.submit(run.job.fn, trial, run.token)
        except Exception as exc:  # the pool takes no work (its cluster is gone): the run ends stopped
            log.warning("run %s: the pool takes no more tasks (%s: %s); the run ends stopped", run.key,
                        type(exc).__name__, exc)
            run.incomplete = True
            run.queue.clear()
            future = concurrent.futures.Future()
            future.set_result(TrialResult(trial, "cancelled", {}, f"not started: {type(exc).__name__}: {exc}"))
        future.add_done_callback(lambda f: self._events.put((run, trial, f)))

    def _complete(self, run: Run, trial: Trial, future) -> None:
        with self._lock:
            self.busy -= 1
            run.tasks_running.pop(trial.index, None)
        try:
            result = future.result()
        except BaseException as exc:  # the worker died, the task was lost or never taken
            result = self._lost(run, trial, exc)
            if result is None:
                return
        members = _members(result)
        with self._lock:
            start = len(run.results)
            run.results.extend(members)
            total, listeners = run.total, list(run.listeners)
        for done, member in enumerate(members, start + 1):
            for listener in listeners:
                try:
                    listener(member, done, total)
                except Exception:
                    log.exception("progress listener of run %s", run.key)

    def _lost(self, run: Run, trial: Trial, exc: BaseException) -> TrialResult | None:
        """A task the machinery lost: back to the front of its run's queue (None), or, lost too often
        or in a cancelled run, a ``cancelled`` result."""
        with self._lock:
            lost = run.losses[trial.index] = run.losses.get(trial.index, 0) + 1
            if lost <= RETRIES and not run.cancelled:
                log.warning("run %s: task %s lost (%s: %s), sending it again", run.key, trial.index,
                            type(exc).__name__, exc)
                run.queue.appendleft(trial)
                return None
            run.incomplete = True
        return TrialResult(trial, "cancelled", {}, f"lost to the machinery {lost} times (last: {type(exc).__name__}: "
                                                   f"{exc}); press Run to compute it again")

    def _wave_or_end(self, run: Run) -> None:
        if not run.cancelled and run.job.next_wave is not None:
            try:
                more = run.job.next_wave(list(run.results))
            except Exception:
                log.exception("next wave of run %s", run.key)
                more = []
            if more:
                run.queue.extend(more)
                run.total = max(run.total, len(run.results) + sum(_size(t) for t in more))
                self._events.put(None)
                return
        run.state = "cancelled" if run.cancelled or run.incomplete else "done"
        run.ended_at = time.time()
        del self._active[run.key]
        if run.job.on_end is not None:
            try:
                run.job.on_end(run)
            except Exception:
                log.exception("ending run %s", run.key)
        self.pool.forget(run.token)
        self._ended[run.key] = run
        while len(self._ended) > KEEP_ENDED:
            self._ended.popitem(last=False)
        run._ended.set()


def _size(task: Trial) -> int:
    return len(task.params.get("members", ())) or 1


def _members(result: TrialResult) -> list[TrialResult]:
    """A stack's result as its members' results; any other result as itself."""
    members = result.trial.params.get("members")
    if not members:
        return [result]
    payloads = result.payload.get("members") or [{} for _ in members]
    share = result.seconds / len(members)
    found = []
    for member, payload in zip(members, payloads):
        payload = dict(payload)
        status = payload.pop("status", result.status if result.status != "ok" else "ok")
        found.append(TrialResult(member, status, payload, payload.pop("message", result.message), share))
    return found


_STOP = object()
_shared: Engine | None = None
_shared_lock = threading.Lock()


def make_pool(n_jobs: int = -1, scheduler: str | None = None, preload: tuple[str, ...] = (),
              credentials: str | None = None):
    """A Dask pool when given a scheduler address (and, for a TLS cluster, its ``credentials`` file),
    else ``n_jobs`` local processes (-1: every core; 1: a thread of this process)."""
    from service import pools

    if scheduler:
        from service.dask_pool import DaskPool

        return DaskPool(scheduler, credentials=credentials)
    workers = pools.cores() if n_jobs is None or n_jobs < 1 else n_jobs
    return pools.ThreadPool(1) if workers == 1 else pools.ProcessPool(workers, preload)


def started() -> bool:
    """Whether this process's shared engine exists (without starting it)."""
    return _shared is not None


def shared(preload: tuple[str, ...] = ()) -> Engine:
    """This process's engine: on ``$EXPLORER_SCHEDULER``'s Dask cluster if set (a TLS one with the
    credentials file ``$EXPLORER_SCHEDULER_TLS``), else on local
    processes, one per core. Its workers are started (and warmed with ``preload``) at once.

    When the process exits (a server stopped), runs still going are cancelled and the pool closed.
    Without this, loky's own exit hook waited for every running trial to finish (a stopped server
    hung for as long as its longest trial) and the pool's folder of cancel flags stayed behind in
    the temp folder. The hook is threading's (``concurrent.futures`` and loky register theirs
    there): those run before threads are joined, the last registered first, so before loky's."""
    global _shared
    with _shared_lock:
        if _shared is None:
            from service import pools
            from service.cluster import TLS_ENV

            address = os.environ.get("EXPLORER_SCHEDULER")
            # never a ThreadPool here: even a one-core server trains outside its own process
            from service.dask_pool import DaskPool

            pool = (DaskPool(address, credentials=os.environ.get(TLS_ENV)) if address
                    else pools.ProcessPool(pools.cores(), preload))
            pool.start()
            _shared = Engine(pool)
            threading._register_atexit(_shared.shutdown)
        return _shared
