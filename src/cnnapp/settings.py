"""Where cnnapp looks for data and keeps its cache, set by environment variables."""

import os
from pathlib import Path

IMAGE_SIZE = 64
"""Every image becomes IMAGE_SIZE x IMAGE_SIZE x 3 before it reaches a model."""


def data_dir() -> Path:
    """The data directory: $CNNAPP_DATA, else ./datasets."""
    return Path(os.environ.get("CNNAPP_DATA") or "datasets")


def cache_dir() -> Path:
    """Decoded image folders are cached here: $CNNAPP_CACHE, else ~/.cache/cnnapp."""
    if os.environ.get("CNNAPP_CACHE"):
        return Path(os.environ["CNNAPP_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cnnapp"


def mirror() -> str | None:
    """A base URL that stands in for every source's host in every download: $CNNAPP_MIRROR, else none."""
    return os.environ.get("CNNAPP_MIRROR") or None
