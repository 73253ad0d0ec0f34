"""A study and its parameters as a run of the engine: the job, its key, its end (assemble, store) and
its stored result (``studies.common.launch`` starts it).

Trials are seeded by the study seed, the repeat and the fold only (see ``training.trial_seeds``),
so the same parameters give the same numbers whichever pool, worker count or order ran them.
"""
from __future__ import annotations

import functools
import logging
from typing import Callable

import pandas as pd

from core.data import DataError, check_task
from service import engine as engines
from service.runner import STATUSES, TrialResult
from service.store import ResultStore, StoreError
from studies.common.takeaways import coverage
from studies.common import cost, training
from studies.common.protocol import WaveStudy
from studies.common.training import StudyResult, trial_seeds

log = logging.getLogger(__name__)


def trials_of(study, values: dict) -> list:
    return trial_seeds(study.NAME, values["seed"], study.plan(values))


def result_of(study, values: dict, results: list[TrialResult], total: int, state: str) -> StudyResult:
    """The study's tables from the trials finished so far, marked with how far the run got: trials
    that ended ``cancelled`` are kept in the tables but not counted as finished."""
    result = study.assemble(values, results)
    result.state, result.trials_total = state, total
    result.trials_done = sum(r.status != "cancelled" for r in results)  # a stopped trial did not finish
    return result


def coverage_note(study, result: StudyResult) -> str:
    """How many finished trials each swept setting rests on (trials run repeat-major, so a stopped
    run covers the settings it reached evenly)."""
    swept = study.LABEL_KEYS[0]
    planned = list(dict.fromkeys(p[swept] for p in study.plan(result.params) if swept in p))
    return coverage(result.summary, swept, planned) if planned else ""


def _next_wave(study, values: dict, stack: bool, results: list[TrialResult]) -> list:
    """The study's next wave, numbered after every trial so far (stacked like the first)."""
    first = 1 + max((r.trial.index for r in results), default=-1)
    trials = trial_seeds(study.NAME, values["seed"], study.next_wave(values, results), start=first)
    return training.stacks(trials) if stack and study.TRIAL is training.train_trial else trials


def job(study, values: dict, key: str, on_end: Callable | None = None, stack: bool = True,
        pool=None) -> engines.Job:
    """The engine job of one study run. Checks the data set's files first (headers only, nothing
    loaded into this process), and on a Dask ``pool`` that every worker has them, so a missing file
    is reported before any trial starts. With ``stack``, compatible training trials train together
    (``training.stacks``)."""
    if "dataset" in values:
        check_task(values["dataset"], tuple(values.get("classes", ())))
        lacking = pool.missing_data(values["dataset"]) if pool is not None else []
        if lacking:
            raise DataError(f"{len(lacking)} Dask worker(s) lack the {values['dataset']} files ({lacking[0]}): install "
                            f"them there too (apt-get install dataset-{values['dataset']}, or EXPLORER_DATA_DIR), then "
                            "restart those workers.")
    trials = trials_of(study, values)
    fn, tasks = study.TRIAL, trials
    if stack and study.TRIAL is training.train_trial:
        fn, tasks = training.train_any, training.stacks(trials)
    wave = functools.partial(_next_wave, study, values, stack) if isinstance(study, WaveStudy) else None
    return engines.Job(key=key, title=study.TITLE, fn=fn, trials=tasks, next_wave=wave, on_end=on_end,
                       meta={"study": study.NAME, "params": study.SCHEMA.to_texts(values)},
                       planned=len(cost.planned(study, values)), work=cost.work(study, values))


def shown_estimate(study, values: dict, engine: engines.Engine) -> tuple[int, float]:
    """Trials planned, and the seconds a run of them would take on ``engine``: its own share of the
    workers plus what the runs going add (``Engine.queue_seconds``); what a page says under Run."""
    plan = cost.planned(study, values)
    seconds = cost.task_seconds(study, plan)
    return len(plan), cost.spread(seconds, engine.pool.capacity()) + engine.queue_seconds(len(seconds))


def run_key(study, values: dict) -> str:
    """The key of a run: the same for a link opened plainly, the form, the CLI and the share box,
    since all of them reach the schema's canonical texts."""
    return ResultStore.key(study.NAME, study.SCHEMA.to_texts(values))


def save_result(store: ResultStore, study, values: dict, result: StudyResult) -> None:
    frames = {"tidy": result.tidy, "summary": result.summary, **result.tables}
    meta = {"state": result.state, "trials_done": result.trials_done, "trials_total": result.trials_total,
            **headline(result)}
    store.save(study.NAME, study.SCHEMA.to_texts(values), frames, meta)


VAL_COLUMNS = ("final_val_error", "mean_val_error", "val_error")      # the first a summary has is used
TEST_COLUMNS = ("final_test_error", "test_error", "final_test_mse")
GROUP_COLUMNS = (("setting",), ("variant",), ("method",), ("model",), ("optimiser", "learning_rate"), ("value",))


def headline(result: StudyResult) -> dict:
    """A run in two numbers for the runs index (kept in the store's index, so listing runs loads no
    result): the best mean validation error over the run's settings and the test error of that
    setting, chosen on validation (lecture 3.6.2), with the setting's label; None where the study
    has no validation error (bias-variance, universal approximation)."""
    summary = result.summary
    ok = summary[summary["status"] == "ok"] if "status" in summary else summary
    val = next((c for c in VAL_COLUMNS if c in ok and ok[c].notna().any()), None)
    if val is None:
        return {"best_val_error": None, "test_error": None, "selected": ""}
    group = list(next((g for g in GROUP_COLUMNS if all(c in ok for c in g)), ()))
    labels = ok[group].astype(str).agg(" · ".join, axis=1) if group else pd.Series("", index=ok.index)
    means = ok[val].groupby(labels).mean()
    best = means.idxmin()
    rows = ok[labels == best]
    test = next((c for c in TEST_COLUMNS if c in rows and rows[c].notna().any()), None)
    return {"best_val_error": float(means[best]), "test_error": float(rows[test].mean()) if test else None,
            "selected": best}


def load_result(store: ResultStore, study, values: dict) -> StudyResult | None:
    found = store.load(study.NAME, study.SCHEMA.to_texts(values))
    return _stored_result(study, values, *found, drop=lambda: store.delete(run_key(study, values))) if found else None


NUMBERS = {"cost", "error", "seconds", "updates", "epoch", "final_train_error", "final_val_error", "best_val_error",
           "final_test_error", "epochs_run"}  # wherever a table has these columns, they hold numbers


def fits_schema(study, values: dict, frames: dict) -> str:
    """What a stored row lacks of the tables this code writes for ``study`` (the columns of its
    result with no trial finished), or "" when it has them all: a damaged or planted row must not
    reach the charts (a summary without ``status`` raised KeyError on the page)."""
    for name, columns in _written_columns(study, tuple(sorted(study.SCHEMA.to_texts(values).items()))).items():
        stored = frames.get(name)
        if stored is None:
            return f"table {name!r} is missing"
        missing = [c for c in columns if c not in stored.columns]
        if missing:
            return f"table {name!r} lacks {missing}"
        wrong = [c for c in stored.columns if c in NUMBERS and not pd.api.types.is_numeric_dtype(stored[c])]
        if wrong or ("status" in stored and not stored["status"].isin(STATUSES).all()):
            return f"table {name!r} holds text where numbers or statuses belong ({wrong or ['status']})"
    return ""


@functools.lru_cache(maxsize=128)
def _written_columns(study, texts: tuple) -> dict[str, list[str]]:
    """The columns of every table the code writes for a run of these parameters: those of its result
    with no trial finished. Cached: assembling it (the decision-boundary study generates its data)
    would otherwise be repeated on every open of a link."""
    empty = study.assemble(study.SCHEMA.parse(dict(texts)), [])
    return {name: list(frame.columns) for name, frame in {"tidy": empty.tidy, "summary": empty.summary,
                                                           **empty.tables}.items()}


def _stored_result(study, values: dict, frames: dict, meta: dict, drop: Callable = lambda: None) -> StudyResult | None:
    problem = fits_schema(study, values, frames)
    if problem:
        log.warning("dropping stored %s run that does not fit its schema: %s", study.NAME, problem)
        drop()
        return None
    tidy, summary = frames.pop("tidy"), frames.pop("summary")
    return StudyResult(study.NAME, dict(values), tidy, summary, frames, state=str(meta.get("state", "done")),
                       trials_done=int(meta.get("trials_done", 0)), trials_total=int(meta.get("trials_total", 0)))


def exported(study, values: dict, frame):
    """A table as people download it: the run's parameters appended as constant columns (those the
    table does not already hold per row), so two runs' CSVs concatenate into one comparable table."""
    texts = {k: v for k, v in study.SCHEMA.to_texts(values).items() if k not in frame.columns}
    return frame.assign(**texts)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(cell):
    """A text a spreadsheet would run as a formula (``=HYPERLINK(...)``, planted by a store edit) with
    a leading apostrophe, as OWASP advises; numbers such as ``-0.5`` stay numbers."""
    if not isinstance(cell, str) or not cell.startswith(FORMULA_STARTS):
        return cell
    try:
        float(cell)
        return cell
    except ValueError:
        return "'" + cell


def to_csv(frame: pd.DataFrame, target=None):
    """Every CSV people download or the CLI writes: ``frame.to_csv`` with formula-like texts made
    inert, in its cells and its column names. ``target``: a path or open file; None returns the text."""
    safe = frame.set_axis(range(frame.shape[1]), axis=1)  # by position: a stored table's names may repeat
    for i in safe.columns:
        if not (pd.api.types.is_numeric_dtype(safe[i]) or pd.api.types.is_datetime64_any_dtype(safe[i])):
            safe[i] = safe[i].astype(object).map(_inert, na_action="ignore")
    safe.columns = [_inert(str(c)) for c in frame.columns]
    return safe.to_csv(target, index=False)


def export_name(study, values: dict, part: str = "", suffix: str = "csv") -> str:
    """``learning_rate-1a2b3c4d-summary.csv``: the study and a short run key, so downloads of
    different runs never overwrite each other."""
    return f"{study.NAME}-{run_key(study, values)[:8]}{'-' + part if part else ''}.{suffix}"


def load_by_key(store: ResultStore, study, key: str) -> tuple[dict, StudyResult] | None:
    """A stored run of ``study`` by its key (a pinned run): its values and result, or None."""
    found = store.load_key(key)
    if found is None or found[0] != study.NAME:
        return None
    values, _ = study.SCHEMA.parse_lenient(found[1])
    result = _stored_result(study, values, *found[2:], drop=lambda: store.delete(key))
    return (values, result) if result is not None else None


def differences(study, values: dict, other: dict) -> str:
    """``epochs=30, l2=0.01``: the parameters of ``other`` that differ from ``values``."""
    mine, theirs = study.SCHEMA.to_texts(values), study.SCHEMA.to_texts(other)
    return ", ".join(f"{k}={v}" for k, v in theirs.items() if mine.get(k) != v) or "same parameters"


def storing(study, values: dict, store: ResultStore) -> Callable:
    """An ``on_end`` that assembles the run's result, keeps it on the run (``run.outcome``) and saves
    it; a store that cannot be written leaves the result on the run with ``run.save_error`` set. A
    run with no finished trial is not saved: its tables lack the columns trials fill, so the next
    open dropped it as not fitting its schema, and there is nothing in it to keep."""

    def end(run) -> None:
        results, state, total = run.snapshot()
        run.outcome = result_of(study, values, results, total, state)
        if not run.outcome.trials_done:
            return
        try:
            save_result(store, study, values, run.outcome)
        except StoreError as exc:  # read-only folder, full disk, locked database
            log.warning("could not store run %s: %s", run.key, exc)
            run.save_error = f"{type(exc).__name__}: {exc}"

    return end
