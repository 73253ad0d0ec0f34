"""Every study follows the one protocol (studies.common.protocol), as scikit-learn checks every
estimator: names, a schema whose defaults and presets parse, a plan, a cost, and results that charts,
takeaway, compare and CSV export all accept."""
import inspect

import pytest

from service.runner import execute
from service.store import ResultStore
from studies import CHAPTERS, STUDIES
from studies.common import cost, execution
from studies.common.protocol import Study, describes

QUICK = {"learning_rate": {"epochs": "2", "repeats": "1", "learning_rates": "0.1,1"},
         "batch_size": {"epochs": "2", "repeats": "1", "batch_sizes": "32,full"},
         "hidden_units": {"epochs": "2", "repeats": "1", "hidden_units": "3,10"},
         "kfold": {"k": "2", "values": "1,3"}, "bias_variance": {"datasets": "10", "max_degree": "3"},
         "pr_roc": {"epochs": "2"}, "init": {"epochs": "2", "repeats": "1", "depth": "2", "width": "8"},
         "optimisers": {"epochs": "2", "optimisers": "gd,adam", "rates": "0.1", "steps": "10"},
         "regularisation": {"epochs": "3", "hidden": "20", "dropout_rates": "0.3"},
         "decision_boundary": {"epochs": "3", "hidden_units": "0,4", "toy_samples": "80"},
         "schedules": {"epochs": "3", "repeats": "1", "schedules": "constant,performance"},
         "universal": {"epochs": "20", "repeats": "1", "hidden_units": "1,3"},
         "batch_norm": {"epochs": "2", "repeats": "1", "depths": "1,2", "learning_rates": "0.5"},
         "activations": {"epochs": "2", "repeats": "1", "depth": "2", "activations": "relu,tanh"},
         "search": {"epochs": "2", "budget": "4", "max_train": "200"},
         "normalisation": {"epochs": "2", "repeats": "1", "normalisations": "none,z"},
         "clipping": {"epochs": "2", "repeats": "1", "clip_norms": "0,1"},
         "training_size": {"epochs": "2", "repeats": "1", "sizes": "20,60"}}


def test_every_study_is_in_one_chapter_and_has_a_page():
    from pathlib import Path

    from ui.home import page_file
    root = Path(__file__).resolve().parents[1]
    listed = [name for names in CHAPTERS.values() for name in names]
    assert sorted(listed) == sorted(STUDIES) and len(set(listed)) == len(listed)
    for name in STUDIES:
        assert (root / page_file(name)).is_file()


@pytest.mark.parametrize("name", list(STUDIES))
def test_study_follows_the_protocol(name, tmp_path):
    study = STUDIES[name]
    assert isinstance(study, Study) and describes(study) == []
    assert study.NAME == name and study.TRIAL.__module__.startswith("studies")
    assert "repeats" in inspect.signature(study.charts_for).parameters
    defaults = study.SCHEMA.defaults()
    assert study.SCHEMA.parse(study.SCHEMA.to_texts(defaults)) == defaults
    for preset in study.PRESETS.values():
        study.SCHEMA.parse(preset)
    values = study.SCHEMA.parse(QUICK[name])
    trials = execution.trials_of(study, values)
    assert trials and cost.estimate(study, [t.params for t in trials], 2) > 0
    results = [execute(study.TRIAL, t) for t in trials]
    assert {r.status for r in results} == {"ok"}, [r.message for r in results]
    result = execution.result_of(study, values, results, len(results), "done")
    assert len(result.tidy) and len(result.summary)
    assert study.charts_for(result) and len(study.takeaway(result)) == 2
    assert isinstance(study.compare([("this run", result), ("pinned", result)]), list)
    assert study.trial_detail(results[0]) is not None
    for finished in ([], results[:1]):  # stopped at once, or when one trial (of any part) had finished
        partial = execution.result_of(study, values, finished, len(results), "cancelled")
        assert isinstance(study.charts_for(partial), list) and len(study.takeaway(partial)) == 2
        assert execution.coverage_note(study, partial) is not None
        execution.exported(study, values, partial.tidy)
    exported = execution.exported(study, values, result.tidy)
    assert set(study.SCHEMA.params) <= set(exported.columns) | set(result.tidy.columns)
    tables = {"tidy": result.tidy, "summary": result.summary, **result.tables}
    assert all(table.columns.is_unique for table in tables.values())
    store = ResultStore(tmp_path)
    execution.save_result(store, study, values, result)  # a share link finds it after a restart
    stored = execution.load_result(store, study, values)
    assert stored is not None and stored.state == "done"
    for table_name, table in {"tidy": stored.tidy, "summary": stored.summary, **stored.tables}.items():
        assert list(table.columns) == list(tables[table_name].columns) and len(table) == len(tables[table_name])


class HalfAComparingStudy:
    """A planted study with one of ComparingStudy's two methods: ``describes`` must name the other."""

    def related(self, values):
        return []


def test_a_hook_is_all_of_its_protocol_or_none_of_it():
    from studies.common.protocol import HOOKS, ComparingStudy, WaveStudy

    assert "against" in describes(HalfAComparingStudy())
    assert {name for name, s in STUDIES.items() if isinstance(s, WaveStudy)} == {"kfold", "search"}
    assert {name for name, s in STUDIES.items() if isinstance(s, ComparingStudy)} == {"search"}
    assert all(isinstance(hook, type) for hook in HOOKS)


def test_every_pool_offers_the_pool_protocol_with_its_signatures():
    """Issue 30: the pools had no Protocol; the engine and the run checks call these on all three."""
    from service.dask_pool import DaskPool
    from service.pools import Pool, ProcessPool, ThreadPool

    operations = [name for name in Pool.__dict__ if not name.startswith("_") and callable(Pool.__dict__[name])]
    assert {"submit", "cancel", "capacity", "missing_data", "ready"} <= set(operations)
    for pool in (ThreadPool, ProcessPool, DaskPool):
        for name in operations:
            assert list(inspect.signature(getattr(pool, name)).parameters) == \
                list(inspect.signature(getattr(Pool, name)).parameters), (pool.__name__, name)

