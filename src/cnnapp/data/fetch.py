"""Getting a dataset from its pinned source into the data directory: download, unpack, verify, then place."""

import hashlib
import shutil
import tempfile
from pathlib import Path

from cnnapp.data.archives import unpack
from cnnapp.data.download import download
from cnnapp.data.images import is_image_file
from cnnapp.data.sources import TIMEOUT, Source, mirrored
from cnnapp.errors import CnnappError
from cnnapp.settings import cache_dir


def content_checksum(path: Path) -> str:
    """The checksum the catalog pins: a file's SHA-256; for a folder, the SHA-256 of its listing.

    The listing has one line `<sha256>  <folder name>/<path>` for each image file below the folder, sorted by path,
    as `find FOLDER -type f -iname '*.jpg' | LC_ALL=C sort | xargs sha256sum` prints it.
    """
    if path.is_file():
        return _sha256(path)
    names = sorted(p.relative_to(path.parent).as_posix() for p in path.rglob("*") if p.is_file() and is_image_file(p))
    listing = "".join(f"{_sha256(path.parent / name)}  {name}\n" for name in names)
    return hashlib.sha256(listing.encode()).hexdigest()


def downloaded_path(url: str) -> Path:
    """Where the download of url is kept: in the cache, under a name unique to the URL."""
    return cache_dir() / "downloads" / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}-{url.rsplit('/', 1)[-1]}"


def fetch_dataset(source: Source, root: Path, mirror: str | None = None, timeout: float = TIMEOUT) -> Path:
    """The source's file or folder under root, downloaded (or taken from the cache), unpacked and verified.

    Nothing appears at its final name until its content checksum matches the catalog; on a mismatch, or an
    archive that cannot be unpacked safely, the download is deleted.
    """
    target = root / source.target
    if target.exists():
        raise CnnappError(f"{target}: already there; move it away to download {source.name} again")
    url = mirrored(source.url, mirror)
    saved = downloaded_path(url)
    try:
        if not saved.is_file():
            download(url, saved, timeout)
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root, prefix=f".{source.target}-") as staging:
            _place(saved, source, Path(staging), target, url)
    except OSError as error:
        raise CnnappError(f"{error.filename or root}: cannot write there ({error.strerror or error})") from error
    return target


def _place(saved: Path, source: Source, staging: Path, target: Path, url: str) -> None:
    """Unpacks the download into staging, checks its content, then renames it to target; else deletes it."""
    try:
        _arrange(saved, source, staging)
    except CnnappError as error:
        saved.unlink()
        raise CnnappError(f"{url}: {error}; the download was deleted") from error
    got = content_checksum(staging / source.target)
    if got != source.checksum:
        saved.unlink()
        raise CnnappError(
            f"{url}: checksum mismatch, the content is {got[:16]}... where the catalog pins "
            f"{source.checksum[:16]}...; the download was deleted"
        )
    (staging / source.target).rename(target)


def _arrange(saved: Path, source: Source, staging: Path) -> None:
    """The source's file or folder laid out under staging as it will be under the data directory."""
    if not source.members:
        shutil.copyfile(saved, staging / source.target)
        return
    top = unpack(saved, list(source.members), staging / "unpacked")
    for inside, placed in source.members.items():
        (staging / placed).parent.mkdir(parents=True, exist_ok=True)
        (top / inside).rename(staging / placed)


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
