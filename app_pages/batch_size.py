"""Batch-size sweep (lecture Table 4, Fig. 119)."""
from studies import batch_size
from ui.page import study_page

study_page(batch_size)
