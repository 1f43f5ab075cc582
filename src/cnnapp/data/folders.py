"""Image folders: one subfolder per class, decoded once and then cached by content."""

import hashlib
import os
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from cnnapp.data.images import is_image_file, read_image
from cnnapp.errors import CnnappError
from cnnapp.files import writing_file
from cnnapp.settings import IMAGE_SIZE, cache_dir

CACHE_VERSION = 1
"""Bump when decoding changes, so that old cached arrays are not reused."""


def scan_folder(root: Path) -> dict[str, list[Path]]:
    """Class name -> sorted image files, for each visible subfolder of root; checked."""
    root = Path(root)
    if not root.exists():
        raise CnnappError(f"{root}: no such folder")
    if not root.is_dir():
        raise CnnappError(f"{root}: not a folder of class subfolders")
    classes = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in sub.iterdir() if p.is_file() and is_image_file(p))
        if not files:
            raise CnnappError(f"{sub}: class folder holds no images (JPEG, PNG, BMP or GIF)")
        classes[sub.name] = files
    if len(classes) < 2:
        raise CnnappError(f"{root}: needs at least two class subfolders with images, found {len(classes)}")
    return classes


def fingerprint_files(root: Path, files: list[Path]) -> str:
    """A SHA-256 over each file's path below root and its content; CnnappError naming a file that cannot be read."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(os.fsencode(path.relative_to(root)) + b"\0")
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError as error:
            raise CnnappError(f"{path}: cannot be read ({error.strerror})") from None
    return digest.hexdigest()


def cache_folder() -> Path:
    """The cache directory, made if missing; CnnappError when it cannot be."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        why = "a file is in its place" if isinstance(error, FileExistsError) else error.strerror
        raise CnnappError(f"{folder}: cannot be used as the cache folder (CNNAPP_CACHE): {why}") from None
    return folder


def content_fingerprint(root: Path, files: list[Path]) -> str:
    """fingerprint_files, remembered in the cache against each file's size, modification and change times and
    inode: a file rewritten in place changes its change time, one replaced by another its inode. A remembered
    fingerprint that is not one is worked out again."""
    digest = hashlib.sha256()
    for path in files:
        try:
            stat = path.stat()
        except OSError as error:
            raise CnnappError(f"{path}: cannot be read ({error.strerror})") from None
        key = (os.fsencode(path.relative_to(root)), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
        digest.update(b"\0".join(part if isinstance(part, bytes) else str(part).encode() for part in key) + b"\0")
    remembered = cache_folder() / f"stat-{digest.hexdigest()[:32]}.txt"
    if remembered.is_file():
        fingerprint = remembered.read_bytes().strip()
        if re.fullmatch(rb"[0-9a-f]{64}", fingerprint):
            return fingerprint.decode()
    fingerprint = fingerprint_files(root, files)
    with writing_file(remembered) as tmp:
        tmp.write_text(fingerprint)
    return fingerprint


def decode_files(files: list[Path], size: int = IMAGE_SIZE) -> np.ndarray:
    """Every file as one (n, size, size, 3) uint8 array, decoded on all cores."""
    images = np.empty((len(files), size, size, 3), dtype=np.uint8)
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        for i, array in enumerate(pool.map(lambda p: read_image(p, size), files)):
            images[i] = array
    return images


def read_cache(path: Path, expected: dict[str, tuple[tuple[int, ...], type]]) -> dict[str, np.ndarray] | None:
    """The arrays kept in a cache file (.npz) by name, or None when it is missing, damaged, or any of them is not of
    the expected shape and dtype; the caller then makes them again."""
    try:
        with np.load(path) as arrays:
            found = {name: arrays[name] for name in expected}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    whole = all(found[name].shape == shape and found[name].dtype == dtype for name, (shape, dtype) in expected.items())
    return found if whole else None


def load_folder(root: Path, size: int = IMAGE_SIZE) -> tuple[np.ndarray, np.ndarray, list[str], list[str], str]:
    """Images, class indices, class names, relative paths and content fingerprint of an image folder; a damaged
    cache file is decoded afresh and written again."""
    root = Path(root)
    classes = scan_folder(root)
    names = list(classes)
    files = [f for name in names for f in classes[name]]
    labels = np.array([i for i, name in enumerate(names) for _ in classes[name]], dtype=np.int64)
    fingerprint = content_fingerprint(root, files)
    cached = cache_folder() / f"folder-{fingerprint[:32]}-{size}-v{CACHE_VERSION}.npz"
    arrays = read_cache(cached, {"x": ((len(files), size, size, 3), np.uint8)})
    if arrays is None:
        x = decode_files(files, size)
        with writing_file(cached) as tmp:
            np.savez(tmp, x=x)
    else:
        x = arrays["x"]
    relative = [f.relative_to(root).as_posix() for f in files]
    return x, labels, names, relative, fingerprint
