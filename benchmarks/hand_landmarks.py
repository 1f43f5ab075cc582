"""Hand landmarks as a way of seeing a sign photo, measured across sources.

Sources: sign-language-digits classes 0-5 (light background, 100x100), signs-photos train (the course's 1,080
training photos) and signs-photos test (the course's 120 test photos). For each it prints how many photos the hand
landmarker (cnnapp.data.hands) finds a hand in, then the accuracy of a logistic regression on each kind of landmark
feature (cnnapp.data.hands.FEATURES), trained on the found hands of one set and tested on another:

  digits -> signs test, signs train -> digits, digits held-out students (5 folds by student, the file-name pattern
  IMG_(\\d+)\\d), digits + signs train -> signs test, digits + signs train -> digits held-out students.

The headline accuracy counts a photo with no hand found as wrong; "found" is the accuracy on the photos with a hand.
The kind of feature is chosen by leave-one-source-out alone (digits -> signs train and signs train -> digits, the
mean of the two), never by the signs test photos. Then the float32 matmul peak and the seconds a photo of
landmarking (fresh, not from the cache) on 100 digits photos.

  CNNAPP_DATA=~/datasets python benchmarks/hand_landmarks.py

Needs the hand model file (`cnnapp data get hand-landmarker`, or a copy built from PyPI; see
cnnapp.data.model_files).
"""

import time
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cnnapp.data.datasets import Dataset, load_dataset, select_classes
from cnnapp.data.faces import photos_of
from cnnapp.data.hands import FEATURES, dataset_hands, find_hands
from cnnapp.data.splits import group_ids

from serve_attacks import matmul_gflops

STUDENTS = r"IMG_(\d+)\d"
FOLDS = 5


@dataclass(frozen=True)
class Source:
    """A set's hand features (NaN rows where no hand was found), labels and, for digits, student groups."""

    name: str
    points: np.ndarray
    found: np.ndarray
    y: np.ndarray
    groups: np.ndarray | None = None


def taken(dataset: Dataset, which: np.ndarray) -> Dataset:
    """Some of a folder dataset's photos, as a dataset of their own."""
    return Dataset(
        dataset.name,
        dataset.source,
        dataset.class_names,
        dataset.x[which],
        dataset.y[which],
        dataset.fingerprint,
        paths=tuple(dataset.paths[i] for i in which),
    )


def source(name: str, dataset: Dataset, groups: np.ndarray | None = None) -> Source:
    hands = dataset_hands(dataset)
    return Source(name, hands.points, hands.found, dataset.y, groups)


def fitted(points: np.ndarray, y: np.ndarray, kind: str):
    """A logistic regression on standardised features of the hands' landmarks."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))
    return model.fit(FEATURES[kind](points), y)


def predicted(model, points: np.ndarray, found: np.ndarray, kind: str) -> np.ndarray:
    """Predicted classes, -1 where no hand was found."""
    guess = np.full(len(points), -1)
    if found.any():
        guess[found] = model.predict(FEATURES[kind](points[found]))
    return guess


def across(train: list[Source], test: Source, kind: str) -> np.ndarray:
    """Predictions for test from a model trained on the found hands of the train sources."""
    points = np.concatenate([s.points[s.found] for s in train])
    y = np.concatenate([s.y[s.found] for s in train])
    return predicted(fitted(points, y, kind), test.points, test.found, kind)


def held_out(test: Source, kind: str, extra: list[Source]) -> np.ndarray:
    """Predictions for each photo of test by a model that never saw its student (5 folds), trained on the other
    students plus the extra sources."""
    guess = np.full(len(test.y), -1)
    for train, kept in GroupKFold(FOLDS).split(test.points, test.y, test.groups):
        part = Source(test.name, test.points[train], test.found[train], test.y[train])
        held = Source(test.name, test.points[kept], test.found[kept], test.y[kept])
        guess[kept] = across([part, *extra], held, kind)
    return guess


def scores(guess: np.ndarray, test: Source) -> tuple[float, float]:
    """Accuracy over all photos (no hand = wrong), and over the photos with a hand found."""
    right = guess == test.y
    return float(right.mean()), float(right[test.found].mean())


def main() -> None:
    digits = select_classes(load_dataset("sign-digits"), list("012345"))
    signs = load_dataset("signs-photos")
    sources = {
        "digits": source("digits 0-5", digits, group_ids(digits, STUDENTS)),
        "train": source("signs train", taken(signs, signs.train)),
        "test": source("signs test", taken(signs, signs.test)),
    }
    print("hands found")
    for s in sources.values():
        per_class = " ".join(f"{c}:{s.found[s.y == c].mean():.2f}" for c in range(6))
        print(f"  {s.name:<12} {s.found.sum():>5} / {len(s.found):<5} {s.found.mean():.3f}   by class {per_class}")
    d, tr, te = sources["digits"], sources["train"], sources["test"]
    checks = {
        "digits -> signs train (LOSO)": lambda kind: (across([d], tr, kind), tr),
        "signs train -> digits (LOSO)": lambda kind: (across([tr], d, kind), d),
        "digits -> signs test": lambda kind: (across([d], te, kind), te),
        "digits held-out students": lambda kind: (held_out(d, kind, []), d),
        "digits + signs train -> signs test": lambda kind: (across([d, tr], te, kind), te),
        "digits + signs train -> digits held-out students": lambda kind: (held_out(d, kind, [tr]), d),
    }
    results = {kind: {name: scores(*check(kind)) for name, check in checks.items()} for kind in FEATURES}
    print("\naccuracy (all photos, no hand = wrong / on found hands), logistic regression")
    print(f"  {'':<50}" + "".join(f"{kind:>16}" for kind in FEATURES))
    for name in checks:
        print(f"  {name:<50}" + "".join(f"{results[k][name][0]:>9.3f} /{results[k][name][1]:.3f}" for k in FEATURES))
    loso = {kind: np.mean([results[kind][name][0] for name in checks if "LOSO" in name]) for kind in FEATURES}
    chosen = max(loso, key=loso.get)
    print("  leave-one-source-out mean: " + ", ".join(f"{k} {v:.3f}" for k, v in loso.items()) + f" -> {chosen}")
    photos = photos_of(digits, range(0, len(digits.y), len(digits.y) // 100))[:100]
    start = time.perf_counter()
    find_hands(photos)
    seconds = (time.perf_counter() - start) / len(photos)
    print(
        f"\nfloat32 matmul peak {matmul_gflops():.0f} GFLOP/s; landmarking {seconds:.3f} s a photo (100 digits photos)"
    )


if __name__ == "__main__":
    main()
