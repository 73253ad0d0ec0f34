"""Decision boundaries (lecture 4.3.1): no straight line separates XOR, one hidden layer does, and
deeper networks draw more complex boundaries."""
from studies import decision_boundary
from ui.page import study_page

study_page(decision_boundary)
