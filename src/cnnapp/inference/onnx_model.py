"""A run's exported model.onnx, run by ONNX Runtime alone: no TensorFlow, no Keras."""

from pathlib import Path

import numpy as np
import onnxruntime as ort

from cnnapp.data.images import model_inputs
from cnnapp.errors import CnnappError
from cnnapp.models.outputs import two_columns
from cnnapp.settings import IMAGE_SIZE


class OnnxModel:
    """An ONNX model that takes (n, 64, 64, 3) float32 pixels in [0, 1], as the Keras models do, and beside them
    (n, k) float32 marks when it reads landmarks."""

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
        shape = inputs[0].shape[1:] if len(inputs) in (1, 2) else None
        marks = len(inputs) == 1 or (len(inputs[1].shape) == 2 and inputs[1].type == "tensor(float)")
        if shape != [IMAGE_SIZE, IMAGE_SIZE, 3] or inputs[0].type != "tensor(float)" or not marks:
            taken = ", ".join(f"{i.type} {i.shape}" for i in inputs)
            raise CnnappError(
                f"{path}: takes {taken}, not a float input of (n, {IMAGE_SIZE}, {IMAGE_SIZE}, 3) (and one of (n, k))"
            )
        self.input_names = [i.name for i in inputs]

    def probabilities(self, images: np.ndarray, marks: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities (n, classes) for uint8 images (n, 64, 64, 3), and their marks for a model that
        reads them."""
        if (marks is None) != (len(self.input_names) == 1):
            raise CnnappError(
                f"the ONNX model takes {len(self.input_names)} inputs; marks were given: {marks is not None}"
            )
        given = model_inputs(images, marks)
        feeds = dict(zip(self.input_names, given if marks is not None else [given], strict=True))
        return two_columns(self.session.run(None, feeds)[0])
