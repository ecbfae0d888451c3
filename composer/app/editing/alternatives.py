"""Alternatives for some bars of a piece, shown in place one at a time; one kept is one undo step.

Times are MIDI ticks. The notes that start in the bars [start, end) are the ones an alternative
replaces (as `SpanFiller` rewrites them); every other note stays in its row. Showing an
alternative takes those rows out and appends the alternative's notes with the note model's own
row edits, the ones the undo commands use, so putting the original back returns the very same
bytes to the very same rows and the undo history stays valid. Nothing goes on the undo stack
until an alternative is kept: then the original comes back for an instant and the change is
pushed as RemoveNotes + AddNotes in one macro, which leaves exactly what was shown.
"""

from __future__ import annotations

import numpy as np

from composer.app.editing.commands import AddNotes, RemoveNotes, TrackEdit
from composer.app.piece.notes import ROLL_DTYPE
from composer.app.piece.tracks import new_track
from composer.core.midi.piece import Piece
from composer.core.midi.timeline import Timeline


def whole_bars(piece: Piece, start: int, end: int) -> tuple[int, int, int, int]:
    """The bars that ticks [start, end) touch: (first tick, end tick, first bar, last bar), bars
    counted from 1 by the piece's time signatures."""
    timeline = Timeline(piece.ticks_per_beat, piece.tempos, piece.time_signatures)
    first = timeline.bar_beat(start).bar
    last = max(timeline.bar_beat(max(end - 1, start)).bar, first)
    return timeline.tick_of(first), timeline.tick_of(last + 1), first, last


def bars_text(first: int, last: int) -> str:
    """'bar 5' or 'bars 9–12'."""
    return f"bar {first}" if first == last else f"bars {first}–{last}"


def rows_in_span(piece: Piece, start: int, end: int) -> np.ndarray:
    """The notes of `piece` that start in [start, end), as note-model rows sorted by start and
    pitch (each takes its track's instrument, and its index in piece.tracks as its track: a
    piece written from NoteModel.to_piece keeps its tracks in order, new parts after them)."""
    parts = []
    for index, track in enumerate(piece.tracks):
        notes = track.notes[(track.notes["start"] >= start) & (track.notes["start"] < end)]
        rows = np.zeros(len(notes), ROLL_DTYPE)
        for name in ("start", "end", "pitch", "velocity"):
            rows[name] = notes[name]
        rows["program"], rows["drum"], rows["track"] = track.program, track.is_drum, index
        parts.append(rows)
    rows = np.concatenate(parts) if parts else np.empty(0, ROLL_DTYPE)
    return rows[np.lexsort((rows["pitch"], rows["start"]))]


class Alternatives:
    """`choices` (note-model rows, one array per alternative) for the bars [start, end) of
    `document`, which must not change otherwise while they are shown (the window keeps the piece
    busy). `shown` is the alternative in the piano roll, or None while the original is."""

    def __init__(self, document, start: int, end: int, choices: list[np.ndarray], pieces=None):
        """pieces: the whole pieces the choices were cut from (rows_in_span), whose tracks after
        the document's own are new parts: shown with the choice, kept with it."""
        self.document, self.start, self.end = document, int(start), int(end)
        self.choices = [c.copy() for c in choices]
        notes = document.model.notes
        self.indices = np.flatnonzero((notes["start"] >= start) & (notes["start"] < end))
        self.original = notes[self.indices].copy()
        self.original_tracks = tuple(document.model.tracks)
        self.tracks = [self.original_tracks] * len(choices)  # per choice: the tracks it needs
        for k, piece in enumerate(pieces or ()):
            tracks = list(self.original_tracks)
            for track in piece.tracks[len(tracks) :]:
                tracks.append(new_track(tracks, track.program, track.is_drum, track.name or None))
            self.tracks[k] = tuple(tracks)
        self.selected = document.model.selected_indices()
        self.shown: int | None = None
        self._added: np.ndarray | None = None  # the rows the alternative shown occupies

    def __len__(self) -> int:
        return len(self.choices)

    def show(self, index: int) -> None:
        """Put alternative `index` in the bars (in place of the original or another one)."""
        model = self.document.model
        if self._added is not None:
            model.remove_rows(self._added)
        else:
            model.remove_rows(self.indices)
            model.clear_selection()  # the notes keep their instrument colours while auditioned
        model.set_tracks(self.tracks[index])
        self._added = model.insert_rows(self.choices[index])
        self.shown = index

    def restore(self) -> None:
        """Put the original back, byte for byte, with the notes that were selected."""
        if self._added is None:
            return
        model = self.document.model
        model.remove_rows(self._added)
        model.set_tracks(self.original_tracks)
        model.insert_rows(self.original, at=self.indices)
        model.select(self.selected)
        self._added, self.shown = None, None

    def keep(self, text: str) -> bool:
        """Make the alternative shown part of the piece as one undo step named `text`; False
        (and nothing done) when it changes nothing."""
        index = self.shown
        self.restore()
        if index is None:
            return False
        rows, tracks = self.choices[index], self.tracks[index]
        if np.array_equal(rows, self.original):
            return False
        stack = self.document.undo_stack
        stack.beginMacro(text)
        if tracks != self.original_tracks:  # a new part: its track first
            notes = self.document.model.notes
            origin = list(range(len(self.original_tracks)))
            origin += [None] * (len(tracks) - len(origin))
            stack.push(TrackEdit(self.document, text, notes, tracks, origin))
        stack.push(RemoveNotes(self.document, self.indices, text))
        stack.push(AddNotes(self.document, rows, text))
        stack.endMacro()
        return True

    def original_notes(self) -> np.ndarray:
        """Every note of the piece as it was before any alternative was shown (what the
        autosave keeps while the musician chooses)."""
        notes = self.document.model.notes.copy()
        if self._added is None:
            return notes
        kept = np.delete(notes, self._added)
        return np.insert(kept, self.indices - np.arange(len(self.indices)), self.original)
