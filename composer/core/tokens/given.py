"""What a model hears of the music it does not write (issue 26, "the given music"): the notes that
the parts a musician keeps play at and just ahead of the current time, the music after a span it
fills, and how many beats remain to that span's end.

A fill-in example's middle (tokens/fill_in.py) is where this matters: the model writes the span
while the *given* notes (the kept tracks' notes inside the span, and the suffix after it, in the
span's own time: grid steps from its start) are read beside each token as one row of bits:

    columns   0-127   a given note of that pitch sounds at the current time
            128-255   a given note of that pitch starts within the look-ahead (after now, at most
                      `ahead_steps` grid steps later): the suffix is heard as the span's end nears
            256-267   the pitch classes (C to B) of the first block: the harmony sounding now,
            268-279   of the second: struck within the look-ahead,
            280-291   and struck within the next HARMONY_BEATS beats: where the harmony goes
              292     the span has given music (the suffix, or kept tracks): silence there is
                      meant, not unknown
          293-325     beats left to the span's end, 0 to MAX_REMAINING_BEATS (one-hot, clipped)

The pitch classes say what octaves do not change (a chord's notes in another register, the key of
the music after a span), which the pitches alone leave the model to learn octave by octave.

Everywhere else (whole pieces, the suffix and prefix parts) the row is all zeros, so a model that
hears given music adds nothing there: `MusicLSTM` skips the input when no row is given.

The "current time" of a position is the time of the token read next (lookback.moment_keys): the
moment the model is about to write at. Given drum notes are not heard (their pitches are kit
pieces, not notes); a drum part can be written to given music all the same.

`example_given_rows` makes the rows of a whole training example at once; `GivenTable` holds the
same rows per time step for the sampler, which reads them by the time each variation has reached.
Both call `given_rows`, so they agree (tests/core/test_given.py holds them together on real music).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.core.tokens.fill_in import SUFFIX_BEATS, has_fill_in, mark
from composer.core.tokens.lookback import moment_keys
from composer.core.tokens.vocab import Vocabulary

PITCHES = 128
SOUNDING, AHEAD = 0, PITCHES
SOUNDING_CLASSES, AHEAD_CLASSES, HARMONY = 2 * PITCHES, 2 * PITCHES + 12, 2 * PITCHES + 24
PRESENT = HARMONY + 12
REMAINING = PRESENT + 1
#: How far ahead the HARMONY columns hear: one 4/4 bar.
HARMONY_BEATS = 4
#: Beats to the span's end the rows tell apart; further is "at least this many".
MAX_REMAINING_BEATS = 32
GIVEN_WIDTH = REMAINING + MAX_REMAINING_BEATS + 1


@dataclass(frozen=True)
class GivenMusic:
    """The given notes of one span, in grid steps from its start: int64 arrays of one shape
    (start may be negative: a note struck before the span that sounds into it), the span's
    length in steps, and whether the span has given music at all (`present`, column 256)."""

    start: np.ndarray
    end: np.ndarray
    pitch: np.ndarray
    steps: int
    present: bool

    @classmethod
    def of(cls, notes: np.ndarray, steps: int, present: bool, drum_slot: int) -> GivenMusic:
        """From grid notes (codec.GRID_DTYPE, already in the span's time); drums left out."""
        pitched = notes[notes["slot"] != drum_slot]
        return cls(
            np.asarray(pitched["start"], np.int64),
            np.asarray(pitched["end"], np.int64),
            np.asarray(pitched["pitch"], np.int64),
            int(steps),
            bool(present),
        )

    @classmethod
    def nothing(cls, steps: int) -> GivenMusic:
        """A span of `steps` grid steps with nothing given (its rows count the beats left)."""
        empty = np.zeros(0, np.int64)
        return cls(empty, empty, empty, int(steps), False)


def given_rows(
    times: np.ndarray, given: GivenMusic, ahead_steps: int, steps_per_beat: int
) -> np.ndarray:
    """The rows (module doc) at `times` (int64 (N,), grid steps from the span's start, clipped
    to 0..given.steps): bool of shape (N, GIVEN_WIDTH)."""
    times = np.clip(np.asarray(times, np.int64), 0, given.steps)
    harmony_steps = HARMONY_BEATS * steps_per_beat
    horizon = given.steps + max(ahead_steps, harmony_steps) + 2
    start, end, pitch = given.start, given.end, given.pitch
    keep = (end > 0) & (start < horizon)
    start, end, pitch = start[keep], np.minimum(end[keep], horizon), pitch[keep]
    # Sounding: +1 where a note starts (from 0 at the earliest), -1 where it ends; summed in time.
    sounding = np.zeros((horizon + 1, PITCHES), np.int32)
    np.add.at(sounding, (np.maximum(start, 0), pitch), 1)
    np.add.at(sounding, (end, pitch), -1)
    np.cumsum(sounding, axis=0, out=sounding)
    # Onsets counted up to each step: starts in (t, t + ahead] = count(t + ahead) - count(t).
    onsets = np.zeros((horizon + 1, PITCHES), np.int32)
    struck = start >= 0
    np.add.at(onsets, (start[struck], pitch[struck]), 1)
    np.cumsum(onsets, axis=0, out=onsets)
    rows = np.zeros((len(times), GIVEN_WIDTH), bool)
    rows[:, SOUNDING:AHEAD] = sounding[times] > 0
    rows[:, AHEAD:SOUNDING_CLASSES] = (
        onsets[np.minimum(times + ahead_steps, horizon)] - onsets[times]
    ) > 0
    harmony = (onsets[np.minimum(times + harmony_steps, horizon)] - onsets[times]) > 0
    for first, block in (
        (SOUNDING_CLASSES, rows[:, SOUNDING:AHEAD]),
        (AHEAD_CLASSES, rows[:, AHEAD:SOUNDING_CLASSES]),
        (HARMONY, harmony),
    ):
        rows[:, first : first + 12] = pitch_classes(block)
    rows[:, PRESENT] = given.present
    left = -(-(given.steps - times) // steps_per_beat)
    rows[np.arange(len(times)), REMAINING + np.minimum(left, MAX_REMAINING_BEATS)] = True
    return rows


def span_given(around, kept, start: int, end: int, vocab: Vocabulary, suffix: bool) -> GivenMusic:
    """The given music of the span [start, end) (grid steps) in its own time: the `kept` notes
    that sound in it, and with `suffix` the notes of `around` in the SUFFIX_BEATS after it (what
    the suffix part holds). Both GRID_DTYPE arrays of the whole piece."""
    spb = vocab.config.steps_per_beat
    inside = kept[(kept["start"] < end) & (kept["end"] > start)]
    parts = [inside]
    if suffix:
        parts.append(
            around[(around["start"] >= end) & (around["start"] < end + SUFFIX_BEATS * spb)]
        )
    heard = np.concatenate(parts).copy()
    heard["start"] -= start
    heard["end"] -= start
    present = suffix or len(inside) > 0
    return GivenMusic.of(heard, end - start, present, len(vocab.config.programs))


def pitch_classes(pitches: np.ndarray) -> np.ndarray:
    """(N, 128) bool -> (N, 12) bool: whether any pitch of each class (C = 0) is on."""
    padded = np.zeros((len(pitches), 132), bool)  # 11 octaves of 12
    padded[:, :PITCHES] = pitches
    return padded.reshape(len(pitches), 11, 12).any(axis=1)


def middle_start(tokens: np.ndarray, vocab: Vocabulary) -> int | None:
    """The position of the Middle mark in a fill-in example or context (None: none there)."""
    if not has_fill_in(vocab):
        return None
    found = np.flatnonzero(np.asarray(tokens) == mark(vocab, "Middle"))
    return int(found[0]) if len(found) else None


def example_given_rows(
    tokens: np.ndarray, given: GivenMusic, vocab: Vocabulary, ahead_steps: int
) -> np.ndarray:
    """The rows of every position of a fill-in example (or of the context a span is filled
    after): bool (N, GIVEN_WIDTH), zero before the Middle mark; from it on, the rows at the time
    each position's next token sits at in the span."""
    tokens = np.asarray(tokens, np.int64)
    rows = np.zeros((len(tokens), GIVEN_WIDTH), bool)
    at = middle_start(tokens, vocab)
    if at is None:
        return rows
    _, time, _ = moment_keys(tokens, vocab)
    rows[at:] = given_rows(time[at:], given, ahead_steps, vocab.config.steps_per_beat)
    return rows


class GivenTable:
    """The rows of one span at every time step 0..steps (the sampler's lookup): `rows` bool of
    shape (steps + 1, GIVEN_WIDTH)."""

    def __init__(self, given: GivenMusic, ahead_steps: int, steps_per_beat: int):
        self.given = given
        self.rows = given_rows(np.arange(given.steps + 1), given, ahead_steps, steps_per_beat)

    def at(self, times) -> np.ndarray:
        """Rows at `times` (clipped to the span): bool (..., GIVEN_WIDTH)."""
        return self.rows[np.clip(np.asarray(times, np.int64), 0, self.given.steps)]


def transpose_rows(rows: np.ndarray, semitones: np.ndarray) -> np.ndarray:
    """Rows (lanes, T, GIVEN_WIDTH) with the pitch columns moved by each lane's `semitones`
    (lanes,), as augmentation moves the lane's tokens (pitches pushed past 0-127 drop out), and
    the pitch classes turned round the circle by as much."""
    out = rows.copy()
    for lane, shift in enumerate(np.asarray(semitones).tolist()):
        if not shift:
            continue
        for first in (SOUNDING, AHEAD):
            block = rows[lane, :, first : first + PITCHES]
            moved = np.zeros_like(block)
            if shift > 0:
                moved[:, shift:] = block[:, : PITCHES - shift]
            else:
                moved[:, :shift] = block[:, -shift:]
            out[lane, :, first : first + PITCHES] = moved
        for first in (SOUNDING_CLASSES, AHEAD_CLASSES, HARMONY):
            out[lane, :, first : first + 12] = np.roll(rows[lane, :, first : first + 12], shift, 1)
    return out
