"""Hyperparameter search (lecture 3.6.2): several parameters at once by grid, random search or TPE,
chosen on validation, with each parameter's importance and its uncertainty."""
from studies import search
from ui.page import study_page

study_page(search)
