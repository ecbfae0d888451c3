"""Copy detection: the longest run of generated notes found, note for note, in a training file.

A piece becomes a sequence of (pitch, steps since the previous onset) pairs, notes at one onset in
pitch order, so a passage matches wherever it sits in time and whatever its tempo. The longest
common run is found by binary search on its length, with the runs of one length hashed (a rolling
polynomial hash over NumPy arrays), so that a large collection is searched in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.core.midi.piece import Piece

_BASE = np.uint64(1_000_003)
_STRIDE = np.uint64(100_003)  # code = pitch * _STRIDE + onset delta + 1


@dataclass(frozen=True)
class CopiedRun:
    notes: int  # consecutive notes found verbatim
    of: int  # notes in the generated piece
    file: str  # the training file they come from ("" when none)
    at_note: int  # where the run starts in the generated piece


def note_sequence(piece: Piece, steps_per_beat: int = 12) -> np.ndarray:
    """(pitch, onset delta in grid steps) codes of the pitched notes, uint64, shape (N,)."""
    parts = [t.notes for t in piece.tracks if not t.is_drum and len(t.notes)]
    if not parts:
        return np.zeros(0, np.uint64)
    notes = np.concatenate(parts)
    steps = np.round(notes["start"] * steps_per_beat / piece.ticks_per_beat).astype(np.int64)
    order = np.lexsort((notes["pitch"], steps))
    steps, pitches = steps[order], notes["pitch"][order].astype(np.int64)
    delta = np.diff(steps, prepend=steps[0] if len(steps) else 0)
    return (pitches * int(_STRIDE) + np.minimum(delta, 100_000)).astype(np.uint64) + np.uint64(1)


def _window_hashes(codes: np.ndarray, k: int) -> np.ndarray:
    """A hash of every run of k codes (uint64 arithmetic wraps, as a hash wants). The first note
    of a run counts by its pitch alone: what came before the run is not part of it."""
    if len(codes) < k:
        return np.zeros(0, np.uint64)
    powers = _BASE ** np.arange(k - 1, -1, -1, dtype=np.uint64)
    windows = np.lib.stride_tricks.sliding_window_view(codes, k)
    rest = (windows[:, 1:] * powers[1:]).sum(axis=1, dtype=np.uint64)
    pitch_only = (codes[: len(windows)] - np.uint64(1)) // _STRIDE * _STRIDE + np.uint64(1)
    return pitch_only * powers[0] + rest


class TrainingNotes:
    """Every training file's note codes back to back, 0 between files (no note codes to 0), so the
    runs of one length are hashed for the whole collection at once."""

    def __init__(self, sequences: dict[str, np.ndarray]):
        self.names = list(sequences)
        parts, starts, at = [], [], 0
        for codes in sequences.values():
            starts.append(at)
            parts += [codes, np.zeros(1, np.uint64)]
            at += len(codes) + 1
        self.codes = np.concatenate(parts) if parts else np.zeros(0, np.uint64)
        self.starts = np.array(starts, np.int64)

    def file_at(self, position: int) -> str:
        return self.names[int(np.searchsorted(self.starts, position, side="right")) - 1]


def longest_copy(generated: Piece, training: TrainingNotes | dict[str, np.ndarray]) -> CopiedRun:
    """The longest run of `generated`'s notes that appears in a training file (TrainingNotes, or
    file name -> note_sequence), found by binary search on the run's length."""
    if not isinstance(training, TrainingNotes):
        training = TrainingNotes(training)
    codes = note_sequence(generated)
    best = CopiedRun(0, len(codes), "", 0)
    low, high = 1, len(codes)
    while low <= high:
        k = (low + high) // 2
        found = _find(codes, training, k)
        if found is None:
            high = k - 1
        else:
            best = CopiedRun(k, len(codes), *found)
            low = k + 1
    return best


def _find(codes: np.ndarray, training: TrainingNotes, k: int) -> tuple[str, int] | None:
    mine = _window_hashes(codes, k)
    theirs = _window_hashes(training.codes, k)
    if not len(mine) or not len(theirs):
        return None
    hits = np.flatnonzero(np.isin(theirs, mine))  # uint64 on both sides
    if not len(hits):
        return None
    match = theirs[hits[0]]
    return training.file_at(int(hits[0])), int(np.flatnonzero(mine == match)[0])
