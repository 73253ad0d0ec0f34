"""Hyperparameter search (lecture 3.6.2)."""
from studies import search
from ui.page import study_page

study_page(search)
