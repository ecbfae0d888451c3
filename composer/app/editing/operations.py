"""What can be done to the notes of a piece, as undoable steps: the piano roll's gestures and the
Edit menu both call these, so a key, a drag and a menu item do exactly the same thing.

Times are MIDI ticks. "The grid" is the grid chosen in the edit toolbar (`EditSettings`), in
ticks of the piece's own resolution.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from composer.app.document import PieceDocument
from composer.app.editing import note_math
from composer.app.editing.commands import AddNotes, ChangeNotes, RemoveNotes
from composer.app.piece.notes import ROLL_DTYPE


class EditSettings(QObject):
    """The editing choices shared by every piano roll of a window: tool, grid, snap, quantise
    strength, and the velocity and instrument a newly drawn note takes."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.tool = "select"  # or "draw"
        self.grid = note_math.DEFAULT_GRID  # a key of note_math.GRIDS
        self.snap = True
        self.quantize_strength = 1.0  # 0-1
        self.velocity = note_math.DEFAULT_VELOCITY

    def update(self, **values) -> None:
        for name, value in values.items():
            if not hasattr(self, name):
                raise AttributeError(name)
            setattr(self, name, value)
        self.changed.emit()

    def step(self, ticks_per_beat: int) -> float:
        """One grid step in ticks at a piece's resolution."""
        return note_math.grid_ticks(ticks_per_beat, note_math.GRIDS[self.grid])


class NoteEditor:
    """Edits one document's notes through its undo stack. Each method is one undo step (or, with
    a `gesture` merge key, part of the step of one drag) and does nothing when there is nothing
    to act on."""

    def __init__(self, document: PieceDocument, settings: EditSettings):
        self.document = document
        self.settings = settings

    @property
    def model(self):
        return self.document.model

    def step(self) -> float:
        return self.settings.step(self.model.ticks_per_beat)

    def _change(self, indices, after, text: str, gesture=None, select=True) -> None:
        indices = np.asarray(indices, np.int64)
        if len(indices) == 0:
            return
        before = self.model.notes[indices]
        if gesture is None and np.array_equal(before, after):
            return  # nothing would change: no empty undo step
        command = ChangeNotes(self.document, indices, before, after, text, gesture, select)
        self.document.push(command)

    # --- the selection ------------------------------------------------------------------------
    def move(self, indices, origin: np.ndarray, dt: int, dp: int, gesture=None) -> None:
        """Set notes `indices` to `origin` (their rows when the drag began) moved by dt ticks
        and dp semitones."""
        self._change(indices, note_math.moved(origin, dt, dp), "Move notes", gesture)

    def nudge(self, dt_steps: int = 0, dp: int = 0) -> None:
        """Move the selected notes by whole grid steps and semitones (the arrow keys)."""
        indices = self.model.selected_indices()
        rows = self.model.notes[indices]
        dt = round(dt_steps * self.step())
        text = "Transpose notes" if dp and not dt else "Move notes"
        self._change(indices, note_math.moved(rows, dt, dp), text)

    def transpose(self, semitones: int) -> None:
        self.nudge(0, semitones)

    def resize(self, indices, origin: np.ndarray, d_end: int, gesture=None) -> None:
        """Set notes `indices` to `origin` with their ends moved by d_end ticks."""
        self._change(indices, self.resized_rows(origin, d_end), "Change note lengths", gesture)

    def resized_rows(self, origin: np.ndarray, d_end: int) -> np.ndarray:
        """`origin` with ends moved by d_end ticks, none shorter than a grid step (a tick
        when not snapping)."""
        min_length = max(round(self.step()) if self.settings.snap else 1, 1)
        return note_math.resized(origin, d_end, min_length)

    def set_velocities(self, indices, velocities, gesture=None) -> None:
        indices = np.asarray(indices, np.int64)
        after = note_math.with_velocity(self.model.notes[indices], velocities)
        self._change(indices, after, "Change velocities", gesture, select=False)
        if len(indices):
            self.settings.velocity = int(after["velocity"][-1])

    def quantize(self) -> None:
        """Quantise the selected notes to the grid; with none selected, the active track's
        notes (every note when no track is active)."""
        indices = self.model.selected_indices()
        if len(indices) == 0:
            track = self.document.active_track
            every = np.arange(len(self.model))
            indices = every if track is None else every[self.model.notes["track"] == track]
        rows = self.model.notes[indices]
        after = note_math.quantized(rows, self.step(), self.settings.quantize_strength)
        notes = self.model.notes.copy()
        notes[indices] = after
        stacked = note_math.stacked(notes, indices)
        if not len(stacked):
            self._change(indices, after, "Quantize notes")
            return
        # Notes of one pitch pulled onto one onset in one track would sound as one, with two
        # note-ons in the exported file: the longest stays, the others go, in the same step.
        stack = self.document.undo_stack
        stack.beginMacro("Quantize notes")
        self._change(indices, after, "Quantize notes")
        self.document.push(RemoveNotes(self.document, stacked, "Quantize notes"))
        stack.endMacro()

    def delete(self) -> None:
        indices = self.model.selected_indices()
        if len(indices):
            self.document.push(RemoveNotes(self.document, indices, "Delete notes"))

    def duplicate(self) -> None:
        """Copies of the selected notes right after them, on the grid, selected."""
        rows = self.model.notes[self.model.selected_indices()]
        if len(rows):
            offset = note_math.duplicate_offset(rows, self.step())
            self.add(note_math.moved(rows, offset, 0), "Duplicate notes")

    def add(self, rows: np.ndarray, text: str) -> None:
        if len(rows):
            self.document.push(AddNotes(self.document, rows.astype(ROLL_DTYPE), text))

    def draw(self, tick: int, pitch: int) -> None:
        """A new note at `tick` and `pitch`, one grid step long, with the last velocity, in the
        track a new note goes to (target_track)."""
        row = np.zeros(1, ROLL_DTYPE)
        row["start"], row["end"] = tick, tick + max(round(self.step()), 1)
        row["pitch"], row["velocity"] = pitch, self.settings.velocity
        self._into_track(row, "Draw a note")

    def target_track(self) -> int | None:
        """The track a new note goes to: the active one (the Tracks panel), else the one most
        of the selected notes are in, else the one with the most notes, else the first; None
        for a piece without tracks."""
        if self.document.active_track is not None:
            return self.document.active_track
        notes = self.model.notes
        chosen = notes[self.model.selected_indices()]
        pool = chosen if len(chosen) else notes
        if len(pool) == 0:
            return 0 if self.model.tracks else None
        return int(np.argmax(np.bincount(pool["track"].astype(np.int64))))

    def _into_track(self, rows: np.ndarray, text: str) -> None:
        """Add `rows` to the target track, taking its instrument; a piece without tracks gets
        a piano track first (one undo step with the notes)."""
        track = self.target_track()
        if track is None:
            from composer.app.editing.commands import TrackEdit
            from composer.app.editing.track_edits import add_track

            stack = self.document.undo_stack
            stack.beginMacro(text)
            model = self.model
            self.document.push(
                TrackEdit(self.document, text, *add_track(model.notes, [], 0, False))
            )
            self.document.push(AddNotes(self.document, self._in(rows, 0), text))
            stack.endMacro()
            return
        self.add(self._in(rows, track), text)

    def _in(self, rows: np.ndarray, track: int) -> np.ndarray:
        rows = rows.astype(ROLL_DTYPE)
        info = self.model.tracks[track]
        rows["track"], rows["program"], rows["drum"] = track, info.program, info.drum
        return rows

    def select_all(self) -> None:
        """Select the active track's notes (Ctrl+A), or every note when no track is active."""
        track = self.document.active_track
        if track is None:
            self.model.select_all()
        else:
            self.model.select(np.flatnonzero(self.model.notes["track"] == track))

    # --- clipboard --------------------------------------------------------------------------------
    def copy(self) -> bool:
        """Put the selected notes on the clipboard; False when none is selected."""
        from PySide6.QtGui import QGuiApplication

        from composer.app.editing.clipboard import to_mime

        rows = self.model.notes[self.model.selected_indices()]
        if len(rows) == 0:
            return False
        QGuiApplication.clipboard().setMimeData(to_mime(rows, self.model.ticks_per_beat))
        return True

    def cut(self) -> bool:
        if not self.copy():
            return False
        indices = self.model.selected_indices()
        self.document.push(RemoveNotes(self.document, indices, "Cut notes"))
        return True

    def paste(self, at_tick: int) -> bool:
        """Paste the clipboard's notes starting at `at_tick`; False when it holds none."""
        from PySide6.QtGui import QGuiApplication

        from composer.app.editing.clipboard import from_mime

        rows = from_mime(QGuiApplication.clipboard().mimeData(), self.model.ticks_per_beat, at_tick)
        if rows is None or len(rows) == 0:
            return False
        self._into_track(rows, "Paste notes")
        return True
