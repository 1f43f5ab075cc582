"""Loading a run for prediction, and what it says about each photo."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from cnnapp.data.images import from_array, from_pil, read_image
from cnnapp.errors import CnnappError
from cnnapp.settings import IMAGE_SIZE
from cnnapp.training.rundir import RunInfo, read_run

ONNX_FILE = "model.onnx"
"""Written into a run by `cnnapp export`; when present, predicting needs neither TensorFlow nor Keras."""

Photo = str | Path | Image.Image | np.ndarray
"""A photo file's path, an opened PIL image, or an (H, W), (H, W, 1|3|4) array."""


@dataclass(frozen=True)
class Prediction:
    """What a run says about one photo."""

    label: str  # the most probable class
    probability: float  # its probability
    probabilities: dict[str, float]  # every class of the run, in the run's order


def as_image(photo: Photo) -> np.ndarray:
    """One photo as the (64, 64, 3) uint8 array the models take."""
    if isinstance(photo, str | Path):
        return read_image(photo)
    if isinstance(photo, Image.Image):
        return from_pil(photo)
    if isinstance(photo, np.ndarray):
        return from_array(photo)
    raise CnnappError(f"{type(photo).__name__}: not a photo (give a path, a PIL image or a numpy array)")


def as_images(photos: Photo | Sequence[Photo]) -> np.ndarray:
    """One photo or a sequence of them as (n, 64, 64, 3) uint8; a 4-D array counts as n photos."""
    single = isinstance(photos, str | Path | Image.Image) or (isinstance(photos, np.ndarray) and photos.ndim < 4)
    images = [as_image(photo) for photo in ([photos] if single else photos)]
    return np.stack(images) if images else np.empty((0, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)


class Predictor:
    """A run's model ready to answer; `engine` is "onnx" (ONNX Runtime) or "keras"."""

    def __init__(self, run: RunInfo, engine: str, scorer: Callable[[np.ndarray], np.ndarray]) -> None:
        self.run = run
        self.engine = engine
        self.scorer = scorer

    @property
    def class_names(self) -> list[str]:
        return self.run.class_names

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (n, classes), in the run's class order, for uint8 images (n, 64, 64, 3)."""
        if len(images) == 0:
            return np.empty((0, len(self.class_names)), dtype=np.float32)
        probs = self.scorer(images)
        if probs.shape[1] != len(self.class_names):
            raise CnnappError(
                f"{self.run.path}: the {self.engine} model gives {probs.shape[1]} probabilities "
                f"but the run has {len(self.class_names)} classes"
            )
        return probs

    def predict(self, photos: Photo | Sequence[Photo]) -> list[Prediction]:
        """One Prediction per photo, in order; a single photo gives a list of one."""
        predictions = []
        for row in self.probabilities(as_images(photos)):
            best = int(row.argmax())
            predictions.append(
                Prediction(
                    label=self.class_names[best],
                    probability=float(row[best]),
                    probabilities={name: float(p) for name, p in zip(self.class_names, row, strict=True)},
                )
            )
        return predictions


def load(run_dir: Path | str, threads: int | None = None) -> Predictor:
    """A run ready to predict: its model.onnx with ONNX Runtime when exported, else its model.keras with Keras.

    threads: ONNX Runtime's threads within one call (None: one per core); a server answering many small requests
    at once runs each with one.
    """
    run = read_run(run_dir)
    if (run.path / ONNX_FILE).is_file():
        from cnnapp.inference.onnx_model import OnnxModel

        return Predictor(run, "onnx", OnnxModel(run.path / ONNX_FILE, threads).probabilities)
    from cnnapp.training.evaluate import probabilities
    from cnnapp.training.reuse import load_model

    model = load_model(run)
    return Predictor(run, "keras", lambda images: probabilities(model, images))
