"""A dataset's photos with their labels: one image large, one class, or a sample of every class."""

import numpy as np
from matplotlib.figure import Figure

from cnnapp.data.datasets import Dataset, class_number
from cnnapp.errors import CnnappError
from cnnapp.reports.figures import Tile, in_rows, single_image, tile_grid

COLUMNS = 10
"""A class's photos wrap after this many."""


def sample(indices: np.ndarray, count: int) -> np.ndarray:
    """Up to count of the indices, drawn the same way every time, in their original order."""
    if len(indices) <= count:
        return indices
    return np.sort(np.random.default_rng(0).choice(indices, size=count, replace=False))


def where_from(dataset: Dataset, index: int) -> str:
    """The file an image came from: its path in a folder, or which course file."""
    if dataset.paths is not None:
        return dataset.paths[index]
    return "train file" if index in dataset.train else "test file"


def caption(dataset: Dataset, index: int) -> str:
    """A tile's title: the image's index, and 'no face' or 'no hand' when it was cropped to one and none was found."""
    for found, thing in ((dataset.faces, "face"), (dataset.hands, "hand")):
        if found is not None and not found[index]:
            return f"#{index} no {thing}"
    return f"#{index}"


def one_image(dataset: Dataset, index: int) -> Figure:
    """Image number index of the dataset, large, with its label."""
    if not 0 <= index < len(dataset.y):
        raise CnnappError(f"{dataset.name}: no image {index}; its images are numbered 0 to {len(dataset.y) - 1}")
    label = dataset.class_names[dataset.y[index]]
    return single_image(
        dataset.x[index], f"{dataset.name} {caption(dataset, index)}: {label}", where_from(dataset, index)
    )


def one_class(dataset: Dataset, class_name: str, count: int) -> Figure:
    """A sample of count images of one class, each titled with its index."""
    members = np.flatnonzero(dataset.y == class_number(dataset, class_name))
    chosen = sample(members, count)
    tiles = [Tile(dataset.x[i], caption(dataset, i)) for i in chosen]
    heading = f"{dataset.name}, class {class_name}: {len(chosen)} of its {len(members)} images"
    return tile_grid(in_rows(tiles, COLUMNS), heading)


def every_class(dataset: Dataset, count: int) -> Figure:
    """count images of each class, a row (or more) per class named at its left, each titled with its index."""
    rows, labels = [], []
    for number, name in enumerate(dataset.class_names):
        members = np.flatnonzero(dataset.y == number)
        tiles = [Tile(dataset.x[i], caption(dataset, i)) for i in sample(members, count)]
        wrapped = in_rows(tiles, COLUMNS) or [[]]
        rows += wrapped
        labels += [f"{name}\n{len(members)} images"] + [""] * (len(wrapped) - 1)
    heading = f"{dataset.name}: {len(dataset.y)} images, {count} of each class"
    return tile_grid(rows, heading, labels)
