"""Learning-rate sweep (lecture Fig. 55, 56, 118)."""
from studies import learning_rate
from ui.page import study_page

study_page(learning_rate)
