"""Optimisers (lecture 5.2, Fig. 134): GD zig-zags on an elongated bowl where momentum, AdaGrad,
RMSProp and Adam head for the minimum; each compared at its own best rate."""
from studies import optimisers
from ui.page import study_page

study_page(optimisers)
