"""Learning-rate schedules (lecture 5.2.6)."""
from studies import schedules
from ui.page import study_page

study_page(schedules)
