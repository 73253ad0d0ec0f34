"""Precision-recall and ROC (lecture 3.5, Fig. 61-67): the confusion matrix, and how a threshold
trades precision against recall for a model chosen on validation."""
from studies import pr_roc
from ui.page import study_page

study_page(pr_roc)
