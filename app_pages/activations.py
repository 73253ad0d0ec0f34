"""Activation functions (lecture Table 6, 5.1.6)."""
from studies import activations
from ui.page import study_page

study_page(activations)
