"""A Dask cluster for this project: start its scheduler and workers so that the workers import this
checkout's code, and check a cluster before any trial is sent to it.

``dask worker`` started as the README once said failed every trial ("Error during deserialization
of the task graph"): its worker processes could not import ``studies``. ``command`` builds the
scheduler and worker command lines with this checkout on ``PYTHONPATH`` and one BLAS thread per
trial; ``python -m studies cluster scheduler|worker`` runs them. ``check`` asks every worker what it
runs (its code version, the data sets it finds), so the app and the CLI say what is wrong at once.

Anyone who can reach a scheduler can run any code on every worker (that is what a task is), so the
scheduler listens on loopback unless told an address; for a network, ``credentials`` writes one
file (a key and a self-signed certificate from Dask's ``Security.temporary``, readable by its owner
alone) that the scheduler, the workers, the app (``$EXPLORER_SCHEDULER_TLS``) and the CLI (``--tls``)
all read: the cluster then speaks TLS and accepts only those who hold the file.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from service.pools import BLAS_THREADS, ClusterProblem, cores

ROOT = Path(__file__).resolve().parents[1]
PORT = 8786
LOOPBACK = "127.0.0.1"
TLS_ENV = "EXPLORER_SCHEDULER_TLS"  # the credentials file of a TLS cluster, for the app and the CLI


def environment() -> dict:
    """The environment of a scheduler or worker: this checkout first on ``PYTHONPATH``, one BLAS
    thread per trial (parallelism comes from running trials side by side)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]])
    env.update({name: "1" for name in BLAS_THREADS})
    return env


def command(role: str, address: str = "", host: str = LOOPBACK, port: int = PORT,
            workers: int | None = None, tls: str | None = None) -> list[str]:
    """The command line of a scheduler (listening on ``host:port``) or of a worker (``workers``
    processes of one thread each, every core by default) joining the scheduler at ``address``;
    with ``tls``, a credentials file (``credentials``), both speak TLS and require it."""
    secure = ["--tls-ca-file", tls, "--tls-cert", tls, "--tls-key", tls] if tls else []
    if role == "scheduler":
        return [sys.executable, "-m", "dask", "scheduler", "--host", host, "--port", str(port),
                "--protocol", "tls" if tls else "tcp", "--dashboard-address", ":0", *secure]
    if role == "worker":
        if not address:
            raise ClusterProblem("a worker needs the scheduler's address, e.g. tcp://SCHEDULER:8786")
        if tls and not address.startswith("tls://"):
            raise ClusterProblem(f"with --tls the scheduler's address starts with tls://, not {address}")
        return [sys.executable, "-m", "dask", "worker", address, "--nthreads", "1",
                "--nworkers", str(workers or cores()), "--no-dashboard", *secure]
    raise ClusterProblem(f"unknown role {role!r}: scheduler or worker")


def credentials(path: str) -> str:
    """The credentials file at ``path``, written first if there is none: a private key and its
    self-signed certificate (PEM, from ``Security.temporary``), mode 0600. Copy it to every machine of
    the cluster and to each server and CLI that uses it; whoever holds it may join. It appears whole
    (written aside, then linked into place: a worker started at the same moment never reads half of
    it), and a file already at ``path`` is never replaced."""
    from distributed.security import Security

    if os.path.lexists(path):
        return path
    made = Security.temporary()
    handle, aside = tempfile.mkstemp(prefix=".credentials-", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(handle, "w") as out:  # mkstemp's file is its owner's alone (0600)
            out.write(made.tls_scheduler_key + made.tls_scheduler_cert)
        try:
            os.link(aside, path)
        except FileExistsError:  # another process wrote it meanwhile: theirs stands
            pass
    finally:
        os.unlink(aside)
    return path


def security(path: str | None):
    """Dask's Security for a credentials file (TLS required, every role from the one file); None
    without one (a plain tcp:// cluster)."""
    from distributed.security import Security

    if not path:
        return None
    if not os.path.isfile(path):
        raise ClusterProblem(f"the cluster's credentials file {path} does not exist: copy it from the machine "
                             "that started the scheduler with --tls")
    return Security(require_encryption=True, tls_ca_file=path, tls_client_cert=path, tls_client_key=path,
                    tls_scheduler_cert=path, tls_scheduler_key=path, tls_worker_cert=path, tls_worker_key=path)


def run(role: str, tls: str | None = None, **kwargs) -> None:
    """Become the scheduler or worker process (``exec``: signals such as Ctrl-C reach Dask itself).
    A scheduler given ``tls`` writes its credentials file first if there is none; one listening on
    another address than loopback without it is open to anyone who reaches the port (a warning)."""
    if tls:
        tls = os.path.abspath(tls)
        if role == "scheduler":
            credentials(tls)
        else:
            security(tls)  # the file must be there: ClusterProblem says where it comes from
    elif role == "scheduler" and kwargs.get("host", LOOPBACK) not in (LOOPBACK, "localhost", "::1"):
        print(f"warning: the scheduler listens on {kwargs['host']} without TLS: anyone who can reach its port can "
              "run any code on every worker. Give it --tls FILE (the workers, the app and the CLI then need that "
              "file too), or keep it on a network nobody else can reach.", file=sys.stderr)
    argv = command(role, tls=tls, **kwargs)
    os.chdir(ROOT)
    os.execve(argv[0], argv, environment())


def worker_facts() -> dict:
    """What a worker runs: the project's code version and the IDX data sets it finds. Sent to every
    worker by ``check``; a worker that cannot import this module cannot run any trial either."""
    from core import data
    from service.code_version import code_version

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
    from service.code_version import code_version

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
