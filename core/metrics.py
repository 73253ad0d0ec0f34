"""Classification metrics of lecture 3.5; scikit-learn computes what it already has."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix as _sk_confusion_matrix
from sklearn.metrics import precision_recall_fscore_support


def error_rate(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of misclassified samples. y_true, y_pred : (n_samples,)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or not len(y_true):
        raise ValueError(f"need two non-empty label arrays of one shape, got {y_true.shape} and {y_pred.shape}")
    return float(np.mean(y_true != y_pred))


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return 1.0 - error_rate(y_true, y_pred)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts; row = actual class, column = predicted class (lecture Fig. 61)."""
    return _sk_confusion_matrix(y_true, y_pred, labels=np.arange(n_classes))


def per_class_report(y_true: np.ndarray, y_pred: np.ndarray, class_names: list[str]) -> pd.DataFrame:
    """One row per class: precision, recall, F1 and support (the class's actual count)."""
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=np.arange(len(class_names)), zero_division=0)
    return pd.DataFrame({"class": class_names, "precision": precision, "recall": recall, "f1": f1,
                         "support": support})
