"""The lecture's lesson in two lines, computed from a study's summary table."""
from __future__ import annotations

import pandas as pd


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def number(value: float) -> str:
    """Three significant digits, never rounded to nothing: 0.0123, 4.56e-05, 1.23e+03."""
    return f"{value:.3g}"


def edge_note(tried, best, smaller: str = "smaller", larger: str = "larger", floor=None) -> str:
    """When the best value is at the edge of the values tried, the real optimum may lie beyond
    (unless the edge is ``floor``, the smallest value there is, such as a batch of 1)."""
    tried = sorted(set(tried))
    if len(tried) < 2:
        return ""
    if best == tried[0] and best != floor:
        return f" That is the smallest value tried: try {smaller} ones too."
    if best == tried[-1]:
        return f" That is the largest value tried: try {larger} ones too."
    return ""


def listed(names) -> str:
    """"a", "a and b", "a, b and c"."""
    names = [str(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def tied(means: pd.Series) -> list:
    """The index values whose mean equals the lowest (to 1e-12: repeats averaged in another order)."""
    return list(means.index[means <= means.min() + 1e-12])


def _test_of(ok: pd.DataFrame, swept: str, best: list) -> str:
    """The test error of the setting chosen on validation, reported once (lecture 3.6.2): never used to
    choose. Not when several tie (the test split must not break the tie)."""
    if len(best) != 1 or "final_test_error" not in ok:
        return ""
    return f", test error {ok.loc[ok[swept] == best[0], 'final_test_error'].mean():.1%}"


def best_setting(summary: pd.DataFrame, swept: str, label: str, metric: str = "final_val_error",
                 floor=None, ordered: bool = True) -> list[str]:
    """Best swept value by mean ``metric`` over its repeats that finished ``ok`` (saying so when it
    lies at the edge of the tried range, and naming every value that ties with it), with its mean test
    error when the metric is a validation one; then the worst
    value, and every value with trials that did not finish ok. A run where every value ties names
    no best and no worst: the table cannot tell them apart. Unordered settings (``ordered=False``:
    schedules, activations) have no edge to go beyond."""
    ok = summary[summary["status"] == "ok"]
    names = dict(zip(summary[swept], summary["setting"])) if "setting" in summary else {}
    name = lambda v: names.get(v, _fmt(v))  # noqa: E731
    lines, worst_line = [], ""
    what = metric.replace("final_", "").replace("_", " ").replace("val ", "validation ")
    if len(ok):
        means = ok.groupby(swept)[metric].mean().sort_values(kind="stable")
        best = tied(means)
        if len(best) == len(means) > 1:
            lines.append(f"Every {label} tried ends at {means.iloc[0]:.1%} mean {what}: a tie, so this run "
                         f"does not tell them apart.")
        else:
            runs = int((ok[swept] == best[0]).sum())
            names_best = listed(name(v) for v in best)
            tie = " (tied)" if len(best) > 1 else ""
            edge = next((note for v in best for note in [edge_note(summary[swept], v, floor=floor)] if note),
                        "") if ordered else ""
            lines.append(f"Best {label} {names_best}{tie}: {means.iloc[0]:.1%} mean {what} over {runs} repeat"
                         f"{'s' if runs != 1 else ''}{_test_of(ok, swept, best) if 'val' in metric else ''}.{edge}")
            if len(means) > len(best):
                worst = means.index[means >= means.max() - 1e-12]
                worst_line = f"Worst {label}: {listed(name(v) for v in worst)} at {means.iloc[-1]:.1%}."
    else:
        lines.append(f"No {label} finished: every trial diverged, failed or was cancelled.")
    counts = pd.crosstab(summary[swept], summary["status"])  # swept value x status
    totals = counts.sum(axis=1)
    troubles = [f"{name(v)} {status} in {n} of {totals[v]} repeats" for status in ("diverged", "failed", "cancelled")
                if status in counts for v, n in counts[status].items() if n]
    lines.append(" ".join(filter(None, [worst_line, "; ".join(troubles) + "." if troubles else "",
                                        stopped_early(summary)])))
    return lines


def stopped_early(summary: pd.DataFrame) -> str:
    """Early stopping with patience (5.3.3): how many trials stopped before their last epoch, where,
    and that their numbers are their best epoch's (the weights they kept)."""
    if "stopped_epoch" not in summary:
        return ""
    stopped = summary["stopped_epoch"].dropna()
    ran_out = int((summary["kept_epoch"].notna() & summary["stopped_epoch"].isna()).sum()) \
        if "kept_epoch" in summary else 0
    if stopped.empty and not ran_out:
        return ""
    line = ""
    if len(stopped):
        where = f"epoch {int(stopped.min())}" if stopped.min() == stopped.max() else \
            f"epochs {int(stopped.min())}-{int(stopped.max())}"
        line = f"Early stopping ended {len(stopped)} of {len(summary)} trials, at {where}"
    if ran_out:
        line += ("; " if line else "") + (f"{ran_out} of {len(summary)} trials ran out of epochs before their "
                                          f"patience did")
    return f"{line}; their errors are those of their best validation epoch, whose weights they kept."


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
