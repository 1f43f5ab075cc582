"""What every model's output means, without importing Keras: class probabilities, one column per class."""

import numpy as np


def two_columns(outputs: np.ndarray) -> np.ndarray:
    """Model outputs as (n, classes) probabilities: a binary model's single sigmoid p becomes [1 - p, p]."""
    return np.concatenate([1.0 - outputs, outputs], axis=1) if outputs.shape[1] == 1 else outputs
