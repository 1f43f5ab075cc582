"""How a run sees a photo: what of it (the whole photo, or the face or hand found in it), in which colours, and which
landmarks it reads beside the pixels (its "marks"). A run records its view in config.json and every later use of
the run (evaluate, report, predict, serve) sees photos the same way.

Marks are one row of numbers per photo: the features of the face's or the hand's landmarks (see data/landmarks.py
and data/hands.py), 0 where none was found, then a last column saying whether one was (1) or not (0). They are
unchanged by moving, scaling, turning or mirroring the photo, so the pixels' random flips and turns in training
need no counterpart on them.
"""

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from cnnapp import lazy
from cnnapp.data.datasets import Dataset, mixed, part_of
from cnnapp.data.faces import as_seen, cropped_dataset
from cnnapp.data.hands import hand_cropped

CROPS = ("none", "face", "hand")
COLOURS = ("colour", "grey", "equalised")
MARKS = ("none", "face", "hand")
VIEW_CHOICES = {"crop": CROPS, "colour": COLOURS, "marks": MARKS}
"""Each choice of a view with the values it may take, the first being what a run that does not record it took."""


@dataclass(frozen=True)
class View:
    """What a model sees of a photo: crop "none" (the centre square), "face" or "hand"; colour "colour", "grey" or
    "equalised"; marks "none", "face" (the smile features of the face's landmarks) or "hand" (the hand's
    landmarks, upright)."""

    crop: str = "none"
    colour: str = "colour"
    marks: str = "none"


def marks_width(kind: str) -> int:
    """How many numbers a photo's marks of this kind are: the features, then whether they were found."""
    return len(lazy.FEATURES) + 1 if kind == "face" else 2 * lazy.POINTS + 1


def as_marks(features: np.ndarray) -> np.ndarray:
    """Features (n, k) with NaN rows where nothing was found, as marks (n, k + 1): 0 for NaN, then found (1 or 0)."""
    found = ~np.isnan(features).any(axis=1)
    return np.concatenate([np.nan_to_num(features, nan=0.0), found[:, None]], axis=1).astype(np.float32)


def photo_marks(photos: list[Image.Image], kind: str, hands: np.ndarray | None = None) -> np.ndarray:
    """The marks of this kind of each RGB photo, (n, marks_width(kind)) float32; for hands, from their landmarks
    (n, 21, 2) when they were found already."""
    if kind == "face":
        return as_marks(lazy.smile_features(lazy.face_landmarks(photos)))
    return as_marks(lazy.turned_features(lazy.find_hands(photos).points if hands is None else hands))


def source_marks(dataset: Dataset, kind: str) -> np.ndarray:
    """The marks of this kind of each of a single source's photos (cached with their landmarks)."""
    if kind == "face":
        return as_marks(lazy.smile_features(lazy.dataset_landmarks(dataset)))
    return as_marks(lazy.turned_features(lazy.dataset_hands(dataset).points))


def seen_source(dataset: Dataset, view: View) -> Dataset:
    """A single source as a model with this view sees it: its marks first (from the photos as they are), then
    its images cropped and coloured."""
    if view.marks != "none":
        dataset = replace(dataset, marks=source_marks(dataset, view.marks))
    if view.crop == "face":
        dataset = cropped_dataset(dataset)
    elif view.crop == "hand":
        dataset = hand_cropped(dataset)
    return replace(dataset, x=as_seen(dataset.x, view.colour))


def seen_dataset(dataset: Dataset, view: View) -> Dataset:
    """The dataset as a model with this view sees it; a mixed dataset source by source, so that each source's faces
    and landmarks are found once, whatever it is mixed with."""
    if not dataset.parts:
        return seen_source(dataset, view)
    joined = mixed([seen_source(part_of(dataset, part), view) for part in dataset.parts])
    return replace(joined, name=dataset.name, source=dataset.source, fingerprint=dataset.fingerprint)
