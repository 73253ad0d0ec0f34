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


CHAPTERS = {  # the lecture's chapters (short: the navigation cuts long names), each with its studies in reading order (the app's navigation)
    "3 · Learning from data": ["normalisation", "learning_rate", "batch_size", "pr_roc", "kfold", "training_size",
                               "bias_variance", "search"],
    "4 · Multi-layer networks": ["universal", "decision_boundary", "hidden_units"],
    "5 · Training deep networks": ["init", "activations", "batch_norm", "clipping", "optimisers", "schedules",
                                   "regularisation"],
}


def __getattr__(name: str):
    if name == "STUDIES":
        from studies import (activations, batch_norm, batch_size, bias_variance, clipping, decision_boundary, hidden_units,
                             init, kfold, learning_rate, normalisation, optimisers, pr_roc, regularisation, schedules,
                             search, training_size, universal)

        modules = {m.NAME: m for m in (normalisation, learning_rate, batch_size, pr_roc, kfold, training_size,
                                       bias_variance, universal, decision_boundary, hidden_units, init, activations,
                                       batch_norm, clipping, optimisers, schedules, regularisation, search)}
        studies = {name: modules[name] for names in CHAPTERS.values() for name in names}
        globals()["STUDIES"] = studies
        return studies
    raise AttributeError(f"module 'studies' has no attribute {name!r}")
