"""Loading a run for prediction, and what it says about each photo."""

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from cnnapp import lazy
from cnnapp.data.faces import as_seen, face_crops
from cnnapp.data.hands import hand_crops
from cnnapp.data.images import (
    OPEN_SIZE,
    array_image,
    decode_pixels,
    from_array,
    from_pil,
    read_image,
    read_whole,
    to_rgb,
)
from cnnapp.data.views import photo_marks
from cnnapp.errors import CnnappError
from cnnapp.extras import missing_extra
from cnnapp.models.outputs import checked
from cnnapp.runs import Run, read_run
from cnnapp.settings import IMAGE_SIZE

Photo = str | Path | Image.Image | np.ndarray
"""A photo file's path, an opened PIL image, or an (H, W), (H, W, 1|3|4) array."""


@dataclass(frozen=True)
class Prediction:
    """What a run says about one photo."""

    label: str  # the most probable class
    probability: float  # its probability
    probabilities: dict[str, float]  # every class of the run, in the run's order
    face: bool | None = None  # whether a face was found, for a run that looks for faces
    hand: bool | None = None  # whether a hand was found, for a run that reads a hand's landmarks

    def answer(self) -> dict:
        """The prediction as the JSON of `cnnapp predict --json` and the web API show it: face and hand only for a
        run that looks for them."""
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass(frozen=True)
class Seen:
    """Photos as a run's model sees them: uint8 images (n, 64, 64, 3), their marks (n, k) for a run that reads
    landmarks, and whether a face or a hand was found in each (None when the run does not look for one)."""

    images: np.ndarray
    marks: np.ndarray | None = None
    faces: list[bool] | None = None
    hands: list[bool] | None = None


def as_image(photo: Photo) -> np.ndarray:
    """One photo as the (64, 64, 3) uint8 array the models take."""
    if isinstance(photo, str | Path):
        return read_image(photo)
    if isinstance(photo, Image.Image):
        return from_pil(photo)
    if isinstance(photo, np.ndarray):
        return from_array(photo)
    raise CnnappError(f"{type(photo).__name__}: not a photo (give a path, a PIL image or a numpy array)")


def as_whole(photo: Photo) -> Image.Image:
    """One photo as an RGB PIL image of at most OPEN_SIZE pixels a side, for finding a face in it."""
    if isinstance(photo, str | Path):
        return read_whole(photo)
    if isinstance(photo, Image.Image | np.ndarray):
        image = to_rgb(photo) if isinstance(photo, Image.Image) else array_image(photo)
        image.thumbnail((OPEN_SIZE, OPEN_SIZE), Image.Resampling.LANCZOS)
        return image
    raise CnnappError(f"{type(photo).__name__}: not a photo (give a path, a PIL image or a numpy array)")


def listed(photos: Photo | Sequence[Photo]) -> list[Photo]:
    """One photo or a sequence of them as a list; a 4-D array counts as n photos."""
    single = isinstance(photos, str | Path | Image.Image) or (isinstance(photos, np.ndarray) and photos.ndim < 4)
    return [photos] if single else list(photos)


class Predictor:
    """A run's model ready to answer; `engine` is "onnx" (ONNX Runtime) or "keras"."""

    def __init__(self, run: Run, engine: str, scorer: Callable[[np.ndarray, np.ndarray | None], np.ndarray]) -> None:
        self.run = run
        self.engine = engine
        self.scorer = scorer
        self.view = run.view

    @property
    def class_names(self) -> list[str]:
        return self.run.class_names

    @property
    def whole(self) -> bool:
        """Whether the run looks at whole photos (for a face or a hand), not only their 64x64 squares."""
        return self.view.crop != "none" or self.view.marks != "none"

    def probabilities(self, images: np.ndarray, marks: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities (n, classes), in the run's class order, for uint8 images (n, 64, 64, 3) and, for a
        run that reads landmarks, their marks."""
        if len(images) == 0:
            return np.empty((0, len(self.class_names)), dtype=np.float32)
        probs = self.scorer(images, marks)
        if probs.shape[1] != len(self.class_names):
            raise CnnappError(
                f"{self.run.path}: the {self.engine} model gives {probs.shape[1]} probabilities "
                f"but the run has {len(self.class_names)} classes"
            )
        return checked(probs, self.run.onnx_file if self.engine == "onnx" else self.run.keras_file)

    def decode(self, photo: Path | BinaryIO, name: str | None = None) -> Photo:
        """A photo file decoded as far as this run needs: to its 64x64 square, or whole to find the face in it.
        CnnappError naming the file (name, else the path) if it cannot be read."""
        return read_whole(photo, name) if self.whole else read_image(photo, name=name)

    def decode_pixels(self, photo: Path | BinaryIO) -> int:
        """How many pixels decoding the photo file as decode does takes; 0 for a file refused without decoding."""
        return decode_pixels(photo, OPEN_SIZE // 2 if self.whole else IMAGE_SIZE)

    def seen(self, photos: Photo | Sequence[Photo]) -> Seen:
        """The photos as the model sees them; a single photo counts as a list of one."""
        photos = listed(photos)
        wholes = [as_whole(photo) for photo in photos] if self.whole else None
        faces = hands = marks = None
        found_hands = lazy.find_hands(wholes) if "hand" in (self.view.crop, self.view.marks) else None
        if self.view.crop == "face":
            images, found = face_crops(wholes)
            faces = found.tolist()
        elif self.view.crop == "hand":
            images = hand_crops(wholes, found_hands.points)
            hands = found_hands.found.tolist()
        else:
            images = np.empty((len(photos), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
            for i, photo in enumerate(photos):
                images[i] = as_image(photo) if wholes is None else as_image(wholes[i])
        if self.view.marks != "none":
            marks = photo_marks(wholes, self.view.marks, None if found_hands is None else found_hands.points)
            found = (marks[:, -1] == 1).tolist()
            faces, hands = (found, hands) if self.view.marks == "face" else (faces, found)
        return Seen(as_seen(images, self.view.colour), marks, faces, hands)

    def answers(self, seen: Seen) -> list[Prediction]:
        """One Prediction per seen photo (see seen), in order."""
        predictions = []
        for i, row in enumerate(self.probabilities(seen.images, seen.marks)):
            best = int(row.argmax())
            predictions.append(
                Prediction(
                    label=self.class_names[best],
                    probability=float(row[best]),
                    probabilities={name: float(p) for name, p in zip(self.class_names, row, strict=True)},
                    face=None if seen.faces is None else seen.faces[i],
                    hand=None if seen.hands is None else seen.hands[i],
                )
            )
        return predictions

    def predict(self, photos: Photo | Sequence[Photo]) -> list[Prediction]:
        """One Prediction per photo, in order; a single photo gives a list of one."""
        return self.answers(self.seen(photos))


def load(run_dir: Path | str, threads: int | None = None) -> Predictor:
    """A run ready to predict: its model.onnx with ONNX Runtime when exported, else its model.keras with Keras.

    threads: ONNX Runtime's threads within one call (None: one per core); a server answering many small requests
    at once runs each with one.
    """
    run = read_run(run_dir)
    if run.onnx_file.is_file():
        return Predictor(run, "onnx", lazy.OnnxModel(run.onnx_file, threads).probabilities)
    try:
        probabilities, load_model = lazy.probabilities, lazy.load_model
    except ModuleNotFoundError as error:
        raise missing_extra(error, f"{run.path}: a run without {run.onnx_file.name}") from None

    model = load_model(run)
    return Predictor(run, "keras", lambda images, marks: probabilities(model, images, marks))
