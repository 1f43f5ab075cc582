"""Uploaded photos answered by a served run, in the JSON of `cnnapp predict --json`."""

import base64
import ctypes
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import anyio
import numpy as np
from PIL import Image

from cnnapp.data.images import OPEN_SIZE, decode_pixels, read_whole
from cnnapp.errors import CnnappError
from cnnapp.inference import Prediction, Predictor
from cnnapp.inference.predictor import Photo

LARGE_PIXELS = 2_000_000
"""A photo whose decoding takes more pixels than this waits for the one large-photo decoder; a phone's JPEG,
reduced while it is decoded, stays below."""

try:
    MALLOC_TRIM = ctypes.CDLL(None).malloc_trim  # glibc
except (AttributeError, OSError, TypeError):
    MALLOC_TRIM = None


def release_memory() -> None:
    """Give the memory that a large decode freed back to the system (glibc keeps it otherwise)."""
    if MALLOC_TRIM is not None:
        MALLOC_TRIM(0)


def data_url(image: np.ndarray) -> str:
    """A uint8 image as a PNG data URL, for the page to show the picture the model saw."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def decoded(decode: Callable[..., Photo], name: str, file: BinaryIO, large: bool) -> Photo | str:
    """An uploaded photo decoded by decode, or the one-line reason it cannot be read."""
    try:
        return decode(file, name=name)
    except CnnappError as error:
        return str(error)
    finally:
        if large:
            release_memory()


def judged(predictor: Predictor, photos: list[Photo]) -> tuple[np.ndarray, list[Prediction]]:
    """The decoded photos as the model saw them, and its prediction for each."""
    seen = predictor.seen(photos)
    return seen.images, predictor.answers(seen)


@dataclass
class Decoders:
    """Threads that decode and answer photos: small photos side by side (one a core), large ones one at a time.

    Each request takes a thread for one photo at a time and queues again for the next, and the queues are first
    come, first served: requests of many large photos take turns on the large decoder, and a request of small
    photos never waits behind a large one.
    """

    small: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(os.cpu_count() or 1))
    large: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(1))

    async def decode(self, predictor: Predictor, name: str, file: BinaryIO) -> Photo | str:
        """One upload decoded as the run needs it, in the thread its size calls for."""
        return await self.decoded_by(predictor.decode_pixels, predictor.decode, name, file)

    async def whole(self, name: str, file: BinaryIO) -> Image.Image | str:
        """One upload decoded whole (at most about OPEN_SIZE pixels a side), as any run can read it later."""
        return await self.decoded_by(lambda f: decode_pixels(f, OPEN_SIZE // 2), read_whole, name, file)

    async def decoded_by(
        self, pixels_of: Callable[[BinaryIO], int], decode: Callable[..., Photo], name: str, file: BinaryIO
    ) -> Photo | str:
        """One upload decoded by decode, in the thread its size (pixels_of) calls for."""
        pixels = await anyio.to_thread.run_sync(pixels_of, file, limiter=self.small)
        large = pixels > LARGE_PIXELS
        limiter = self.large if large else self.small
        return await anyio.to_thread.run_sync(decoded, decode, name, file, large, limiter=limiter)

    async def answer(self, predictor: Predictor, uploads: list[tuple[str, BinaryIO]], picture: bool) -> list[dict]:
        """One row per upload, in order: {path, label, probability, probabilities[, face][, picture]} or
        {path, error}; the picture is what the model saw (the face crop, for a run that crops to the face)."""
        photos = [await self.decode(predictor, name, file) for name, file in uploads]
        good = [photo for photo in photos if not isinstance(photo, str)]
        images, predictions = await anyio.to_thread.run_sync(judged, predictor, good, limiter=self.small)
        answered = iter(zip(predictions, images, strict=True))
        rows = []
        for (name, _), photo in zip(uploads, photos, strict=True):
            if isinstance(photo, str):
                rows.append({"path": name, "error": photo})
                continue
            prediction, image = next(answered)
            row = {"path": name, **prediction.answer()}
            if picture:
                row["picture"] = data_url(image)
            rows.append(row)
        return rows
