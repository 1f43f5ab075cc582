"""The landmark vote of a model that reads marks: a logistic regression of the marks alone, fitted on the training
photos where a face or hand was found, whose answer is averaged with the network's on such photos, weighing what
the recipe's vote_weight says (see models/nets.py: with_landmark_vote). Chosen by leaving one source out: the
network alone leans on the pixels of the sources it saw, and the landmarks carry over to other cameras and
backgrounds better."""

import keras
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from cnnapp.models.nets import with_landmark_vote


def vote_weights(marks: np.ndarray, labels: np.ndarray, binary: bool) -> tuple[np.ndarray, np.ndarray]:
    """Kernel (k, units) and bias (units,) of the readout of marks (n, k) whose last column says found: a logistic
    regression (L2, C=1) of the standardised features of the found rows, the standardisation folded into the
    weights and the found column weighing nothing. One sigmoid unit when binary, else a softmax over the classes
    (every class must have a found photo)."""
    found = marks[:, -1] == 1
    features = marks[found, :-1].astype(np.float64)
    scaler = StandardScaler().fit(features)
    fitted = LogisticRegression(max_iter=5000).fit(scaler.transform(features), labels[found])
    coef = fitted.coef_ / scaler.scale_  # (units, k - 1) on the raw features
    bias = fitted.intercept_ - coef @ scaler.mean_
    kernel = np.vstack([coef.T, np.zeros((1, coef.shape[0]))])  # the found column weighs nothing
    if not binary and kernel.shape[1] == 1:  # scikit-learn gives one column for two classes
        kernel, bias = np.hstack([np.zeros_like(kernel), kernel]), np.concatenate([[0.0], bias])
    return kernel.astype(np.float32), bias.astype(np.float32)


def voting(model: keras.Model, marks: np.ndarray, labels: np.ndarray, binary: bool, weight: float) -> keras.Model:
    """The trained model with its landmark vote fitted on these training photos' marks and labels, the vote
    weighing weight in the average."""
    return with_landmark_vote(model, *vote_weights(marks, labels, binary), weight)
