"""Chart specifications carry every row, however long the sweep."""
import numpy as np
import pandas as pd

from studies import charts


def long_sweep(trials=30, epochs=250):
    """A tidy table with more rows than Altair's default transformer accepts (5000)."""
    trial, epoch = np.divmod(np.arange(trials * epochs), epochs)
    return pd.DataFrame({"trial": trial, "epoch": epoch + 1, "repeat": 0, "status": "ok", "split": "val",
                         "learning_rate": 10.0 ** -(trial % 5), "error": 1 / (epoch + 1.0), "cost": np.nan})


def test_curves_of_a_long_sweep_keep_every_row():
    tidy = long_sweep()
    spec = charts.vega_lite(charts.curves(tidy, "learning_rate"))
    (rows,) = spec["datasets"].values()
    assert len(rows) == len(tidy) > 5000
    assert rows[-1] == {"epoch": 250, "error": 1 / 250, "learning_rate": 1e-4, "trial": 29, "repeat": 0,
                        "status": "ok"}


def test_every_layer_keeps_its_own_data():
    summary = pd.DataFrame({"learning_rate": [0.1, 0.1, 1.0], "final_val_error": [0.2, 0.3, 0.9],
                            "repeat": [0, 1, 0], "trial": [0, 1, 2], "status": ["ok", "ok", "diverged"],
                            "message": ["", "", "cost is not finite"]})
    spec = charts.vega_lite(charts.final_against(summary, "learning_rate"))
    sizes = sorted(len(rows) for rows in spec["datasets"].values())
    assert sizes == [2, 3]                   # the mean line over ok trials, the points of all three
    assert all("data" in layer for layer in spec["layer"])
