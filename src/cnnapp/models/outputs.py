"""What every model's output means, without importing Keras: class probabilities, one column per class."""

from pathlib import Path

import numpy as np

from cnnapp.errors import CnnappError


def two_columns(outputs: np.ndarray) -> np.ndarray:
    """Model outputs as (n, classes) probabilities: a binary model's single sigmoid p becomes [1 - p, p]."""
    return np.concatenate([1.0 - outputs, outputs], axis=1) if outputs.shape[1] == 1 else outputs


def checked(probs: np.ndarray, model_file: Path) -> np.ndarray:
    """probs, once every one is a number in [0, 1]; CnnappError naming the model file that gave them otherwise (a
    model whose weights became nan answers nan for every photo)."""
    if not np.all(np.isfinite(probs)) or probs.min(initial=0) < -1e-6 or probs.max(initial=0) > 1 + 1e-6:
        raise CnnappError(f"{model_file}: its outputs are not probabilities (nan, inf or outside [0, 1]); retrain it")
    return probs
