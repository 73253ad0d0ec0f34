"""The lecture's studies. Each module has NAME, TITLE, FIGURES, SUMMARY, SCHEMA, run(values, n_jobs,
progress) -> StudyResult, charts_for(result) and takeaway(result); none imports streamlit."""
from __future__ import annotations

from studies import learning_rate

STUDIES = {module.NAME: module for module in (learning_rate,)}
