"""Regularisation (lecture 5.3, Fig. 138-145): L2, L1, dropout and early stopping against the
overfitting of a large network on few samples."""
from studies import regularisation
from ui.page import study_page

study_page(regularisation)
