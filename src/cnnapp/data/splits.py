"""Seeded, stratified train / validation / test splits and k folds, optionally keeping groups whole."""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold, StratifiedKFold, train_test_split

from cnnapp.data.datasets import Dataset, part_of
from cnnapp.errors import CnnappError

DEFAULT_FRACTIONS = (0.70, 0.15, 0.15)


@dataclass(frozen=True)
class Split:
    """Index arrays into a Dataset; `described` says where each part came from.

    seed and fractions are None for course files, whose split is their own two files; groups is the
    file-name pattern that kept each group of photos on one side, if any; leaks records the test photos found
    again in training (see data/leaks.py) and what was done about them.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    described: str
    seed: int | None = None
    fractions: tuple[float, float, float] | None = None
    groups: str | None = None
    leaks: dict | None = None

    @property
    def validates_on_test(self) -> bool:
        """True when the validation images are the test images (the course files' protocol)."""
        return np.array_equal(self.val, self.test)


def group_ids(dataset: Dataset, pattern: str) -> np.ndarray:
    """Each image's group number: photos whose file names give the same first capture of pattern
    (the whole match when it has no parentheses) are one group, e.g. one person's photos."""
    if dataset.paths is None:
        raise CnnappError(
            f"{dataset.source}: `groups` needs an image folder (course files have no file names)", parameter="groups"
        )
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise CnnappError(f"`groups` {pattern}: not a regular expression ({error})", parameter="groups") from None
    names = []
    for path in dataset.paths:
        found = compiled.search(Path(path).name)
        if not found:
            raise CnnappError(f"{path}: its name does not match `groups` {pattern}", parameter="groups")
        names.append(found.group(1) if compiled.groups else found.group(0))
    return np.unique(names, return_inverse=True)[1]


def _enough_groups(dataset: Dataset, pattern: str, ids: np.ndarray, needed: int) -> None:
    found = len(np.unique(ids))
    if found < needed:
        raise CnnappError(
            f"{dataset.source}: `groups` {pattern} finds {found} groups; this split needs {needed}", parameter="groups"
        )


def _by_group(indices: np.ndarray, ids: np.ndarray, first_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """indices in two parts with no group in both; the first holds about first_share of the groups."""
    splitter = GroupShuffleSplit(n_splits=1, train_size=first_share, random_state=seed)
    first, second = next(splitter.split(indices, groups=ids[indices]))
    return indices[first], indices[second]


def split_dataset(
    dataset: Dataset,
    seed: int,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    groups: str | None = None,
) -> Split:
    """Course files keep their own train/test files (the test file also validates); a folder that ships its own
    split keeps it and validates on a seeded, stratified share of its training photos; other folders are split by
    class, or by group when a groups pattern is given (the fractions are then shares of the groups). A mixed
    dataset is split source by source, each as if alone."""
    if dataset.parts:
        return _split_parts(dataset, seed, fractions, groups)
    ids = group_ids(dataset, groups) if groups else None
    if dataset.train is not None and dataset.paths is None:
        return Split(
            dataset.train, dataset.test, dataset.test, "course files: train file / test file (also validation)"
        )
    train_f, val_f, test_f = fractions
    if min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-6:
        raise CnnappError(f"split {fractions}: three positive fractions summing to 1 are needed")
    if dataset.train is not None:
        return _own_split(dataset, seed, tuple(fractions), ids, groups)
    everything = np.arange(len(dataset.y))
    shares = "/".join(f"{round(f * 100)}" for f in fractions)
    if groups:
        _enough_groups(dataset, groups, ids, 3)
        train, rest = _by_group(everything, ids, train_f, seed)
        val, test = _by_group(rest, ids, val_f / (val_f + test_f), seed)
        described = f"{shares} split of {len(np.unique(ids))} groups ({groups}), seed {seed}"
        return Split(np.sort(train), np.sort(val), np.sort(test), described, seed, tuple(fractions), groups)
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


def _own_split(
    dataset: Dataset, seed: int, fractions: tuple[float, float, float], ids: np.ndarray | None, groups: str | None
) -> Split:
    """The source's own train/test split; validation takes the share of its training photos that the fractions
    give validation beside training (stratified, or by group when a groups pattern is given)."""
    val_share = fractions[1] / (fractions[0] + fractions[1])
    if groups:
        _enough_groups(dataset, groups, ids[dataset.train], 2)
        train, val = _by_group(dataset.train, ids, 1 - val_share, seed)
    else:
        try:
            train, val = train_test_split(
                dataset.train, test_size=val_share, stratify=dataset.y[dataset.train], random_state=seed
            )
        except ValueError:
            raise CnnappError(f"{dataset.source}: too few training images to validate on a stratified share") from None
    how = f"by group ({groups})" if groups else "stratified"
    described = (
        f"the source's own split: train/ ({len(dataset.train)}, {round(val_share * 100)}% of it validates, "
        f"{how}, seed {seed}) / test/ ({len(dataset.test)})"
    )
    return Split(np.sort(train), np.sort(val), dataset.test, described, seed, fractions, groups)


def _split_parts(dataset: Dataset, seed: int, fractions: tuple[float, float, float], groups: str | None) -> Split:
    """Each source of a mixed dataset split on its own, the parts' indices joined."""
    splits = []
    for part in dataset.parts:
        split = split_dataset(part_of(dataset, part), seed, fractions, groups)
        if split.validates_on_test:
            raise CnnappError(f"{part.name}: course files validate on their test file, so they cannot be mixed")
        splits.append(split)
    joined = [
        np.concatenate([getattr(s, side) + p.start for s, p in zip(splits, dataset.parts, strict=True)])
        for side in ("train", "val", "test")
    ]
    described = "; ".join(f"{p.name}: {s.described}" for s, p in zip(splits, dataset.parts, strict=True))
    return Split(*joined, described, seed, tuple(fractions), groups)


def fold_splits(
    dataset: Dataset, folds: int, seed: int, val_fraction: float = 0.15, groups: str | None = None
) -> list[Split]:
    """Seeded stratified k-fold: each fold tests once; the rest is split again for validation.

    Every image of the dataset takes part, whatever train/test files it came from. With a groups
    pattern, no group is ever on two sides of a fold.
    """
    counts = dataset.counts()
    smallest = min(counts, key=counts.get)
    if folds < 2 or counts[smallest] < folds:
        raise CnnappError(
            f"{dataset.source}: {folds} folds need at least {max(folds, 2)} images per class "
            f"(class {smallest} has {counts[smallest]})"
        )
    if groups:
        ids = group_ids(dataset, groups)
        _enough_groups(dataset, groups, ids, folds + 1)
        folding = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        parts = folding.split(np.zeros(len(dataset.y)), dataset.y, ids)
        kind = f"stratified by class, grouped ({groups})"
    else:
        folding = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        parts = folding.split(np.zeros(len(dataset.y)), dataset.y)
        kind = "stratified"
    splits = []
    for number, (rest, test) in enumerate(parts, start=1):
        if groups:
            train, val = _by_group(rest, ids, 1 - val_fraction, seed)
        else:
            train, val = train_test_split(rest, test_size=val_fraction, stratify=dataset.y[rest], random_state=seed)
        described = f"fold {number} of {folds}, {kind}, seed {seed}"
        splits.append(Split(np.sort(train), np.sort(val), np.sort(test), described, groups=groups))
    return splits
