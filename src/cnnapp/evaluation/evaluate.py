"""Predictions and the metrics every run records: accuracy, loss, per-class accuracy, confusion matrix."""

import keras
import numpy as np
from sklearn.metrics import confusion_matrix

from cnnapp.data.images import model_inputs
from cnnapp.models.outputs import two_columns
from cnnapp.runs import Result


def probabilities(
    model: keras.Model, images: np.ndarray, marks: np.ndarray | None = None, batch_size: int = 256
) -> np.ndarray:
    """Class probabilities (n, classes) for uint8 images (and their marks, for a model that reads them); a binary
    model's single unit becomes two columns."""
    return two_columns(model.predict(model_inputs(images, marks), batch_size=batch_size, verbose=0))


def targets(labels: np.ndarray, classes: int, binary: bool) -> np.ndarray:
    """Class indices in the form the loss takes: a (n, 1) column for binary, one-hot (n, classes) otherwise."""
    if binary:
        return labels.reshape(-1, 1).astype(np.float32)
    return keras.utils.to_categorical(labels, classes)


def loss_of(probs: np.ndarray, labels: np.ndarray) -> float:
    """The cross-entropy Keras trains with, from (n, classes) probabilities."""
    if probs.shape[1] == 2:
        return float(keras.losses.BinaryCrossentropy()(labels.reshape(-1, 1), probs[:, 1:]))
    return float(keras.losses.CategoricalCrossentropy()(keras.utils.to_categorical(labels, probs.shape[1]), probs))


def result_of(probs: np.ndarray, labels: np.ndarray, class_names: list[str], images: str = "") -> Result:
    """Accuracy, loss, per-class accuracy and confusion matrix of (n, classes) probabilities against labels."""
    predicted = probs.argmax(axis=1)
    matrix = confusion_matrix(labels, predicted, labels=range(len(class_names)))
    per_class = {
        name: (float(matrix[i, i] / matrix[i].sum()) if matrix[i].sum() else None) for i, name in enumerate(class_names)
    }
    return Result(
        accuracy=float((predicted == labels).mean()),
        loss=loss_of(probs, labels),
        n=len(labels),
        per_class_accuracy=per_class,
        confusion_matrix=matrix.tolist(),
        class_names=list(class_names),
        images=images,
    )
