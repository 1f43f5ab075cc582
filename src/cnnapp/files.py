"""Files and folders that appear whole or not at all: written under a temporary name, then renamed.

A folder being written is reserved: it is built in `.NAME.partial` beside its final place, holding a
lock file locked (flock; msvcrt's lock on Windows) for as long as its writer lives. A second writer of
the same folder fails at once; the system drops the lock when a writer dies, so a partial folder whose
lock is free is what a stopped writer left, which a resumable writer may continue.
"""

import ctypes
import errno
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cnnapp.errors import CnnappError

LOCK = ".lock"
"""The lock file inside a partial folder; it goes when the folder is complete."""

_RENAME_EXCHANGE = 2  # renameat2's flag on Linux
_RENAME_SWAP = 2  # renamex_np's flag on macOS
_AT_FDCWD = -100

_PINNING = sys.platform == "win32"
"""Windows renames and removes no folder with a file open in it: there a partial folder's lock is taken once the
folder has its name, and let go before the folder is renamed or removed (a writer that takes it in between wins)."""

if _PINNING:
    import msvcrt

    def _try_lock(fd: int) -> None:
        """Lock fd's first byte without waiting; OSError when another process holds it."""
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> None:
        """Lock fd exclusively without waiting; OSError when another process holds it."""
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


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
    """Swap two folders' names: in one step on Linux (renameat2) and macOS (renamex_np), so that neither name
    is ever missing; elsewhere in three renames, b being missing for a moment."""
    if sys.platform not in ("linux", "darwin"):
        aside = b.with_name(f".{b.name}.old")
        os.rename(b, aside)
        os.rename(a, b)
        os.rename(aside, a)
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if sys.platform == "linux":
        failed = libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    else:
        failed = libc.renamex_np(os.fsencode(a), os.fsencode(b), _RENAME_SWAP)
    if failed:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(a), None, str(b))


class _Lock:
    """An open descriptor holding a lock file's lock, until it is let go."""

    def __init__(self, fd: int) -> None:
        self.fd: int | None = fd

    def let_go(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def before_moving(self) -> None:
        """Let go where an open lock file pins its folder (Windows)."""
        if _PINNING:
            self.let_go()


def _locked(path: Path) -> int | None:
    """An open descriptor of path holding its exclusive lock, or None when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _try_lock(fd)
    except OSError as error:
        os.close(fd)
        if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EDEADLK):
            raise
        return None
    return fd


def _reserve(out: Path, partial: Path) -> tuple[_Lock, bool]:
    """The lock of out's partial folder, and whether that folder was left by a stopped writer."""
    busy = CnnappError(
        f"{out}: another cnnapp process is writing it; wait for it or choose another `out`", parameter="out"
    )
    for _ in range(3):
        fresh = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".new"))
        lock = _Lock(_locked(fresh / LOCK))
        lock.before_moving()
        try:
            fresh.chmod(0o755)
            os.rename(fresh, partial)  # fails when partial exists: it always holds its lock file
        except OSError as error:
            lock.let_go()
            shutil.rmtree(fresh, ignore_errors=True)
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
        else:
            if lock.fd is None:  # let go for the rename (Windows): taken again under the folder's new name
                lock.fd = _locked(partial / LOCK)
                if lock.fd is None:
                    raise busy
            return lock, False
        try:
            fd = _locked(partial / LOCK)
        except FileNotFoundError:
            continue  # its writer just finished and renamed it; try again
        if fd is None:
            raise busy
        return _Lock(fd), True
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
        lock, stale = _reserve(out, partial)
    except OSError as error:
        raise unwritable(out, error) from None
    try:
        leftovers = stale and any(entry.name != LOCK for entry in partial.iterdir())
        if out.exists() and not replace:
            raise CnnappError(f"{out}: already exists; choose another `out` or remove it", parameter="out")
        if leftovers and resumable and not resume:
            raise CnnappError(
                f"{out}: a stopped training left {partial.name} beside it; add `resume` to continue it, or remove it",
                parameter="resume",
            )
        if leftovers and not resumable:
            _clear(partial)
    except BaseException:
        lock.before_moving()
        if not stale:
            shutil.rmtree(partial, ignore_errors=True)
        lock.let_go()
        raise
    try:
        try:
            yield partial
        except OSError as error:
            raise unwritable(out, error) from None
        lock.before_moving()
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
        lock.before_moving()
        if not (stale and resumable):  # a stopped writer's folder being continued is kept for another try
            shutil.rmtree(partial, ignore_errors=True)
        raise
    except BaseException:
        lock.before_moving()
        if not resumable:
            shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        lock.let_go()
