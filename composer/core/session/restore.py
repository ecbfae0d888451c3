"""Restoring one autosave slot (see session.py for the layout) as hostile input, and setting
aside what cannot be restored: nothing in a slot is deleted that was not understood.

A piece that fails is one warning, naming the file and the reason; its file and its entry (as
JSON) move into the slot's ``set-aside`` folder, as does every piece file no entry names. A piece
file that holds another's bytes (swapped by hand, or moved out of the way by a save that was
killed) is found by the SHA-256 its entry saved; the session then rewrites it under its own name
and deletes the stand-in only once a save holds it. A ``session.json`` that fails is kept as
``session.json.damaged-<time>`` and the session starts empty.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from composer.core.session.files import (
    Damaged,
    move_aside,
    read_regular,
    title_of,
    write_aside,
)
from composer.core.session.pieces import PIECE_FILE, FileFinder, SavedPiece, read_piece

SESSION_FILE = "session.json"
SESSION_FORMAT = "composer-session"
SESSION_VERSION = 1
#: The largest session.json read (a session of a hundred pieces is a few hundred kB).
MAX_SESSION_FILE_BYTES = 16 * 1024 * 1024
#: Where a slot keeps what it could not restore and will not delete: piece files and entries.
SET_ASIDE = "set-aside"
DAMAGED_PREFIX = f"{SESSION_FILE}.damaged-"
# What atomic_path leaves behind when the process is killed between creating and renaming (and
# what a save moves a stand-in piece file to: `.<name>.displaced<n>.tmp`).
TEMP_FILE = re.compile(r"\.(session\.json|[0-9a-f]{64}\.npz)\.[A-Za-z0-9_]+\.tmp")
# Files the checksum search may find a piece in.
PIECE_OR_TEMP = re.compile(f"{PIECE_FILE.pattern}|{TEMP_FILE.pattern}")
_KEY = re.compile(r"[0-9a-f]{64}")


class SlotReader:
    """What one slot folder holds: `pieces`, the `current` tab, `warnings` (one sentence each),
    and for the session that saves there next, which files hold the arrays their name says
    (`files`: name -> (sha256, size)) and which stand in for others (`borrowed`)."""

    def __init__(self, folder: Path, notes_dtype=None, notes_optional=()):
        self.folder = folder
        self.pieces: list[SavedPiece] = []
        self.current = 0
        self.warnings: list[str] = []
        self._notes_dtype, self._notes_optional = notes_dtype, tuple(notes_optional)
        self._files: dict[str, tuple[str, int]] = {}
        self._borrowed: set[str] = set()

    @property
    def files(self) -> dict[str, tuple[str, int]]:
        return self._files

    @property
    def borrowed(self) -> set[str]:
        return self._borrowed

    def read(self) -> None:
        """Restore what the slot holds, then set aside the piece files nothing came from."""
        self._load()
        if files := self._set_aside_unnamed():  # after a damaged session.json: none left
            self.warnings.append(f"In the autosave folder {self.folder}, {files}.")

    def _load(self) -> None:
        path = self.folder / SESSION_FILE
        try:
            data = read_regular(path, self.folder, MAX_SESSION_FILE_BYTES)
        except FileNotFoundError:
            return  # a new or closed slot: nothing to restore
        except Damaged as exc:
            self._set_aside(path, exc.reason)
            return
        try:
            document = json.loads(data)
        except RecursionError:
            self._set_aside(path, "it is nested too deeply")
            return
        except ValueError:  # includes UnicodeDecodeError
            self._set_aside(path, "it is not valid JSON, perhaps cut short")
            return
        if not isinstance(document, dict) or document.get("format") != SESSION_FORMAT:
            self._set_aside(path, "it is not a Composer session file")
            return
        version = document.get("version")
        if type(version) is not int or version < 1:
            self._set_aside(path, "it has no valid version number")
            return
        if version > SESSION_VERSION:
            self._set_aside(path, "it was written by a newer version of Composer")
            return
        entries = document.get("pieces")
        if not isinstance(entries, list):
            self._set_aside(path, "it has no list of pieces")
            return
        current = document.get("current")
        current = current if type(current) is int else 0
        new_index: dict[int, int] = {}
        finder = FileFinder(self.folder, PIECE_OR_TEMP)
        failed = []
        for index, entry in enumerate(entries):
            try:
                piece, source, key, known = read_piece(
                    entry,
                    self.folder,
                    notes_dtype=self._notes_dtype,
                    notes_optional=self._notes_optional,
                    finder=finder,
                )
            except Damaged as exc:
                failed.append((index, entry, exc))
                continue
            if source.name == f"{key}.npz":
                self._files[source.name] = known
            else:  # holds what another name says: the next save writes the piece afresh
                self._borrowed.add(source.name)
            new_index[index] = len(self.pieces)
            self.pieces.append(piece)
        for index, entry, exc in failed:
            self._set_aside_entry(index, entry, exc, path, finder)
        if current in new_index:
            self.current = new_index[current]
        else:  # its piece was not restored: the tab now in its place
            self.current = max(0, min(sum(i < current for i in new_index), len(self.pieces) - 1))

    def _set_aside_entry(
        self, index: int, entry: object, exc: Damaged, path: Path, finder: FileFinder
    ) -> None:
        """Move a piece that could not be restored (its file, unless a restored piece uses it,
        and its entry as JSON) into the set-aside folder, and say so in one sentence."""
        aside = self.folder / SET_ASIDE
        file = _file_of(entry, self.folder, finder)
        kept = []
        try:
            if (
                file is not None
                and file.name not in self._files
                and file.name not in self._borrowed
            ):
                move_aside(file, aside)
                kept.append("file")
            stem = _KEY.search(file.name)[0] if file else f"entry-{index + 1}"
            write_aside(f"{stem}.json", json.dumps(entry, indent=1).encode(), aside)
            kept.append("entry")
            what = f"its {' and '.join(kept)} {'are' if len(kept) > 1 else 'is'} kept in {aside}"
        except (OSError, ValueError, RecursionError) as exc_aside:
            what = f"it could not be moved into {aside} ({exc_aside}) and stays in {self.folder}"
        title = title_of(entry, index)
        where = exc.path or f"its entry in {path}"
        self.warnings.append(
            f"Could not restore {title}: {where} is damaged ({exc.reason}); {what}."
        )

    def _set_aside_unnamed(self) -> str | None:
        """Move the piece files no restored piece came from into the set-aside folder (never
        deleted: a piece the musician made may be in one); what was done, as a clause."""
        try:
            names = sorted(n for n in os.listdir(self.folder) if PIECE_FILE.fullmatch(n))
        except OSError:
            return None
        names = [n for n in names if n not in self._files and n not in self._borrowed]
        if not names:
            return None
        aside = self.folder / SET_ASIDE
        files = f"{len(names)} piece file{'s' if len(names) > 1 else ''} no entry names"
        try:
            for name in names:
                move_aside(self.folder / name, aside)
        except OSError as exc:
            return f"{files} could not be moved into {aside} ({exc.strerror or exc}) and stay"
        return f"{files} {'are' if len(names) > 1 else 'is'} kept in {aside}"

    def _set_aside(self, path: Path, reason: str) -> None:
        """Keep a damaged session.json as session.json.damaged-<time>; the session starts empty."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = path.with_name(f"{DAMAGED_PREFIX}{stamp}")
        counter = 1
        while os.path.lexists(aside):
            counter += 1
            aside = path.with_name(f"{DAMAGED_PREFIX}{stamp}-{counter}")
        try:
            os.rename(path, aside)
        except OSError as exc:
            self.warnings.append(
                f"The autosaved session {path} could not be restored ({reason}) nor moved aside "
                f"({exc.strerror or exc}); the session starts empty."
            )
            return
        files = self._set_aside_unnamed()
        self.warnings.append(
            f"The autosaved session {path} could not be restored ({reason}); it is kept as "
            f"{aside.name}{f', {files},' if files else ''} and the session starts empty."
        )


def _file_of(entry: object, folder: Path, finder: FileFinder) -> Path | None:
    """The piece file in `folder` an entry that could not be restored belongs to: the one it
    names, else one with its checksum (a save's temporary file too, which the next save would
    delete); None when there is none."""
    if not isinstance(entry, dict):
        return None
    name, sha, size = entry.get("file"), entry.get("sha256"), entry.get("size")
    if isinstance(name, str) and PIECE_FILE.fullmatch(name) and os.path.lexists(folder / name):
        return folder / name
    if isinstance(sha, str) and type(size) is int:
        found = finder.find(sha, size)
        if found is not None:
            return found[0]
    return None
