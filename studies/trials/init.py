"""The initialisation study's trials: a sweep trial trains and keeps its weight histograms, a probe
measures a deep untrained network (no charting imports: workers import this, not the study page's
module)."""
from __future__ import annotations

import numpy as np

from core.mlp import Training
from service import cancel
from studies.common import cost
from studies.common.config import TrainingConfig
from studies.common.training import fit_trial, load_split, trial_payload


CLASSIC = "U(±1/√n), 2010"  # Eq. 11: the state of the art of 2010 that Fig. 125 and 128 were made with
SCHEMES = {"N(0, 1)": ("normal", 1.0), "N(0, 0.01²)": ("normal", 0.01), CLASSIC: ("classic_uniform", 0.0),
           "Xavier": ("xavier_normal", 0.0), "He": ("he_normal", 0.0)}
BINS = 30
PROBE_SAMPLES = 500
PROBE_ACTIVATIONS = ("sigmoid", "tanh", "relu")  # Fig. 131's rows
DYNAMICS_SCHEMES = (CLASSIC, "Xavier")  # Fig. 125 (sigmoid from Eq. 11's weights) against Fig. 131's fix


def run_trial(trial) -> dict:
    """A sweep trial trains (and keeps its weight histograms); a probe measures the deep network; a
    dynamics trial trains the deep sigmoid network and follows its activations over the epochs."""
    if trial.params["part"] == "probe":
        return probe(trial)
    if trial.params["part"] == "dynamics":
        return dynamics(trial)
    net, *fitted = fit_trial(trial)
    payload = {**trial_payload(*fitted), "distinct_units": distinct_units(net)}
    return {**payload, "histograms": _histograms(net)} if trial.params["repeat"] == 0 else payload


def distinct_units(net) -> int:
    """How many different units the first hidden layer has (its weight columns with their bias, bit for
    bit): 1 when every unit computes the same thing, as from sigma 0 (Fig. 122); 0 without a hidden layer."""
    if len(net.weights) < 2:
        return 0
    return int(len(np.unique(np.vstack([net.weights[0], net.biases[0]]).T, axis=0)))


def _histograms(net) -> list[dict]:
    rows = []
    for layer, (W, b) in enumerate(zip(net.weights, net.biases), start=1):
        for kind, values in (("weights", W.ravel()), ("biases", b.ravel())):
            values = values.astype(np.float64)
            low, high = float(values.min()), float(values.max())
            if high - low < 1e-9 * max(1.0, abs(low)):  # all equal (sigma 0): one spike, not 30 empty bins
                low, high = low - 0.5, low + 0.5
            counts, edges = np.histogram(values, bins=BINS, range=(low, high))
            rows += [{"layer": f"layer {layer}", "kind": kind, "bin_left": float(a), "bin_right": float(e),
                      "count": int(c)} for a, e, c in zip(edges[:-1], edges[1:], counts)]
    return rows


def _deep_net(trial, activation: str):
    p = trial.params
    init, sigma = SCHEMES[p["scheme"]]
    c = TrainingConfig.of({**p, "hidden": (p["width"],) * p["depth"], "init": init, "init_sigma": sigma,
                           "activation": activation})
    return c.network(trial.seed), load_split(c)


def probe(trial) -> dict:
    """Std of each hidden layer's activations and each layer's weight gradient, untrained, on one
    batch (Fig. 128, 130), and their distributions (Fig. 126, 127)."""
    net, split = _deep_net(trial, trial.params["activation"])
    X, y = split.X_train[:PROBE_SAMPLES], split.y_train[:PROBE_SAMPLES]
    acts = net.forward(X)[1:-1]
    grads = net.gradients(X, net.targets(y))
    rows = [{"layer": i + 1, "activation_std": float(a.std()), "gradient_std": float(g.std())}
            for i, (a, (g, _)) in enumerate(zip(acts, grads))]
    shapes = [row for i, (a, (g, _)) in enumerate(zip(acts, grads))
              for kind, values in (("activations", a), ("weight gradients", g)) for row in _density(i + 1, kind, values)]
    return {"layers": rows, "distributions": shapes}


def _density(layer: int, kind: str, values) -> list[dict]:
    values = np.asarray(values, dtype=np.float64).ravel()
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12 * max(1.0, abs(low)):
        low, high = low - 0.5, high + 0.5
    density, edges = np.histogram(values, bins=BINS, range=(low, high), density=True)
    return [{"layer": layer, "kind": kind, "x": float((a + b) / 2), "density": float(d)}
            for a, b, d in zip(edges[:-1], edges[1:], density)]


def dynamics(trial) -> dict:
    """Fig. 125: the deep sigmoid network trained for the study's epochs; after every epoch the mean
    and standard deviation of each hidden layer's activations on a fixed batch, and the validation error."""
    p = trial.params
    net, split = _deep_net(trial, "sigmoid")
    X = split.X_train[:PROBE_SAMPLES]
    rows = []

    def record(epoch, evaluated):
        error = evaluated[0]["error"]
        for layer, a in enumerate(net.forward(X)[1:-1], start=1):
            rows.append({"epoch": epoch, "layer": layer, "mean": float(a.mean()), "std": float(a.std()), "error": error})

    how = Training(epochs=p["epochs"], learning_rate=p["learning_rate"],
                   batch_size=TrainingConfig.of(p).batch(len(split.X_train)))
    history = net.fit(split.X_train, split.y_train, how, on_epoch=record, eval_sets={"val": (split.X_val, split.y_val)},
                      stop=cancel.requested)
    return {"status": history.status, "activations": rows}


def probe_cost(p: dict) -> tuple[float, float]:
    """(FLOPs, calls) of one probe: one forward and backward pass of the deep network on a batch."""
    sizes = TrainingConfig.of({**p, "hidden": (p["width"],) * p["depth"]}).layers
    return 6.0 * PROBE_SAMPLES * sum(a * b for a, b in zip(sizes[:-1], sizes[1:])), 10


def trial_cost(p: dict) -> tuple[float, float]:
    if p["part"] == "dynamics":
        return cost.training({**p, "hidden": (p["width"],) * p["depth"]}, evaluate=False)
    return probe_cost(p) if p["part"] == "probe" else cost.training(p)


TRIAL, COST = run_trial, trial_cost
