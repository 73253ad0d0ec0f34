"""Batch normalisation (lecture 5.1.5, 8.1)."""
from studies import batch_norm
from ui.page import study_page

study_page(batch_norm)
