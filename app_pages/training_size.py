"""Training-set size (lecture 3.6.2.2, Fig. 80)."""
from studies import training_size
from ui.page import study_page

study_page(training_size)
