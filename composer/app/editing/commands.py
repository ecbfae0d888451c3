"""Undo commands: every change to a piece, and every generation, is one of these.

Following Qt's Undo Framework, `redo()` does the change (QUndoStack.push calls it at once) and
`undo()` reverses it exactly: the rows a command saved go back where they were, so a sequence of
edits undone returns the notes byte for byte. A drag pushes a command on every mouse move; the
moves of one drag share a merge key and `mergeWith` folds them into one step.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QUndoCommand

from composer.app.document import PieceDocument, new_state

MERGE_ID = 1  # QUndoCommand.id() of commands that may merge (same id and merge key)


class NoteCommand(QUndoCommand):
    """Base: remembers the document's state before and after, and selects what it touched."""

    def __init__(self, document: PieceDocument, text: str):
        super().__init__(text)
        self.document = document
        self.state_before = document.state
        self.state_after = new_state()

    def redo(self) -> None:
        self.apply()
        self.document.set_state(self.state_after)
        self.document.reveal_requested.emit()

    def undo(self) -> None:
        self.revert()
        self.document.set_state(self.state_before)
        self.document.reveal_requested.emit()

    def apply(self) -> None:
        raise NotImplementedError

    def revert(self) -> None:
        raise NotImplementedError


class ChangeNotes(NoteCommand):
    """Notes changed in place (moved, resized, transposed, quantised, new velocity).

    `indices` are row indices into the document's NoteModel; `before` and `after` the rows
    (ROLL_DTYPE) at those indices. Commands with the same `merge_key` (not None) and the same
    indices merge: the drag of one gesture is one undo step.
    """

    def __init__(self, document, indices, before, after, text: str, merge_key=None, select=True):
        super().__init__(document, text)
        self.indices = np.asarray(indices, np.int64)
        self.before, self.after = before.copy(), after.copy()
        self.merge_key = merge_key
        self.select = select  # select the changed notes (not for velocities: see velocity_lane)

    def id(self) -> int:
        return MERGE_ID if self.merge_key is not None else -1

    def mergeWith(self, other) -> bool:
        if (
            not isinstance(other, ChangeNotes)
            or other.merge_key != self.merge_key
            or other.document is not self.document
        ):
            return False
        if np.array_equal(other.indices, self.indices):  # a drag: the same notes each time
            self.after = other.after
        else:
            self._merge_rows(other)
        self.state_after = other.state_after
        if np.array_equal(self.after, self.before):
            # Dragged back to where it started: no step at all, and the piece is as it was.
            self.setObsolete(True)
            self.document.set_state(self.state_before)
        return True

    def _merge_rows(self, other: ChangeNotes) -> None:
        """Take in `other`'s rows, which may be other notes (the velocity lane's drag).
        Both address rows of the same notes array (no note was added or removed between)."""
        indices = np.union1d(self.indices, other.indices)
        mine, theirs = (
            np.searchsorted(indices, self.indices),
            np.searchsorted(indices, other.indices),
        )
        before, after = (
            np.empty(len(indices), self.before.dtype),
            np.empty(len(indices), self.after.dtype),
        )
        before[theirs], before[mine] = other.before, self.before  # the older "before" wins
        after[mine], after[theirs] = self.after, other.after  # the newer "after" wins
        self.indices, self.before, self.after = indices, before, after

    def apply(self) -> None:
        self.document.model.replace_rows(self.indices, self.after)
        if self.select:
            self.document.model.select(self.indices)

    def revert(self) -> None:
        self.document.model.replace_rows(self.indices, self.before)
        if self.select:
            self.document.model.select(self.indices)


class AddNotes(NoteCommand):
    """New notes (drawn, pasted, duplicated), added after all others and selected."""

    def __init__(self, document, rows: np.ndarray, text: str):
        super().__init__(document, text)
        self.rows = rows.copy()
        self.indices: np.ndarray | None = None

    def apply(self) -> None:
        self.indices = self.document.model.insert_rows(self.rows)
        self.document.model.select(self.indices)

    def revert(self) -> None:
        self.document.model.remove_rows(self.indices)


class RemoveNotes(NoteCommand):
    """Notes deleted (or cut); undo puts them back at their rows, selected."""

    def __init__(self, document, indices, text: str):
        super().__init__(document, text)
        self.indices = np.unique(np.asarray(indices, np.int64))
        self.rows: np.ndarray | None = None

    def apply(self) -> None:
        self.rows = self.document.model.remove_rows(self.indices)

    def revert(self) -> None:
        self.document.model.insert_rows(self.rows, at=self.indices)
        self.document.model.select(self.indices)


class DocumentsCommand(QUndoCommand):
    """Pieces opened as tabs (a generation's variations, an opened file) or closed.

    `documents` appear at tab `index` on redo and go on undo (`opening=True`), or the other way
    round for closing. The window supplies `add(documents, index)` and `remove(documents)`.
    With `done=True` the first redo does nothing: the tabs are already there (a generation opens
    its tabs when it starts, and becomes one undo step when it ends).
    """

    def __init__(self, window, documents, index: int, text: str, opening=True, done=False):
        super().__init__(text)
        self.window, self.documents, self.index = window, list(documents), index
        self.opening, self._skip = opening, done

    def redo(self) -> None:
        if self._skip:
            self._skip = False
        elif self.opening:
            self.window.add_documents(self.documents, self.index)
        else:
            self.window.remove_documents(self.documents)

    def undo(self) -> None:
        if self.opening:
            self.window.remove_documents(self.documents)
        else:
            self.window.add_documents(self.documents, self.index)


class TrackEdit(NoteCommand):
    """A change to the tracks (editing/track_edits.py): a track added, deleted, duplicated,
    renamed or given another instrument, or notes moved to another track. It keeps the whole
    piece before and after, so undo gives back the same bytes whatever the edit did to the rows.
    Mute, solo and rewrite are not part of it: each track keeps the ones it has when the edit is
    undone or redone (`origin`: per track after the edit, the track it was before, None if
    new)."""

    def __init__(self, document, text: str, rows: np.ndarray, tracks, origin):
        super().__init__(document, text)
        model = document.model
        self.before = (model.notes.copy(), tuple(model.tracks))
        self.after = (rows.copy(), tuple(tracks))
        self.origin = list(origin)

    def apply(self) -> None:
        live = self.document.model.tracks
        tracks = [
            t.mixed_as(live[o] if o is not None and o < len(live) else None)
            for t, o in zip(self.after[1], self.origin)
        ]
        self.document.model.replace_everything(self.after[0], tracks)

    def revert(self) -> None:
        live = self.document.model.tracks
        now_at = {o: i for i, o in enumerate(self.origin) if o is not None}
        tracks = [
            t.mixed_as(live[now_at[i]] if i in now_at and now_at[i] < len(live) else None)
            for i, t in enumerate(self.before[1])
        ]
        self.document.model.replace_everything(self.before[0], tracks)
