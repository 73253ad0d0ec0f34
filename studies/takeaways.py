"""The lecture's lesson in two lines, computed from a study's summary table."""
from __future__ import annotations

import pandas as pd


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def best_setting(summary: pd.DataFrame, swept: str, label: str, metric: str = "final_val_error") -> list[str]:
    """Best swept value by mean ``metric`` over its repeats that finished ``ok``; then the worst
    value, and every value with diverged or failed repeats."""
    ok = summary[summary["status"] == "ok"]
    lines = []
    if len(ok):
        means = ok.groupby(swept)[metric].mean().sort_values()
        best, worst = means.index[0], means.index[-1]
        what = metric.replace("final_", "").replace("_", " ").replace("val ", "validation ")
        lines.append(f"Best {label} {_fmt(best)}: {means.iloc[0]:.1%} mean {what} "
                     f"over {int((ok[swept] == best).sum())} repeat(s).")
        worst_line = f"Worst: {_fmt(worst)} at {means.iloc[-1]:.1%}." if worst != best else ""
    else:
        lines.append(f"No {label} finished: every trial diverged or failed.")
        worst_line = ""
    counts = pd.crosstab(summary[swept], summary["status"])  # swept value x status
    totals = counts.sum(axis=1)
    troubles = [f"{_fmt(v)} {status} in {n} of {totals[v]} repeats"
                for status in ("diverged", "failed") if status in counts for v, n in counts[status].items() if n]
    lines.append(" ".join(filter(None, [worst_line, "; ".join(troubles) + "." if troubles else ""])))
    return lines


def coverage(summary: pd.DataFrame, swept: str, planned: list) -> str:
    """For a stopped run: how many finished trials each setting's numbers rest on."""
    if swept not in summary.columns:
        return ""
    done = summary[summary["status"].isin(["ok", "diverged"])].groupby(swept).size()
    counts = {value: int(done.get(value, 0)) for value in planned}
    groups: dict[int, list] = {}
    for value, n in counts.items():
        groups.setdefault(n, []).append(_fmt(value))
    parts = [f"{n} finished trial{'s' if n != 1 else ''} for {', '.join(values)}" if n else
             f"none yet for {', '.join(values)}" for n, values in sorted(groups.items(), reverse=True)]
    return "Each setting's numbers rest on: " + "; ".join(parts) + "."
