"""The arithmetic of track edits, on a piece's rows (notes.ROLL_DTYPE) and tracks (TrackInfo):
no Qt, no state. Each returns (rows, tracks, origin): the piece after the edit, and for each of
its tracks the index of the track it was before (None for a new one), which the undo command
uses to carry mute, solo and rewrite across (not part of the edit; see piece/tracks.py).

Rows keep their order but for those removed (np.delete) and those added (at the end), as the
note commands do, so undoing puts back the very same bytes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from composer.app.piece.tracks import MAX_NAME, new_track


def add_track(rows, tracks, program: int, drum: bool, name: str | None = None):
    """An empty track for an instrument, after the others."""
    tracks = list(tracks)
    added = new_track(tracks, program, drum, name)
    return rows.copy(), tracks + [added], list(range(len(tracks))) + [None]


def delete_track(rows, tracks, index: int):
    """Track `index` and its notes gone; the tracks after it move up one."""
    rows = np.delete(rows, np.flatnonzero(rows["track"] == index))
    rows["track"] -= (rows["track"] > index).astype(rows["track"].dtype)
    origin = [i for i in range(len(tracks)) if i != index]
    return rows, [tracks[i] for i in origin], origin


def duplicate_track(rows, tracks, index: int):
    """A copy of track `index` and its notes, right after it, named "… copy"."""
    copied = rows[rows["track"] == index].copy()
    rows = rows.copy()
    rows["track"] += (rows["track"] > index).astype(rows["track"].dtype)
    copied["track"] = index + 1
    source = tracks[index]
    others = list(tracks)
    twin = new_track(others, source.program, source.drum, f"{source.name} copy")
    tracks = others[: index + 1] + [twin] + others[index + 1 :]
    origin = list(range(index + 1)) + [None] + list(range(index + 1, len(others)))
    return np.concatenate([rows, copied]), tracks, origin


def rename_track(rows, tracks, index: int, name: str):
    tracks = list(tracks)
    tracks[index] = replace(tracks[index], name=name[:MAX_NAME])
    return rows.copy(), tracks, list(range(len(tracks)))


def set_instrument(rows, tracks, index: int, program: int, drum: bool):
    """Track `index` plays another instrument: the track and each of its notes."""
    tracks = list(tracks)
    tracks[index] = tracks[index].with_instrument(program, drum)
    rows = rows.copy()
    mine = rows["track"] == index
    rows["program"][mine], rows["drum"][mine] = program, drum
    return rows, tracks, list(range(len(tracks)))


def move_notes(rows, tracks, indices, to: int):
    """The notes at row `indices` go to track `to`, taking its instrument."""
    rows = rows.copy()
    indices = np.asarray(indices, np.int64)
    rows["track"][indices] = to
    rows["program"][indices], rows["drum"][indices] = tracks[to].program, tracks[to].drum
    return rows, list(tracks), list(range(len(tracks)))
