"""Hidden-unit sweep (lecture Fig. 120, 123, 124)."""
from studies import hidden_units
from ui.page import study_page

study_page(hidden_units)
