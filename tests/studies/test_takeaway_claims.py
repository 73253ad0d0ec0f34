"""Every takeaway sentence is a claim about its own result table: here each study's takeaway is
checked against an independent reading of the tables it summarises, over many small runs (ties, an
edge of the tried range, repeats), the same runs stopped part-way, with diverged trials, and with
every trial failed. The oracles recompute from the tables; they do not call the takeaway's helpers."""
import re
from dataclasses import replace

import numpy as np
import pytest

from service.runner import TrialResult, execute
from studies import STUDIES
from studies.common import execution
from studies.common.protocol import WaveStudy

QUICK = {"max_train": "150", "epochs": "3"}
RUNS = {  # study -> small runs chosen to hit ties, edges, repeats and divergence
    "learning_rate": [{"learning_rates": "0.01,0.5,50", "repeats": "2"},
                      {"learning_rates": "0.03,0.1", "seed": "3"},
                      {"learning_rates": "0.5,1", "classes": "0,1", "epochs": "15"},
                      {"learning_rates": "0.5,4", "epochs": "40", "patience": "3"}],
    "batch_size": [{"batch_sizes": "1,8,full", "repeats": "2"},
                   {"batch_sizes": "16,64", "classes": "0,1", "epochs": "20", "max_train": "80"}],
    "hidden_units": [{"hidden_units": "1,5,30", "repeats": "2"}, {"hidden_units": "2,40", "seed": "5"}],
    "init": [{"sigmas": "0,0.05,3", "depth": "3", "width": "10"}, {"sigmas": "0.01,0.5", "repeats": "2",
                                                                   "depth": "2", "width": "6"}],
    "kfold": [{"k": "3", "values": "1,3,10"}, {"k": "2", "tune": "learning_rate", "values": "0.01,1,50"},
              {"k": "3", "values": "2,5", "seed": "4"}],
    "bias_variance": [{"datasets": "20", "max_degree": "6"}, {"datasets": "10", "max_degree": "3", "noise": "0"}],
    "pr_roc": [{"compare_epochs": "1", "compare_losses": "ce"}, {"classes": "", "hidden": "10", "output": "softmax",
                                                                 "loss": "ce", "compare_epochs": "1"}],
    "decision_boundary": [{"hidden_units": "0,4,8", "toy_samples": "100", "epochs": "20"},
                          {"sweep": "activation", "width": "4", "toy_samples": "80", "epochs": "5"}],
    "optimisers": [{"optimisers": "gd,adam", "rates": "0.01,1", "steps": "10", "surface_rates": "0.01,0.1"},
                   {"optimisers": "gd,momentum,rmsprop", "rates": "0.1", "steps": "5", "repeats": "2",
                    "surface_rates": "0.001,0.3"}],
    "activations": [{"activations": "sigmoid,relu,leaky_relu", "depth": "2", "width": "10", "epochs": "4",
                     "repeats": "2"},
                    {"activations": "tanh,elu", "depth": "3", "width": "8", "learning_rate": "0.1"}],
    "batch_norm": [{"depths": "1,3", "learning_rates": "0.5", "epochs": "4", "repeats": "2"},
                   {"depths": "2", "learning_rates": "0.1,2", "epochs": "3"}],
    "schedules": [{"schedules": "constant,exponential,performance", "learning_rate": "1", "epochs": "12",
                   "repeats": "2", "schedule_T": "3"},
                  {"schedules": "constant,piecewise,power", "learning_rate": "0.5", "epochs": "6", "schedule_T": "2"}],
    "universal": [{"hidden_units": "1,4,16", "epochs": "200", "repeats": "2"},
                  {"hidden_units": "2,3", "function": "step", "epochs": "50", "samples": "40"}],
    "normalisation": [{"normalisations": "none,rescale,z", "epochs": "4", "repeats": "2"},
                      {"normalisations": "minmax,z", "epochs": "2"}],
    "clipping": [{"clip_norms": "0,1,10", "epochs": "4", "repeats": "2"},
                 {"clip_norms": "0.5,5", "learning_rate": "0.1", "epochs": "3"}],
    "training_size": [{"sizes": "20,60,200", "epochs": "30", "repeats": "2"},
                      {"sizes": "30,100", "l2": "0.01", "epochs": "20"}, {"sizes": "40,5000", "epochs": "5"}],
    "search": [{"space": "learning_rate=0.01..5 log; hidden_units=4,16", "budget": "6", "wave": "3"},
               {"space": "learning_rate=0.001..0.01 log", "budget": "4", "sampler": "random"},
               {"space": "learning_rate=0.1..2; optimiser=gd,adam", "sampler": "grid", "grid_points": "2",
                "budget": "10", "wave": "3"}],
    "regularisation": [{"hidden": "30", "l2_penalty": "0.001", "l1_penalty": "0.5", "dropout_rates": "0.3",
                        "epochs": "5", "repeats": "2"},
                       {"hidden": "20", "l2_penalty": "0", "l1_penalty": "0", "dropout_rates": "0.2,0.5",
                        "epochs": "4"}],
}


def parsed(study, case: dict) -> dict:
    """The case over QUICK's small sizes, where the study has those parameters."""
    quick = {k: v for k, v in QUICK.items() if k in study.SCHEMA.params}
    return study.SCHEMA.parse({**quick, **case})


def pct(value) -> str:
    return f"{value:.1%}"


def run_trials(study, values) -> list[TrialResult]:
    trials = execution.trials_of(study, values)
    results = [execute(study.TRIAL, t) for t in trials]
    while isinstance(study, WaveStudy) and (wave := execution._next_wave(study, values, False, results)):
        results += [execute(study.TRIAL, t) for t in wave]
    return results


def variants(study, values, results):
    """The full run, the run stopped after its first trials, the run with every other trial marked
    diverged (its curve kept, as a diverged trial keeps the epochs before it), and the run whose every
    trial failed."""
    full = len(results)
    yield "done", results
    for k in sorted({1, full // 2, full - 1} - {0, full}):
        yield f"first {k}", results[:k]
    yield "half diverged", [replace(r, status="diverged") if i % 2 else r for i, r in enumerate(results)]
    yield "all failed", [replace(r, status="failed", payload={}, message="ValueError: injected")
                         for r in results]


CASES = [(name, i) for name, runs in RUNS.items() for i in range(len(runs))]


@pytest.mark.parametrize("name, case", CASES)
def test_each_takeaway_claim_matches_its_table(name, case):
    study = STUDIES[name]
    values = parsed(study, RUNS[name][case])
    results = run_trials(study, values)
    for label, subset in variants(study, values, results):
        result = execution.result_of(study, values, subset, len(results), "done" if label == "done" else "cancelled")
        lines = study.takeaway(result)
        assert len(lines) == 2, (label, lines)
        CHECKS[name](result, lines, values)


# -- the oracles, one per study ---------------------------------------------------------------------
def check_sweep(result, lines, swept, label, floor=None, tried=None, ordered=True):
    """learning_rate, batch_size, hidden_units and init: best and worst by mean validation error over
    the repeats that finished ok, ties named, the edge of the tried range, the test error of a unique best."""
    summary = result.summary
    ok = summary[summary["status"] == "ok"]
    text = " ".join(lines)
    if ok.empty:
        assert lines[0] == f"No {label} finished: every trial diverged, failed or was cancelled."
    else:
        means = ok.groupby(swept)["final_val_error"].mean()
        low, high = means.min(), means.max()
        best = sorted(v for v, m in means.items() if abs(m - low) < 1e-12)
        if len(best) == 1:
            best = sorted(within_noise(ok, swept, summary["val_samples"].min()))
        if len(means) > 1 and abs(high - low) < 1e-12:
            assert "a tie" in lines[0] and "Worst" not in text and "tried:" not in text
        elif len(means) > 1 and len(best) == len(means):
            assert "lies within noise of the best" in lines[0] and "does not tell them apart" in lines[0]
            assert "Worst" not in text and "tried:" not in text
        else:
            assert f"{pct(low)} mean validation error" in lines[0]
            assert lines[0].startswith(f"Best {label} ")
            label_of = dict(zip(summary[swept], summary["setting"]))
            for v in best:
                assert label_of[v] in lines[0].split(":")[0]
            if len(best) == 1:
                test = ok.loc[ok[swept] == best[0], "final_test_error"].mean()
                assert f"test error {pct(test)}" in lines[0]
            values = sorted(set(tried if tried is not None else summary[swept]))
            at_low = values[0] in best and values[0] != floor and len(values) > 1
            at_high = values[-1] in best and len(values) > 1
            assert ("smallest value tried" in lines[0]) == (at_low and ordered)
            assert ("largest value tried" in lines[0]) == (at_high and not at_low and ordered)
            named = means.idxmin()  # the best the line names first; an edge reached by a tie names its value
            for edge, word in ((values[0], "smallest"), (values[-1], "largest")):
                if f"the {word} value tried" in lines[0]:
                    subject = "That" if edge == named else f"{label_of[edge]}, tied with it,"
                    assert f"{subject} is the {word} value tried" in lines[0], (subject, lines[0])
            if len(means) > len(best):
                assert f"Worst {label}: " in lines[1] and f"at {pct(high)}." in lines[1]
            else:
                assert "Worst" not in lines[1]
    for status in ("diverged", "failed", "cancelled"):
        for value, rows in summary[summary["status"] == status].groupby(swept):
            total = result.params["repeats"]  # planned: a stopped run lacks the trials it never started
            assert f"{status} in {len(rows)} of {total} repeats" in lines[1]
    stopped = summary["stopped_epoch"].dropna() if "stopped_epoch" in summary else []
    assert ("Early stopping ended" in lines[1]) == (len(stopped) > 0)
    if len(stopped):
        assert f"ended {len(stopped)} of {len(summary)} trials" in lines[1] and str(int(stopped.min())) in lines[1]


def within_noise(ok, swept, samples, metric="final_val_error"):
    """The settings whose mean lies within two standard errors of the difference from the lowest mean:
    the spread of each over its repeats (one repeat: none) and the binomial error of a rate on the
    validation split's samples, written out from the definitions."""
    groups = {v: g[metric].to_numpy() for v, g in ok.groupby(swept)}
    mean = {v: x.mean() for v, x in groups.items()}
    sem2 = {v: (x.var(ddof=1) if len(x) > 1 else 0.0) / len(x) + mean[v] * (1 - mean[v]) / samples
            for v, x in groups.items()}
    b = min(mean, key=mean.get)
    return [v for v in groups if mean[v] - mean[b] <= 2 * np.sqrt(sem2[b] + sem2[v]) or mean[v] - mean[b] < 1e-12]


def check_learning_rate(result, lines, values):
    check_sweep(result, lines, "learning_rate", "learning rate")
    ok = result.summary[result.summary["status"] == "ok"]
    if ok.empty:
        return
    target = ok.groupby("learning_rate")["final_val_error"].mean().min() + 0.02
    assert f"first reached {pct(target)}: " in lines[1]
    val = result.tidy[result.tidy["trial"].isin(ok["trial"]) & (result.tidy["split"] == "val")]
    for rate, curve in val.groupby("learning_rate"):
        mean = curve.groupby("epoch")["error"].mean()
        hit = mean.index[mean <= target + 1e-12]
        ran = int(result.tidy.loc[result.tidy["learning_rate"] == rate, "epoch"].max())  # patience may stop sooner
        claim = f"α {rate:g}: {int(hit[0])}" if len(hit) else f"α {rate:g}: not within {ran}"
        assert re.search(re.escape(claim) + r"[,.]", lines[1]), (claim, lines[1])


def check_batch_size(result, lines, values):
    check_sweep(result, lines, "batch_size", "batch size", floor=1)
    ok = result.summary[result.summary["status"] == "ok"]
    if len(ok):
        speed = ok.groupby("setting", sort=False)["seconds_per_epoch"].mean()
        assert f"{1000 * speed.iloc[0]:.3g} ms at batch {speed.index[0]}" in lines[1]


def check_hidden_units(result, lines, values):
    check_sweep(result, lines, "hidden_units", "hidden-unit count")
    ok = result.summary[result.summary["status"] == "ok"]
    if len(ok):
        gap = (ok["final_test_error"] - ok["final_train_error"]).groupby(ok["hidden_units"]).mean()
        assert f"{pct(gap.iloc[0])} at {gap.index[0]} units" in lines[1]


def check_init(result, lines, values):
    check_sweep(result, lines, "init_sigma", "initial sigma")
    done = result.summary[result.summary["status"].isin(["ok", "diverged"])]
    if len(done):
        for sigma, units in done.groupby("init_sigma")["distinct_units"]:
            count = f"{units.min()}" if units.min() == units.max() else f"{units.min()}-{units.max()}"
            assert f"σ = {sigma:g}: {count}" in lines[1]
        identical = sorted(s for s, u in done.groupby("init_sigma")["distinct_units"] if u.max() == 1)
        assert ("stayed identical" in lines[1]) == bool(identical)
    layers = result.tables["layers"]
    if len(layers):
        spread = layers.groupby(["scheme", "activation"])["gradient_std"].agg(lambda s: s.max() / s.min())
        worst = spread.idxmax()
        assert f"worst {worst[0]} with {worst[1]} ×{spread.max():.3g}" in lines[1]


def check_kfold(result, lines, values):
    s = result.summary
    folds = result.tables["folds"]
    if not s["mean_val_error"].notna().any():
        assert lines[0].startswith("No value finished")
        return
    best = s.loc[s["mean_val_error"].idxmin()]
    assert f"{pct(best['mean_val_error'])} ± " in lines[0] and f"over {best['folds']} folds" in lines[0]
    ok = folds[folds["status"] == "ok"]
    tied = within_noise(ok.rename(columns={"error": "final_val_error"}), "value", best["validated"])
    assert ("tied within noise with" in lines[0]) == (len(tied) > 1), (tied, lines[0])
    tried = sorted(s["value"])
    edge = best["value"] in (tried[0], tried[-1]) and len(tried) > 1
    assert ("value tried" in lines[0]) == edge
    final = result.tidy[result.tidy["fold"].isna() & (result.tidy["split"] == "test")]
    if len(final):
        assert f"makes {pct(final['error'].iloc[-1])} test error" in lines[1]
    failed = int((folds["status"] != "ok").sum())
    assert (f"{failed} fold runs did not finish ok" in lines[1]) == bool(failed)


def check_bias_variance(result, lines, values):
    ok = result.tidy[result.tidy["status"] == "ok"]
    if ok.empty:
        assert lines[0].startswith("Every degree failed")
        return
    best = ok.loc[ok["test_mse"].idxmin()]
    assert lines[0].startswith(f"Best degree {int(best['degree'])}: test MSE {best['test_mse']:.3g}")
    degrees = sorted(ok["degree"])
    assert "lower ones too" not in lines[0]  # degree 1, a straight line, is the least capacity there is here
    assert ("higher ones too" in lines[0]) == (best["degree"] == degrees[-1] and len(degrees) > 1)
    assert f"overfitting at degree {int(degrees[-1])}: {ok['test_mse'].iloc[-1]:.3g}" in lines[1]


def check_pr_roc(result, lines, values):
    s = result.summary[result.summary["status"] == "ok"]
    if s.empty:
        assert lines[0].startswith("No model finished")
        return
    if "val_auc_roc" in s:
        chosen = s.loc[s["val_auc_roc"].idxmax()]
        assert lines[0].startswith(f"Chosen on validation: {chosen['model']} ")
        assert f"ROC AUC {chosen['auc_roc']:.4f}" in lines[0]
        others = s[s["model"] != chosen["model"]]
        assert (others["val_auc_roc"] <= chosen["val_auc_roc"]).all()
    else:
        per_model = s.groupby("model")[["val_error", "test_error"]].first()
        chosen = per_model["val_error"].idxmin()
        assert lines[0].startswith(f"Chosen on validation: {chosen} ")
        assert f"{pct(per_model.loc[chosen, 'test_error'])} test error" in lines[0]


def check_decision_boundary(result, lines, values):
    ok = result.summary[result.summary["status"] == "ok"]
    if ok.empty:
        assert lines[0] == "No setting finished ok."
        return
    means = ok.groupby("setting")[["final_train_error", "final_val_error", "final_test_error"]].mean()
    low = means["final_val_error"].min()
    best = means.index[np.isclose(means["final_val_error"], low, rtol=0, atol=1e-12)]
    if len(best) == len(means) > 1:
        assert "a tie" in lines[0]
    else:
        assert f"({pct(low)} validation error" in lines[0] and all(b in lines[0] for b in best)
        if len(best) == 1:
            assert f"{pct(means.loc[best[0], 'final_test_error'])} test error" in lines[0]
    for setting, row in means.iterrows():
        assert f"{setting} {pct(row.final_train_error)} / {pct(row.final_val_error)}" in lines[1]


def check_optimisers(result, lines, values):
    summary = result.summary[result.summary["status"] == "ok"]
    if summary.empty:
        assert lines[0] == "No training run on the data finished ok."
    else:
        table = summary.groupby(["optimiser", "learning_rate"])["final_val_error"].mean()
        best_rate = table.groupby(level=0).idxmin().map(lambda pair: pair[1])
        best_error = table.groupby(level=0).min()
        at_best = summary[[(o, r) in set(best_rate.items()) for o, r in zip(summary["optimiser"], summary["learning_rate"])]]
        tops = sorted(set(within_noise(at_best, "optimiser", summary["val_samples"].min())) |
                      set(best_error.index[best_error <= best_error.min() + 1e-12]))
        for top in tops:
            assert f"{top} at α {best_rate[top]:g}" in lines[0].split(":")[0]
        assert (" ends lowest: " if len(tops) == 1 else " tie lowest within noise: ") + pct(best_error.min()) in lines[0]
        tried = sorted(values["rates"])
        for name, rate in best_rate.items():
            at_edge = len(tried) > 1 and rate in (tried[0], tried[-1])
            assert (re.search(rf"\b{name}\b[^.]*: best at the (smallest|largest) rate tried", lines[0]) is not None
                    ) == at_edge, (name, lines[0])
    paths = result.tables["paths"]
    bowl = paths[(paths["surface"] == "elongated bowl") & (paths["step"] == paths["step"].max())]
    if len(bowl):
        for row in bowl.itertuples():
            assert f"{row.optimiser} {row.cost:.3g}" in lines[1]


def check_regularisation(result, lines, values):
    s = result.summary[result.summary["status"] == "ok"]
    if s.empty:
        assert lines[0] == "No run finished ok."
        return
    means = s.groupby("method")[["final_test_error", "final_train_error"]].mean()
    if "none" not in means.index:
        assert "did not finish" in lines[0]
        return
    none = means.loc["none"]
    parts = dict(re.findall(r"(Below it|Within noise of it|Above it)[^:]*: ([^.]*(?:\.\d[^.]*)*)\.", lines[0]))
    for method, row in means.drop(index="none").iterrows():
        claim = f"{method} {pct(row.final_test_error)}"
        pair = s[s["method"].isin([method, "none"])].rename(columns={"final_test_error": "final_val_error"})
        noise = {v for v in within_noise(pair, "method", s["test_samples"].min())} == {method, "none"}
        side = "Within noise of it" if noise else "Below it" if row.final_test_error < none.final_test_error \
            else "Above it"
        assert claim in parts.get(side, ""), (claim, side, lines[0])
        underfits = row.final_train_error > none.final_train_error + 0.05
        assert (f"{method} underfits" in lines[1]) == underfits
    early = s[s["method"] == "early stopping"]
    if len(early):
        assert f"test error {pct(early['final_test_error'].mean())}" in lines[1]
        assert ", ".join(str(int(e)) for e in early.sort_values("repeat")["best_epoch"]) in lines[1]


def check_schedules(result, lines, values):
    """Best and worst on validation (no edge: schedules have no order); the constant rate's end and
    epoch-to-epoch change over the last ten epochs, and which schedules end lower and settle more,
    recomputed from the tidy table."""
    check_sweep(result, lines, "schedule", "schedule", ordered=False)
    ok = result.summary[result.summary["status"] == "ok"]
    if "constant" not in set(ok["schedule"]) or ok["schedule"].nunique() < 2:
        return
    val = result.tidy[(result.tidy["split"] == "val") & result.tidy["trial"].isin(ok["trial"])]
    per_trial = {t: np.abs(np.diff(g.sort_values("epoch")["error"].to_numpy()[-11:])).mean()
                 for t, g in val.groupby("trial")}
    frame = ok.assign(moving=ok["trial"].map(per_trial))
    means = frame.groupby("schedule")[["final_val_error", "moving"]].mean()
    constant = means.loc["constant"]
    assert f"The constant rate ends at {pct(constant['final_val_error'])}" in lines[1]
    assert f"still moving {100 * constant['moving']:.2f} points per epoch" in lines[1]
    def beats(s, column, samples):
        pair = frame.loc[frame["schedule"].isin([s, "constant"]), ["schedule", column]].rename(
            columns={column: "final_val_error"})
        return means.loc[s, column] < constant[column] and within_noise(pair, "schedule", samples) == [s]

    samples = ok["val_samples"].min()
    lower = {s for s in means.index if s != "constant" and beats(s, "final_val_error", samples)}
    steadier = {s for s in means.index if s != "constant" and beats(s, "moving", np.inf)}
    said_lower = re.search(r"; ([^;]*) end lower", lines[1])
    said_steadier = re.search(r"; ([^;.]*) settle more", lines[1])
    assert set(re.split(r", | and ", said_lower.group(1))) == lower if lower else "no schedule ends lower" in lines[1]
    assert set(re.split(r", | and ", said_steadier.group(1))) == steadier if steadier else "none settles more" in lines[1]
    error, cost_line = STUDIES["schedules"].look_fors(result.summary)     # the charts' captions, the same sets
    if steadier:
        assert set(re.split(r", | and ", re.search(r"while (.*) settle\.", error).group(1))) == steadier
    else:
        assert "nothing to tame" in error
    if lower:
        assert set(re.split(r", | and ", re.search(r"staying above (.*)'s once", cost_line).group(1))) == lower
    else:
        assert "no schedule ends lower" in cost_line


def check_activations(result, lines, values):
    """Best and worst on validation (unordered), and each activation's dead share and the most
    saturated one, recomputed from the per-layer table."""
    check_sweep(result, lines, "activation", "activation", ordered=False)
    done = result.summary[result.summary["status"].isin(["ok", "diverged"])]
    units = result.tables["units"]
    units = units[units["trial"].isin(done["trial"])]
    if units.empty:
        return
    per_trial = units.groupby(["trial", "activation"])[["dead"]].mean().reset_index()
    dead = per_trial.groupby("activation")["dead"].mean()
    for name, share in dead.items():
        assert f"{name} {share:.0%}" in lines[1]
    saturated = units.dropna(subset=["saturated"]).astype({"saturated": float})
    if len(saturated):
        means = saturated.groupby(["trial", "activation"])["saturated"].mean().groupby("activation").mean()
        worst = sorted(means.index[means >= means.max() - 1e-12])
        if means.max() > 0:
            said = re.search(r"Most saturated: (.*?), (\d+%) of", lines[1])
            assert set(re.split(r", | and ", said.group(1))) == set(worst) and said.group(2) == f"{means.max():.0%}"
        else:
            assert "No unit-sample pair saturated" in lines[1]
    else:
        assert "Most saturated" not in lines[1]


def check_batch_norm(result, lines, values):
    """The depth-rate pair where batch normalisation lowered the mean validation error most, both
    errors, and how many pairs it lowered by more than a point (and which it raised), recomputed."""
    ok = result.summary[result.summary["status"] == "ok"]
    if ok.empty:
        assert lines[0].startswith("No network finished")
        return
    means = ok.groupby(["depth", "learning_rate", "batch_norm"])["final_val_error"].mean().unstack("batch_norm")
    both = means.dropna() if {"off", "on"} <= set(means.columns) else means.iloc[0:0]
    if both.empty:
        assert "nothing to compare" in lines[1]
        return
    gain = both["off"] - both["on"]
    depth, rate = max(gain.index, key=lambda p: (gain[p], p))
    assert lines[0].startswith(f"Largest effect at {depth} hidden layer")
    assert f"α {rate:g}: {pct(both.loc[(depth, rate), 'off'])} mean validation error without" in lines[0]
    assert f"{pct(both.loc[(depth, rate), 'on'])} with it" in lines[0]
    assert f"more than a point at {int((gain > 0.01).sum())} of {len(gain)} depth-rate pairs" in lines[1]
    assert ("raised it" in lines[1]) == bool((gain < -0.01).any())


def check_universal(result, lines, values):
    """The test MSE of the fewest and the most units and the lowest, from the tidy table's last test
    row of each trial; every step up in units that raised the error named."""
    ok = result.summary[result.summary["status"] == "ok"]
    if ok.empty:
        assert lines[0].startswith("No unit count finished")
        return
    test = result.tidy[(result.tidy["split"] == "test") & result.tidy["trial"].isin(ok["trial"])]
    last = test.sort_values("epoch").groupby("trial").tail(1).set_index("trial")["error"]
    means = ok.assign(mse=ok["trial"].map(last)).groupby("hidden_units")["mse"].mean()
    fewest, most = means.index.min(), means.index.max()
    assert f"{means[fewest]:.3g} with {fewest} unit" in lines[0] and f"{means[most]:.3g} with {most}" in lines[0]
    assert f"lowest {means.min():.3g} with {means.idxmin()} units" in lines[0]
    if most != fewest and means[most] < means[fewest]:
        assert f"{means[fewest] / means[most]:.3g} times smaller" in lines[0]
    rising = [f"{a}→{b}" for a, b in zip(means.index[:-1], means.index[1:]) if means[b] > means[a]]
    assert all(step in lines[1] for step in rising)
    assert ("Every unit count added lowered the error." == lines[1]) == (not rising)


def check_search(result, lines, values):
    """The configuration with the lowest validation error among those that finished ok (the first
    asked of equals), its validation and test error; ranges whose best value lies within 5 % of an end
    (on their scale) named as edges; the importance table in the second line, largest first."""
    summary = result.summary
    ok = summary[(summary["status"] == "ok") & summary["final_val_error"].notna()]
    if ok.empty:
        assert lines[0] == "No trial has finished ok yet."
        return
    best = ok[ok["final_val_error"] == ok["final_val_error"].min()].sort_values("trial").iloc[0]
    assert lines[0].startswith(f"Best of {len(ok)} finished trials, selected on validation")
    assert f"{best['setting']}, validation error {pct(best['final_val_error'])}" in lines[0]
    assert f"test error, looked at once: {pct(best['final_test_error'])}" in lines[0]
    after = lines[0].split("looked at once: ")[1]  # the setting before it names every parameter
    for dim in values["space"]:
        if not dim.choices:
            scale = np.log10 if dim.log else float
            where, low, high = scale(best[dim.name]), scale(dim.low), scale(dim.high)
            at_edge = min(where - low, high - where) <= 0.05 * (high - low)
            assert (dim.name in after) == at_edge, (dim, best[dim.name], lines[0])
    assert ("at the edge of" in after) == any(d.name in after for d in values["space"])
    weights = result.tables["importance"]
    if len(weights):
        assert list(weights["importance"]) == sorted(weights["importance"], reverse=True)
        shown = ", ".join(f"{p} {w:.0%} ({lo:.0%}-{hi:.0%})" for p, w, lo, hi in
                          zip(weights["parameter"], weights["importance"], weights["low"], weights["high"]))
        assert shown in lines[1]
        ranked = len(weights) == 1 or weights["low"].iloc[0] > weights["high"].iloc[1]
        assert lines[1].endswith(f"{weights['parameter'].iloc[0]} matters most (what it means: under the "
                                 "importance chart).") if ranked else lines[1].startswith("Importance withheld")
        assert set(weights["parameter"]) <= set(values["space"].names)
    else:
        assert lines[1].startswith("Too few finished trials")
    tpe = values["sampler"] == "tpe"
    assert ("TPE chose" in lines[0]) == tpe
    if tpe:  # only trials asked once 10 had been told can be informed ones
        assert f"TPE chose {int(result.summary['informed'].sum())} of its {len(result.summary)} trials" in lines[0]
        assert (result.summary.loc[result.summary["informed"], "trial"] >= 10).all()


def check_normalisation(result, lines, values):
    """The sweep's lines, and the charts' captions: the raw inputs' final error against the normalised
    range, and their training cost's first and last epoch (rises or falls) from the tidy table."""
    check_sweep(result, lines, "normalisation", "normalisation", ordered=False)
    error, cost_line = STUDIES["normalisation"].look_fors(result)
    ok = result.summary[result.summary["status"] == "ok"]
    final = ok.groupby("setting")["final_val_error"].mean()
    if "none" not in final.index or len(final) < 2:
        assert "(3.2.2)" in error
        return
    others = final.drop("none")
    word = "above" if final["none"] > others.max() else "not above"
    assert f"end at {pct(final['none'])}, {word} every normalised input ({pct(others.min())}-{pct(others.max())})" in error
    train = result.tidy[(result.tidy["split"] == "train") & result.tidy["trial"].isin(ok["trial"])]
    raw = train[train["setting"] == "none"].groupby("epoch")["cost"].mean()
    went = "rises" if raw.iloc[-1] > raw.iloc[0] else "falls"
    assert f"the training cost {went} from {raw.iloc[0]:.3g} to {raw.iloc[-1]:.3g}" in cost_line


def check_clipping(result, lines, values):
    """Unordered, like the activations: 0 is no clipping, drawn and named "none". The error chart's
    caption names as near chance the settings whose mean final error is over 80 % of chance's (0.72
    on ten classes) and says a threshold drew no clipping's very curve only where the means per
    epoch are equal."""
    check_sweep(result, lines, "clip_norm", "clipping norm", ordered=False)
    assert set(result.summary.loc[result.summary["clip_norm"] == 0, "setting"]) <= {"none"}
    error, _ = STUDIES["clipping"].look_fors(result)
    ok = result.summary[result.summary["status"] == "ok"]
    if ok.empty:
        return
    chance = 1 - 1 / (2 if len(values["classes"]) == 2 else 10)
    final = ok.groupby("setting")["final_val_error"].mean()
    stuck = {s for s, e in final.items() if e > 0.8 * chance}
    if "none" in stuck and set(final.index) - stuck:
        learned = re.search(r"clipped at (.*) the same rate learns", error).group(1)
        assert set(re.split(r", | and ", learned)) == set(final.index) - stuck
    elif not stuck:
        assert "every setting learns" in error
    val = result.tidy[(result.tidy["split"] == "val") & result.tidy["trial"].isin(ok["trial"])]
    curves = {s: g.groupby("epoch")["error"].mean().round(12).tolist() for s, g in val.groupby("setting")}
    same = {s for s in curves if s != "none" and "none" in curves and curves[s] == curves["none"]}
    assert ("draws the very curve of no clipping" in error) == bool(same)


def check_training_size(result, lines, values):
    """The first line's costs and errors are the means at the smallest and largest size that finished
    ok, each direction word true of them; the second line's factor is their validation-to-training cost
    ratio at the largest size, on the side of MET it names."""
    from studies.training_size import MET

    ok = result.summary[result.summary["status"] == "ok"]
    sizes = sorted(set(ok["train_samples"]))
    if len(sizes) < 2:
        assert lines == ["Fewer than two training-set sizes finished: there is no curve to read yet.", ""]
        return
    means = {n: ok[ok["train_samples"] == n][["final_train_cost", "final_val_cost", "final_val_error"]].mean()
             for n in (sizes[0], sizes[-1])}
    first, last = means[sizes[0]], means[sizes[-1]]
    rose = "rose" if last["final_train_cost"] > first["final_train_cost"] else "did not rise"
    fell = "fell" if last["final_val_cost"] < first["final_val_cost"] else "did not fall"
    assert f"From {sizes[0]} to {sizes[-1]} training samples the training cost {rose}" in lines[0]
    assert f"the validation cost {fell}" in lines[0]
    assert f"from {pct(first['final_val_error'])} to {pct(last['final_val_error'])}" in lines[0]
    ratio = last["final_val_cost"] / last["final_train_cost"]
    assert f"is {ratio:.3g} times the training cost" in lines[1] or f"still {ratio:.3g} times" in lines[1]
    assert ("overfitting side" in lines[1]) == (ratio > MET)
    caption = STUDIES["training_size"].cost_look_for(result.summary)            # the cost chart's line
    assert f"At {sizes[-1]} samples the validation cost is {ratio:.3g} times the training cost" in caption
    assert ("overfitting" in caption) == (ratio > MET)


CHECKS = {"learning_rate": check_learning_rate, "batch_size": check_batch_size, "hidden_units": check_hidden_units,
          "init": check_init, "kfold": check_kfold, "bias_variance": check_bias_variance, "pr_roc": check_pr_roc,
          "decision_boundary": check_decision_boundary, "optimisers": check_optimisers,
          "regularisation": check_regularisation, "schedules": check_schedules, "universal": check_universal,
          "batch_norm": check_batch_norm, "activations": check_activations,
          "search": check_search, "normalisation": check_normalisation, "clipping": check_clipping,
          "training_size": check_training_size}


def test_every_study_has_claims_checked_over_several_runs():
    assert set(CHECKS) == set(STUDIES) == set(RUNS)
    assert all(len(runs) >= 2 for runs in RUNS.values())


def test_the_runs_cover_a_tie_an_edge_and_repeats():
    """The cases the issue names must actually occur, or the oracles above check nothing there."""
    seen = set()
    for name in ("learning_rate", "batch_size"):
        for case in RUNS[name]:
            study = STUDIES[name]
            values = parsed(study, case)
            result = execution.result_of(study, values, run_trials(study, values), 0, "done")
            ok = result.summary[result.summary["status"] == "ok"]
            means = ok.groupby(study.SWEPT)["final_val_error"].mean()
            seen |= {"tie"} if len(means) > 1 and means.max() == means.min() else set()
            seen |= {"edge"} if "value tried" in study.takeaway(result)[0] else set()
            seen |= {"repeats"} if result.summary["repeat"].max() > 0 else set()
    assert seen == {"tie", "edge", "repeats"}
