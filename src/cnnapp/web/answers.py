"""Uploaded photos answered by a served run, in the JSON of `cnnapp predict --json`."""

import base64
import io

import numpy as np
from PIL import Image

from cnnapp.errors import CnnappError
from cnnapp.inference import Predictor
from cnnapp.inference.predictor import Photo


def data_url(image: np.ndarray) -> str:
    """A uint8 image as a PNG data URL, for the page to show the picture the model saw."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def decoded(predictor: Predictor, name: str, data: bytes) -> Photo | str:
    """An uploaded photo decoded as the run needs it, or the one-line reason it cannot be read."""
    try:
        return predictor.decode(io.BytesIO(data), name=name)
    except CnnappError as error:
        return str(error)


def answer(predictor: Predictor, uploads: list[tuple[str, bytes]], picture: bool) -> list[dict]:
    """One row per upload, in order: {path, label, probability, probabilities[, face][, picture]} or {path, error};
    the picture is what the model saw (the face crop, for a run that crops to the face)."""
    photos = [decoded(predictor, name, data) for name, data in uploads]
    good = [photo for photo in photos if not isinstance(photo, str)]
    images, faces = predictor.seen(good)
    predictions = iter(zip(predictor.answers(images, faces), images, strict=True))
    rows = []
    for (name, _), photo in zip(uploads, photos, strict=True):
        if isinstance(photo, str):
            rows.append({"path": name, "error": photo})
            continue
        prediction, image = next(predictions)
        row = {"path": name, **prediction.answer()}
        if picture:
            row["picture"] = data_url(image)
        rows.append(row)
    return rows
