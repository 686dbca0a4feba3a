"""hpogrid's example 3 on a bundled dataset: an MLP classifier on scikit-learn's digits.

Hyperparameters: ``hidden`` (units of the hidden layer), ``batchsize``, ``lr`` (Adam's
learning rate), ``beta`` (Adam's beta_1; clipped below 1) and optionally ``beta2``
(beta_2, default 0.999) and ``epochs`` (default 5). One result per epoch (one pass of
``partial_fit``): ``accuracy`` on the held-out quarter and the training ``loss``.
With ``model_dir`` the fitted model is pickled there, also when the sweep stops the trial early."""

import functools
import os
import pickle
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier


@functools.cache
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y)


def mlp_classifier(config, model_dir=None):
    X_train, X_test, y_train, y_test = digits()
    model = MLPClassifier(
        hidden_layer_sizes=(int(config["hidden"]),),
        batch_size=int(config["batchsize"]),
        learning_rate_init=float(config["lr"]),
        beta_1=min(float(config["beta"]), 0.999),
        beta_2=float(config.get("beta2", 0.999)),
        random_state=int(config.get("seed", 0)),
    )
    classes = np.unique(y_train)
    try:
        for _ in range(int(config.get("epochs", 5))):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.partial_fit(X_train, y_train, classes=classes)
            yield {"accuracy": float(model.score(X_test, y_test)), "loss": float(model.loss_)}
    finally:
        if model_dir is not None and hasattr(model, "coefs_"):
            with open(os.path.join(model_dir, "model.pkl"), "wb") as f:
                pickle.dump(model, f)
