"""init."""
from studies import init
from ui.page import study_page

study_page(init)
