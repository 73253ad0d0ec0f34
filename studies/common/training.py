"""What every training study shares: the trial function, stacking compatible trials, the sweep's
plan and the tidy and summary tables.

A trial's parameters are one flat dict of the schema's names (see ``studies.common.params``) plus
``repeat`` and, in k-fold studies, ``fold`` and ``k``. The trial loads its data itself (cached
per worker process), trains one network and returns its history rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from service import cancel
from core.data import Split, prepare
from core.mlp import MLP, Training
from core.stack import NetworkStack, fused_groups
from service.runner import Trial, TrialResult, make_trials
from studies.common.config import TrainingConfig
from studies.common.memory import stack_fits

TIDY_COLUMNS = ["study", "trial", "seed", "fold", "epoch", "split", "cost", "error", "seconds", "updates", "status"]
SEED_KEYS = ("repeat", "fold")  # what makes two trials' initialisations differ; see trial_seeds()


@dataclass
class StudyResult:
    """A finished (or stopped) study: the tidy table of DESIGN.md, one summary row per trial, and
    any further tables a study documents; ``params`` are the values it ran with. ``state`` is
    ``done``, ``cancelled`` (stopped: ``trials_done`` of ``trials_total`` finished) or ``running``
    (the trials finished so far of a live run)."""

    study: str
    params: dict
    tidy: pd.DataFrame
    summary: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    state: str = "done"
    trials_done: int = 0
    trials_total: int = 0


def warm_up() -> None:
    """A worker's start (``WORKER_PRELOAD``): the embedded data set read and split, and a small
    network trained alone and in a stack, before the first trial asks for them. The embedded set is
    small: the first default Run measured 1.2-1.3x the second here with and without this."""
    split = prepare("digits")
    X, y = split.X_train[:256], split.y_train[:256]
    evals = {"val": (split.X_val, split.y_val)}
    MLP([X.shape[1], 30, split.n_classes]).fit(X, y, Training(epochs=1, learning_rate=0.1, batch_size=32),
                                               eval_sets=evals)
    nets = [MLP([X.shape[1], 30, split.n_classes]) for _ in range(2)]
    NetworkStack(nets).fit(X, y, epochs=1, learning_rates=[0.1, 0.2], batch_size=32, eval_sets=evals)


WORKER_PRELOAD = ("studies.common.training:warm_up",)  # run by every local worker as it starts


def load_split(c: TrainingConfig) -> Split:
    return prepare(c.dataset, c.classes, c.normalisation, c.val_fraction, c.max_train, c.seed,
                   toy_samples=c.toy_samples, toy_noise=c.toy_noise)


def trial_data(c: TrainingConfig) -> tuple[np.ndarray, np.ndarray, dict]:
    """Training arrays and the splits to evaluate for one trial.

    Outside k-fold: train on the training split; evaluate train, val and test. In k-fold
    (``fold`` set) the training and validation splits are pooled and partitioned into ``k``
    stratified folds; fold ``i`` is validated, the others train, and the test split stays unseen.
    ``fold = -1`` retrains on the whole pool and reports the test split (the final model).
    """
    s = load_split(c)
    fold = c.fold
    if fold is None:
        return s.X_train, s.y_train, {"train": (s.X_train, s.y_train), "val": (s.X_val, s.y_val),
                                      "test": (s.X_test, s.y_test)}
    X = np.concatenate([s.X_train, s.X_val])
    y = np.concatenate([s.y_train, s.y_val])
    if fold < 0:
        return X, y, {"train": (X, y), "test": (s.X_test, s.y_test)}
    folds = StratifiedKFold(n_splits=c.k, shuffle=True, random_state=c.seed).split(X, y)
    train_idx, val_idx = list(folds)[fold]
    return X[train_idx], y[train_idx], {"train": (X[train_idx], y[train_idx]), "val": (X[val_idx], y[val_idx])}


def fit_trial(trial: Trial, evaluate: bool = True, on_epoch: Callable | None = None):
    """Train the network a trial describes. Returns it with its history, the prepared split, the
    batch size used, the number of training samples and the splits it was evaluated on.
    ``on_epoch(net, epoch, rows)`` is called after every evaluated epoch."""
    c = TrainingConfig.of(trial.params)
    X, y, eval_sets = trial_data(c)
    net, how = c.network(trial.seed), c.training(len(X), patience=evaluate)
    history = net.fit(X, y, how, eval_sets=eval_sets if evaluate else None,
                      stop=cancel.stopper(how.epochs * -(-len(X) // how.batch_size)),
                      on_epoch=(lambda epoch, rows: on_epoch(net, epoch, rows)) if on_epoch else None)
    return net, history, load_split(c), how.batch_size, len(X), eval_sets


def train_trial(trial: Trial) -> dict:
    """Train one network; returns its status, history rows and the batch size actually used."""
    return trial_payload(*fit_trial(trial)[1:])


# what members of one stack may differ in; everything else (data, architecture, batches, epochs) is shared
STACKABLE = ("learning_rate", "l2", "init", "init_sigma", "repeat")


def stack_key(trial: Trial):
    """Trials with equal keys (and seeds) can train as one stack (``core.stack``); None: this one
    trains alone (other optimisers, L1, dropout, batch normalisation and clipping take the general
    path, schedules and patience change a member's epochs: none of them is stacked)."""
    c = TrainingConfig.of(trial.params)
    if c.general or c.schedule != "constant" or c.patience:
        return None
    return repr(sorted((k, v) for k, v in trial.params.items() if k not in STACKABLE))


def train_stack(task: Trial) -> dict:
    """Train the member trials of a stack together; one payload per member, in their order."""
    members: list[Trial] = task.params["members"]
    configs = [TrainingConfig.of(m.params) for m in members]
    first = configs[0]
    X, y, eval_sets = trial_data(first)
    split = load_split(first)
    nets = [c.network(m.seed) for c, m in zip(configs, members)]
    batch = first.batch(len(X))
    histories = NetworkStack(nets).fit(X, y, epochs=first.epochs, batch_size=batch, eval_sets=eval_sets,
                                       learning_rates=[c.learning_rate for c in configs], l2s=[c.l2 for c in configs],
                                       stop=cancel.stopper(first.epochs * -(-len(X) // batch)))
    return {"members": [trial_payload(h, split, batch, len(X), eval_sets) for h in histories]}


def train_any(task: Trial) -> dict:
    """The trial function of a run whose training trials may be stacked."""
    return train_stack(task) if "members" in task.params else train_trial(task)


def stacks(trials: list[Trial]) -> list[Trial]:
    """The engine's tasks for ``train_trial``'s trials: compatible trials (equal ``stack_key``) of
    one seed train together as a stack (a task whose ``members`` are the trials), at most
    ``core.stack.GROUP`` of them, the others alone.

    Members of one seed share each batch and their first layer's matrix product; a member's rounding
    depends on how many share that product, so the cut is a fixed rule (``core.stack.fused_groups``:
    5 -> 3 + 2) that never looks at the workers, and a study gives the same numbers on 1 or 20
    workers. Trials of other seeds share no product. Merging them into larger stacks saved another
    10 % on Fashion-MNIST but made a long run's progress and partial results arrive in a few big
    steps (a 30-trial run showed no finished trial for over a minute), so they are not merged:
    small stacks balance over the workers and keep progress fine-grained. A stack that would hold more
    than ``studies.common.memory.STACK_MAX_BYTES`` trains as single trials (the same fixed rule on
    every machine, so the numbers still do not depend on where they ran)."""
    blocks: dict = {}
    for t in trials:
        key = stack_key(t)
        blocks.setdefault(key if key is not None else ("alone", t.index), []).append(t)
    tasks = []
    for members in blocks.values():
        for group in fused_groups([m.seed for m in members]):
            chunk = [members[i] for i in group]
            if len(chunk) == 1 or not stack_fits(chunk[0].params, len(chunk)):
                tasks += chunk
            else:
                tasks.append(Trial(chunk[0].study, chunk[0].index, {"members": chunk}, chunk[0].seed))
    return sorted(tasks, key=lambda task: task.index)


def trial_payload(history, split, batch: int, n_train: int, eval_sets: dict) -> dict:
    """What a training trial reports: its status, history rows, batch size used and split sizes."""
    return {"status": history.status, "rows": history.rows, "batch_size": batch, "n_train": n_train,
            "n_val": len(eval_sets["val"][1]) if "val" in eval_sets else 0,
            "n_test": len(eval_sets["test"][1]) if "test" in eval_sets else 0, "rates": history.rates,
            "stopped_at": history.stopped_at, "restored": history.restored}


def trial_seeds(study: str, seed: int, param_list: list[dict], start: int = 0) -> list[Trial]:
    """Trials whose seeds depend on the study seed, the repeat and the fold only: the swept
    values of one repeat share their initialisation and shuffling, so curves differ by the
    swept value alone (common random numbers)."""
    trials = make_trials(study, seed, [{k: p[k] for k in SEED_KEYS if k in p} for p in param_list], start)
    return [Trial(t.study, t.index, p, t.seed) for t, p in zip(trials, param_list)]


def _swept_value(result: TrialResult, name: str):
    return result.payload.get(name, result.trial.params.get(name))


def setting_label(result: TrialResult, name: str) -> str:
    """The swept value as a person reads it: 0.5, 100, or "full (1,077)" for batch GD."""
    used = _swept_value(result, name)
    if result.trial.params.get(name) == "full":
        return f"full ({used:,})" if isinstance(used, (int, np.integer)) else "full"
    return f"{used:g}" if isinstance(used, float) else str(used)


def _labels_columns(swept: list[str]) -> list[str]:
    """A single swept parameter gets a "setting" column of labels, unless it is itself called "setting"."""
    return ["setting"] if len(swept) == 1 and swept != ["setting"] else []


def _labels(result: TrialResult, swept: list[str]) -> dict:
    return {"setting": setting_label(result, swept[0])} if _labels_columns(swept) else {}


def tidy_frame(study: str, results: list[TrialResult], swept: list[str]) -> pd.DataFrame:
    """DESIGN.md's table: one row per (trial, epoch, split); swept parameters and ``repeat`` last.

    A trial that failed before any epoch keeps one row with empty numbers, so it is never dropped.
    """
    records = []
    for r in results:
        fold = r.trial.params.get("fold")
        head = {"study": study, "trial": r.trial.index, "seed": r.trial.seed,
                "fold": fold if fold is not None and fold >= 0 else None}  # -1: the model retrained on all folds
        tail = {"status": r.status, **{name: _swept_value(r, name) for name in swept}, **_labels(r, swept),
                "repeat": r.trial.params.get("repeat")}
        rows = r.payload.get("rows") or [{"epoch": None, "split": None, "cost": None, "error": None,
                                          "seconds": None, "updates": None}]
        records.extend({**head, **row, **tail} for row in rows)
    frame = pd.DataFrame.from_records(records, columns=[*TIDY_COLUMNS, *swept, *_labels_columns(swept), "repeat"])
    frame["fold"] = frame["fold"].astype("Int64")
    frame["epoch"] = frame["epoch"].astype("Int64")
    frame["updates"] = frame["updates"].astype("Int64")
    return frame


def summary_frame(tidy: pd.DataFrame, results: list[TrialResult], swept: list[str]) -> pd.DataFrame:
    """One row per trial: final and best validation error, the epoch of the best, final train
    and test error, training seconds, status and the failure message if any. A trial with patience
    kept the weights of its best epoch (``kept_epoch``), whether patience ended it (``stopped_epoch``
    says where) or its epochs ran out: its final errors are that epoch's."""
    rows, by_trial = [], dict(tuple(tidy.groupby("trial")))  # one pass, not one filter per trial
    for r in results:
        curves = by_trial[r.trial.index]
        row = {"trial": r.trial.index, "seed": r.trial.seed, **{n: _swept_value(r, n) for n in swept},
               **_labels(r, swept),
               "repeat": r.trial.params.get("repeat"), "fold": r.trial.params.get("fold"), "status": r.status}
        kept = r.payload.get("restored")
        for split in ("train", "val", "test"):
            errors = curves[curves["split"] == split].set_index("epoch")["error"].dropna()
            final = errors.get(kept, np.nan) if kept is not None else errors.iloc[-1] if len(errors) else np.nan
            row[f"final_{split}_error"] = final
            if split == "val":
                row["best_val_error"] = errors.min() if len(errors) else np.nan
                row["best_epoch"] = errors.idxmin() if len(errors) else pd.NA
        row["epochs_run"] = curves["epoch"].max() if curves["epoch"].notna().any() else 0
        row["stopped_epoch"] = r.payload.get("stopped_at")
        row["kept_epoch"] = kept
        row["val_samples"] = r.payload.get("n_val") or np.nan
        row["test_samples"] = r.payload.get("n_test") or np.nan
        row["seconds"] = curves["seconds"].max() if curves["seconds"].notna().any() else np.nan
        row["message"] = r.message
        rows.append(row)
    columns = ["trial", "seed", *swept, *_labels_columns(swept), "repeat", "fold", "status", "final_train_error",
               "final_val_error", "best_val_error", "best_epoch", "final_test_error", "epochs_run", "stopped_epoch",
               "kept_epoch", "val_samples", "test_samples", "seconds", "message"]
    frame = pd.DataFrame(rows, columns=columns)  # the columns also when no trial has finished yet
    frame["fold"] = frame["fold"].astype("Int64")
    frame["stopped_epoch"] = frame["stopped_epoch"].astype("Int64")
    frame["kept_epoch"] = frame["kept_epoch"].astype("Int64")
    frame["best_epoch"] = frame["best_epoch"].astype("Int64")
    return frame


def assemble_training(study: str, values: dict, results: list[TrialResult], swept: list[str]) -> StudyResult:
    """Tables from finished trials; also called with the trials finished so far, for live charts."""
    results = sorted(results, key=lambda r: r.trial.index)
    tidy = tidy_frame(study, results, swept)
    return StudyResult(study, dict(values), tidy, summary_frame(tidy, results, swept))


def sweep(values: dict, name: str, swept_values, sweep_key: str) -> list[dict]:
    """Trial parameter dicts: every value of the sweep x every repeat, everything else fixed.

    Repeat-major: the first repeat of every value comes before any second repeat, so a run stopped
    early has covered every value it reached equally (the engine runs trials in this order)."""
    base = {k: v for k, v in values.items() if k not in (sweep_key, "repeats")}
    return [{**base, name: v, "repeat": r} for r in range(values["repeats"]) for v in swept_values]


def trial_detail(result: TrialResult) -> str:
    """One line about a finished training trial, for progress output."""
    rows = [r for r in result.payload.get("rows", []) if r["split"] == "val"] or \
        [r for r in result.payload.get("rows", []) if r["split"] == "test"]
    if not rows:
        return ""
    last = rows[-1]
    return f"{last['split']} error {last['error']:.1%} after {last['epoch']} epochs"
