"""The precision-recall study's trial: one model trained, its test scores returned (no charting
imports: workers import this, not the study page's module)."""
from __future__ import annotations

from studies.common import cost
from studies.common.training import fit_trial


def score_trial(trial) -> dict:
    """Train one model; return the test labels and scores (positive-class probability, or the
    predicted class for several classes), and the validation split's, on which models are chosen."""
    net, history, split, *_ = fit_trial(trial, evaluate=False)
    if history.status != "ok":
        return {"status": history.status, "message": "the cost became non-finite during training"
                if history.status == "diverged" else ""}
    binary = split.n_classes == 2  # one sigmoid unit, or softmax's second column
    scored = {}
    for name, X, y in (("test", split.X_test, split.y_test), ("val", split.X_val, split.y_val)):
        prefix = "" if name == "test" else "val_"
        scored |= {f"y_{name}": y, f"{prefix}scores": net.predict_proba(X)[:, -1] if binary else None,
                   f"{prefix}predicted": net.predict(X)}
    return scored


TRIAL = score_trial
COST = cost.scoring
