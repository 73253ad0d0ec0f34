import numpy as np
import pytest

from core.metrics import accuracy, confusion_matrix, error_rate, per_class_report


def test_error_rate_and_accuracy_hand_computed():
    y, p = np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2])
    assert error_rate(y, p) == 0.25 and accuracy(y, p) == 0.75
    with pytest.raises(ValueError):
        error_rate(y, p[:3])


def test_confusion_matrix_rows_are_actual_classes():
    cm = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 2, 1, 2]), 4)
    assert cm.tolist() == [[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]


def test_per_class_precision_recall_f1():
    report = per_class_report(np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 0]), ["a", "b"])
    b = report.set_index("class").loc["b"]
    assert b["precision"] == pytest.approx(2 / 3) and b["recall"] == pytest.approx(2 / 3)
    assert b["f1"] == pytest.approx(2 / 3) and b["support"] == 3
