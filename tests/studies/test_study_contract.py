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

def test_every_study_is_in_one_chapter_and_has_a_page():
    from pathlib import Path

    from ui.home import page_file
    root = Path(__file__).resolve().parents[2]
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
    values = study.SCHEMA.parse(study.QUICK)
    first = next(iter(study.QUICK))
    assert study.SCHEMA.params[first].kind == "int" and values[first] != defaults[first]
    trials = execution.trials_of(study, values)
    assert trials and cost.estimate(study, [t.params for t in trials], 2) > 0
    results = [execute(study.TRIAL, t) for t in trials]
    assert {r.status for r in results} <= {"ok", "diverged"}, [r.message for r in results]
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

