"""Learning rate (lecture 3.4.3, Fig. 55, 56, 118): too small creeps, too large oscillates or gets stuck;
the final error against the rate has a U shape."""
from studies import learning_rate
from ui.page import study_page

study_page(learning_rate)
