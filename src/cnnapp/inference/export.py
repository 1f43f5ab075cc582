"""A run's Keras model written beside it as model.onnx, checked against Keras before it is kept."""

import warnings
from pathlib import Path

import numpy as np

from cnnapp.errors import CnnappError
from cnnapp.evaluation.evaluate import probabilities
from cnnapp.evaluation.reuse import load_model
from cnnapp.files import writing_file
from cnnapp.inference.onnx_model import OnnxModel
from cnnapp.runs import read_run
from cnnapp.settings import IMAGE_SIZE

TOLERANCE = 1e-5
"""The largest difference from Keras's probabilities an exported model may show."""


def export_onnx(run_dir: Path | str) -> tuple[Path, float]:
    """Write RUN/model.onnx (under a temporary name, then renamed); its path and largest difference from Keras."""
    run = read_run(run_dir)
    model = load_model(run)
    rng = np.random.default_rng(0)
    check = rng.integers(0, 256, size=(16, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    marks = rng.normal(size=(16, *model.inputs[1].shape[1:])).astype(np.float32) if len(model.inputs) == 2 else None
    expected = probabilities(model, check, marks)  # calling the model once also readies it for export
    target = run.onnx_file
    with writing_file(target) as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # tf2onnx's own use of np.object
            model.export(str(tmp), format="onnx", verbose=False)
        difference = float(np.abs(OnnxModel(tmp).probabilities(check, marks) - expected).max())
        if difference > TOLERANCE:
            raise CnnappError(f"{target}: not written, the ONNX model differs from Keras's by {difference:.1e}")
    return target, difference
