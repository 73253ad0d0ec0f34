"""k-fold cross-validation (lecture Fig. 78, 79)."""
from studies import kfold
from ui.page import study_page

study_page(kfold)
