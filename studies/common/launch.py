"""Starting a run, the one way the page and the command line share: the run is checked against the
workers that will run it (its estimated time against the limit; its largest task's memory against
what each of them may use, on Dask the memory limits the scheduler reports), its job is built,
claimed across the server processes of one store, and submitted. The callers only present what
``start`` answers or raises; ``run_study`` is ``start`` followed to its end, for the CLI, the tests
and the benches.
"""
from __future__ import annotations

from typing import Callable, Protocol

from service import engine as engines
from studies.common import cost, execution
from studies.common.training import StudyResult

ELSEWHERE = "elsewhere"  # start's answer when another server process of the store computes the run


class Claims(Protocol):
    """Which server process of a shared store computes a run (``ui.server.ServerClaims``)."""

    def take(self, key: str) -> str | None: ...  # None: ours now; else the server computing it
    def release(self, key: str) -> None: ...


def start(study, values: dict, engine: engines.Engine, *, holder: str, key: str | None = None,
          max_minutes: float | None = None, per_session: int | None = None, on_end: Callable | None = None,
          claims: Claims | None = None, stack: bool = True):
    """Submit the run of ``values`` for ``holder`` (or hold the same run under way): its Run, or
    ELSEWHERE when ``claims`` says another server computes it. Raises, before anything runs,
    ``cost.TooLarge`` (over ``max_minutes`` on the engine's workers, or more memory than one of them
    may use), ``DataError`` (data files missing here or on a cluster's workers), ``ValueError``
    (values that cannot run together) and ``engines.TooManyRuns`` (``holder`` holds ``per_session``)."""
    key = key or execution.run_key(study, values)
    workers = engine.pool.capacity()
    if max_minutes is not None:
        cost.check_limit(study, values, workers, max_minutes)
    cost.check_memory(study, values, engine.pool.worker_memory(), workers)
    job = execution.job(study, values, key, on_end=on_end, stack=stack, pool=engine.pool)
    local = engine.get(key)
    taken = claims is not None and (local is None or local.ended)
    if taken and claims.take(key) is not None:
        return ELSEWHERE
    try:
        return engine.submit(job, holder, limit=per_session)
    except engines.TooManyRuns:
        if taken:
            claims.release(key)
        raise


def run_study(study, values: dict, n_jobs: int = -1, progress: Callable | None = None,
              scheduler: str | None = None, engine: engines.Engine | None = None, stack: bool = True,
              credentials: str | None = None, max_minutes: float | None = None) -> StudyResult:
    """Run a study to its end and return its result. ``progress(result, done, total)`` is called
    as each trial finishes (collect the results there to keep them). KeyboardInterrupt cancels the
    run and propagates once its running trials have stopped; so does ClusterLost once a run on a
    Dask ``scheduler`` (a TLS one with its ``credentials`` file) has ended stopped because the
    scheduler went away. ``stack=False`` trains every trial on its own (the one-trial-per-task path
    the throughput bench compares with). ``start``'s checks raise as there."""
    own = engine is None
    engine = engine or engines.Engine(engines.make_pool(n_jobs, scheduler, credentials=credentials))
    try:
        run = start(study, values, engine, holder="cli", key=f"{study.NAME}:{id(values)}:{stack}", stack=stack,
                    max_minutes=max_minutes)
        if progress:
            run.listeners.append(progress)
        try:
            while not run.wait(0.2):
                pass
        except KeyboardInterrupt:
            engine.cancel(run.key, "cli", force=True)
            run.wait(30)
            raise
        results, state, total = run.snapshot()
        if state == "cancelled":
            engine.pool.ready()  # a cluster lost under the run: ClusterLost, for the caller to report
        return execution.result_of(study, values, results, total, state)
    finally:
        if own:
            engine.shutdown()
