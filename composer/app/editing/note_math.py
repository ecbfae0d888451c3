"""The arithmetic of note edits, on arrays of piano-roll rows (ROLL_DTYPE): no Qt, no state.

Times are MIDI ticks, pitches MIDI note numbers 0-127. Every function returns new rows and never
lets a group of notes leave the piece: a move that would push one note before tick 0 or off the
keyboard is shortened for the whole group, so the notes keep their shape.
"""

from __future__ import annotations

import numpy as np

#: The grid choices: name -> notes per whole note (a quarter note is 4, an eighth triplet 12).
GRIDS = {
    "1/4": 4,
    "1/8": 8,
    "1/16": 16,
    "1/32": 32,
    "1/4 triplet": 6,
    "1/8 triplet": 12,
    "1/16 triplet": 24,
}
DEFAULT_GRID = "1/16"
DEFAULT_VELOCITY = 80  # a new note's velocity before the user has touched any


def grid_ticks(ticks_per_beat: int, per_whole: int) -> float:
    """Length in ticks of one grid step: a whole note is 4 quarter notes of `ticks_per_beat`."""
    return 4.0 * ticks_per_beat / per_whole


def snap(ticks, step: float):
    """The nearest multiple of `step` (ticks, scalar or array), as integers, never below 0."""
    return np.maximum(np.round(np.round(np.asarray(ticks, np.float64) / step) * step), 0).astype(
        np.int64
    )


def clamp_move(rows: np.ndarray, dt: int, dp: int) -> tuple[int, int]:
    """The move (ticks, semitones) closest to (dt, dp) that keeps every note at tick >= 0 and
    pitch 0-127."""
    if len(rows) == 0:
        return 0, 0
    dt = max(int(dt), -int(rows["start"].min()))
    dp = min(max(int(dp), -int(rows["pitch"].min())), 127 - int(rows["pitch"].max()))
    return dt, dp


def moved(rows: np.ndarray, dt: int, dp: int) -> np.ndarray:
    """`rows` moved by dt ticks and dp semitones (clamped as a group, see clamp_move)."""
    dt, dp = clamp_move(rows, dt, dp)
    out = rows.copy()
    out["start"] += dt
    out["end"] += dt
    out["pitch"] += dp
    return out


def resized(rows: np.ndarray, d_end: int, min_length: int) -> np.ndarray:
    """`rows` with their ends moved by d_end ticks, none shorter than `min_length` ticks."""
    out = rows.copy()
    out["end"] = np.maximum(out["end"] + int(d_end), out["start"] + max(int(min_length), 1))
    return out


def quantized(rows: np.ndarray, step: float, strength: float = 1.0) -> np.ndarray:
    """`rows` with their starts moved `strength` (0-1) of the way to the nearest grid line of
    `step` ticks; each note keeps its length."""
    out = rows.copy()
    target = snap(rows["start"], step)
    shift = np.round((target - rows["start"]) * float(np.clip(strength, 0.0, 1.0))).astype(np.int64)
    out["start"] += shift
    out["end"] += shift
    return out


def with_velocity(rows: np.ndarray, velocity) -> np.ndarray:
    """`rows` with velocity set (scalar or per row), clipped to MIDI's 1-127."""
    out = rows.copy()
    out["velocity"] = np.clip(np.round(velocity), 1, 127)
    return out


def duplicate_offset(rows: np.ndarray, step: float) -> int:
    """How far a duplicate of `rows` goes: their span (first start to last end), rounded up to
    whole grid steps, so the copy follows the original on the grid (at least one step)."""
    if len(rows) == 0:
        return 0
    span = int(rows["end"].max()) - int(rows["start"].min())
    return int(max(np.ceil(span / step - 1e-9), 1) * step)


def stacked(rows: np.ndarray, changed) -> np.ndarray:
    """Row indices of notes that another note of the same track and pitch starts with, where
    one of them is in `changed` (row indices): all but the longest of each such group (the
    earliest row among equals), ascending. Notes stacked before an edit are left alone."""
    changed_mask = np.zeros(len(rows), bool)
    changed_mask[np.asarray(changed, np.int64)] = True
    length = rows["end"].astype(np.int64) - rows["start"]
    order = np.lexsort((np.arange(len(rows)), -length, rows["start"], rows["pitch"], rows["track"]))
    key = np.stack([rows["track"][order], rows["pitch"][order], rows["start"][order]], 1)
    same = np.concatenate([[False], (key[1:] == key[:-1]).all(axis=1)])
    group = np.cumsum(~same)  # one number per (track, pitch, start)
    touched = np.zeros(group[-1] + 1 if len(group) else 0, bool)
    np.logical_or.at(touched, group, changed_mask[order])
    return np.sort(order[same & touched[group]])
