"""decision_boundary."""
from studies import decision_boundary
from ui.page import study_page

study_page(decision_boundary)
