"""Photos named on the command line: files and folders found, then decoded with one problem line per bad photo."""

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from cnnapp.data.images import IMAGE_SUFFIXES, is_image_file, read_image
from cnnapp.errors import CnnappError
from cnnapp.settings import IMAGE_SIZE


def visible_image(path: Path, root: Path) -> bool:
    """True for an image file with no hidden folder between root and it."""
    return is_image_file(path) and not any(part.startswith(".") for part in path.relative_to(root).parts)


def find_photos(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """Files given by name and the image files under folders (recursive, sorted); a problem for each empty path."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and visible_image(p, path))
            if not found:
                problems.append(f"{path}: folder holds no photos ({', '.join(IMAGE_SUFFIXES)})")
            files += found
        elif path.exists():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    return files, problems


def decoded_or_problem(path: Path) -> np.ndarray | str:
    """The photo as a (64, 64, 3) uint8 array, or the one-line reason it cannot be read."""
    try:
        return read_image(path)
    except CnnappError as error:
        return str(error)


def read_photos(files: list[Path]) -> tuple[list[Path], np.ndarray, list[str]]:
    """The files that decode, their images (n, 64, 64, 3) uint8, and one problem line per file that does not."""
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        results = list(pool.map(decoded_or_problem, files))
    read = [(path, image) for path, image in zip(files, results, strict=True) if isinstance(image, np.ndarray)]
    images = np.stack([image for _, image in read]) if read else np.empty((0, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    return [path for path, _ in read], images, [result for result in results if isinstance(result, str)]
