"""The precision-recall study's trial: one model trained, its test scores returned (no charting
imports: workers import this, not the study page's module)."""
from __future__ import annotations

from studies.common import cost
from studies.common.training import fit_trial


def score_trial(trial) -> dict:
    """Train one model; return the test labels and scores (positive-class probability, or the
    predicted class for several classes)."""
    net, history, split, *_ = fit_trial(trial, evaluate=False)
    if history.status != "ok":
        return {"status": history.status, "message": "the cost became non-finite during training"
                if history.status == "diverged" else ""}
    proba = net.predict_proba(split.X_test)
    scores = proba[:, -1] if split.n_classes == 2 else None  # one sigmoid unit, or softmax's second column
    return {"y_test": split.y_test, "scores": scores, "predicted": net.predict(split.X_test)}


TRIAL = score_trial
COST = cost.scoring
