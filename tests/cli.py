"""Run the study CLI in a subprocess, as a person would, and read back its CSV files."""
import subprocess
import sys

import pandas as pd


def run_cli_study(tmp_path, study, *sets, n_jobs="2"):
    out, summary = tmp_path / f"{study}.csv", tmp_path / f"{study}-summary.csv"
    args = [sys.executable, "-m", "studies", "run", study, "--n-jobs", n_jobs, "--out", str(out),
            "--summary-out", str(summary)]
    for item in sets:
        args += ["--set", item]
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return pd.read_csv(out), pd.read_csv(summary), proc
