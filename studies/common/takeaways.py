"""The lecture's lesson in two lines, computed from a study's summary table.

A best is named only when it stands out of the noise the run can measure (``noise_ties``): the
spread of each setting over its repeats, and the standard error of an error rate measured on a
finite validation split. Settings closer to the best than that tie with it, and the takeaway says so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def number(value: float) -> str:
    """Three significant digits, never rounded to nothing: 0.0123, 4.56e-05, 1.23e+03."""
    return f"{value:.3g}"


def edge_note(tried, best, smaller: str = "smaller", larger: str = "larger", floor=None,
              subject: str = "That") -> str:
    """When the best value (or, as ``subject`` names it, one tied with it) is at the edge of the
    values tried, the real optimum may lie beyond (unless the edge is ``floor``, the smallest value
    there is, such as a batch of 1)."""
    tried = sorted(set(tried))
    if len(tried) < 2:
        return ""
    if best == tried[0] and best != floor:
        return f" {subject} is the smallest value tried: try {smaller} ones too."
    if best == tried[-1]:
        return f" {subject} is the largest value tried: try {larger} ones too."
    return ""


def listed(names) -> str:
    """"a", "a and b", "a, b and c"."""
    names = [str(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def tied(means: pd.Series) -> list:
    """The index values whose mean equals the lowest (to 1e-12: repeats averaged in another order)."""
    return list(means.index[means <= means.min() + 1e-12])


Z = 2.0  # a difference is told apart from noise when it exceeds twice its standard error (about 95 %)


@dataclass(frozen=True)
class Noise:
    """How far the best stands from the rest: the settings within noise of it (best first), the noise
    of a difference with the runner-up (``Z`` standard errors, as a rate) and, when more repeats could
    tell the best from the runner-up, how many would (None: they cannot, the validation split is too
    small or the two are equal)."""

    tied: list
    margin: float
    repeats_needed: int | None
    by_spread: list  # tied settings farther from the best than ``margin``: tied through their own spread
    runner: object = None  # the setting second to the best, which ``margin`` and ``repeats_needed`` are about


def noise_ties(ok: pd.DataFrame, swept: str, metric: str = "final_val_error", samples: float = 0) -> Noise:
    """The settings of ``swept`` whose mean ``metric`` over their repeats lies within noise of the lowest.

    The standard error of the difference between setting b and v is
    sqrt(s_b^2 / n_b + s_v^2 / n_v + p_b (1 - p_b) / N + p_v (1 - p_v) / N): s the spread over repeats
    (ddof 1; none measured from one repeat), n the repeats, p the mean error rate and N the ``samples`` it
    was measured on (0: unknown, left out). Repeats shrink the first two terms only: the validation split
    is the same for every repeat, so its sampling error stays."""
    stats = _spread(ok, swept, metric, samples)
    best = stats.iloc[0]
    diff = stats["mean"] - best["mean"]
    se2 = best["var"] / best["count"] + stats["var"] / stats["count"] + best["binomial"] + stats["binomial"]
    tied = list(stats.index[(diff <= Z * np.sqrt(se2)) | (diff <= 1e-12)])
    if len(stats) < 2:
        return Noise(tied, 0.0, None, [])
    runner = tied[1] if len(tied) > 1 else stats.index[1]  # the nearest setting the best shares its place with
    margin = float(Z * math.sqrt(se2[runner]))
    by_spread = [v for v in tied if diff[v] > margin]
    spread = best["var"] + stats.loc[runner, "var"]
    room = diff[runner] ** 2 - Z ** 2 * (best["binomial"] + stats.loc[runner, "binomial"])
    needed = math.floor(Z ** 2 * spread / room) + 1 if spread > 0 and room > 0 and diff[runner] > 1e-12 else None
    return Noise(tied, margin, needed, by_spread, runner)


def _spread(ok: pd.DataFrame, swept: str, metric: str, samples: float) -> pd.DataFrame:
    """Per setting, lowest mean first: the mean, the spread over repeats (var, ddof 1), the repeats
    and the binomial variance of the rate on ``samples`` (0 where unknown)."""
    stats = ok.groupby(swept)[metric].agg(["mean", "var", "count"]).sort_values("mean", kind="stable")
    stats["var"] = stats["var"].fillna(0.0)
    p = stats["mean"].clip(0, 1)
    stats["binomial"] = p * (1 - p) / samples if samples else 0.0
    return stats


def apart(ok: pd.DataFrame, swept: str, a, b, metric: str, samples: float = 0) -> bool:
    """Whether settings ``a`` and ``b`` differ by more than ``Z`` standard errors of their difference
    (the rule of ``noise_ties``)."""
    stats = _spread(ok, swept, metric, samples)
    se2 = sum(stats.loc[v, "var"] / stats.loc[v, "count"] + stats.loc[v, "binomial"] for v in (a, b))
    gap = abs(stats.loc[a, "mean"] - stats.loc[b, "mean"])
    return gap > Z * math.sqrt(se2) and gap > 1e-12


def noise_note(noise: Noise, ok: pd.DataFrame, swept: str, name, samples: float, unit: str = "repeat") -> str:
    """Why the best shares its place: the size of the noise and what would separate the two at the top
    (``unit``: what the spread is over, repeats or folds)."""
    repeats = int(ok[ok[swept].isin([noise.tied[0], noise.runner])].groupby(swept).size().min())
    on = f" on {int(samples):,} validation samples" if samples else ""
    first, second = name(noise.tied[0]), name(noise.runner)
    note = (f"a gap between {first} and {second} under {noise.margin:.1%} is noise with {repeats} "
            f"{unit}{'s' if repeats != 1 else ''}{on}")
    if noise.by_spread:
        note += f"; {listed(name(v) for v in noise.by_spread)} tie{'s' if len(noise.by_spread) == 1 else ''} " \
                f"through the spread of {'its' if len(noise.by_spread) == 1 else 'their'} own repeats"
    if noise.repeats_needed is not None:
        return f"{note}; about {noise.repeats_needed} {unit}s would tell {first} from {second}"
    return f"{note}; more {unit}s would not tell {first} from {second}" + (
        ": the validation split is too small" if samples else "")


def _test_of(ok: pd.DataFrame, swept: str, best: list) -> str:
    """The test error of the setting chosen on validation, reported once (lecture 3.6.2): never used to
    choose. Not when several tie (the test split must not break the tie)."""
    if len(best) != 1 or "final_test_error" not in ok:
        return ""
    return f", test error {ok.loc[ok[swept] == best[0], 'final_test_error'].mean():.1%}"


def best_setting(summary: pd.DataFrame, swept: str, label: str, metric: str = "final_val_error",
                 floor=None, ordered: bool = True, repeats: int | None = None) -> list[str]:
    """Best swept value by mean ``metric`` over its repeats that finished ``ok`` (saying so when it
    lies at the edge of the tried range, and naming every value that ties with it exactly or within
    noise, ``noise_ties``), with its mean test error when the metric is a validation one and the best
    is alone; then the worst value, and every value with trials that did not finish ok. A run where
    every value ties names no best and no worst: the table cannot tell them apart. Unordered settings
    (``ordered=False``: schedules, activations) have no edge to go beyond. ``repeats``: the repeats the
    run planned per value (a stopped run's summary lacks the trials it never started)."""
    ok = summary[summary["status"] == "ok"]
    names = dict(zip(summary[swept], summary["setting"])) if "setting" in summary else {}
    name = lambda v: names.get(v, _fmt(v))  # noqa: E731
    lines, worst_line = [], ""
    what = metric.replace("final_", "").replace("_", " ").replace("val ", "validation ")
    if len(ok):
        means = ok.groupby(swept)[metric].mean().sort_values(kind="stable")
        exact = tied(means)
        samples = validation_samples(ok) if "val" in metric else 0
        noise = noise_ties(ok, swept, metric, samples)
        best = exact if len(exact) > 1 else noise.tied
        if len(exact) == len(means) > 1:
            lines.append(f"Every {label} tried ends at {means.iloc[0]:.1%} mean {what}: a tie, so this run "
                         f"does not tell them apart.")
        elif len(best) == len(means) > 1:
            lines.append(f"Every {label} tried lies within noise of the best ({means.iloc[0]:.1%} to "
                         f"{means.iloc[-1]:.1%} mean {what}; {noise_note(noise, ok, swept, name, samples)}), so this "
                         f"run does not tell them apart.")
        else:
            runs = int((ok[swept] == best[0]).sum())
            names_best = name(best[0]) + (f", tied within noise with {listed(name(v) for v in best[1:])}"
                                          if len(exact) == 1 and len(best) > 1 else
                                          " and " + listed(name(v) for v in best[1:]) + " (tied)" if len(best) > 1
                                          else "")
            why = f" ({noise_note(noise, ok, swept, name, samples)})" if len(exact) == 1 and len(best) > 1 else ""
            edge = next((note for v in best for note in [edge_note(
                summary[swept], v, floor=floor, subject="That" if v == best[0] else f"{name(v)}, tied with it,")]
                if note), "") if ordered else ""
            lines.append(f"Best {label} {names_best}: {means.iloc[0]:.1%} mean {what} over {runs} repeat"
                         f"{'s' if runs != 1 else ''}{_test_of(ok, swept, best) if 'val' in metric else ''}{why}."
                         f"{edge}")
            if len(means) > len(best):
                worst = means.index[means >= means.max() - 1e-12]
                worst_line = f"Worst {label}: {listed(name(v) for v in worst)} at {means.iloc[-1]:.1%}."
    else:
        lines.append(f"No {label} finished: every trial diverged, failed or was cancelled.")
    counts = pd.crosstab(summary[swept], summary["status"])  # swept value x status
    totals = counts.sum(axis=1) if repeats is None else pd.Series(repeats, index=counts.index)  # planned, when known
    troubles = [f"{name(v)} {status} in {n} of {totals[v]} repeats" for status in ("diverged", "failed", "cancelled")
                if status in counts for v, n in counts[status].items() if n]
    lines.append(" ".join(filter(None, [worst_line, "; ".join(troubles) + "." if troubles else "",
                                        stopped_early(summary)])))
    return lines


def validation_samples(summary: pd.DataFrame) -> float:
    """The validation split's size the errors were measured on (0 where the summary does not say)."""
    return float(summary["val_samples"].min()) if "val_samples" in summary and len(summary) else 0.0


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
