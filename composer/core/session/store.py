"""Autosaved open pieces, so that the app can restore them after a crash or `kill -9`.

The store is a folder of the user data folder (e.g. ``<data>/sessions``) with one slot per running
app::

    1/                  a slot; FolderLock (filelock.py) makes it one running app's alone
      .lock             held while that app runs; the OS drops the lock when the app dies
      session.json      which pieces, in which order, the current tab, and per piece its title,
                        file name, SHA-256 and size, array lengths, ticks per beat, source and
                        export paths, whether it has unexported changes, metadata and view
      <key>.npz         one piece's notes, tempos and time signatures (numpy savez, never pickle);
                        <key> is the SHA-256 of the arrays, so an unchanged piece is not rewritten
      set-aside/        what could not be restored, kept rather than deleted (restore.py)
    2/ ...

`SessionStore.open()` takes the first slot it can lock, preferring slots that hold a saved
session: a crashed app's slot is unlocked (its lock died with it), so the next launch restores it,
and an app still running keeps its slot locked, so two apps never write the same files.

`Session.save` writes each new piece file atomically (temporary file, fsync, rename), then
``session.json`` atomically, and only then deletes the piece files it no longer names (only those
it wrote or restored from; it never overwrites or deletes a file it knows nothing of): a kill at
any moment leaves a ``session.json`` naming complete files. Loading (restore.py) treats
the folder as hostile:
sizes are bounded before reading, only regular files are read (never FIFOs or devices, never links
leading out of the slot), each piece file must match the SHA-256 that ``session.json`` recorded,
arrays are parsed without pickle and their sizes checked before anything is allocated, and what
MIDI cannot hold (a pitch of 32767, a resolution above 32767 ticks per beat) is refused. A piece
file that holds another piece's bytes (two files swapped) is found again by its checksum. A piece
that fails becomes one warning and the others are restored; nothing that was not understood is
deleted: its file and its entry are moved into the slot's ``set-aside`` folder, as is every piece
file no entry names, and a ``session.json`` that fails is kept as ``session.json.damaged-<time>``.

A launch also takes in the sessions that other closed or crashed apps left in other unlocked
slots (two windows ran at once, then one starts): their pieces join its own (`Session.merged`
says from where), and their slots are emptied once its first save holds them.

A Session is not thread-safe: save and close it from one thread at a time.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import operator
import os
import re
import stat
import time
from collections.abc import Sequence
from pathlib import Path

from composer.core.files.atomic import atomic_write_bytes
from composer.core.files.filelock import FolderLock, LockedError
from composer.core.session.files import move_aside
from composer.core.session.pieces import (
    MAX_PIECE_FILE_BYTES,
    PIECE_FILE,
    SavedPiece,
    npz_bytes,
    prepare,
)
from composer.core.session.restore import (
    MAX_SESSION_FILE_BYTES,
    SESSION_FILE,
    SESSION_FORMAT,
    SESSION_VERSION,
    SET_ASIDE,
    TEMP_FILE,
    SlotReader,
)

__all__ = [
    "MAX_PIECE_FILE_BYTES",
    "MAX_SESSION_FILE_BYTES",
    "SESSION_FILE",
    "SET_ASIDE",
    "SavedPiece",
    "Session",
    "SessionError",
    "SessionStore",
]

_SLOT = re.compile(r"[1-9][0-9]{0,8}")
_SLOT_ATTEMPTS = 100


class SessionError(OSError):
    """The session store could not be written; the message names the folder and the fix.

    `errno` is that of the underlying error (errno.ENOSPC for a full disk)."""


class SessionStore:
    """Autosaved open pieces in a folder of the user data folder: one slot per running app."""

    def __init__(self, root: str | Path, *, notes_dtype=None, notes_optional=()):
        """`notes_dtype` (a NumPy structured dtype): the fields restored notes must have, and
        the dtype they come back as; None takes any structured notes as they were saved.
        `notes_optional`: names of its fields that notes saved by an older version may lack
        (they come back as -1)."""
        self.root = Path(root)
        self.notes_shape = (notes_dtype, tuple(notes_optional))  # (dtype, optional fields)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _error(
                exc,
                f"Could not create the autosave folder {self.root} ({exc.strerror or exc}); "
                "make sure its parent folder exists and is writable",
            ) from None

    def open(self) -> Session:
        """Lock a slot and restore what it holds: the first unlocked slot holding a saved session
        (a crashed or closed app's), else the first unlocked empty one, else a new slot; then
        the pieces of every other unlocked slot holding a saved session join it.

        Raises SessionError only when no slot can be locked or created at all; pieces and files
        that cannot be restored become `Session.warnings`."""
        warnings: list[str] = []
        saved, empty, highest = self._slots()
        for folder in saved + empty:
            lock = FolderLock(folder)  # (re)creates a folder removed since the listing
            try:
                lock.acquire()
            except LockedError:
                continue  # another running app's slot
            except OSError as exc:
                warnings.append(f"Skipped the autosave folder {folder}: {exc}.")
                continue
            session = Session._restore(folder, lock, warnings, self.notes_shape)
            for other in saved:
                if other != folder:
                    self._take_in(session, other)
            return session
        number, failure = highest + 1, None
        for _ in range(_SLOT_ATTEMPTS):
            folder, number = self.root / str(number), number + 1
            lock = FolderLock(folder)
            try:
                lock.acquire()
            except LockedError:
                continue  # another app created this slot a moment ago
            except OSError as exc:  # e.g. a file by that name
                failure = exc
                continue
            return Session._restore(folder, lock, warnings, self.notes_shape)
        reason = f" ({failure})" if failure else ""
        raise _error(
            failure,
            f"Could not create an autosave folder in {self.root}{reason}; make sure that folder "
            "is writable, or close other running Composers",
        )

    def _take_in(self, session: Session, folder: Path) -> None:
        """Add the pieces of the unlocked slot `folder` to `session` (nothing if it is locked:
        another app runs there)."""
        lock = FolderLock(folder)
        try:
            lock.acquire()
        except LockedError:
            return
        except OSError as exc:
            session.warnings.append(f"Skipped the autosave folder {folder}: {exc}.")
            return
        try:
            other = Session._restore(folder, lock, [], self.notes_shape)
        except BaseException:
            session.close(keep=True)  # an unforeseen failure must not keep its slot locked
            raise
        session._take_in(other)

    def _slots(self) -> tuple[list[Path], list[Path], int]:
        """Slot folders holding a saved session and empty ones, in the order open() tries them,
        and the highest slot number in use."""
        saved, empty, highest = [], [], 0
        try:
            with os.scandir(self.root) as entries:
                for entry in entries:
                    if not _SLOT.fullmatch(entry.name):
                        continue
                    number = int(entry.name)
                    highest = max(highest, number)
                    with contextlib.suppress(OSError):
                        if entry.is_dir(follow_symlinks=False):
                            has_session = os.path.lexists(os.path.join(entry.path, SESSION_FILE))
                            (saved if has_session else empty).append(number)
        except OSError:
            with contextlib.suppress(OSError):
                self.root.mkdir(parents=True, exist_ok=True)
        return (
            [self.root / str(n) for n in sorted(saved)],
            [self.root / str(n) for n in sorted(empty)],
            highest,
        )


class Session:
    """One running app's slot: the pieces restored from it, and where to autosave.

    `pieces` and `current` (the restored tab's index; 0 when there are no pieces) are what was
    restored, then what was last saved; `warnings` holds one sentence, naming the file, per piece or
    file that could not be restored; `merged` holds (folder, count) for each other slot whose
    pieces were added after this slot's own. Use `SessionStore.open()` rather than constructing one.
    """

    def __init__(self, folder: Path, lock: FolderLock, warnings: list[str] | None = None):
        self.folder = Path(folder)
        self.pieces: list[SavedPiece] = []
        self.current = 0
        self.warnings: list[str] = list(warnings or [])
        self.merged: list[tuple[Path, int]] = []
        self._lock = lock
        # Piece files holding the arrays their name is the key of -> (sha256, size).
        self._files: dict[str, tuple[str, int]] = {}
        # Files a piece was restored from that do not hold what their name says (swapped by
        # hand, or moved aside by a save that was killed): deleted once a save holds the piece.
        self._borrowed: set[str] = set()
        self._taken_in: list[Session] = []  # other slots whose pieces joined these

    @property
    def closed(self) -> bool:
        return not self._lock.held

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close(keep=True)

    def __repr__(self) -> str:
        return f"Session({str(self.folder)!r}, pieces={len(self.pieces)}, closed={self.closed})"

    # --- saving ------------------------------------------------------------------------------------
    def save(self, pieces: Sequence[SavedPiece], current: int) -> None:
        """Autosave `pieces` (in tab order) with `current` the selected tab's index.

        Only pieces whose arrays changed are written. On any OSError (a full disk, say) it raises
        SessionError and the previous autosave stays as it was; invalid pieces raise TypeError or
        ValueError before anything is written."""
        if self.closed:
            raise ValueError(f"the session in {self.folder} is closed; open a new one to save")
        current = operator.index(current)
        prepared = [prepare(piece) for piece in pieces]
        written: list[Path] = []
        entries = []
        try:
            for entry, arrays in prepared:
                name = entry["file"]
                path = self.folder / name
                known = self._files.get(name)
                if known is None or not _has_size(path, known[1]):
                    if known is None and os.path.lexists(path):
                        self._displace(path)  # never overwrite what this session did not write
                    existed = os.path.lexists(path)
                    data = npz_bytes(arrays)
                    atomic_write_bytes(path, data)
                    if not existed:
                        written.append(path)
                    known = self._files[name] = (hashlib.sha256(data).hexdigest(), len(data))
                entry["sha256"], entry["size"] = known
                entries.append(entry)
            document = {
                "format": SESSION_FORMAT,
                "version": SESSION_VERSION,
                "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "current": current,
                "pieces": entries,
            }
            atomic_write_bytes(self.folder / SESSION_FILE, json.dumps(document, indent=1).encode())
        except OSError as exc:
            for path in written:  # new files the previous session.json does not name
                self._files.pop(path.name, None)
                with contextlib.suppress(OSError):
                    path.unlink()
            raise _save_error(self.folder, exc) from None
        self._remove_unnamed({entry["file"] for entry in entries})
        self.pieces, self.current = list(pieces), current
        for other in self._taken_in:  # their pieces are saved here now
            other.close(keep=False)
        self._taken_in.clear()

    def _displace(self, path: Path) -> None:
        """Clear the way for a piece file: a borrowed file becomes a temporary file (which the
        checksum search still finds, should this save be killed); anything else is set aside."""
        name = path.name
        if name in self._borrowed:
            for counter in range(1, 100):
                target = self.folder / f".{name}.displaced{counter}.tmp"
                if not os.path.lexists(target):
                    os.rename(path, target)
                    self._borrowed.discard(name)
                    self._borrowed.add(target.name)
                    return
        move_aside(path, self.folder / SET_ASIDE)

    def _remove_unnamed(self, named: set[str]) -> None:
        """Delete the piece files this session wrote or restored from that session.json no
        longer names, and temporary files of killed saves. Files it knows nothing about stay."""
        try:
            with os.scandir(self.folder) as it:
                names = [entry.name for entry in it]
        except OSError:
            return
        for name in names:
            known = name in self._files or name in self._borrowed
            if (PIECE_FILE.fullmatch(name) and name not in named and known) or TEMP_FILE.fullmatch(
                name
            ):
                self._files.pop(name, None)
                self._borrowed.discard(name)
                with contextlib.suppress(OSError):
                    (self.folder / name).unlink()

    def _take_in(self, other: Session) -> None:
        """Add the pieces restored from another slot after these; that slot is emptied by the
        next successful save, or released as it is by close()."""
        self.pieces.extend(other.pieces)
        self.warnings.extend(other.warnings)
        if other.pieces:
            self.merged.append((other.folder, len(other.pieces)))
        self._taken_in.append(other)

    # --- closing -----------------------------------------------------------------------------------
    def close(self, keep: bool) -> None:
        """Release the slot (a no-op once closed). With `keep`, the next launch restores what was
        last saved; without, the slot's files are removed so the next launch starts empty (a
        damaged session.json kept aside earlier is not removed)."""
        if self.closed:
            return
        for other in self._taken_in:  # not saved here: they stay, or go as these do
            other.close(keep)
        self._taken_in.clear()
        if keep:
            self._lock.release()
            return
        with contextlib.suppress(OSError):
            (self.folder / SESSION_FILE).unlink()  # first: from here on, no session to restore
        self._remove_unnamed(set())
        self._files.clear()
        self._lock.release(remove=True)
        with contextlib.suppress(OSError):
            self.folder.rmdir()  # fails, harmlessly, where something else is left in it

    # --- restoring ---------------------------------------------------------------------------------
    @classmethod
    def _restore(
        cls, folder: Path, lock: FolderLock, warnings: list[str], notes_shape=(None, ())
    ) -> Session:
        session = cls(folder, lock, warnings)
        try:
            reader = SlotReader(folder, *notes_shape)
            reader.read()
        except BaseException:  # an unforeseen failure must not keep the slot locked
            lock.release()
            raise
        session.pieces, session.current = reader.pieces, reader.current
        session.warnings.extend(reader.warnings)
        session._files, session._borrowed = reader.files, reader.borrowed
        return session


# --- helpers ----------------------------------------------------------------------------------------
def _has_size(path: Path, size: int) -> bool:
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size == size


def _save_error(folder: Path, exc: OSError) -> SessionError:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        fix = "the disk is full; free some space on it"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = f"{exc.strerror or exc}; make that folder writable"
    else:
        fix = f"{exc.strerror or exc}; check the disk"
    return _error(
        exc,
        f"Could not autosave the open pieces in {folder} ({fix}); the previous autosave is kept",
    )


def _error(cause: OSError | None, message: str) -> SessionError:
    error = SessionError(message)
    error.errno = getattr(cause, "errno", None)
    return error
