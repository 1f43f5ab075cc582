"""How well dense face landmarks tell a smile, measured across the face sources, each left out in turn.

For each face source (smiles, genki4k, celeba-10k, mtfl-net) a seeded subset of PHOTOS photos goes through
cnnapp's face landmarks (MTCNN, then MediaPipe's face mesh; see src/cnnapp/data/landmarks.py; cached). Then, for
each source left out in turn, two smile readers are fitted on the other three and scored on it:
  (a) the mouth-width rule: smiling when mouth width / eye distance is above a threshold, the one that scores
      best on the training sources;
  (b) logistic regression on all the smile features (standardised), on the training sources' faces.
A photo with no face found counts as "not smiling". Happy House's 150 test photos (64x64, enlarged 4x before the
face is looked for) are scored last by both readers fitted on all four sources: nothing is chosen on them.

  CNNAPP_DATA=~/datasets python benchmarks/face_landmarks.py [FIGURE.png]

With a figure path, it also draws the first photo of each source's subset and two Happy House photos with their 468
points (eyes blue, mouth corners red) into one PNG.

Needs the face mesh's model file (`cnnapp data get face-landmarks`, or a copy built from PyPI; see
cnnapp.data.model_files).
"""

import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cnnapp.data.datasets import Dataset, load_dataset
from cnnapp.data.faces import photos_of
from cnnapp.data.landmarks import (
    EYE_LEFT,
    EYE_RIGHT,
    FEATURES,
    MOUTH_LEFT,
    MOUTH_RIGHT,
    dataset_landmarks,
    smile_features,
)

SOURCES = ("smiles", "genki4k", "celeba-10k", "mtfl-net")
PHOTOS = 1000
"""Photos drawn from each source (seed SEED), to keep the first run within minutes."""
SEED = 0


def subset(dataset: Dataset, size: int, seed: int) -> Dataset:
    """A seeded random subset of the dataset's photos."""
    which = np.sort(np.random.default_rng(seed).choice(len(dataset.x), min(size, len(dataset.x)), replace=False))
    paths = None if dataset.paths is None else tuple(dataset.paths[i] for i in which)
    return replace(dataset, x=dataset.x[which], y=dataset.y[which], paths=paths, train=None, test=None)


def smiling(dataset: Dataset) -> np.ndarray:
    """Whether each photo is labelled smiling."""
    names = [dataset.class_names[i] for i in dataset.y]
    return np.array([name in ("smiling", "positives", "1") for name in names])


def best_threshold(values: np.ndarray, truth: np.ndarray) -> float:
    """The threshold on values that best separates truth (above it: true)."""
    order = np.sort(values)
    cuts = (order[1:] + order[:-1]) / 2
    scores = [np.mean((values > cut) == truth) for cut in cuts]
    return float(cuts[int(np.argmax(scores))])


def scored(found: np.ndarray, score: np.ndarray, cut: float, truth: np.ndarray) -> tuple[float, float]:
    """Accuracy and AUC over all photos, those with no face scored lowest (read as not smiling)."""
    full = np.full(len(truth), -np.inf)
    full[found] = score
    full[~found] = np.min(score) - 1 if len(score) else 0
    return float(np.mean((full > cut) == truth)), float(roc_auc_score(truth, full))


def mouth_width(points: np.ndarray) -> np.ndarray:
    """Each face's mouth width over its eye distance (the rule's measure), (n,)."""
    eyes = points[:, list(EYE_LEFT), :2].mean(axis=1) - points[:, list(EYE_RIGHT), :2].mean(axis=1)
    mouth = points[:, MOUTH_LEFT, :2] - points[:, MOUTH_RIGHT, :2]
    return np.linalg.norm(mouth, axis=1) / np.linalg.norm(eyes, axis=1)


NAMES = ("mouth width / eye distance", *FEATURES)
"""The columns the readers see: the rule's measure, then the smile features."""


def readers(features: np.ndarray, truth: np.ndarray):
    """The mouth-width rule's threshold and the fitted logistic regression, from faces' features and labels."""
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return best_threshold(features[:, 0], truth), classifier.fit(features, truth)


def row(name: str, found: np.ndarray, features: np.ndarray, truth: np.ndarray, threshold: float, classifier) -> str:
    """One table row: faces found, then the rule's and the classifier's accuracy and AUC on this source."""
    rule = scored(found, features[found, 0], threshold, truth)
    fitted = scored(found, classifier.predict_proba(features[found])[:, 1], 0.5, truth)
    share = f"{np.count_nonzero(found)}/{len(found)}"
    return f"| {name} | {share} | {threshold:.3f} | {rule[0]:.3f} | {rule[1]:.3f} | {fitted[0]:.3f} | {fitted[1]:.3f} |"


def matmul_peak(repeats: int = 10) -> float:
    """The best GFLOP/s of fp32 2048x2048 matrix products (NumPy)."""
    a = np.random.default_rng(1).random((2048, 2048), dtype=np.float32)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * 2048**3 / best / 1e9


TILE = 160


def drawn(photo: Image.Image, points: np.ndarray) -> Image.Image:
    """The photo at TILE x TILE pixels with its landmarks as dots."""
    scale = TILE / max(photo.size)
    tile = Image.new("RGB", (TILE, TILE))
    tile.paste(photo.convert("RGB").resize((round(photo.width * scale), round(photo.height * scale))))
    draw = ImageDraw.Draw(tile)
    marked = {**dict.fromkeys([*EYE_LEFT, *EYE_RIGHT], "blue"), MOUTH_LEFT: "red", MOUTH_RIGHT: "red"}
    for number, (x, y) in enumerate(points[:, :2] * scale):
        if number in marked:
            draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=marked[number])
        else:
            draw.point((x, y), fill="lime")
    return tile


def figure(tiles: list[Image.Image], path: Path) -> None:
    """The tiles side by side in one PNG."""
    grid = Image.new("RGB", (TILE * len(tiles), TILE))
    for i, tile in enumerate(tiles):
        grid.paste(tile, (i * TILE, 0))
    grid.save(path)


def main() -> None:
    print(f"fp32 2048x2048 matmul peak: {matmul_peak():.1f} GFLOP/s", flush=True)
    data, tiles = {}, []
    for name in (*SOURCES, "happy-house"):
        dataset = load_dataset(name)
        if name != "happy-house":
            dataset = subset(dataset, PHOTOS, SEED)
        start = time.perf_counter()
        points = dataset_landmarks(dataset)
        seconds = (time.perf_counter() - start) / len(dataset.x)
        found = ~np.isnan(points[:, 0, 0])
        data[name] = found, np.column_stack([mouth_width(points), smile_features(points)]), smiling(dataset)
        shown = [i for i in range(len(found)) if found[i]][: 2 if name == "happy-house" else 1]
        tiles += [drawn(photo, points[i]) for i, photo in zip(shown, photos_of(dataset, shown), strict=True)]
        print(f"{name}: {np.count_nonzero(found)}/{len(found)} faces, {seconds:.3f} s a photo (0 when cached)")
    print(f"\nfeatures: {'; '.join(NAMES)}\n")
    print("| left out | faces found | rule threshold | rule accuracy | rule AUC | logistic accuracy | logistic AUC |")
    print("|---|---|---|---|---|---|---|")
    for name in (*SOURCES, "happy-house"):
        train = [source for source in SOURCES if source != name]
        features = np.concatenate([data[source][1][data[source][0]] for source in train])
        truth = np.concatenate([data[source][2][data[source][0]] for source in train])
        threshold, classifier = readers(features, truth)
        found, own, labels = data[name]
        print(row(name, found, own, labels, threshold, classifier))
    weights = classifier[-1].coef_[0]
    print("\nlogistic weights (standardised features), fitted on all four sources:")
    for feature, weight in zip(NAMES, weights, strict=True):
        print(f"  {weight:+.2f}  {feature}")
    if len(sys.argv) > 1:
        figure(tiles, Path(sys.argv[1]))


if __name__ == "__main__":
    main()
