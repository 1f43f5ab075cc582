"""Dense face landmarks of a photo: the 468 points of MediaPipe's face mesh, found where MTCNN found the face.

The mesh is MediaPipe's `face_landmark.tflite` (input a square face crop, 192x192 RGB in [0, 1], eyes level; output
468 points x, y, z in the crop's pixels and a face score), run by TensorFlow's own TFLite interpreter. The crop is
first set by MTCNN's five points (see faces.find_faces), then set again by the mesh's own points, as MediaPipe does
from one video frame to the next: their bounding box, eyes level, MARGIN times its longer side. Where MTCNN finds no
face (a photo that is already a tight face crop), the whole photo is taken as the face's box, and the face is kept
when the mesh's face score says it is one. A photo smaller than ENLARGE on its longer side is enlarged first by a
whole factor (bicubic), so that small photos are seen as large ones.

The model file is the catalog's `face-landmarks`: the publisher's, placed in the data directory by `cnnapp data get
face-landmarks`, or else the same file taken from the mediapipe 0.10.21 wheel on PyPI (see model_files).
"""

import math
import threading
import warnings
from functools import cache

import numpy as np
from PIL import Image

from cnnapp import lazy
from cnnapp.data.cache import cached_arrays
from cnnapp.data.datasets import Dataset
from cnnapp.data.faces import CHUNK, FILL, RULE, Face, find_faces, photos_of
from cnnapp.data.model_files import model_file
from cnnapp.data.sources import SOURCES
from cnnapp.progress import Progress
from cnnapp.quiet import native_stderr_silenced

POINTS = 468
SIDE = 192
"""The mesh's input side in pixels."""
FIRST = 3.2
"""The first crop's side in MTCNN eye-to-mouth distances."""
MARGIN = 1.5
"""The second crop's side as a share of the longer side of the first mesh's bounding box (eyes level)."""
ENLARGE = 256
"""Photos whose longer side is smaller are enlarged by a whole factor to reach it."""
SURE = 0.5
"""The mesh's face score above which a face is taken as found in a photo where MTCNN found none."""
MODEL = "face-landmarks"
"""The mesh's model file's name in the catalog."""
LANDMARK_RULE = (
    f"{RULE}; face_landmark.tflite {SOURCES[MODEL].checksum[:16]} from {FIRST} eye-to-mouth distances, "
    f"then {MARGIN} of its own box; photos under {ENLARGE} px enlarged; no MTCNN face: whole photo, score {SURE}"
)
"""The landmark rule in words, part of the cache key."""

# points of the mesh (MediaPipe's numbering; "left" is the photo's left on a face seen from the front)
MOUTH_LEFT, MOUTH_RIGHT = 61, 291
EYE_LEFT, EYE_RIGHT = (33, 133), (362, 263)  # outer and inner corners of each eye
LIP_PAIRS = (
    *((MOUTH_LEFT, MOUTH_RIGHT), (146, 375), (91, 321), (181, 405), (84, 314)),  # outer edge, lower lip
    *((185, 409), (40, 270), (39, 269), (37, 267)),  # outer edge, upper lip
    *((78, 308), (95, 324), (88, 318), (178, 402), (87, 317)),  # inner edge, lower lip
    *((191, 415), (80, 310), (81, 311), (82, 312)),  # inner edge, upper lip
)
"""Points of the lips, each with its mirror image across the face's middle (the photo's left one first), each edge
from the corner inwards."""
LIP_MIDDLE = (17, 0, 14, 13)
"""Points of the lips on the face's middle: the outer edge's lowest and highest, then the inner edge's."""

_lock = threading.Lock()


@cache
def interpreter():
    """The mesh's TFLite interpreter, loaded once (TensorFlow's own; its warning that it will move to another
    package is not the user's concern)."""
    with warnings.catch_warnings(), native_stderr_silenced():
        warnings.simplefilter("ignore", UserWarning)
        mesh = lazy.tensorflow.lite.Interpreter(model_path=str(model_file(MODEL)))
        mesh.allocate_tensors()
    return mesh


def crop(photo: Image.Image, centre: np.ndarray, side: float, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """A SIDE x SIDE square of an RGB photo around centre, turned by angle (radians), as floats in [0, 1], and the
    2x3 matrix that takes its pixels to the photo's."""
    step = side / SIDE
    cos, sin = step * math.cos(angle), step * math.sin(angle)
    half = SIDE / 2
    matrix = np.array(
        [[cos, -sin, centre[0] - cos * half + sin * half], [sin, cos, centre[1] - sin * half - cos * half]]
    )
    square = photo.transform(
        (SIDE, SIDE), Image.Transform.AFFINE, tuple(matrix.ravel()), Image.Resampling.BILINEAR, fillcolor=FILL
    )
    return np.asarray(square, dtype=np.float32) / 255, matrix


def mesh(photo: Image.Image, centre: np.ndarray, side: float, angle: float) -> tuple[np.ndarray, float]:
    """The mesh's points (468, 3) in the photo's pixels (z in the same scale) from one crop, and its face score."""
    square, matrix = crop(photo, centre, side, angle)
    model = interpreter()
    with _lock:
        model.set_tensor(model.get_input_details()[0]["index"], square[None])
        model.invoke()
        points, score = (model.get_tensor(out["index"]).ravel() for out in model.get_output_details())
    points = points.reshape(POINTS, 3)
    placed = np.empty_like(points)
    placed[:, :2] = points[:, :2] @ matrix[:, :2].T + matrix[:, 2]
    placed[:, 2] = points[:, 2] * side / SIDE
    return placed, float(1 / (1 + np.exp(-score[0])))


def eye_centres(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The centres x, y of the photo's left and right eye, from the mesh's points (..., 468, 2 or 3)."""
    return points[..., list(EYE_LEFT), :2].mean(axis=-2), points[..., list(EYE_RIGHT), :2].mean(axis=-2)


def refined(photo: Image.Image, points: np.ndarray) -> tuple[np.ndarray, float]:
    """The mesh run again on the crop its points set: their box with the eyes level, MARGIN times its longer side."""
    left, right = eye_centres(points)
    angle = math.atan2(right[1] - left[1], right[0] - left[0])
    turn = np.array([[math.cos(angle), math.sin(angle)], [-math.sin(angle), math.cos(angle)]])
    level = points[:, :2] @ turn.T  # the points with the eyes level
    low, high = level.min(axis=0), level.max(axis=0)
    return mesh(photo, turn.T @ ((low + high) / 2), MARGIN * max(float((high - low).max()), 1.0), angle)


def landmarks_of(photo: Image.Image, face: Face | None) -> tuple[np.ndarray, float]:
    """The mesh's points (468, 3) in an RGB photo's pixels and its face score, where MTCNN found this face, or
    with the whole photo taken as the face's box when it found none."""
    if face is None:
        points, _ = mesh(photo, np.array(photo.size) / 2, MARGIN * max(photo.size), 0.0)
        return refined(photo, points)
    eyes = np.add(face.left_eye, face.right_eye) / 2
    mouth = np.add(face.mouth_left, face.mouth_right) / 2
    angle = math.atan2(face.right_eye[1] - face.left_eye[1], face.right_eye[0] - face.left_eye[0])
    points, _ = mesh(photo, (eyes + mouth) / 2, FIRST * max(float(np.hypot(*(mouth - eyes))), 1.0), angle)
    return refined(photo, points)


def enlarged(photo: Image.Image) -> tuple[Image.Image, int]:
    """The photo enlarged by the whole factor that brings its longer side to ENLARGE or more, and the factor."""
    factor = max(1, math.ceil(ENLARGE / max(photo.size)))
    if factor == 1:
        return photo, 1
    return photo.resize((photo.width * factor, photo.height * factor), Image.Resampling.BICUBIC), factor


def face_landmarks(photos: list[Image.Image]) -> np.ndarray:
    """Each RGB photo's 468 face landmarks x, y, z in its own pixels, (n, 468, 3) float32; NaN where neither MTCNN
    found a face nor the mesh, looking at the whole photo, is SURE of one."""
    big = [enlarged(photo) for photo in photos]
    faces = find_faces([photo for photo, _ in big])
    points = np.full((len(photos), POINTS, 3), np.nan, dtype=np.float32)
    for i, ((photo, factor), face) in enumerate(zip(big, faces, strict=True)):
        found, score = landmarks_of(photo, face)
        if face is not None or score >= SURE:
            points[i] = found / factor
    return points


def dataset_landmarks(dataset: Dataset) -> np.ndarray:
    """The face landmarks of each of the dataset's photos (see face_landmarks), from its files when it is a
    folder, else from its 64x64 images; cached, keyed by the 64x64 images' content and the landmark rule."""

    def make() -> dict[str, np.ndarray]:
        points = np.full((len(dataset.x), POINTS, 3), np.nan, dtype=np.float32)
        with Progress(f"finding the face landmarks of {dataset.name} (once; kept in the cache)", len(points)) as bar:
            for start in range(0, len(points), CHUNK):
                which = range(start, min(start + CHUNK, len(points)))
                points[which.start : which.stop] = face_landmarks(photos_of(dataset, which))
                bar.update(which.stop, f"{np.count_nonzero(~np.isnan(points[: which.stop, 0, 0]))} faces found")
        return {"points": points}

    expected = {"points": ((len(dataset.x), POINTS, 3), np.float32)}
    return cached_arrays("landmarks", LANDMARK_RULE, dataset.x, expected, make)["points"]


FEATURES = (
    *(f"lip points {a}/{b} {where}" for a, b in LIP_PAIRS for where in ("out from the middle", "below the eyes")),
    *(f"lip point {a} below the eyes" for a in LIP_MIDDLE),
)
"""The smile features: where the lips' points lie, in eye distances from the point midway between the eyes, with the
eyes level: for each mirrored pair (LIP_PAIRS), how far out from the face's middle (the two points' mean, sign
dropped) and how far below the eye line (their mean); for each point on the middle (LIP_MIDDLE), how far below the
eye line. Neither a mirror image nor the face's size, place or turn in the photo changes them."""


def smile_features(points: np.ndarray) -> np.ndarray:
    """The smile features (see FEATURES) of each face's landmarks (n, 468, 2 or 3): (n, len(FEATURES)) float32,
    NaN where the landmarks are."""
    left, right = eye_centres(points.astype(np.float64))
    across = (right - left) / np.sum((right - left) ** 2, axis=1, keepdims=True)  # along the eyes, 1 / eye distance
    down = np.stack([-across[:, 1], across[:, 0]], axis=1)  # square to it, towards the chin
    moved = points[..., :2] - (left + right)[:, None] / 2
    out, below = np.einsum("npk,nk->np", moved, across), np.einsum("npk,nk->np", moved, down)
    first, second = [a for a, _ in LIP_PAIRS], [b for _, b in LIP_PAIRS]
    pairs = np.stack([(abs(out[:, first]) + abs(out[:, second])) / 2, (below[:, first] + below[:, second]) / 2], -1)
    return np.concatenate([pairs.reshape(len(points), -1), below[:, list(LIP_MIDDLE)]], axis=1).astype(np.float32)
