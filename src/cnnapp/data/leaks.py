"""Test photos that training has seen: exact and near duplicates found by a perceptual hash, dropped or refused.

The hash is the classic 64-bit DCT hash: the photo's grey levels at 32x32, the 8x8 lowest frequencies of their
cosine transform, one bit per coefficient above their median. Two photos are one when their hashes differ in at
most THRESHOLD bits.
"""

from dataclasses import replace

import numpy as np

from cnnapp.data.datasets import Dataset
from cnnapp.data.splits import Split
from cnnapp.errors import CnnappError

THRESHOLD = 2
"""Re-saving a photo as JPEG at quality 75-95, or resizing it by 5-10%, moves its hash by at most 2 bits in 599 of
600 tries on the SIGNS photos; between their test and training photos, 13 are at 0 (the 12 re-saved class-0 photos
and one burst twin), 3 at 2, and distinct frames of a burst start at 4."""
RULE = f"64-bit DCT hash of the 64x64 grey photo, Hamming distance <= {THRESHOLD}"
ACTIONS = ("drop", "refuse")


def _dct_rows(n: int, k: int) -> np.ndarray:
    """The first k cosine-transform basis rows of length n."""
    return np.cos(np.pi * (2 * np.arange(n)[None, :] + 1) * np.arange(k)[:, None] / (2 * n))


def perceptual_hashes(images: np.ndarray) -> np.ndarray:
    """One 64-bit DCT hash per (n, 64, 64, 3) uint8 photo, as uint64."""
    grey = images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    small = grey.reshape(len(images), 32, 2, 32, 2).mean(axis=(2, 4))
    basis = _dct_rows(32, 8).astype(np.float32)
    low = np.einsum("ij,njk,lk->nil", basis, small, basis).reshape(len(images), 64)
    bits = low > np.median(low[:, 1:], axis=1, keepdims=True)
    return np.packbits(bits, axis=1).view(">u8").ravel().astype(np.uint64)


def nearest(hashes: np.ndarray, among: np.ndarray, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """For each hash, the position in among of the closest one and the number of bits between them."""
    where, bits = np.zeros(len(hashes), dtype=np.int64), np.full(len(hashes), 65, dtype=np.int64)
    if len(among) == 0:
        return where, bits
    for start in range(0, len(hashes), chunk):
        apart = np.bitwise_count(hashes[start : start + chunk, None] ^ among[None, :])
        where[start : start + chunk] = apart.argmin(axis=1)
        bits[start : start + chunk] = apart.min(axis=1)
    return where, bits


def photo_name(dataset: Dataset, i: int) -> str:
    """A photo's file name below its source (prefixed by the source in a mixed dataset), else its index."""
    name = dataset.paths[i] if dataset.paths is not None else f"#{i}"
    owner = [p.name for p in dataset.parts if p.start <= i < p.stop]
    return f"{owner[0]}:{name}" if owner else name


def find_leaks(dataset: Dataset, split: Split) -> list[dict]:
    """Test photos that are also among the photos training learns or chooses from (train and validation), then
    test photos that repeat an earlier test photo; each named with the photo it matches and where that is."""
    hashes = perceptual_hashes(dataset.x)
    seen = split.train if split.validates_on_test else np.concatenate([split.train, split.val])
    side = {int(i): "training" for i in split.train} | (
        {} if split.validates_on_test else {int(i): "validation" for i in split.val}
    )
    where, bits = nearest(hashes[split.test], hashes[seen])
    found = [
        {
            "test": photo_name(dataset, t),
            "matches": photo_name(dataset, seen[w]),
            "in": side[int(seen[w])],
            "bits": int(b),
        }
        for t, w, b in zip(split.test, where, bits, strict=True)
        if b <= THRESHOLD
    ]
    leaked = {f["test"] for f in found}
    rest = np.array([t for t in split.test if photo_name(dataset, t) not in leaked], dtype=np.int64)
    apart = np.bitwise_count(hashes[rest][:, None] ^ hashes[rest][None, :])
    kept = np.ones(len(rest), dtype=bool)
    for j, t in enumerate(rest):
        earlier = np.flatnonzero((apart[j, :j] <= THRESHOLD) & kept[:j])
        if len(earlier):
            kept[j] = False
            match = {"matches": photo_name(dataset, rest[earlier[0]]), "in": "test", "bits": int(apart[j, earlier[0]])}
            found.append({"test": photo_name(dataset, t), **match})
    return found


def without_leaks(dataset: Dataset, split: Split, action: str) -> Split:
    """The split with its leaked test photos dropped (recorded in split.leaks), or CnnappError when action is
    refuse and there are any."""
    found = find_leaks(dataset, split)
    if found and action == "refuse":
        first = found[0]
        raise CnnappError(
            f"{dataset.name}: {len(found)} test photos are also in training or repeat in the test "
            f"(first: {first['test']} is {first['matches']} in {first['in']}); --leaks drop takes them out of the test"
        )
    dropped = {f["test"] for f in found}
    test = np.array([i for i in split.test if photo_name(dataset, i) not in dropped], dtype=np.int64)
    val = test if split.validates_on_test else split.val
    return replace(split, val=val, test=test, leaks={"rule": RULE, "action": action, "found": found})
