"""Gradient clipping (lecture 5.1.7, Fig. 132): a learning rate that throws a deep ReLU network off a
cliff of the cost trains once the gradient's norm is clipped."""
from studies import clipping
from ui.page import study_page

study_page(clipping)
