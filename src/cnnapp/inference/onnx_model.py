"""A run's exported model.onnx, run by ONNX Runtime alone: no TensorFlow, no Keras."""

from pathlib import Path

import numpy as np
import onnxruntime as ort

from cnnapp.data.images import scale
from cnnapp.errors import CnnappError
from cnnapp.models.outputs import two_columns
from cnnapp.settings import IMAGE_SIZE


class OnnxModel:
    """An ONNX model that takes (n, 64, 64, 3) float32 pixels in [0, 1], as the Keras models do."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        """threads: ONNX Runtime's threads within one call; None for its default (one per core)."""
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads is not None:
            options.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # ONNX Runtime raises its own exception types for unusable files
            detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise CnnappError(f"{path}: cannot be loaded as an ONNX model ({detail})") from None
        inputs = self.session.get_inputs()
        shape = inputs[0].shape[1:] if len(inputs) == 1 else None
        if shape != [IMAGE_SIZE, IMAGE_SIZE, 3] or inputs[0].type != "tensor(float)":
            taken = ", ".join(f"{i.type} {i.shape}" for i in inputs)
            raise CnnappError(f"{path}: takes {taken}, not one float input of (n, {IMAGE_SIZE}, {IMAGE_SIZE}, 3)")
        self.input_name = inputs[0].name

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (n, classes) for uint8 images (n, 64, 64, 3)."""
        return two_columns(self.session.run(None, {self.input_name: scale(images)})[0])
