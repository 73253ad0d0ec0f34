"""regularisation."""
from studies import regularisation
from ui.page import study_page

study_page(regularisation)
