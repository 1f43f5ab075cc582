"""Files and folders that appear whole or not at all: written under a temporary name, then renamed.

A folder being written is reserved: it is built in `.NAME.partial` beside its final place, holding a
lock file locked (flock) for as long as its writer lives. A second writer of the same folder fails at
once; the kernel drops the lock when a writer dies, so a partial folder whose lock is free is what a
stopped writer left, which a resumable writer may continue.
"""

import ctypes
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cnnapp.errors import CnnappError

LOCK = ".lock"
"""The lock file inside a partial folder; it goes when the folder is complete."""

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def unwritable(path: Path, error: OSError) -> CnnappError:
    """The one-line error for a file or folder that could not be written: a full disk, a missing permission, a
    parent that is not a folder."""
    why = "a file stands where a folder is needed" if isinstance(error, FileExistsError) else error.strerror or error
    return CnnappError(f"{path}: cannot be written ({why})")


@contextmanager
def writing_file(path: Path | str) -> Iterator[Path]:
    """A temporary path beside path (same suffix) to write to; it becomes path when the block ends without error.

    An OSError while writing (a full disk, no permission) becomes a CnnappError naming path.
    """
    path = Path(path)
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    except OSError as error:
        raise unwritable(path, error) from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.chmod(0o644)
        os.replace(tmp, path)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise unwritable(path, error) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def partial_folder(out: Path | str) -> Path:
    """Where the folder out is built until it is complete."""
    out = Path(out)
    return out.parent / f".{out.name}.partial"


def exchange(a: Path, b: Path) -> None:
    """Swap two folders' names in one step (Linux renameat2), so that neither name is ever missing."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(a), None, str(b))


def _locked(path: Path) -> int | None:
    """An open descriptor of path holding its exclusive lock, or None when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _reserve(out: Path, partial: Path) -> tuple[int, bool]:
    """The lock of out's partial folder, and whether that folder was left by a stopped writer."""
    for _ in range(3):
        fresh = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".new"))
        fd = _locked(fresh / LOCK)
        try:
            fresh.chmod(0o755)
            os.rename(fresh, partial)  # fails when partial exists: it always holds its lock file
            return fd, False
        except OSError as error:
            os.close(fd)
            shutil.rmtree(fresh, ignore_errors=True)
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
        try:
            fd = _locked(partial / LOCK)
        except FileNotFoundError:
            continue  # its writer just finished and renamed it; try again
        if fd is None:
            raise CnnappError(f"{out}: another cnnapp process is writing it; wait for it or choose another --out")
        return fd, True
    raise CnnappError(f"{out}: could not be reserved; another cnnapp process keeps writing it")


def _clear(folder: Path) -> None:
    """Everything in folder but its lock file."""
    for entry in folder.iterdir():
        if entry.name != LOCK:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()


@contextmanager
def writing_folder(
    out: Path | str, replace: bool = False, resumable: bool = False, resume: bool = False
) -> Iterator[Path]:
    """The reserved partial folder of out to write in; it becomes out when the block ends without error.

    replace: an existing out is swapped for the new folder in one step, then removed. resumable: the
    writer can continue what a stopped one left (with resume) and an interruption (Ctrl-C) keeps the
    partial folder for that; other writers start afresh over whatever a stopped one left. An error in
    the block removes the partial folder, unless it is a stopped writer's being continued.
    """
    out = Path(out)
    partial = partial_folder(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, stale = _reserve(out, partial)
    except OSError as error:
        raise unwritable(out, error) from None
    try:
        leftovers = stale and any(entry.name != LOCK for entry in partial.iterdir())
        if out.exists() and not replace:
            raise CnnappError(f"{out}: already exists; choose another --out or remove it")
        if leftovers and resumable and not resume:
            raise CnnappError(
                f"{out}: a stopped training left {partial.name} beside it; add --resume to continue it, or remove it"
            )
        if leftovers and not resumable:
            _clear(partial)
    except BaseException:
        if not stale:
            shutil.rmtree(partial, ignore_errors=True)
        os.close(fd)
        raise
    try:
        try:
            yield partial
        except OSError as error:
            raise unwritable(out, error) from None
        if replace and out.exists():
            exchange(partial, out)
            shutil.rmtree(partial)
        else:
            try:
                os.rename(partial, out)
            except OSError as error:
                raise CnnappError(f"{out}: appeared while it was being written ({error.strerror})") from None
        (out / LOCK).unlink()
    except Exception:
        if not (stale and resumable):  # a stopped writer's folder being continued is kept for another try
            shutil.rmtree(partial, ignore_errors=True)
        raise
    except BaseException:
        if not resumable:
            shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        os.close(fd)
