"""Bias and variance (lecture 3.6.1, Fig. 70-75): bias² falls and variance rises with a model's
capacity; the test error is lowest in between."""
from studies import bias_variance
from ui.page import study_page

study_page(bias_variance)
