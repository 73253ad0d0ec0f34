"""Input normalisation (lecture 3.2.2, Fig. 46)."""
from studies import normalisation
from ui.page import study_page

study_page(normalisation)
