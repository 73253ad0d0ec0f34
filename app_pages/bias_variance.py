"""Bias-variance trade-off (lecture Fig. 70-75)."""
from studies import bias_variance
from ui.page import study_page

study_page(bias_variance)
