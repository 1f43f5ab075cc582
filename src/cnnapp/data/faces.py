"""Finding the face in a photo and framing it as a smiles photo frames one, before a smile model looks.

The detector is MTCNN (the mtcnn package, whose weights ship in its wheel). It looks at the photo resized so that
its longer side is DETECT_SIZE; when it finds no face there, at the photo laid in a grey border a quarter of its
size wide on each side (so that a face filling the photo is found too); then, in a photo larger than DETECT_SIZE,
at twice DETECT_SIZE (so that a small face in a large photo is found too). The largest face found is kept. The crop is
set by the face's five landmarks: turned so that the eyes are level, centred halfway between the eyes and the mouth,
SPAN eye-to-mouth distances on a side (the framing of a smiles photo, measured on smiles). A photo with no face found
is taken whole, as without a crop.
"""

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from cnnapp import lazy
from cnnapp.data.cache import cached_arrays
from cnnapp.data.datasets import Dataset
from cnnapp.data.images import fit_square, read_whole
from cnnapp.progress import Progress
from cnnapp.settings import IMAGE_SIZE

DETECT_SIZE = 128
"""The longer side of the bordered photo the detector looks at, in pixels."""
BORDER = 0.25
"""The grey border laid around a photo for the second look, as a share of its size on each side."""
SPAN = 1.8
"""The side of a face crop in eye-to-mouth distances: on smiles photos with a face found, the photo's side is
1.83 of them, the eyes 0.44 from the top."""
FILL = (128, 128, 128)
"""What a crop shows where it reaches past the photo's edge."""
RULE = (
    f"mtcnn-1.0.0 at {DETECT_SIZE} px, then in a border of {BORDER}, then larger photos at {2 * DETECT_SIZE} px; "
    f"{SPAN} eye-to-mouth distances, eyes level"
)
"""The face rule in words, recorded with each run and part of the cache key."""
CHUNK = 256
"""Photos given to the detector at once."""


@dataclass(frozen=True)
class Face:
    """A face's landmarks in the photo's pixels: the centres of the eyes and the corners of the mouth."""

    left_eye: tuple[float, float]  # the eye on the photo's left
    right_eye: tuple[float, float]
    mouth_left: tuple[float, float]
    mouth_right: tuple[float, float]


_lock = threading.Lock()


@cache
def detector():
    """MTCNN, loaded once (it imports TensorFlow)."""
    return lazy.MTCNN()


def bordered(photo: Image.Image, border: float, size: int) -> tuple[np.ndarray, float, float]:
    """The photo in a grey border (a share of its longer side on each side), resized so that its longer side is
    size; the scale and the border's width in the photo's pixels."""
    pad = round(border * max(photo.size))
    frame = Image.new("RGB", (photo.width + 2 * pad, photo.height + 2 * pad), FILL)
    frame.paste(photo, (pad, pad))
    scale = size / max(frame.size)
    size = (max(1, round(frame.width * scale)), max(1, round(frame.height * scale)))
    return np.asarray(frame.resize(size, Image.Resampling.BILINEAR)), scale, pad


def detected(photos: list[Image.Image], border: float, size: int) -> list[Face | None]:
    """The largest face in each RGB photo in a grey border, its longer side resized to size, or None where none is
    found."""
    prepared = [bordered(photo, border, size) for photo in photos]
    with _lock:
        rows = detector().detect_faces(
            [image for image, _, _ in prepared], min_face_size=12, box_format="xyxy", output_type="numpy"
        )
    # a row: photo number, box x1 y1 x2 y2, confidence, then the x of the left eye, right eye, nose, mouth's left
    # and right corners, then their y
    faces: list[Face | None] = []
    for number, (_, scale, pad) in enumerate(prepared):
        mine = rows[rows[:, 0] == number]
        if not len(mine):
            faces.append(None)
            continue
        largest = mine[np.argmax((mine[:, 3] - mine[:, 1]) * (mine[:, 4] - mine[:, 2]))]
        points = largest[6:16].reshape(2, 5).T / scale - pad
        faces.append(Face(*(tuple(map(float, points[i])) for i in (0, 1, 3, 4))))
    return faces


LOOKS = ((0.0, DETECT_SIZE, 0), (BORDER, DETECT_SIZE, 0), (0.0, 2 * DETECT_SIZE, DETECT_SIZE))
"""Where no face was found yet, the detector looks again: (border, longer side, only at photos larger than this)."""


def find_faces(photos: list[Image.Image]) -> list[Face | None]:
    """The largest face in each RGB photo, or None where none is found: looked for in the photo at DETECT_SIZE,
    then where none was found in the photo laid in a grey border, then in a photo larger than DETECT_SIZE at twice
    DETECT_SIZE (see LOOKS); in chunks of CHUNK photos."""
    faces: list[Face | None] = []
    for start in range(0, len(photos), CHUNK):
        chunk = photos[start : start + CHUNK]
        found: list[Face | None] = [None] * len(chunk)
        for border, size, larger_than in LOOKS:
            missing = [i for i, face in enumerate(found) if face is None and max(chunk[i].size) > larger_than]
            if missing:
                for i, face in zip(missing, detected([chunk[i] for i in missing], border, size), strict=True):
                    found[i] = face
        faces += found
    return faces


def framed(photo: Image.Image, face: Face) -> np.ndarray:
    """The face's crop of an RGB photo, eyes level, as a (64, 64, 3) uint8 array."""
    eyes = np.add(face.left_eye, face.right_eye) / 2
    mouth = np.add(face.mouth_left, face.mouth_right) / 2
    centre = (eyes + mouth) / 2
    side = max(SPAN * float(np.hypot(*(mouth - eyes))), 1.0)
    shrink = max(1, int(side // (2 * IMAGE_SIZE)))  # reduce a large photo first, so the crop is not aliased
    if shrink > 1:
        photo, centre, side = photo.reduce(shrink), centre / shrink, side / shrink
    angle = math.atan2(face.right_eye[1] - face.left_eye[1], face.right_eye[0] - face.left_eye[0])
    step = side / IMAGE_SIZE
    cos, sin = step * math.cos(angle), step * math.sin(angle)
    half = IMAGE_SIZE / 2
    matrix = (
        cos,
        -sin,
        centre[0] - cos * half + sin * half,
        sin,
        cos,
        centre[1] - sin * half - cos * half,
    )
    size = (IMAGE_SIZE, IMAGE_SIZE)
    crop = photo.transform(size, Image.Transform.AFFINE, matrix, Image.Resampling.BICUBIC, fillcolor=FILL)
    return np.asarray(crop, dtype=np.uint8)


def face_crops(photos: list[Image.Image]) -> tuple[np.ndarray, np.ndarray]:
    """Each RGB photo's face crop, or the whole photo where no face is found: (n, 64, 64, 3) uint8, and whether a
    face was found in each (n,) bool."""
    faces = find_faces(photos)
    images = np.empty((len(photos), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    for i, (photo, face) in enumerate(zip(photos, faces, strict=True)):
        images[i] = fit_square(photo) if face is None else framed(photo, face)
    return images, np.array([face is not None for face in faces], dtype=bool)


def grey(images: np.ndarray) -> np.ndarray:
    """uint8 RGB images (..., 3) as their grey levels (ITU-R 601 luma, as Pillow's "L"), in three equal channels."""
    luma = images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.repeat(np.round(luma).clip(0, 255).astype(np.uint8)[..., None], 3, axis=-1)


def equalised(images: np.ndarray) -> np.ndarray:
    """uint8 RGB images (n, h, w, 3) as their grey levels spread evenly over 0-255, each image on its own."""
    if not len(images):
        return images
    levels = grey(images)[..., 0]
    spread = np.stack([np.asarray(ImageOps.equalize(Image.fromarray(image))) for image in levels])
    return np.repeat(spread[..., None], 3, axis=-1)


def as_seen(images: np.ndarray, colour: str) -> np.ndarray:
    """uint8 images (n, h, w, 3) as a model of this colour choice sees them."""
    if colour == "grey":
        return grey(images)
    return equalised(images) if colour == "equalised" else images


def photos_of(dataset: Dataset, which: range) -> list[Image.Image]:
    """Some of the dataset's photos as RGB PIL images: from its files, whole, when it is a folder, else its 64x64
    images."""
    if dataset.paths is None:
        return [Image.fromarray(dataset.x[i]) for i in which]
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        return list(pool.map(lambda i: read_whole(Path(dataset.source) / dataset.paths[i]), which))


def cropped_dataset(dataset: Dataset) -> Dataset:
    """The dataset's images as face crops (see face_crops), with dataset.faces saying where a face was found.

    The crops are made from the photo files when the dataset is a folder (a face is found at any size), else from
    its 64x64 images, and cached under the cache directory, keyed by the 64x64 images' content and the face rule:
    the first pass over smiles' 13,165 photos takes minutes (its progress on stderr), later ones a moment.
    """

    def make() -> dict[str, np.ndarray]:
        images, found = np.empty_like(dataset.x), np.zeros(len(dataset.x), dtype=bool)
        with Progress(f"finding the faces of {dataset.name} (once; kept in the cache)", len(dataset.x)) as progress:
            for start in range(0, len(dataset.x), CHUNK):
                which = range(start, min(start + CHUNK, len(dataset.x)))
                crops = face_crops(photos_of(dataset, which))
                images[which.start : which.stop], found[which.start : which.stop] = crops
                progress.update(which.stop, f"{np.count_nonzero(found[: which.stop])} faces found")
        return {"x": images, "faces": found}

    expected = {"x": (dataset.x.shape, np.uint8), "faces": ((len(dataset.x),), np.bool_)}
    arrays = cached_arrays("faces", RULE, dataset.x, expected, make)
    return replace(dataset, x=arrays["x"], faces=arrays["faces"])
