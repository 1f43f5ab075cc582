"""Test photos that training has seen: exact and near duplicates found by a perceptual hash, dropped or refused.

The hash is the classic 64-bit DCT hash: the photo's grey levels at 32x32, the 8x8 lowest frequencies of their
cosine transform, one bit per coefficient above their median. Two photos are one when their hashes differ in at
most THRESHOLD bits and their 64x64 grey levels correlate at SAME or more.
"""

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from cnnapp.data.datasets import Dataset
from cnnapp.errors import CnnappError

if TYPE_CHECKING:  # splits imports scikit-learn, which only training needs
    from cnnapp.data.splits import Split

THRESHOLD = 2
"""Re-saving a photo as JPEG at quality 75-95, or resizing it by 5-10%, moves its hash by at most 2 bits in 599 of
600 tries on the SIGNS photos; between their test and training photos, 13 are at 0 (the 12 re-saved class-0 photos
and one burst twin), 3 at 2, and distinct frames of a burst start at 4."""
SAME = 0.95
"""Re-saved and resized photos correlate at 0.99 or more with their originals, twins of a burst at 0.97-0.99; two
aligned CelebA faces of different people whose hashes are 2 bits apart correlate at 0.79 and 0.87."""
RULE = f"64-bit DCT hash of the 64x64 grey photo within {THRESHOLD} bits, grey levels correlating at {SAME} or more"


def grey_levels(images: np.ndarray) -> np.ndarray:
    """The grey levels of (n, 64, 64, 3) uint8 photos as float32 (n, 64, 64)."""
    return images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _dct_rows(n: int, k: int) -> np.ndarray:
    """The first k cosine-transform basis rows of length n."""
    return np.cos(np.pi * (2 * np.arange(n)[None, :] + 1) * np.arange(k)[:, None] / (2 * n))


def perceptual_hashes(images: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """One 64-bit DCT hash per (n, 64, 64, 3) uint8 photo, as uint64."""
    basis = _dct_rows(32, 8).astype(np.float32)
    hashes = []
    for start in range(0, len(images), chunk):
        grey = grey_levels(images[start : start + chunk])
        small = grey.reshape(len(grey), 32, 2, 32, 2).mean(axis=(2, 4))
        low = np.einsum("ij,njk,lk->nil", basis, small, basis).reshape(len(grey), 64)
        bits = low > np.median(low[:, 1:], axis=1, keepdims=True)
        hashes.append(np.packbits(bits, axis=1).view(">u8").ravel().astype(np.uint64))
    return np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """The correlation of two photos' grey levels: 1 for one photo, whatever its brightness and contrast."""
    x, y = grey_levels(a[None])[0].ravel(), grey_levels(b[None])[0].ravel()
    x, y = x - x.mean(), y - y.mean()
    scale = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / scale) if scale else float(np.array_equal(x, y))


def close_hashes(hashes: np.ndarray, among: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Positions of the hashes within THRESHOLD bits of at least one of among."""
    if len(among) == 0:
        return np.zeros(0, dtype=np.int64)
    near = [
        start
        + np.flatnonzero(
            np.bitwise_count(hashes[start : start + chunk, None] ^ among[None, :]).min(axis=1) <= THRESHOLD
        )
        for start in range(0, len(hashes), chunk)
    ]
    return np.concatenate(near)


def same_photo(dataset: Dataset, hashes: np.ndarray, i: int, among: np.ndarray) -> tuple[int, int] | None:
    """The photo of among (indices into dataset) that is photo i, closest hash first, with the bits between their
    hashes; None when there is none."""
    apart = np.bitwise_count(hashes[i] ^ hashes[among])
    close = np.flatnonzero(apart <= THRESHOLD)
    for c in close[np.argsort(apart[close], kind="stable")]:
        if correlation(dataset.x[i], dataset.x[among[c]]) >= SAME:
            return int(among[c]), int(apart[c])
    return None


def photo_name(dataset: Dataset, i: int) -> str:
    """A photo's file name below its source (prefixed by the source in a mixed dataset), else its index."""
    name = dataset.paths[i] if dataset.paths is not None else f"#{i}"
    owner = [p.name for p in dataset.parts if p.start <= i < p.stop]
    return f"{owner[0]}:{name}" if owner else name


def find_leaks(dataset: Dataset, split: "Split") -> list[dict]:
    """Test photos that are also among the photos training learns or chooses from (train and validation), then
    test photos that repeat an earlier test photo; each named with the photo it matches and where that is."""
    hashes = perceptual_hashes(dataset.x)
    seen = split.train if split.validates_on_test else np.concatenate([split.train, split.val])
    where = {int(i): "training" for i in split.train}
    where |= {} if split.validates_on_test else {int(i): "validation" for i in split.val}
    found, kept = [], []
    suspects = set(split.test[close_hashes(hashes[split.test], hashes[seen])].tolist())
    for t in split.test.tolist():
        match = same_photo(dataset, hashes, t, seen) if t in suspects else None
        if match is None:
            match = same_photo(dataset, hashes, t, np.array(kept, dtype=np.int64))
            if match is None:
                kept.append(t)
                continue
        j, bits = match
        found.append(
            {
                "test": photo_name(dataset, t),
                "matches": photo_name(dataset, j),
                "in": where.get(j, "test"),
                "bits": bits,
            }
        )
    return found


def without_leaks(dataset: Dataset, split: "Split", action: str) -> "Split":
    """The split with its leaked test photos dropped (recorded in split.leaks), or CnnappError when action is
    refuse and there are any."""
    found = find_leaks(dataset, split)
    if found and action == "refuse":
        first = found[0]
        raise CnnappError(
            f"{dataset.name}: {len(found)} test photos are also in training or repeat in the test "
            f"(first: {first['test']} is {first['matches']} in {first['in']}); `leaks` drop takes them out of the test",
            parameter="leaks",
        )
    dropped = {f["test"] for f in found}
    test = np.array([i for i in split.test if photo_name(dataset, i) not in dropped], dtype=np.int64)
    val = test if split.validates_on_test else split.val
    return replace(split, val=val, test=test, leaks={"rule": RULE, "action": action, "found": found})
