"""Arrays worked out once from a dataset's images and kept in the cache directory, keyed by those images' content."""

import hashlib
from collections.abc import Callable

import numpy as np

from cnnapp.data.folders import cache_folder, read_cache
from cnnapp.files import writing_file

Shapes = dict[str, tuple[tuple[int, ...], type]]
"""Each array's name with its shape and dtype."""


def cached_arrays(
    kind: str, rule: str, images: np.ndarray, expected: Shapes, make: Callable[[], dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """The arrays make() returns for these images under this rule (a text naming how they are made): from the
    cache when they were made before and are whole (of the expected shapes and dtypes), else made now and kept."""
    key = hashlib.sha256(rule.encode() + np.ascontiguousarray(images).tobytes()).hexdigest()[:32]
    cached = cache_folder() / f"{kind}-{key}.npz"
    arrays = read_cache(cached, expected)
    if arrays is not None:
        return arrays
    arrays = make()
    with writing_file(cached) as tmp:
        np.savez(tmp, **arrays)
    return arrays
