"""Getting a dataset from its pinned source into the data directory: download, unpack, lay out, verify, then place."""

import hashlib
import shutil
import tempfile
from pathlib import Path

from cnnapp.data.archives import unpack
from cnnapp.data.download import download
from cnnapp.data.images import is_image_file
from cnnapp.data.sources import DEADLINE, TIMEOUT, Source, mirrored, pinned_photos
from cnnapp.errors import CnnappError
from cnnapp.settings import cache_dir


def content_checksum(path: Path, rule: str = "images") -> str:
    """The checksum the catalog pins: a file's SHA-256; for a folder, the SHA-256 of a listing of its files.

    The listing has one line `<sha256>  <name>` a file, sorted by name as `LC_ALL=C sort` sorts. By the rule
    "images" it lists the image files below the folder, named `<folder name>/<path>`; by the rule "files" every
    file, named `./<path>` (see the sources module for the shell commands that print the same).
    """
    if path.is_file():
        return _sha256(path)
    if rule == "images":
        base = path.parent
        names = [p.relative_to(base).as_posix() for p in path.rglob("*") if p.is_file() and is_image_file(p)]
    else:
        base = path
        names = [f"./{p.relative_to(base).as_posix()}" for p in path.rglob("*") if p.is_file()]
    listing = "".join(f"{_sha256(base / name)}  {name}\n" for name in sorted(names, key=str.encode))
    return hashlib.sha256(listing.encode()).hexdigest()


def verify(source: Source, placed: Path) -> int:
    """How many of the photos the source pins one by one are not in placed (0 for other sources).

    Raises CnnappError if a photo differs from its pin or is not pinned, if no pinned photo is there at all,
    or, once nothing is missing, if the content checksum is not the catalog's.
    """
    pins = pinned_photos(source)
    if pins:
        have = [p for p in placed.rglob("*") if p.is_file()] if placed.is_dir() else []
        if not have:
            raise CnnappError(f"none of the {len(pins)} photos the catalog pins is in the download")
        for path in have:
            name = path.relative_to(placed).as_posix()
            if pins.get(name) != _sha256(path)[:32]:
                raise CnnappError(f"{name}: {'content differs from its pin' if name in pins else 'not pinned'}")
        if len(have) < len(pins):
            return len(pins) - len(have)
    got = content_checksum(placed, source.rule)
    if got != source.checksum:
        raise CnnappError(
            f"checksum mismatch, the content is {got[:16]}... where the catalog pins {source.checksum[:16]}..."
        )
    return 0


def downloaded_path(url: str) -> Path:
    """Where the download of url is kept: in the cache, under a name unique to the URL (its query left out of the
    name, so that it is a valid file name everywhere)."""
    name = url.split("?", 1)[0].rsplit("/", 1)[-1]
    return cache_dir() / "downloads" / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}-{name}"


def fetch_dataset(
    source: Source, root: Path, mirror: str | None = None, timeout: float = TIMEOUT, deadline: float = DEADLINE
) -> tuple[Path, int]:
    """The source's file or folder under root, downloaded (or taken from the cache), unpacked and verified, and
    how many pinned photos the download lacked (see verify).

    Nothing appears at its final name until its content is verified; on a mismatch, or an archive that cannot be
    unpacked safely, the downloads are deleted.
    """
    target = root / source.target
    if target.exists():
        raise CnnappError(f"{target}: already there; move it away to download {source.name} again")
    urls = [mirrored(url, mirror) for url in (source.url, source.labels_url) if url]
    try:
        for url in urls:
            if not downloaded_path(url).is_file():
                download(url, downloaded_path(url), timeout, deadline, source.max_download)
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root, prefix=f".{source.target}-") as staging:
            missing = _place(urls, source, Path(staging), target)
    except OSError as error:
        raise CnnappError(f"{error.filename or root}: cannot write there ({error.strerror or error})") from error
    return target, missing


def _place(urls: list[str], source: Source, staging: Path, target: Path) -> int:
    """Lays out the downloads under staging, verifies them, then renames the result to target; else deletes them."""
    try:
        _arrange(urls, source, staging)
        missing = verify(source, staging / source.target)
    except (CnnappError, UnicodeDecodeError) as error:
        for url in urls:
            downloaded_path(url).unlink()
        deleted = "the downloads were deleted" if len(urls) > 1 else "the download was deleted"
        raise CnnappError(f"{urls[0]}: {error}; {deleted}") from error
    (staging / source.target).rename(target)
    return missing


def _arrange(urls: list[str], source: Source, staging: Path) -> None:
    """The source's file or folder laid out under staging as it will be under the data directory."""
    saved = downloaded_path(urls[0])
    if not source.members:
        shutil.copyfile(saved, staging / source.target)
        return
    top = unpack(saved, list(source.members), staging / "unpacked", source.max_unpacked)
    upstream = staging / "upstream" if source.layout else staging
    for inside, placed in source.members.items():
        (upstream / placed).parent.mkdir(parents=True, exist_ok=True)
        (top / inside).rename(upstream / placed)
    if source.layout:
        for url in urls[1:]:
            shutil.copyfile(downloaded_path(url), upstream / url.rsplit("/", 1)[-1])
        source.layout(upstream, staging / source.target, pinned_photos(source))


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
