"""Uploaded photos answered by a served run, in the JSON of `cnnapp predict --json`."""

import base64
import io
from dataclasses import asdict

import numpy as np
from PIL import Image

from cnnapp.data.images import read_image
from cnnapp.errors import CnnappError
from cnnapp.inference import Predictor


def data_url(image: np.ndarray) -> str:
    """A uint8 image as a PNG data URL, for the page to show the picture the model saw."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def decoded(name: str, data: bytes) -> np.ndarray | str:
    """An uploaded photo as the model's (64, 64, 3) uint8 input, or the one-line reason it cannot be read."""
    try:
        return read_image(io.BytesIO(data), name=name)
    except CnnappError as error:
        return str(error)


def answer(predictor: Predictor, uploads: list[tuple[str, bytes]], picture: bool) -> list[dict]:
    """One row per upload, in order: {path, label, probability, probabilities[, picture]} or {path, error}."""
    images = [decoded(name, data) for name, data in uploads]
    good = [image for image in images if isinstance(image, np.ndarray)]
    predictions = iter(predictor.predict(np.stack(good)) if good else [])
    rows = []
    for (name, _), image in zip(uploads, images, strict=True):
        if isinstance(image, str):
            rows.append({"path": name, "error": image})
            continue
        row = {"path": name, **asdict(next(predictions))}
        if picture:
            row["picture"] = data_url(image)
        rows.append(row)
    return rows
