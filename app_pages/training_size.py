"""Training-set size (lecture 3.6.2.2, Fig. 80): with more samples the training cost rises and the
validation cost falls; a gap that stays is overfitting."""
from studies import training_size
from ui.page import study_page

study_page(training_size)
