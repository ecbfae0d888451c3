"""A piece on screen as a document: its notes, where it came from, and whether it holds changes
that were not saved yet.

Whether a piece is modified is decided by states, not by counting edits: every undo command takes
a fresh state number when it is made, sets it on redo and puts the previous one back on undo. A
piece is modified while its state differs from the one it had when last exported (or opened), so
undoing back to that point makes it clean again, as in any editor.
"""

from __future__ import annotations

import itertools
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from composer.app.piece.notes import NoteModel

_states = itertools.count(1)


class SaveAnswer(str, Enum):
    """What the musician answers about a piece with changes not saved. A str, so that the
    tests' answers ("discard") and these compare equal."""

    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


def new_state() -> int:
    """A state number never used before in this process."""
    return next(_states)


class PieceDocument(QObject):
    """One open piece. `model` holds its notes; edits go through `push` onto the window's undo
    stack. `busy` is set while notes are still streaming in (a generation): no edits then."""

    modified_changed = Signal(bool)
    title_changed = Signal(str)
    reveal_requested = Signal()  # an undo or redo changed this piece: show it
    active_track_changed = Signal()

    def __init__(
        self,
        undo_stack: QUndoStack,
        title: str,
        *,
        source: Path | None = None,
        metadata: dict | None = None,
        modified: bool = False,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.undo_stack = undo_stack
        self.model = NoteModel(self)
        self._title = title
        self.source = source  # the MIDI file it was opened from
        self.export_path: Path | None = None  # where it was last exported
        self.metadata = dict(metadata or {})  # how it was made: model, settings, seed
        self.busy = False
        #: While some bars are regenerated (regeneration.py): the Regeneration, else None.
        self.regeneration = None
        #: The track drawing and pasting go into (an index into model.tracks), chosen in the
        #: Tracks panel; None: none chosen (a new note takes the selected notes' track).
        self._active_track: int | None = None
        self.model.tracks_changed.connect(self._check_active_track)
        self._state = new_state()
        # A generated piece was never saved anywhere: it starts modified. An opened file is
        # clean until edited.
        self._saved_state = -1 if modified else self._state

    @property
    def title(self) -> str:
        return self._title

    def set_title(self, title: str) -> None:
        """A new name for the tab (the file it was saved as)."""
        if title != self._title:
            self._title = title
            self.title_changed.emit(title)

    @property
    def active_track(self) -> int | None:
        return self._active_track

    def set_active_track(self, index: int | None) -> None:
        if index is not None and not 0 <= index < len(self.model.tracks):
            index = None
        if index != self._active_track:
            self._active_track = index
            self.active_track_changed.emit()

    def _check_active_track(self) -> None:
        """A track edit may have removed the active track: then none is active."""
        self.set_active_track(self._active_track)

    @property
    def modified(self) -> bool:
        """Whether it holds changes not exported (or never was exported, when generated)."""
        return self._state != self._saved_state

    @property
    def state(self) -> int:
        return self._state

    def set_state(self, state: int) -> None:
        """Called by undo commands (redo: their new state; undo: the one before them)."""
        was = self.modified
        self._state = state
        if self.modified != was:
            self.modified_changed.emit(self.modified)

    def mark_saved(self, path: Path | None = None) -> None:
        """The piece as it is now was written to `path`: it is not modified any more."""
        if path is not None:
            self.export_path = Path(path)
        was = self.modified
        self._saved_state = self._state
        if was:
            self.modified_changed.emit(False)

    def mark_modified(self) -> None:
        """Treat the current state as never saved (a restored session said so)."""
        was = self.modified
        self._saved_state = -1
        if not was:
            self.modified_changed.emit(True)

    def push(self, command: QUndoCommand) -> None:
        """Do `command` and put it on the undo stack (refused while the piece is generating)."""
        if not self.busy:
            self.undo_stack.push(command)
