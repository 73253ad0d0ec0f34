"""Activation functions (lecture 5.1.6, Table 6): in one deep network, sigmoid learns worst, ReLU units
can die while Leaky ReLU and ELU do not, and S-shaped functions saturate."""
from studies import activations
from ui.page import study_page

study_page(activations)
