"""Precision-recall and ROC curves (lecture Fig. 61-67)."""
from studies import pr_roc
from ui.page import study_page

study_page(pr_roc)
