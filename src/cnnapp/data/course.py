"""The course's HDF5 files, read exactly as shipped, and its course-compatible loaders."""

from collections import Counter
from pathlib import Path

import numpy as np

from cnnapp import lazy
from cnnapp.errors import CnnappError
from cnnapp.settings import IMAGE_SIZE

COURSE_FILES = {
    "happy": ("train_happy.h5", "test_happy.h5"),
    "signs": ("train_signs.h5", "test_signs.h5"),
}


MAX_IMAGES = 100_000
"""The most images a course file may declare (1.2 GB of pixels); the course's own hold about a thousand."""


def _declared(path: Path, f, part: str):
    """The file's three datasets, unread, after checking what they declare: kinds, shapes and sizes."""
    keys = (f"{part}_set_x", f"{part}_set_y", "list_classes")
    missing = [k for k in keys if not isinstance(f.get(k), lazy.h5py.Dataset)]
    if missing:
        raise CnnappError(f"{path}: missing HDF5 dataset(s) {', '.join(missing)}; expected {', '.join(keys)}")
    x, y, classes = (f[k] for k in keys)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 3):
        raise CnnappError(
            f"{path}: {part}_set_x is {x.dtype} {x.shape}, expected uint8 (m, {IMAGE_SIZE}, {IMAGE_SIZE}, 3)"
        )
    if len(x) > MAX_IMAGES:
        raise CnnappError(f"{path}: {part}_set_x declares {len(x):,} images, more than the {MAX_IMAGES:,} cnnapp reads")
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise CnnappError(f"{path}: {part}_set_y is {y.dtype} {y.shape}, expected integers (m,)")
    if len(x) != len(y):
        raise CnnappError(f"{path}: {part}_set_x has {len(x)} images but {part}_set_y has {len(y)} labels")
    if classes.ndim != 1 or not 2 <= len(classes) <= MAX_IMAGES:
        raise CnnappError(f"{path}: list_classes is {classes.dtype} {classes.shape}, expected at least two labels")
    return x, y, classes


def read_course_file(path: Path, part: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images (m, 64, 64, 3) uint8, labels (m,) int64 and list_classes of one course file, checked.

    part is "train" or "test": the file holds `{part}_set_x`, `{part}_set_y` and `list_classes`, each class
    listed once.
    """
    path = Path(path)
    if not path.is_file():
        raise CnnappError(f"{path}: no such file")
    try:
        with lazy.h5py.File(path, "r") as f:  # lazy: commands that read no course file start faster
            x, y, classes = (dataset[()] for dataset in _declared(path, f, part))
    except (OSError, KeyError, RuntimeError, ValueError, TypeError) as error:  # h5py's errors for damaged files
        raise CnnappError(f"{path}: not a readable HDF5 file ({error})") from None
    listed = classes.tolist()
    twice = sorted(str(c) for c, n in Counter(listed).items() if n > 1)
    if twice:
        raise CnnappError(f"{path}: list_classes names {', '.join(twice)} more than once")
    outside = sorted(set(y.tolist()) - set(listed))
    if outside:
        raise CnnappError(f"{path}: {part}_set_y holds labels {outside} that are not in list_classes")
    return x, y.astype(np.int64), classes


def _load_course_pair(data_dir: Path | str, name: str):
    train_name, test_name = COURSE_FILES[name]
    x_train, y_train, classes = read_course_file(Path(data_dir) / train_name, "train")
    x_test, y_test, _ = read_course_file(Path(data_dir) / test_name, "test")
    return x_train, y_train.reshape(1, -1), x_test, y_test.reshape(1, -1), classes


def load_happy_dataset(data_dir: Path | str):
    """X_train, Y_train, X_test, Y_test, classes from train_happy.h5 and test_happy.h5; labels (1, m)."""
    return _load_course_pair(data_dir, "happy")


def load_signs_dataset(data_dir: Path | str):
    """X_train, Y_train, X_test, Y_test, classes from train_signs.h5 and test_signs.h5; labels (1, m)."""
    return _load_course_pair(data_dir, "signs")


def convert_to_one_hot(Y: np.ndarray, C: int) -> np.ndarray:
    """A (1, m) label row as a (C, m) one-hot matrix."""
    return np.eye(C)[np.asarray(Y).reshape(-1)].T
