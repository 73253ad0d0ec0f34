"""Batch normalisation (lecture 5.1.5, 8.1): deep sigmoid networks that do not train without it train
with it, at every depth and at far higher learning rates."""
from studies import batch_norm
from ui.page import study_page

study_page(batch_norm)
