"""The lecture's studies. Each module has NAME, TITLE, FIGURES, SUMMARY, SCHEMA, run(values, n_jobs,
progress) -> StudyResult, charts_for(result) and takeaway(result); none imports streamlit."""
from __future__ import annotations

from studies import batch_size, bias_variance, hidden_units, kfold, learning_rate, pr_roc

STUDIES = {module.NAME: module for module in (learning_rate, batch_size, hidden_units, kfold,
                                                          bias_variance, pr_roc)}
