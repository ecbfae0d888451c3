"""An exclusive lock on a folder, so that two running Composers never write the same files.

`FolderLock(folder)` takes an exclusive, non-blocking lock on a lock file inside the folder
(`fcntl.flock` on POSIX, `msvcrt.locking` on Windows) and holds it for the life of the object::

    with FolderLock(run_dir):           # or lock.acquire() ... lock.release()
        ...                             # only this process writes in run_dir

If another process holds it, `acquire` raises `LockedError` at once (it never waits), naming the
process: after taking the lock, the owner writes its process id and host name into the lock file.

No stale-lock rule is needed. The lock belongs to the open file, not to the file's existence: when
the owner exits in any way (a crash, `kill -9`, a power cut), the operating system drops the lock
with the process, so the next `acquire` succeeds although the lock file, with the dead owner's pid
in it, is still there. (On Windows the system releases the locks of a terminated process too,
sometimes a moment later.) Two consequences of flock semantics: two FolderLock objects on one folder
conflict even within one process, and a child made by a bare `os.fork()` shares the lock; children
started with subprocess or multiprocessing's spawn do not inherit it (the descriptor is not
inheritable).

The lock file is normally left in place on release, because deleting it is what makes locking
racy; `release(remove=True)` deletes it while the lock is still held, and `acquire` checks after
locking that the file it locked is still the one under that name (otherwise it locks again), so a
process that opened the old file just before it was deleted cannot believe it owns the folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
import sys
from pathlib import Path

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt
else:
    import fcntl

__all__ = ["LOCK_FILE_NAME", "FolderLock", "LockedError", "read_lock_owner"]

#: The lock file's name inside the folder.
LOCK_FILE_NAME = ".lock"

# Windows locks are mandatory: a locked byte cannot be read by anyone else. The owner's pid is
# written at the start of the file, and the lock is taken on one byte far past it (locking beyond
# the end of a file is allowed and does not grow it), so others can still read who owns it.
_WINDOWS_LOCK_OFFSET = 1 << 30
_MAX_OWNER_BYTES = 4096
_ATTEMPTS = 20  # re-locks when the lock file is replaced under us (see acquire)

_OPEN_FLAGS = (
    getattr(os, "O_NOFOLLOW", 0)  # a lock file that is a symlink is refused (ELOOP)
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO in its place cannot make open() wait
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


class LockedError(Exception):
    """The folder is locked by another process (or another FolderLock in this one).

    `path` is the folder, `owner_pid` the owner's process id as it wrote it into the lock file
    (None when unreadable, e.g. while the owner is still writing it), `owner_host` its host name.
    """

    def __init__(self, path: str | Path, owner_pid: int | None, owner_host: str | None = None):
        self.path = Path(path)
        self.owner_pid = owner_pid
        self.owner_host = owner_host
        super().__init__(self._message())

    def __reduce__(self):  # so that it survives being sent between processes
        return type(self), (self.path, self.owner_pid, self.owner_host)

    def _message(self) -> str:
        if self.owner_pid is None:
            who = "another Composer"
        elif self.owner_host and self.owner_host != socket.gethostname():
            who = f"another Composer (process {self.owner_pid} on {self.owner_host})"
        else:
            who = f"another Composer (process {self.owner_pid})"
        return f"{self.path} is in use by {who}; close that one first, or use another folder"


def read_lock_owner(lock_file: str | Path) -> tuple[int | None, str | None]:
    """(pid, host name) written in a lock file, each None where missing or unreadable."""
    try:
        fd = os.open(lock_file, os.O_RDONLY | _OPEN_FLAGS)
    except OSError:
        return None, None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None, None
        data = os.read(fd, _MAX_OWNER_BYTES)
    except OSError:
        return None, None
    finally:
        os.close(fd)
    lines = data.decode("utf-8", "replace").splitlines()
    pid = int(lines[0]) if lines and lines[0].strip().isdigit() else None
    host = (lines[1].strip() or None) if len(lines) > 1 else None
    return pid, host


class FolderLock:
    """An exclusive, non-blocking lock on `folder` (a lock file named `name` inside it).

    With `create`, the folder (and its parents) is made if missing. The lock is held from a
    successful `acquire()` (or entering a `with` block) until `release()`, the end of the block, or
    the object being garbage-collected; see the module docstring for what happens on a crash.
    """

    def __init__(self, folder: str | Path, *, name: str = LOCK_FILE_NAME, create: bool = True):
        self.folder = Path(folder)
        self.lock_file = self.folder / name
        self.create = create
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> FolderLock:
        """Take the lock or raise at once: LockedError if someone holds it, OSError (one sentence
        naming the folder) if the lock file cannot be made or is not a regular file."""
        if self._fd is not None:
            raise RuntimeError(f"the lock on {self.folder} is already held by this object")
        for _ in range(_ATTEMPTS):
            fd = self._open()
            if fd is None:
                continue  # the folder vanished between mkdir and open (a release(remove=True))
            try:
                locked = _try_lock(fd)
            except OSError as exc:
                os.close(fd)
                raise _lock_failure(self.folder, exc) from None
            if not locked:
                os.close(fd)
                raise LockedError(self.folder, *read_lock_owner(self.lock_file))
            if not self._still_named(fd):
                _unlock_and_close(fd)  # we locked a file that was deleted meanwhile; lock anew
                continue
            self._fd = fd
            self._write_owner()
            return self
        raise OSError(
            f"Could not lock {self.folder}: its lock file keeps being replaced; "
            "close the other programs using that folder and try again"
        )

    def release(self, *, remove: bool = False) -> None:
        """Release the lock (a no-op when not held). With `remove`, delete the lock file first,
        while the lock is still held, so that no one can lock the deleted file."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if remove and sys.platform != "win32":
            with contextlib.suppress(OSError):
                self.lock_file.unlink()
        _unlock_and_close(fd)
        if remove and sys.platform == "win32":  # pragma: no cover - an open file cannot be deleted
            with contextlib.suppress(OSError):
                self.lock_file.unlink()

    def __enter__(self) -> FolderLock:
        if self._fd is None:
            self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    def __del__(self) -> None:
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            with contextlib.suppress(Exception):
                _unlock_and_close(fd)

    def __repr__(self) -> str:
        return f"FolderLock({str(self.folder)!r}, held={self.held})"

    # --- helpers ----------------------------------------------------------------------------------
    def _open(self) -> int | None:
        try:
            if self.create:
                self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT | _OPEN_FLAGS, 0o666)
        except FileNotFoundError:
            if self.create:
                return None
            raise _os_error(errno.ENOENT, f"{self.folder} does not exist; check the path") from None
        except OSError as exc:
            raise _lock_failure(self.folder, exc) from None
        try:
            mode = os.fstat(fd).st_mode
        except OSError as exc:
            os.close(fd)
            raise _lock_failure(self.folder, exc) from None
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise _os_error(
                errno.EINVAL,
                f"{self.lock_file} is not a regular file; remove it so that Composer can lock "
                f"{self.folder}",
            )
        return fd

    def _still_named(self, fd: int) -> bool:
        """Whether the locked file is still the one named lock_file (see release(remove=True))."""
        if sys.platform == "win32":  # pragma: no cover - an open file cannot be deleted there
            return True
        try:
            named, locked = os.stat(self.lock_file, follow_symlinks=False), os.fstat(fd)
        except OSError:
            return False
        return (named.st_dev, named.st_ino) == (locked.st_dev, locked.st_ino)

    def _write_owner(self) -> None:
        # Best effort: who holds the lock is for messages only; the lock itself is already held.
        data = f"{os.getpid()}\n{socket.gethostname()}\n".encode()
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.write(self._fd, data)


def _lock_failure(folder: Path, exc: OSError) -> OSError:
    return _os_error(
        exc.errno,
        f"Could not lock {folder} ({exc.strerror or exc}); check that the folder exists and "
        "that you may write in it",
    )


def _os_error(number: int | None, message: str) -> OSError:
    """An OSError whose str() is just `message` (OSError(errno, text) would prefix "[Errno n]")."""
    error = OSError(message)
    error.errno = number
    return error


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EDEADLOCK):
                return False
            raise
        return True

    def _unlock_and_close(fd: int) -> None:
        try:
            os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            with contextlib.suppress(OSError):
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        finally:
            os.close(fd)

else:

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        return True

    def _unlock_and_close(fd: int) -> None:
        # Closing the last descriptor of the open file releases a flock lock; unlocking first also
        # releases it where a bare os.fork() child still holds a copy of the descriptor.
        try:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
