"""Hidden units (lecture 4.6, Fig. 120, 123, 124): the training error keeps falling with more units,
the test error levels off, and the gap between them is overfitting."""
from studies import hidden_units
from ui.page import study_page

study_page(hidden_units)
