"""Writing files so that a reader never sees half of one: write a temporary file, then rename.

What is in the way is refused before anything is written: a folder, a device such as /dev/null, a
named pipe or a socket under the name (the rename would replace it: as root, /dev/null becomes a
regular file). The errors of the temporary file itself (a read-only folder, a full disk) are
told with the name the caller asked for, never the temporary one: WriteError.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path


class WriteError(OSError):
    """A file that cannot be written where it was asked for. str() is one sentence naming that
    path (never the temporary file beside it) and the fix; `strerror` is the short reason, for
    callers that write "Could not write X (reason)"; `errno` is the system's, when there was one."""

    def __init__(self, path, sentence: str, reason: str, code: int | None = None):
        super().__init__(code, reason)
        self.path, self.sentence = str(path), sentence

    def __str__(self) -> str:
        return f"{self.path} {self.sentence}"

    def __reduce__(self):  # it may cross from worker processes
        return type(self), (self.path, self.sentence, self.strerror, self.errno)


@contextlib.contextmanager
def atomic_path(path: str | Path, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block succeeds, move it into place.

    The rename is atomic on one filesystem, so `path` holds either the old content or the complete
    new one, never a partial file; on error the temporary file is removed. With `durable`, the data
    is fsynced before the rename so a power cut cannot leave an empty file under the final name
    (caches that validate what they read may skip that cost). WriteError when `path` is something
    other than a file, or when the temporary file cannot be made or moved into place.
    """
    path = Path(path)
    check_target(path)
    tmp = _temporary_beside(path)
    try:
        yield tmp
        try:
            # mkstemp makes the file private (0600); give it the mode an ordinary new file gets.
            os.chmod(tmp, 0o666 & ~_umask())
            if durable:
                with open(tmp, "rb") as f:
                    os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            raise _cannot_write(path, exc) from exc
        if durable:
            _fsync_folder(path.parent)  # make the rename itself survive a power cut
    finally:
        tmp.unlink(missing_ok=True)


def check_target(path: str | Path) -> None:
    """WriteError when `path` exists and is not a regular file (links followed): a folder, a
    device such as /dev/null, a named pipe or a socket is never replaced."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing there yet (or a file in the folder's path, which writing will tell)
    except OSError as exc:
        raise _cannot_write(Path(path), exc) from exc
    if stat.S_ISDIR(mode):
        raise _is_a_folder(path)
    if not stat.S_ISREG(mode):
        kind = _kind(mode)
        raise WriteError(
            path,
            f"is {kind}, not a file, and Composer replaces only files; choose the name of a file",
            f"it is {kind}, not a file",
        )


def check_writable(path: str | Path) -> None:
    """WriteError unless `path` could be written now: not something other than a file, and its
    folder (created if missing) takes a new file. For checking before long work, such as
    generating, rather than failing after it."""
    path = Path(path)
    check_target(path)
    _temporary_beside(path).unlink()


def _temporary_beside(path: Path) -> Path:
    """A new empty temporary file in `path`'s folder (created if missing), or WriteError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    os.close(fd)
    return Path(tmp_name)


def _cannot_write(path: Path, exc: OSError) -> WriteError:
    """The WriteError for an OSError met while writing `path`, whatever file the system named."""
    folder, code = path.parent, exc.errno
    fix = "choose another folder"
    if code in (errno.EACCES, errno.EPERM):
        reason = f"permission to create files in {folder} was denied"
    elif code == errno.EROFS:
        reason = f"{folder} is on a read-only disk"
    elif code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        reason, fix = f"the disk holding {folder} is full", "free some space or choose another disk"
    elif code in (errno.ENOTDIR, errno.EEXIST):  # mkdir met a file where a folder should be
        reason = f"{_file_in_the_way(folder)} is a file, not a folder"
    elif code == errno.EISDIR:
        return _is_a_folder(path)
    elif code == errno.ENAMETOOLONG:
        reason, fix = "its name is too long", "choose a shorter name"
    else:
        reason = exc.strerror or type(exc).__name__
    return WriteError(path, f"cannot be written: {reason}; {fix}", reason, code)


def _is_a_folder(path: str | Path) -> WriteError:
    return WriteError(
        path,
        "is a folder, not a file; give the name of a file to write instead",
        "it is a folder, not a file",
        errno.EISDIR,
    )


def _file_in_the_way(folder: Path) -> Path:
    """The part of `folder`'s path that exists but is not a folder (or `folder` itself)."""
    for part in (folder, *folder.parents):
        if part.exists():
            return folder if part.is_dir() else part
    return folder


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def atomic_write_bytes(path: str | Path, data: bytes, *, durable: bool = True) -> None:
    """Write `data` to `path` atomically (see atomic_path); WriteError naming `path` when the
    data cannot be written (a full disk), and nothing is left behind."""
    with atomic_path(path, durable=durable) as tmp:
        try:
            tmp.write_bytes(data)
        except OSError as exc:
            raise _cannot_write(Path(path), exc) from exc


def append_whole(path: str | Path, data: bytes) -> None:
    """Append `data` (a line of a log) to `path`, created if missing, whole or not at all: a
    write cut short (a full disk takes part of it) is taken back, so a reader never meets half
    a line. WriteError naming `path` when it cannot be written."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    try:
        size = os.fstat(fd).st_size
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)  # shrinking needs no space
            raise _cannot_write(path, exc) from exc
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; its rename is durable enough
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    """The process umask, read from /proc where possible (setting it to read it is not thread-safe)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022
