"""The lecture's studies. Each module has NAME, TITLE, FIGURES, SUMMARY, SCHEMA, LABEL_KEYS, TRIAL (the
module-level trial function workers run), COST (its FLOP count, see ``studies.cost``), plan(values),
assemble(values, results), charts_for(result), takeaway(result) and trial_detail(result); k-fold also
next_wave(values, results). ``studies.execution`` runs them; none imports streamlit.

``STUDIES`` is imported on first use, so a worker that unpickles a trial function imports only the
trial code it needs, not every study's charts (Altair).
"""
from __future__ import annotations


def __getattr__(name: str):
    if name == "STUDIES":
        from studies import batch_size, bias_variance, hidden_units, kfold, learning_rate, pr_roc

        studies = {m.NAME: m for m in (learning_rate, batch_size, hidden_units, kfold, bias_variance, pr_roc)}
        globals()["STUDIES"] = studies
        return studies
    raise AttributeError(f"module 'studies' has no attribute {name!r}")
