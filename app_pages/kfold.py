"""k-fold cross-validation (lecture 3.6.2, Fig. 78, 79): the number of epochs chosen by the mean
validation error over k folds, with its spread, then the model retrained on all training data."""
from studies import kfold
from ui.page import study_page

study_page(kfold)
