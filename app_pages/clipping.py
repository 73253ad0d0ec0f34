"""Gradient clipping (lecture Fig. 132)."""
from studies import clipping
from ui.page import study_page

study_page(clipping)
