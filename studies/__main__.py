"""Headless CLI: run any study from the command line with the same parameter schema as the pages.

    python -m studies list
    python -m studies params learning_rate
    python -m studies run learning_rate --set learning_rates=0.01,0.1,1 --set epochs=20 --out lr.csv
    python -m studies cluster scheduler                 # a Dask scheduler on 127.0.0.1:8786
    python -m studies cluster worker tcp://HOST:8786    # a worker per core, importing this checkout
    python -m studies cluster scheduler --host 0.0.0.0 --tls cluster.pem   # for a network: TLS, one file

Trials run on ``--n-jobs`` local processes, or on a Dask cluster with ``--scheduler tcp://host:port``
(``tls://host:port --tls FILE`` for one started with ``--tls``).
Exit codes: 0 done, 1 data, cluster or output problem, 2 bad command line or parameters (or a run
over ``--max-minutes``), 130 interrupted (Ctrl-C). Interrupted, or with its Dask scheduler lost
mid-run (exit 1), the trials finished by then are still written to --out and --summary-out. An
output that fails while being written (a full disk) loses nothing: the table goes to a file in the
temporary folder instead, and the message names it.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from core.data import DataError
from service import cluster as launcher
from service.dask_pool import ClusterLost
from service.pools import ClusterProblem
from studies import STUDIES
from studies.common import cost
from studies.common.execution import coverage_note, exported, to_csv
from studies.common.launch import run_study
from studies.common.schema import ParamError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m studies", description="Run the lecture's MLP studies.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the studies")
    show = sub.add_parser("params", help="a study's parameters: defaults, limits and help")
    show.add_argument("study", choices=sorted(STUDIES))
    run = sub.add_parser("run", help="run a study and write its CSV files")
    run.add_argument("study", choices=sorted(STUDIES))
    run.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="set a parameter (repeatable); see 'params STUDY'")
    run.add_argument("--n-jobs", type=int, default=-1, help="parallel trials (-1: all cores)")
    run.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run the trials on this Dask cluster")
    run.add_argument("--tls", metavar="FILE", default=os.environ.get(launcher.TLS_ENV),
                     help=f"the credentials file of a TLS cluster (default: ${launcher.TLS_ENV})")
    run.add_argument("--max-minutes", type=_minutes, help="refuse runs estimated to take longer than this")
    run.add_argument("--out", type=Path, help="write the tidy results CSV here")
    run.add_argument("--summary-out", type=Path, help="write the one-row-per-trial summary CSV here")
    cluster = sub.add_parser("cluster", help="start a Dask scheduler or workers that run this checkout's trials")
    cluster.add_argument("role", choices=("scheduler", "worker"))
    cluster.add_argument("address", nargs="?", default="", help="worker: the scheduler's tcp://HOST:PORT")
    cluster.add_argument("--host", default=launcher.LOOPBACK,
                         help="scheduler: the interface to listen on (default: this machine only)")
    cluster.add_argument("--tls", metavar="FILE", help="speak TLS with the credentials in FILE (the scheduler "
                         "writes it if it does not exist; copy it to the workers, the app and the CLI)")
    cluster.add_argument("--port", type=int, default=launcher.PORT, help="scheduler: the port to listen on")
    cluster.add_argument("--nworkers", type=int, help="worker: processes of one thread each (default: every core)")
    return parser


def _minutes(text: str) -> float:
    """A positive, finite number of minutes ('nan' compared false with every estimate: no limit at all)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive, finite number of minutes")
    return value


def _fail(code: int, message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _parse_sets(pairs: list[str]) -> dict[str, str]:
    raw = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ParamError(f"--set {pair!r}: expected NAME=VALUE, e.g. --set epochs=20")
        raw[name.strip()] = value
    return raw


def _progress_printer(study, started: float):
    def report(result, done: int, total: int) -> None:
        label = ", ".join(f"{k}={result.payload.get(k, result.trial.params.get(k))}" for k in study.LABEL_KEYS
                          if k in result.trial.params or k in result.payload)
        detail = result.message or study.trial_detail(result)
        print(f"[{done}/{total}] {label}: {result.status}{' - ' + detail if detail else ''} "
              f"({result.seconds:.2f} s, {time.perf_counter() - started:.1f} s elapsed)", file=sys.stderr)
    return report


def _check_writable(path: Path | None) -> None:
    """Fail before computing, not after: an output that cannot be written would lose the run."""
    if path is None:
        return
    if path.is_dir():
        raise OSError(f"{path} is a folder; give a file name, e.g. {path / 'results.csv'}")
    if not path.parent.resolve().is_dir():
        raise OSError(f"folder {path.parent} does not exist; create it or choose another --out path")
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        raise OSError(f"{path} cannot be written (permission denied); choose another path")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "list":
        for name, study in STUDIES.items():
            print(f"{name:15s} {study.TITLE} ({study.FIGURES}): {study.SUMMARY}")
        return 0
    if args.command == "cluster":
        try:
            launcher.run(args.role, address=args.address, host=args.host, port=args.port, workers=args.nworkers,
                         tls=args.tls)
        except ClusterProblem as exc:
            return _fail(2, str(exc))
    study = STUDIES[args.study]
    if args.command == "params":
        for p in study.SCHEMA:
            print(f"{p.name}={p.to_text(p.default)}\n    {p.help}\n    allowed: {p.allowed()}")
        return 0
    try:
        values = study.SCHEMA.parse(_parse_sets(args.set))
        if args.out is not None and args.summary_out is not None and args.out.resolve() == args.summary_out.resolve():
            raise ParamError(f"--out and --summary-out both name {args.out}: the summary would overwrite the "
                             "results; give two file names")
        for path in (args.out, args.summary_out):
            _check_writable(path)
    except ParamError as exc:
        return _fail(2, f"{exc}. See: python -m studies params {args.study}")
    except OSError as exc:
        return _fail(1, str(exc))
    finished = []
    report = _progress_printer(study, time.perf_counter())

    def progress(result, done, total):
        finished.append(result)
        report(result, done, total)

    try:
        result = run_study(study, values, n_jobs=args.n_jobs, progress=progress, scheduler=args.scheduler,
                           credentials=args.tls if args.scheduler else None, max_minutes=args.max_minutes)
    except cost.TooLarge as exc:  # over --max-minutes, or more memory than a worker that would run it may use
        return _fail(2, str(exc))
    except DataError as exc:
        return _fail(1, str(exc))
    except ClusterLost as exc:  # mid-run: keep what finished
        _keep(args, study, values, finished, "the Dask scheduler was lost")
        return _fail(1, str(exc))
    except ClusterProblem as exc:  # unreachable, no workers, workers without this code or of another version
        return _fail(1, str(exc))
    except ValueError as exc:  # a combination of values the schema alone cannot judge
        return _fail(2, str(exc))
    except KeyboardInterrupt:  # keep what finished: write it, then stop like an interrupted program
        _keep(args, study, values, finished, "interrupted")
        return 130
    if not _write(args, study, values, result):
        return 1
    statuses = set(result.summary["status"]) if "status" in result.summary else {"ok"}
    if statuses == {"failed"}:
        messages = result.summary.get("message", [])
        return _fail(1, f"every trial failed, e.g.: {next(iter(messages), '')}")
    for line in study.takeaway(result):
        print(line)
    return 0


def _keep(args, study, values: dict, finished: list, why: str) -> None:
    """A run cut short: write the trials that ended so far and say what they cover."""
    print(f"{why} after {len(finished)} ended trials; writing those", file=sys.stderr)
    if finished:
        partial = study.assemble(values, finished)
        _write(args, study, values, partial)
        print(coverage_note(study, partial), file=sys.stderr)


def _write(args, study, values: dict, result) -> bool:
    """Write the tables; one that fails on the way (a full disk, a vanished folder) goes to a file in
    the temporary folder instead, so a computed run is never lost. False if any went elsewhere."""
    written = True
    for path, frame, part in ((args.out, result.tidy, "results"), (args.summary_out, result.summary, "summary")):
        if path is None:
            continue
        table = exported(study, values, frame)
        try:
            to_csv(table, path)
        except OSError as exc:
            handle, rescue = tempfile.mkstemp(prefix=f"{study.NAME}-{part}-", suffix=".csv")
            with os.fdopen(handle, "w") as out:
                to_csv(table, out)
            print(f"error: could not write {path} ({exc.strerror or exc}); the {len(frame)} rows are in {rescue} "
                  "instead", file=sys.stderr)
            written = False
            continue
        print(f"wrote {len(frame)} rows to {path}", file=sys.stderr)
    return written


if __name__ == "__main__":
    sys.exit(main())
