"""The notes a piano roll shows: one NumPy structured array, cheap to append to and to query.

Times are MIDI ticks. Rows live in a buffer that doubles its capacity when full, so streaming notes
in from a generator costs amortised O(rows appended). `visible()` needs the notes sorted by start;
while notes arrive in start order the buffer itself is that order, otherwise a sorted copy is
rebuilt lazily, once per query after a change, never once per append.

Editing (`replace_rows`, `insert_rows`, `remove_rows`) addresses notes by their row in that buffer.
Undo commands rely on it: a command's indices are valid in the state it was made in, and undoing
restores that state byte for byte (removed rows go back to the rows they came from), so commands
undone and redone in stack order always find their notes where they left them. A boolean mask
parallel to the rows holds the selection.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from composer.app.piece.tracks import TrackInfo, audible, fitted_tracks, new_track
from composer.core.midi.piece import (
    TIME_SIGNATURE_DTYPE,
    Piece,
    Track,
    make_notes,
    make_tempos,
)

#: One note: start and end in ticks, MIDI pitch, velocity, General MIDI program, drum or not
#: (its track's instrument, kept on the note for drawing and playing), and its track: an index
#: into NoteModel.tracks.
NOTE_FIELDS = [
    ("start", "<i8"),
    ("end", "<i8"),
    ("pitch", "<i2"),
    ("velocity", "<i2"),
    ("program", "<i2"),
    ("drum", "?"),
    ("track", "<i2"),
]
ROLL_DTYPE = np.dtype(NOTE_FIELDS)
#: The fields a note row had before tracks (older sessions and clipboards): a row without its
#: track goes to the first track of its instrument (tracks.fitted_tracks).
INSTRUMENT_FIELDS = tuple(name for name, _ in NOTE_FIELDS if name != "track")


class NoteModel(QObject):
    """Notes to display, with the piece's resolution, tempo map and time signatures.

    Signals: `changed()` when everything was replaced (set_piece, set_notes, clear);
    `notes_added(first, count)` after `append`, the new rows being `notes[first:first + count]`;
    `edited()` after an edit (rows replaced, inserted or removed); `selection_changed()`;
    `tracks_changed()` when the track list changed (a track added, renamed, muted...).
    Use it from the GUI thread only (post streamed notes to it with a queued signal).
    """

    changed = Signal()
    notes_added = Signal(int, int)
    edited = Signal()
    selection_changed = Signal()
    tracks_changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._ticks_per_beat = 480
        self._tempos = make_tempos()
        self._time_signatures = np.array([(0, 4, 4)], dtype=TIME_SIGNATURE_DTYPE)
        self._tracks: tuple[TrackInfo, ...] = ()
        self._reset(np.empty(0, ROLL_DTYPE))

    def _reset(self, rows: np.ndarray) -> None:
        """Replace all storage by `rows` (already sorted by start)."""
        self._buffer = rows
        self._starts = np.ascontiguousarray(rows["start"])  # searchsorted wants a plain column
        self._selected = np.zeros(len(rows), bool)
        self._count = len(rows)
        self._in_order = True  # buffer[:count] is sorted by start
        # (row indices in start order, their starts, the rows) when the buffer is not in order.
        self._sorted: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        # The longest note bounds how far before a window a note that reaches into it can start.
        self._max_length = int(_lengths(rows).max()) if len(rows) else 1
        self._end_tick = int(rows["end"].max()) if len(rows) else 0

    # --- replacing everything -----------------------------------------------------------------

    def set_piece(self, piece: Piece) -> None:
        """Show all notes of a composer Piece, one track per track of the piece (named as it
        is, empty ones too); keeps its tempo map and time signatures."""
        parts, tracks = [], []
        for index, track in enumerate(piece.tracks):
            rows = np.empty(len(track.notes), ROLL_DTYPE)
            for name in ("start", "end", "pitch", "velocity"):
                rows[name] = track.notes[name]
            rows["program"], rows["drum"] = track.program, track.is_drum
            rows["track"] = index
            parts.append(rows)
            info = new_track(tracks, track.program, track.is_drum, track.name or track.label)
            tracks.append(info)
        self._ticks_per_beat = piece.ticks_per_beat
        self._tempos = piece.tempos.copy()
        self._time_signatures = piece.time_signatures.copy()
        self._tracks = tuple(tracks)
        self._replace(np.concatenate(parts) if parts else np.empty(0, ROLL_DTYPE))
        self.changed.emit()
        self.tracks_changed.emit()

    def set_notes(
        self,
        notes: np.ndarray,
        ticks_per_beat: int,
        *,
        tempos: np.ndarray | None = None,
        time_signatures: np.ndarray | None = None,
        tracks=None,
    ) -> None:
        """Show `notes` (any array with the NOTE_FIELDS names; copied) at `ticks_per_beat`.
        tracks: their TrackInfo list; without it, or for notes without a "track" field (an older
        session), each note goes to a track of its instrument."""
        if ticks_per_beat <= 0:
            raise ValueError(f"ticks_per_beat must be positive, got {ticks_per_beat}")
        rows = np.empty(len(notes), ROLL_DTYPE)
        for name in INSTRUMENT_FIELDS:
            rows[name] = notes[name]
        if "track" in (notes.dtype.names or ()):
            rows["track"] = notes["track"]
        else:
            rows["track"] = -1
        rows["track"], tracks = fitted_tracks(rows, tracks or ())
        self._tracks = tuple(tracks)
        self._ticks_per_beat = int(ticks_per_beat)
        self._tempos = make_tempos() if tempos is None else tempos.copy()
        self._time_signatures = (
            np.array([(0, 4, 4)], dtype=TIME_SIGNATURE_DTYPE)
            if time_signatures is None
            else time_signatures.copy()
        )
        self._replace(rows)
        self.changed.emit()
        self.tracks_changed.emit()

    def clear(self) -> None:
        """Remove every note (the resolution, tempo map, time signatures and tracks stay)."""
        self._reset(np.empty(0, ROLL_DTYPE))
        self.changed.emit()

    def _replace(self, rows: np.ndarray) -> None:
        # Start, then pitch: the order a reader expects and that `notes` promises after a load.
        self._reset(rows[np.lexsort((rows["pitch"], rows["start"]))])

    # --- streaming ----------------------------------------------------------------------------

    def append(self, rows) -> None:
        """Add notes: a list of (start_tick, end_tick, pitch, velocity, program, is_drum) tuples
        (each goes to the first track of its instrument, a new one if none plays it), or rows
        with their track (ROLL_DTYPE, as an array or tuples). Amortised O(len(rows)): the buffer
        grows by doubling."""
        listed = None if isinstance(rows, np.ndarray) else list(rows)
        if listed is not None and listed and len(listed[0]) == len(ROLL_DTYPE.names):
            rows, listed = np.array(listed, ROLL_DTYPE), None  # rows with their track
        if listed is not None:
            if not listed:
                return
            new = np.zeros(len(listed), ROLL_DTYPE)
            plain = np.array(listed, dtype=[(n, ROLL_DTYPE[n]) for n in INSTRUMENT_FIELDS])
            for name in INSTRUMENT_FIELDS:
                new[name] = plain[name]
            new["track"] = -1
        else:
            new = rows.astype(ROLL_DTYPE)  # a copy: the track may be set below
        new["track"], tracks = fitted_tracks(new, self._tracks)
        self.set_tracks(tracks)
        if len(new) == 0:
            return
        first, total = self._count, self._count + len(new)
        if total > len(self._buffer):
            capacity = max(total, 2 * len(self._buffer), 256)
            self._buffer = _grown(self._buffer, self._count, capacity)
            self._starts = _grown(self._starts, self._count, capacity)
            self._selected = _grown(self._selected, self._count, capacity)
        self._selected[first:total] = False
        self._buffer[first:total] = new
        self._starts[first:total] = new["start"]
        starts = new["start"]
        if self._in_order and (
            (first and starts[0] < self._starts[first - 1]) or np.any(starts[1:] < starts[:-1])
        ):
            self._in_order = False
        self._sorted = None
        self._count = total
        self._max_length = max(self._max_length, int(_lengths(new).max()))
        self._end_tick = max(self._end_tick, int(new["end"].max()))
        self.notes_added.emit(first, len(new))

    # --- reading ------------------------------------------------------------------------------

    @property
    def notes(self) -> np.ndarray:
        """All notes (ROLL_DTYPE), in the order they were appended; sorted by start after a
        set_piece or set_notes. A read-only view: copy it to keep it."""
        view = self._buffer[: self._count]
        view.flags.writeable = False
        return view

    def __len__(self) -> int:
        return self._count

    @property
    def ticks_per_beat(self) -> int:
        """MIDI resolution of the ticks: ticks per quarter note."""
        return self._ticks_per_beat

    @property
    def end_tick(self) -> int:
        """The tick at which the last note ends (0 without notes)."""
        return self._end_tick

    @property
    def tempos(self) -> np.ndarray:
        """The tempo map (TEMPO_DTYPE) of the piece last set, or 120 BPM."""
        return self._tempos

    @property
    def time_signatures(self) -> np.ndarray:
        """Time signatures (TIME_SIGNATURE_DTYPE) of the piece last set, or 4/4."""
        return self._time_signatures

    @property
    def tracks(self) -> tuple[TrackInfo, ...]:
        """The piece's tracks, in order; a note's "track" is an index into them."""
        return self._tracks

    def set_tracks(self, tracks) -> None:
        """Replace the track list (the track commands and mute/solo call this; notes must only
        name tracks that are there)."""
        tracks = tuple(tracks)
        if tracks != self._tracks:
            self._tracks = tracks
            self.tracks_changed.emit()

    def track_counts(self) -> np.ndarray:
        """Notes per track (int64, one per track)."""
        return np.bincount(
            self._buffer["track"][: self._count].astype(np.int64), minlength=len(self._tracks)
        )[: len(self._tracks)]

    def replace_everything(self, rows: np.ndarray, tracks) -> None:
        """Make `rows` (ROLL_DTYPE, in this row order) and `tracks` the piece's (a track edit
        and its undo): the selection is cleared."""
        self._tracks = tuple(tracks)
        self._set_rows(np.array(rows, ROLL_DTYPE), np.zeros(len(rows), bool))
        self.tracks_changed.emit()

    def pitch_range(self) -> tuple[int, int] | None:
        """Lowest and highest pitch of any note (drums included), or None without notes."""
        if not self._count:
            return None
        pitches = self._buffer["pitch"][: self._count]
        return int(pitches.min()), int(pitches.max())

    def sorted_notes(self) -> np.ndarray:
        """All notes sorted by start tick."""
        return self._sorted_columns()[2]

    def _sorted_columns(self) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """(row indices in start order, or None when the buffer is in order; the sorted starts;
        the rows in that order). Out of order, the sorted copy is made once per change."""
        if self._in_order:
            return None, self._starts[: self._count], self._buffer[: self._count]
        if self._sorted is None:
            starts = self._starts[: self._count]
            order = np.argsort(starts, kind="stable")
            self._sorted = (order, starts[order], self._buffer[: self._count][order])
        return self._sorted

    def _window(self, t0: float, t1: float) -> tuple[slice | np.ndarray, np.ndarray]:
        """(rows of the notes starting in [t0 - longest note, t1) as a slice of the buffer or
        an index array, those rows: a view, not a copy) with a binary search on the starts."""
        order, starts, rows = self._sorted_columns()
        # A note starting at or before t0 - max_length ends by t0: binary search skips them all.
        lo = int(np.searchsorted(starts, t0 - self._max_length, side="right"))
        hi = int(np.searchsorted(starts, t1, side="left"))
        return (slice(lo, hi) if order is None else order[lo:hi]), rows[lo:hi]

    @staticmethod
    def _keep(window: np.ndarray, t0: float, low_pitch: int, high_pitch: int) -> np.ndarray:
        pitch = window["pitch"]
        return (_ends(window) > t0) & (pitch >= low_pitch) & (pitch <= high_pitch)

    def visible_indices(
        self, t0: float, t1: float, low_pitch: int = 0, high_pitch: int = 127
    ) -> np.ndarray:
        """Row indices (in start order) of the notes that overlap ticks [t0, t1) and whose pitch
        is in [low_pitch, high_pitch]. A note of zero length counts as one tick long."""
        where, window = self._window(t0, t1)
        index = np.arange(where.start, where.stop) if isinstance(where, slice) else where
        return index[self._keep(window, t0, low_pitch, high_pitch)]

    def visible(
        self, t0: float, t1: float, low_pitch: int = 0, high_pitch: int = 127
    ) -> np.ndarray:
        """The notes (ROLL_DTYPE, sorted by start) of `visible_indices`."""
        return self.visible_with_selection(t0, t1, low_pitch, high_pitch)[0]

    def visible_with_selection(
        self, t0: float, t1: float, low_pitch: int = 0, high_pitch: int = 127
    ) -> tuple[np.ndarray, np.ndarray]:
        """The notes of `visible` and whether each is selected (for painting: one copy of the
        rows, not two)."""
        where, window = self._window(t0, t1)
        keep = self._keep(window, t0, low_pitch, high_pitch)
        return window[keep], self._selected[: self._count][where][keep]

    # --- editing (undo commands call these; see the module docstring) ---------------------------

    def replace_rows(self, indices: np.ndarray, rows: np.ndarray) -> None:
        """Overwrite the notes at row `indices` with `rows` (ROLL_DTYPE, same length)."""
        indices = np.asarray(indices, np.int64)
        self._buffer[indices] = rows
        self._starts[indices] = rows["start"]
        self._after_edit()

    def insert_rows(self, rows: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
        """Insert notes so that they end up at row indices `at` (sorted ascending; the rows a
        `remove_rows` took them from), or after all others when `at` is None. Returns their
        indices."""
        count = self._count
        if at is None:
            at = np.arange(count, count + len(rows))
        at = np.asarray(at, np.int64)
        # np.insert places each row before the given position of the shorter array: the k-th
        # row's final index minus the k rows inserted before it.
        positions = at - np.arange(len(at))
        self._set_rows(
            np.insert(self._buffer[:count], positions, rows),
            np.insert(self._selected[:count], positions, False),
        )
        return at

    def remove_rows(self, indices: np.ndarray) -> np.ndarray:
        """Delete the notes at row `indices` (sorted ascending); returns them (a copy)."""
        indices = np.asarray(indices, np.int64)
        removed = self._buffer[indices].copy()
        count = self._count
        self._set_rows(
            np.delete(self._buffer[:count], indices), np.delete(self._selected[:count], indices)
        )
        return removed

    def _set_rows(self, rows: np.ndarray, selected: np.ndarray) -> None:
        self._buffer, self._selected, self._count = rows, selected, len(rows)
        self._starts = np.ascontiguousarray(rows["start"])
        self._after_edit()

    def _after_edit(self) -> None:
        rows = self._buffer[: self._count]
        starts = self._starts[: self._count]
        self._in_order = bool(np.all(starts[1:] >= starts[:-1]))
        self._sorted = None
        self._max_length = int(_lengths(rows).max()) if len(rows) else 1
        self._end_tick = int(rows["end"].max()) if len(rows) else 0
        self.edited.emit()

    # --- selection ------------------------------------------------------------------------------

    def selected_indices(self) -> np.ndarray:
        """Row indices of the selected notes, ascending."""
        return np.flatnonzero(self._selected[: self._count])

    def selected_mask(self) -> np.ndarray:
        """One boolean per row (read-only view)."""
        view = self._selected[: self._count]
        view.flags.writeable = False
        return view

    def select(self, indices=(), *, add: bool = False, toggle: bool = False) -> None:
        """Select the notes at `indices`: instead of the selection, added to it, or toggled."""
        mask = self._selected[: self._count]
        before = mask.copy()
        indices = np.asarray(indices, np.int64)
        if toggle:
            mask[indices] = ~mask[indices]
        else:
            if not add:
                mask[:] = False
            mask[indices] = True
        if not np.array_equal(before, mask):
            self.selection_changed.emit()

    def select_all(self) -> None:
        self.select(np.arange(self._count))

    def clear_selection(self) -> None:
        self.select(())

    def note_at(self, tick: float, pitch: int) -> int | None:
        """Row index of the note at `pitch` sounding at `tick` (the latest-starting one when
        several are), or None."""
        found = self.visible_indices(tick, tick + 1, pitch, pitch)
        if len(found) == 0:
            return None
        return int(found[-1])  # sorted by start: the last one is drawn on top

    def to_piece(self, audible_only: bool = False) -> Piece:
        """A composer Piece: one Track per track, in order, with its name and instrument (empty
        tracks too), same resolution, tempo map and time signatures. audible_only: leave out
        the tracks that mute and solo silence (what playback plays)."""
        rows = self.sorted_notes()
        tracks = []
        heard = audible(self._tracks)
        for index, info in enumerate(self._tracks):
            if audible_only and not heard[index]:
                continue
            part = rows[rows["track"] == index]
            notes = make_notes(
                part["start"],
                np.maximum(part["end"], part["start"]),
                np.clip(part["pitch"], 0, 127),
                np.clip(part["velocity"], 1, 127),
            )
            tracks.append(Track(int(np.clip(info.program, 0, 127)), info.drum, info.name, notes))
        return Piece(
            self._ticks_per_beat,
            tracks,
            tempos=self._tempos.copy(),
            time_signatures=self._time_signatures.copy(),
        )


def _ends(rows: np.ndarray) -> np.ndarray:
    """End ticks, with a zero-length note lasting one tick (so it is found and drawn)."""
    return np.maximum(rows["end"], rows["start"] + 1)


def _lengths(rows: np.ndarray) -> np.ndarray:
    return _ends(rows) - rows["start"]


def _grown(array: np.ndarray, used: int, capacity: int) -> np.ndarray:
    """A copy of array[:used] with room for `capacity` rows."""
    bigger = np.empty(capacity, array.dtype)
    bigger[:used] = array[:used]
    return bigger
