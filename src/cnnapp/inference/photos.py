"""Photos named on the command line: files and folders found, then decoded with one problem line per bad photo."""

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from cnnapp.data.images import IMAGE_SUFFIXES, is_image_file, read_image
from cnnapp.errors import CnnappError

T = TypeVar("T")


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


def decoded_or_problem(path: Path, decode: Callable[[Path], T]) -> T | CnnappError:
    """The photo as decode makes it, or the error saying why it cannot be read."""
    try:
        return decode(path)
    except CnnappError as error:
        return error


def read_photos(files: list[Path], decode: Callable[[Path], T] = read_image) -> tuple[list[Path], list[T], list[str]]:
    """The files that decode, as decode makes them (by default (64, 64, 3) uint8 arrays), and one problem line per
    file that does not."""
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        results = list(pool.map(lambda path: decoded_or_problem(path, decode), files))
    read = [(path, image) for path, image in zip(files, results, strict=True) if not isinstance(image, CnnappError)]
    problems = [str(result) for result in results if isinstance(result, CnnappError)]
    return [path for path, _ in read], [image for _, image in read], problems
