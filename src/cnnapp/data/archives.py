"""Unpacking chosen folders of a zip or tar archive, refusing any member that could land outside the target."""

import gzip
import stat
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from cnnapp.errors import CnnappError


def unsafe(name: str, is_link: bool) -> str | None:
    """Why an archive member may not be unpacked (an absolute path, climbing out with '..', a link), or None."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or (path.parts and path.parts[0].endswith(":")):
        return "is an absolute path"
    if ".." in path.parts:
        return "climbs out of the target with '..'"
    if is_link:
        return "is a link"
    return None


def members(archive: zipfile.ZipFile | tarfile.TarFile) -> list[tuple[str, bool]]:
    """(name, is a link or device) for every member of an open archive."""
    if isinstance(archive, zipfile.ZipFile):
        return [(info.filename, stat.S_ISLNK(info.external_attr >> 16)) for info in archive.infolist()]
    return [(info.name, not (info.isfile() or info.isdir())) for info in archive.getmembers()]


def sizes(archive: zipfile.ZipFile | tarfile.TarFile) -> dict[str, int]:
    """Member name -> the bytes it unpacks to, as its header says."""
    if isinstance(archive, zipfile.ZipFile):
        return {info.filename: info.file_size for info in archive.infolist()}
    return {info.name: info.size for info in archive.getmembers()}


def open_archive(path: Path) -> zipfile.ZipFile | tarfile.TarFile:
    """The zip or tar archive at path (a tar may be compressed), opened for reading."""
    if zipfile.is_zipfile(path):
        return zipfile.ZipFile(path)
    if tarfile.is_tarfile(path):
        return tarfile.open(path)
    raise CnnappError("the download is neither a zip nor a tar archive")


def unpack(path: Path, wanted: list[str], into: Path, limit: int) -> Path:
    """Unpacks the wanted paths (files or folders below the archive's one top folder) into the folder into.

    Returns the unpacked top folder. Raises CnnappError, saying what is wrong with the archive, if any member has
    an absolute path or climbs out with '..', if a member to unpack is a link, if the archive has more than one
    top folder, if a wanted path is not in it, or if the wanted members would unpack to more than limit bytes
    (checked before anything is written: a zip member never yields more bytes than its header says, nor a tar
    member).
    """
    try:
        with open_archive(path) as archive:
            listed = members(archive)
            _refuse_unsafe((name, False) for name, _ in listed)
            tops = {PurePosixPath(name).parts[0] for name, _ in listed if PurePosixPath(name).parts}
            if len(tops) != 1:
                raise CnnappError(f"the archive should hold one top folder, it holds {len(tops)}")
            top = tops.pop()
            chosen = []
            for want in wanted:
                inside = [(name, is_link) for name, is_link in listed if _within(name, f"{top}/{want}")]
                if not inside:
                    raise CnnappError(f"the archive holds no {top}/{want}")
                chosen += inside
            _refuse_unsafe(chosen)
            names = [name for name, _ in chosen]
            unpacked = sizes(archive)
            size = sum(unpacked[name] for name in names)
            if size > limit:
                raise CnnappError(f"archive refused, it would unpack to {size} bytes, more than the {limit} expected")
            if isinstance(archive, zipfile.ZipFile):
                archive.extractall(into, members=names)
            else:
                archive.extractall(into, members=[archive.getmember(name) for name in names], filter="data")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise CnnappError(f"damaged archive ({error})") from error
    return into / top


def _refuse_unsafe(listed) -> None:
    for name, is_link in listed:
        reason = unsafe(name, is_link)
        if reason:
            raise CnnappError(f"archive refused, its member {name} {reason}")


def _within(name: str, prefix: str) -> bool:
    name = name.rstrip("/")
    return name == prefix or name.startswith(prefix + "/")
