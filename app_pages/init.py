"""Initialisation (lecture 4.6, 5.1, Fig. 121-131): from sigma 0 the hidden units stay alike and the
network does not learn; Xavier and He keep activations and gradients of one size over the layers."""
from studies import init
from ui.page import study_page

study_page(init)
