"""Learning-rate schedules (lecture 5.2.6): lowering the rate during training settles a run that a
constant rate leaves moving."""
from studies import schedules
from ui.page import study_page

study_page(schedules)
