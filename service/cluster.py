"""A Dask cluster for this project: start its scheduler and workers so that the workers import this
checkout's code, and check a cluster before any trial is sent to it.

``dask worker`` started as the README once said failed every trial ("Error during deserialization
of the task graph"): its worker processes could not import ``studies``. ``command`` builds the
scheduler and worker command lines with this checkout on ``PYTHONPATH`` and one BLAS thread per
trial; ``python -m studies cluster scheduler|worker`` runs them. ``check`` asks every worker what it
runs (its code version, the data sets it finds), so the app and the CLI say what is wrong at once.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from service.pools import BLAS_THREADS, ClusterProblem, cores

ROOT = Path(__file__).resolve().parents[1]
PORT = 8786


def environment() -> dict:
    """The environment of a scheduler or worker: this checkout first on ``PYTHONPATH``, one BLAS
    thread per trial (parallelism comes from running trials side by side)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]])
    env.update({name: "1" for name in BLAS_THREADS})
    return env


def command(role: str, address: str = "", host: str = "0.0.0.0", port: int = PORT,
            workers: int | None = None) -> list[str]:
    """The command line of a scheduler (listening on ``host:port``) or of a worker (``workers``
    processes of one thread each, every core by default) joining the scheduler at ``address``."""
    if role == "scheduler":
        return [sys.executable, "-m", "dask", "scheduler", "--host", host, "--port", str(port),
                "--dashboard-address", ":0"]
    if role == "worker":
        if not address:
            raise ClusterProblem("a worker needs the scheduler's address, e.g. tcp://SCHEDULER:8786")
        return [sys.executable, "-m", "dask", "worker", address, "--nthreads", "1",
                "--nworkers", str(workers or cores()), "--no-dashboard"]
    raise ClusterProblem(f"unknown role {role!r}: scheduler or worker")


def run(role: str, **kwargs) -> None:
    """Become the scheduler or worker process (``exec``: signals such as Ctrl-C reach Dask itself)."""
    argv = command(role, **kwargs)
    os.chdir(ROOT)
    os.execve(argv[0], argv, environment())


def worker_facts() -> dict:
    """What a worker runs: the project's code version and the IDX data sets it finds. Sent to every
    worker by ``check``; a worker that cannot import this module cannot run any trial either."""
    from core import data
    from service.store import code_version

    found = []
    for name in data.IDX_DATASETS:
        try:
            data.check_task(name)
            found.append(name)
        except data.DataError:
            pass
    return {"version": code_version(), "datasets": found}


def check(client) -> dict:
    """Every worker's facts by address; ClusterProblem when there is no worker, when one cannot import
    this project or runs another version of it."""
    from service.store import code_version

    facts = client.run(worker_facts, on_error="return")
    if not facts:
        raise ClusterProblem(f"the Dask scheduler at {client.scheduler.address} has no workers. Start them on each "
                             f"machine, in a checkout of this project: python -m studies cluster worker "
                             f"{client.scheduler.address}")
    broken = {address: f for address, f in facts.items() if isinstance(f, BaseException)}
    if broken:
        address, error = next(iter(broken.items()))
        raise ClusterProblem(f"{len(broken)} of {len(facts)} Dask workers cannot run this project's code ({address}: "
                             f"{type(error).__name__}: {error}). Start the workers with 'python -m studies cluster "
                             "worker ADDRESS' in a checkout of this project (it puts the checkout on their path).")
    mine = code_version()
    other = {address: f["version"] for address, f in facts.items() if f["version"] != mine}
    if other:
        address, version = next(iter(other.items()))
        raise ClusterProblem(f"{len(other)} of {len(facts)} Dask workers run another version of this project's code "
                             f"({address}: {version}, here: {mine}); update their checkout and restart them, or their "
                             "results would not match this server's.")
    return facts


def missing_data(facts: dict, dataset: str) -> list[str]:
    """The workers (addresses) that lack an IDX data set's files."""
    from core import data

    if dataset not in data.IDX_DATASETS:
        return []
    return [address for address, f in facts.items() if dataset not in f["datasets"]]
