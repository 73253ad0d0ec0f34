"""Universal approximation (lecture 4.3.2, Fig. 100-103): one hidden layer with a linear output fits a
continuous function better with every unit added."""
from studies import universal
from ui.page import study_page

study_page(universal)
