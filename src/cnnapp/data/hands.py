"""Finding a hand in a photo and its 21 landmarks, and features of them that do not depend on where the hand is,
its size, its angle, or which hand it is.

The finder is MediaPipe's Hand Landmarker (the mediapipe package, Tasks API, installed with cnnapp's `hands` extra).
Its model file is `hand_landmarker.task`: the publisher's own, placed in the data directory by `cnnapp data get
hand-landmarker`, or else a copy built from the mediapipe 0.10.21 wheel on PyPI (see model_files). It looks at the
photo as it is; where it finds no hand, at the photo laid in a grey border a quarter of its size wide on each side
(so that a hand filling the photo is found too), then half its size wide (a hand cut by the photo's edges is found
more often still). Landmarks are in the photo's pixels; a photo with no hand found has none, and is counted as
such, never dropped.

A model may also see the hand alone (`framed`): the photo cut to a square around the landmarks, turned so that the
hand points up, as the face crop is cut around the face (see data/faces.py).
"""

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from cnnapp import lazy
from cnnapp.data.cache import cached_arrays
from cnnapp.data.datasets import Dataset
from cnnapp.data.faces import BORDER, CHUNK, FILL, bordered, photos_of
from cnnapp.data.fetch import content_checksum
from cnnapp.data.images import fit_square
from cnnapp.data.model_files import model_file
from cnnapp.errors import CnnappError
from cnnapp.progress import Progress
from cnnapp.quiet import native_stderr_silenced
from cnnapp.settings import IMAGE_SIZE

POINTS = 21
"""Landmarks of a hand: the wrist, then four along each finger from the thumb to the little finger."""
WRIST, INDEX_KNUCKLE, MIDDLE_KNUCKLE, LITTLE_KNUCKLE = 0, 5, 9, 17
MODEL = "hand-landmarker"
"""The hand model file's name in the catalog."""
BORDERS = (BORDER, 0.5)
"""The grey borders a photo is laid in, in turn, where no hand was found in it yet (over its size, on each side)."""
RULE = f"mediapipe hand landmarker, 1 hand, then in borders of {', '.join(map(str, BORDERS))}"
"""The hand rule in words, part of the cache key (with the model file's checksum)."""
MARGIN = 1.3
"""The side of a hand crop over the larger side of the landmarks' box, the hand turned upright."""
CROP_RULE = f"{RULE}; a square {MARGIN} times the upright hand's landmarks"
"""How a hand crop is cut, recorded with each run that crops to the hand and part of the cache key."""


@dataclass(frozen=True)
class Hands:
    """What the finder saw in n photos: landmarks (n, 21, 2) x and y in each photo's pixels (NaN where no hand was
    found), and whether a hand was found (n,) bool."""

    points: np.ndarray
    found: np.ndarray


def landmarker(path: Path):
    """MediaPipe's Hand Landmarker on a model file, looking for one hand in still photos (close it after use)."""
    try:
        base = lazy.BaseOptions(model_asset_path=str(path))
        options = lazy.HandLandmarkerOptions(base_options=base, running_mode=lazy.RunningMode.IMAGE, num_hands=1)
    except ImportError as error:
        raise CnnappError(f"hand landmarks need mediapipe: pip install 'cnnapp[hands]' ({error})") from None
    return lazy.HandLandmarker.create_from_options(options)


def landmarks(finder, image: np.ndarray) -> np.ndarray | None:
    """The 21 landmarks (21, 2) of the hand the finder sees in an RGB uint8 image, in its pixels, or None where it
    sees none."""
    mp = lazy.mediapipe
    result = finder.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image)))
    if not result.hand_landmarks:
        return None
    height, width = image.shape[:2]
    return np.array([(point.x * width, point.y * height) for point in result.hand_landmarks[0]], dtype=np.float32)


def find_hands(photos: list[Image.Image]) -> Hands:
    """The landmarks of the hand in each RGB photo: looked for in the photo, then where none was found in the photo
    laid in wider and wider grey borders (see the module's docstring)."""
    points = np.full((len(photos), POINTS, 2), np.nan, dtype=np.float32)
    with native_stderr_silenced(), landmarker(model_file(MODEL)) as finder:
        for i, photo in enumerate(photos):
            found = landmarks(finder, np.asarray(photo))
            for border in BORDERS:
                if found is None:
                    image, scale, pad = bordered(photo, border, round((1 + 2 * border) * max(photo.size)))
                    found = landmarks(finder, image)
                    found = None if found is None else found / scale - pad
            if found is not None:
                points[i] = found
    return Hands(points, ~np.isnan(points).any(axis=(1, 2)))


def dataset_hands(dataset: Dataset) -> Hands:
    """The landmarks of the hand in each of the dataset's photos (see find_hands): from its files, whole, when it is
    a folder, else from its 64x64 images; cached under the cache directory, keyed by the 64x64 images' content, the
    hand rule and the model file."""

    def make() -> dict[str, np.ndarray]:
        points = np.empty((len(dataset.x), POINTS, 2), dtype=np.float32)
        with Progress(f"finding the hands of {dataset.name} (once; kept in the cache)", len(dataset.x)) as progress:
            for start in range(0, len(dataset.x), CHUNK):
                which = range(start, min(start + CHUNK, len(dataset.x)))
                points[which.start : which.stop] = find_hands(photos_of(dataset, which)).points
                found = np.count_nonzero(~np.isnan(points[: which.stop, 0, 0]))
                progress.update(which.stop, f"{found} hands found")
        return {"points": points}

    rule = f"{RULE}, {content_checksum(model_file(MODEL))}"
    expected = {"points": ((len(dataset.x), POINTS, 2), np.float32)}
    points = cached_arrays("hands", rule, dataset.x, expected, make)["points"]
    return Hands(points, ~np.isnan(points).any(axis=(1, 2)))


def framed(photo: Image.Image, points: np.ndarray) -> np.ndarray:
    """The hand's crop of an RGB photo, given its landmarks (21, 2): a square MARGIN times the landmarks' box, turned
    so that the wrist-to-middle-knuckle line points up, as a (64, 64, 3) uint8 array."""
    up = points[MIDDLE_KNUCKLE] - points[WRIST]
    angle = math.atan2(up[0], -up[1])  # how far the hand leans from pointing up, clockwise
    cos, sin = math.cos(angle), math.sin(angle)
    turn = np.array([[cos, sin], [-sin, cos]])  # photo -> upright
    seen = points @ turn.T
    low, high = seen.min(axis=0), seen.max(axis=0)
    centre = turn.T @ ((low + high) / 2)
    step = max(MARGIN * float(np.max(high - low)), 1.0) / IMAGE_SIZE
    to_x, to_y = turn.T * step  # a crop pixel (u, v) from the centre is at the photo's x = to_x . (u, v), y likewise
    half = IMAGE_SIZE / 2
    matrix = (*to_x, centre[0] - half * to_x.sum(), *to_y, centre[1] - half * to_y.sum())
    size = (IMAGE_SIZE, IMAGE_SIZE)
    crop = photo.transform(size, Image.Transform.AFFINE, matrix, Image.Resampling.BICUBIC, fillcolor=FILL)
    return np.asarray(crop, dtype=np.uint8)


def hand_crops(photos: list[Image.Image], points: np.ndarray) -> np.ndarray:
    """Each RGB photo's hand crop from its landmarks (n, 21, 2), or its centre square where they are NaN (no hand
    found): (n, 64, 64, 3) uint8."""
    images = np.empty((len(photos), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    for i, (photo, hand) in enumerate(zip(photos, points, strict=True)):
        images[i] = fit_square(photo) if np.isnan(hand).any() else framed(photo, hand)
    return images


def hand_cropped(dataset: Dataset) -> Dataset:
    """The dataset's images as hand crops (see hand_crops), from its photo files, whole, when it is a folder, else
    from its 64x64 images, and whether a hand was found in each; cached like its landmarks."""

    hands = dataset_hands(dataset)

    def make() -> dict[str, np.ndarray]:
        images = np.empty_like(dataset.x)
        for start in range(0, len(dataset.x), CHUNK):
            which = range(start, min(start + CHUNK, len(dataset.x)))
            images[which.start : which.stop] = hand_crops(
                photos_of(dataset, which), hands.points[which.start : which.stop]
            )
        return {"x": images}

    rule = f"{CROP_RULE}, {content_checksum(model_file(MODEL))}"
    arrays = cached_arrays("hand-crops", rule, dataset.x, {"x": (dataset.x.shape, np.uint8)}, make)
    return replace(dataset, x=arrays["x"], hands=hands.found)


def upright(points: np.ndarray) -> np.ndarray:
    """Landmarks (n, 21, 2) moved so the wrist is at 0, turned so the wrist-to-middle-knuckle line points up (-y),
    scaled so that line is 1 long, and mirrored where needed so that the index knuckle is right of the little finger's
    (as on a right palm facing the camera; a left palm, or the back of a hand, is mirrored to look like one)."""
    moved = points - points[:, WRIST : WRIST + 1]
    length = np.linalg.norm(moved[:, MIDDLE_KNUCKLE], axis=-1)[:, None]
    up = moved[:, MIDDLE_KNUCKLE] / length
    side = np.stack([-up[:, 1], up[:, 0]], axis=1)  # a quarter turn from up: together a rotation
    across = np.einsum("npk,nk->np", moved, side) / length
    along = -np.einsum("npk,nk->np", moved, up) / length
    across *= np.where(across[:, INDEX_KNUCKLE] < across[:, LITTLE_KNUCKLE], -1, 1)[:, None]
    return np.stack([across, along], axis=-1)


def turned_features(points: np.ndarray) -> np.ndarray:
    """The upright landmarks (see upright), flattened: (n, 42)."""
    return upright(points).reshape(len(points), -1)


def distance_features(points: np.ndarray) -> np.ndarray:
    """The distances between every two landmarks over the wrist-to-middle-knuckle distance: (n, 210)."""
    first, second = np.triu_indices(POINTS, k=1)
    distances = np.linalg.norm(points[:, first] - points[:, second], axis=-1)
    return distances / np.linalg.norm(points[:, MIDDLE_KNUCKLE] - points[:, WRIST], axis=-1)[:, None]


FEATURES = {"turned": turned_features, "distances": distance_features}
"""Ways of describing a hand by its landmarks, each unchanged by moving, scaling, turning or mirroring the photo."""
