"""Whether a change left every study's numbers alone: runs each study's defaults with the command
line of two revisions of this repository and compares their tidy and summary CSVs byte for byte,
apart from the columns of wall time (``seconds``, ``seconds_per_epoch``: never the same twice).

Both revisions run the parameters the later one gives as its defaults (``python -m studies params``),
so a default changed on purpose between them does not read as a changed computation; a study the
earlier revision lacks is listed as new, not compared.

    python tools/compare_tables.py 602897c            # that commit against the working tree
    python tools/compare_tables.py 602897c HEAD       # two commits
"""
from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMES = {"seconds", "seconds_per_epoch"}  # the columns that hold wall time


def checkout(revision: str | None, into: Path) -> Path:
    """The files of ``revision`` (None: the working tree as it is, untracked files included) in ``into``."""
    into.mkdir()
    if revision is None:
        files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                               check=True, capture_output=True).stdout.split(b"\0")
        archive = subprocess.run(["tar", "-cf", "-", "--null", "-T", "-"], cwd=ROOT, check=True, capture_output=True,
                                 input=b"\0".join(f for f in files if f and (ROOT / f.decode()).exists())).stdout
    else:
        archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-xf", "-"], cwd=into, check=True, input=archive)
    return into


def studies(tree: Path) -> list[str]:
    out = subprocess.run([sys.executable, "-m", "studies", "list"], cwd=tree, check=True, capture_output=True,
                         text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def defaults(tree: Path, study: str) -> list[str]:
    """``name=value`` of each of the study's parameters at their defaults, as ``params`` prints them."""
    out = subprocess.run([sys.executable, "-m", "studies", "params", study], cwd=tree, check=True,
                         capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line and not line.startswith(" ")]


def run(tree: Path, study: str, sets: list[str], out: Path) -> tuple[str, str] | str:
    """The study's (tidy, summary) CSV texts with the wall-time columns removed, or the error it printed."""
    args = [sys.executable, "-m", "studies", "run", study, "--out", str(out / "tidy.csv"),
            "--summary-out", str(out / "summary.csv")]
    for pair in sets:
        args += ["--set", pair]
    done = subprocess.run(args, cwd=tree, capture_output=True, text=True)
    if done.returncode != 0:
        return f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ''}"
    return tuple(without_times((out / f"{part}.csv").read_text()) for part in ("tidy", "summary"))


def without_times(text: str) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    keep = [i for i, name in enumerate(rows[0]) if name not in TIMES] if rows else []
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([[row[i] for i in keep] for row in rows])
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="the earlier revision (a commit, tag or branch)")
    parser.add_argument("after", nargs="?", help="the later revision (default: the working tree)")
    parser.add_argument("--only", nargs="*", default=(), help="compare these studies only")
    args = parser.parse_args(argv)
    differ = 0
    with tempfile.TemporaryDirectory(prefix="compare-tables-") as tmp:
        old, new = checkout(args.before, Path(tmp) / "before"), checkout(args.after, Path(tmp) / "after")
        known = set(studies(old))
        print(f"before: {args.before}   after: {args.after or 'working tree'}")
        print(f"{'study':18s} {'tidy rows':>9s} {'summary rows':>12s}  tables")
        for study in studies(new):
            if args.only and study not in args.only:
                continue
            if study not in known:
                print(f"{study:18s} {'':>9s} {'':>12s}  new since {args.before}: nothing to compare")
                continue
            sets = defaults(new, study)
            outs = [Path(tmp) / f"{study}-{side}" for side in ("before", "after")]
            for out in outs:
                out.mkdir()
            before, after = run(old, study, sets, outs[0]), run(new, study, sets, outs[1])
            if isinstance(before, str) or isinstance(after, str):
                differ += 1
                print(f"{study:18s} {'':>9s} {'':>12s}  could not run: before {before if isinstance(before, str) else 'ok'}"
                      f", after {after if isinstance(after, str) else 'ok'}")
                continue
            rows = [text.count("\n") - 1 for text in after]
            same = [b == a for b, a in zip(before, after)]
            differ += not all(same)
            verdict = "identical" if all(same) else "DIFFER: " + ", ".join(
                part for part, ok in zip(("tidy", "summary"), same) if not ok)
            print(f"{study:18s} {rows[0]:9d} {rows[1]:12d}  {verdict}")
    print("every compared table is identical apart from its seconds" if not differ else f"{differ} studies differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
