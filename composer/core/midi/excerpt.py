"""Part of a piece: the notes in a time range, with the tempo and metre in force there."""

from __future__ import annotations

import numpy as np

from composer.core.midi.piece import Piece, Track, make_notes


def _in_force(changes: np.ndarray, start: int, end: int) -> np.ndarray:
    """The rows of a tick-sorted change list (tempo or time signature) that apply to [start,
    end), moved so that `start` is tick 0: the last change at or before `start`, then those
    inside the range."""
    ticks = changes["tick"]
    first = max(int(np.searchsorted(ticks, start, side="right")) - 1, 0)
    kept = changes[first : int(np.searchsorted(ticks, end, side="left"))].copy()
    kept["tick"] = np.maximum(kept["tick"] - start, 0)
    return kept


def excerpt(piece: Piece, start: int, end: int) -> Piece:
    """The notes of `piece` that start in ticks [start, end), moved to start at 0 and cut at
    `end`, with the tempo map and time signatures in force over the range (so the excerpt
    plays at the speed it had in the piece). Tracks with no note in the range are left out."""
    tracks = []
    for track in piece.tracks:
        notes = track.notes
        inside = notes[(notes["start"] >= start) & (notes["start"] < end)]
        if len(inside):
            clipped = make_notes(
                inside["start"] - start,
                np.minimum(inside["end"], end) - start,
                inside["pitch"],
                inside["velocity"],
            )
            tracks.append(Track(track.program, track.is_drum, track.name, clipped))
    return Piece(
        piece.ticks_per_beat,
        tracks,
        tempos=_in_force(piece.tempos, start, end),
        time_signatures=_in_force(piece.time_signatures, start, end),
    )
