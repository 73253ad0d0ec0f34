"""optimisers."""
from studies import optimisers
from ui.page import study_page

study_page(optimisers)
