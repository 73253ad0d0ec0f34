"""The parameters every training study shares, with the lecture's words as help text.

Names are the same in every study, on the command line (``--set name=value``), in the page forms
and in share links. Defaults are chosen to finish in seconds on the embedded ``digits`` data.
"""
from __future__ import annotations

from core.data import DATASETS, NORMALISATIONS
from core.mlp import ACTIVATIONS, INITS, LEAKY_ALPHA, LOSSES
from core.optimisers import OPTIMISERS
from core.schedules import SCHEDULES
from studies.common.schema import Param

DATA = [
    Param("dataset", "choice", "digits", "digits is scikit-learn's 8x8 'MNIST light' (embedded); fashion-mnist "
          "and mnist are read from IDX files on disk; moons, circles, xor, spiral and blobs are generated "
          "two-dimensional toy sets.", "data", choices=DATASETS),
    Param("classes", "ints", (), "Empty for all classes, or two class indices for a binary task "
          "(e.g. 1,7 on digits; 0,1 is T-shirt vs trouser on fashion-mnist).", "data",
          low=0, high=9, max_len=2, lengths=(0, 2)),
    Param("normalisation", "choice", "z", "Lecture 3.2.2: rescale maps pixels to [0,1] (min-max "
          "rescaling), minmax to [-1,1] (min-max normalisation), z to zero mean and unit variance; "
          "statistics from the training split only.", "data", choices=NORMALISATIONS),
    Param("val_fraction", "float", 0.2, "Share of the training data held out for validation (lecture 3.6.2, "
          "Table 3).", "data", low=0.05, high=0.5),
    Param("max_train", "int", 0, "Cap on training samples for quick runs (0 = all).", "data", low=0, high=1_000_000),
    Param("toy_samples", "int", 400, "Points generated for a two-dimensional toy data set (others ignore it).",
          "data", low=40, high=20_000),
    Param("toy_noise", "float", 0.2, "Noise of a two-dimensional toy data set (others ignore it).", "data",
          low=0.0, high=2.0),
]

MODEL = [
    Param("hidden", "ints", (30,), "Hidden layer sizes, e.g. 30 or 100,50; empty for none (the generalised "
          "perceptron or softmax regression).", "model", low=1, high=2000, max_len=4, unique=False),
    Param("activation", "choice", "sigmoid", "Activation of the hidden layers (lecture 4.2, Table 6): leaky_relu "
          "is max(alpha z, z), elu is z for z > 0 and alpha (e^z - 1) below (alpha 1), identity leaves z as it is "
          "(a linear network).", "model", choices=tuple(ACTIVATIONS)),
    Param("alpha", "float", LEAKY_ALPHA, "Leaky ReLU's slope for z < 0 (lecture 5.1.6: a hyperparameter with a good "
          "default). Only used by activation=leaky_relu.", "model", low=0.0, high=1.0),
    Param("batch_norm", "choice", "off", "on: batch normalisation of every hidden layer's logits (lecture 5.1.5): "
          "normalised by the batch's mean and standard deviation in training, by their running averages "
          "(beta 0.9) for validation and test, then scaled by a trained gamma and shifted by a trained beta.",
          "model", choices=("off", "on")),
    Param("output", "choice", "softmax", "softmax: one unit per class (lecture 3.8); sigmoid: one unit for a "
          "pair of classes, else one unit per class.", "model", choices=("softmax", "sigmoid")),
    Param("loss", "choice", "ce", "ce: cross-entropy, the mean negative log-likelihood (3.4.4); mse: "
          "1/(2m) * sum of squared errors (3.4.1).", "model", choices=tuple(LOSSES)),
    Param("init", "choice", "normal", "Initial weights (lecture 5.1.4, Fig. 131): normal N(0, sigma^2) with the "
          "sigma below; Xavier: sqrt(2/(n_in+n_out)) for tanh and 4 times that for sigmoid; He (ReLU): sqrt(2) "
          "times Xavier's tanh value (normal: the standard deviation; uniform: U(-r, r) with 6 in place of 2). "
          "PyTorch's and Keras' He use sqrt(2/n_in) instead. classic_uniform: U(-1/sqrt(n_in), 1/sqrt(n_in)), Eq. 11, "
          "the state of the art in 2010 (Fig. 125, 128).", "model", choices=tuple(INITS)),
    Param("init_sigma", "float", 0.05, "Weights start from N(0, sigma^2), biases at 0; sigma 0 keeps all hidden "
          "units identical (lecture Fig. 121). Used by init=normal.", "model", low=0.0, high=10.0),
]

OPTIMISATION = [
    Param("learning_rate", "float", 0.5, "Step size alpha of gradient descent (lecture 3.4.2).", "optimisation",
          low=1e-6, high=100.0),
    Param("batch_size", "batch", 32, "Samples per update: 1 is SGD, 'full' is batch GD, anything between is "
          "mini-batch GD (lecture 3.7).", "optimisation", low=1, high=100_000),
    Param("epochs", "int", 30, "Passes over the training data (the lecture's Tables 1-2 and Fig. 57 run "
          "5,000-10,000; the run-size limit says when that is too much for this server).", "optimisation",
          low=1, high=10_000),
    Param("optimiser", "choice", "gd", "Update rule (lecture 5.2): gd, momentum, nesterov, adagrad, rmsprop, adam.",
          "optimisation", choices=OPTIMISERS),
    Param("momentum", "float", 0.9, "beta of momentum, Nesterov and Adam's first moment (lecture 5.2.1).",
          "optimisation", low=0.0, high=0.999),
    Param("beta2", "float", 0.0, "Decay of the squared gradients: 0 means the optimiser's default (0.999 for "
          "Adam, 0.9 for RMSProp).", "optimisation", low=0.0, high=0.9999),
    Param("l2", "float", 0.0, "L2 weight penalty lambda (lecture 5.3.1): adds lambda/2 * ||W||^2 to the cost.",
          "optimisation", low=0.0, high=10.0),
    Param("l1", "float", 0.0, "L1 weight penalty (lecture 5.3.1, Fig. 141/142): adds l1 * sum |W| to the cost, "
          "whose gradient l1 * sign(W) pulls every weight towards zero by the same step, so many small weights end "
          "near zero (gradient steps rarely land on exactly 0).", "optimisation", low=0.0, high=10.0),
    Param("dropout", "float", 0.0, "Share of hidden units dropped in each training step (inverted dropout, "
          "lecture 5.3.2); none at test time.", "optimisation", low=0.0, high=0.9),
    Param("clip_value", "float", 0.0, "Gradient clipping by value (lecture 5.1.7): every gradient component "
          "kept within [-c, c]; 0 = off.", "optimisation", low=0.0, high=1000.0),
    Param("clip_norm", "float", 0.0, "Gradient clipping by norm (lecture 5.1.7): all gradients together scaled "
          "down to this Euclidean length when longer, their direction kept; 0 = off.", "optimisation",
          low=0.0, high=1000.0),
    Param("schedule", "choice", "constant", "Learning-rate schedule (lecture 5.2.6), t = epochs finished: "
          "piecewise alpha*10^-floor(t/T); performance: times lambda after N epochs without a better validation "
          "error; exponential alpha*10^(-t/T); power alpha*(1+t/T)^-c.", "optimisation", choices=SCHEDULES),
    Param("schedule_T", "float", 10.0, "T of the schedules, in epochs.", "optimisation", low=0.1, high=10_000.0),
    Param("schedule_c", "float", 1.0, "c of power scheduling (typically 1).", "optimisation", low=0.0, high=10.0),
    Param("schedule_lambda", "float", 0.5, "lambda of performance scheduling: the factor the rate is "
          "multiplied by.", "optimisation", low=0.01, high=1.0),
    Param("schedule_N", "int", 3, "N of performance scheduling: epochs without a better validation error "
          "before the rate drops.", "optimisation", low=1, high=1000),
    Param("patience", "int", 0, "Early stopping (lecture 5.3.3): stop after this many epochs without a better "
          "validation error and keep the weights of the best epoch; 0 = train every epoch.", "optimisation",
          low=0, high=10_000),
]

STUDY = [
    Param("repeats", "int", 3, "Trials per setting, each with its own initialisation and shuffling.", "study",
          low=1, high=20),
    Param("seed", "int", 0, "Study seed: fixes the data split, and with it every trial's seed.", "study",
          low=0, high=2**31 - 1),
]

TRAINING = DATA + MODEL + OPTIMISATION + STUDY
