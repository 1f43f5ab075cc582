"""Seeded, stratified train / validation / test splits and k folds."""

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from cnnapp.data.datasets import Dataset
from cnnapp.errors import CnnappError

DEFAULT_FRACTIONS = (0.70, 0.15, 0.15)


@dataclass(frozen=True)
class Split:
    """Index arrays into a Dataset; `described` says where each part came from.

    seed and fractions are None for course files, whose split is their own two files.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    described: str
    seed: int | None = None
    fractions: tuple[float, float, float] | None = None

    @property
    def validates_on_test(self) -> bool:
        """True when the validation images are the test images (the course files' protocol)."""
        return np.array_equal(self.val, self.test)


def split_dataset(dataset: Dataset, seed: int, fractions: tuple[float, float, float] = DEFAULT_FRACTIONS) -> Split:
    """Course files keep their own train/test files (the test file also validates); folders are split by class."""
    if dataset.train is not None:
        return Split(
            dataset.train, dataset.test, dataset.test, "course files: train file / test file (also validation)"
        )
    train_f, val_f, test_f = fractions
    if min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-6:
        raise CnnappError(f"split {fractions}: three positive fractions summing to 1 are needed")
    everything = np.arange(len(dataset.y))
    shares = "/".join(f"{round(f * 100)}" for f in fractions)
    try:
        train, rest = train_test_split(everything, train_size=train_f, stratify=dataset.y, random_state=seed)
        val, test = train_test_split(
            rest, test_size=test_f / (val_f + test_f), stratify=dataset.y[rest], random_state=seed
        )
    except ValueError:
        counts = dataset.counts()
        smallest = min(counts, key=counts.get)
        raise CnnappError(
            f"{dataset.source}: too few images for a stratified {shares} split "
            f"(class {smallest} has {counts[smallest]})"
        ) from None
    described = f"stratified {shares} split, seed {seed}"
    return Split(np.sort(train), np.sort(val), np.sort(test), described, seed, tuple(fractions))


def fold_splits(dataset: Dataset, folds: int, seed: int, val_fraction: float = 0.15) -> list[Split]:
    """Seeded stratified k-fold: each fold tests once; the rest is split again for validation.

    Every image of the dataset takes part, whatever train/test files it came from.
    """
    counts = dataset.counts()
    smallest = min(counts, key=counts.get)
    if folds < 2 or counts[smallest] < folds:
        raise CnnappError(
            f"{dataset.source}: {folds} folds need at least {max(folds, 2)} images per class "
            f"(class {smallest} has {counts[smallest]})"
        )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = []
    for number, (rest, test) in enumerate(splitter.split(np.zeros(len(dataset.y)), dataset.y), start=1):
        train, val = train_test_split(rest, test_size=val_fraction, stratify=dataset.y[rest], random_state=seed)
        described = f"fold {number} of {folds}, stratified, seed {seed}"
        splits.append(Split(np.sort(train), np.sort(val), np.sort(test), described))
    return splits
