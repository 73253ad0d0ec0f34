"""Universal approximation (lecture 4.3.2)."""
from studies import universal
from ui.page import study_page

study_page(universal)
