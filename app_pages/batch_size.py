"""Batch size (lecture 3.7, Table 4, Fig. 119): per epoch SGD makes the most updates and learns most,
batch GD the fewest; per second the mini-batches win."""
from studies import batch_size
from ui.page import study_page

study_page(batch_size)
