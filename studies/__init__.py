"""The lecture's studies. Each module has NAME, TITLE, FIGURES, SUMMARY, SCHEMA, LABEL_KEYS, TRIAL (the
module-level trial function workers run), COST (its FLOP count, see ``studies.common.cost``), plan(values),
assemble(values, results), charts_for(result), takeaway(result) and trial_detail(result); k-fold and the
search also next_wave(values, results), the search bounding_plan(values) (what the limits cover),
related(values) and against(result, others) (its sampler against the others). ``studies.common.execution`` runs them; none imports streamlit.

``STUDIES`` is imported on first use, and every TRIAL lives in ``studies.common.training`` or
``studies.trials``, so a worker that unpickles a trial function imports only the trial code it
needs, not any study's charts (Altair).
"""
from __future__ import annotations


CHAPTERS = {  # the lecture's chapters (short: the navigation cuts long names), each with its studies' modules in
              # reading order (the app's navigation): a new study is named here once
    "3 · Learning from data": ["normalisation", "learning_rate", "batch_size", "pr_roc", "kfold", "training_size",
                               "bias_variance", "search"],
    "4 · Multi-layer networks": ["universal", "decision_boundary", "hidden_units"],
    "5 · Training deep networks": ["init", "activations", "batch_norm", "clipping", "optimisers", "schedules",
                                   "regularisation"],
}


def __getattr__(name: str):
    if name == "STUDIES":
        import importlib

        studies = {study: importlib.import_module(f"studies.{study}") for names in CHAPTERS.values() for study in names}
        globals()["STUDIES"] = studies
        return studies
    raise AttributeError(f"module 'studies' has no attribute {name!r}")
