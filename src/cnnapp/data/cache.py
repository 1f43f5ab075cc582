"""Arrays worked out once from a dataset's images and kept in the cache directory, keyed by those images' content."""

import hashlib
from collections.abc import Callable

import numpy as np

from cnnapp.files import writing_file
from cnnapp.settings import cache_dir


def cached_arrays(kind: str, rule: str, images: np.ndarray, make: Callable[[], dict[str, np.ndarray]]) -> dict:
    """The arrays make() returns for these images under this rule (a text naming how they are made): from the
    cache when they were made before, else made now and kept there."""
    key = hashlib.sha256(rule.encode() + np.ascontiguousarray(images).tobytes()).hexdigest()[:32]
    cached = cache_dir() / f"{kind}-{key}.npz"
    if cached.is_file():
        with np.load(cached) as arrays:
            return dict(arrays)
    arrays = make()
    cached.parent.mkdir(parents=True, exist_ok=True)
    with writing_file(cached) as tmp:
        np.savez(tmp, **arrays)
    return arrays
