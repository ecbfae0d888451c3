"""Form: does the music come back to what it played? And the other figures issue 26 compares
between generated music and the collections it learns from.

- `repetition`: the share of non-empty 2-beat windows whose exact notes occurred earlier at a
  lag of 2 to 32 whole beats. It needs no time signature (folk files often start with a pickup,
  which puts every bar line of the file's metre in the wrong place) and no phrase detection.
- `bar_repeats`: the share of non-empty bars, by the piece's time signatures, whose notes equal
  those of one of the 8 bars before them: a musician's reading of the same thing.
- `polyphony` and `pitch_range`: is it a single line in a narrow band, or music for two hands?
- `held_notes` and `opening_silence`: faults a listener notices at once (a note held for ten
  seconds; a piece that waits before it starts).

"Exact notes" are compared on the tokenizer's grid (STEPS_PER_BEAT steps a quarter note): each
note is its pitch and its onset, rounded to the grid as the tokens round it, counted from the
start of its window or bar. The grid makes the measure the same for a file and its tokens (what
the model learns is the grid, so a repetition the grid erases is one it could not have learned),
and exact on quantised music while robust to a tick of jitter in performed music. Durations and
velocities are left out: a phrase played again legato, or louder, is still the phrase. Every
pitched instrument counts, pooled (a melody repeated over new chords is not a repeat; a tune
and its accompaniment repeated together is), and a pitch struck at one onset by two instruments
counts once. Drums are left out here as in stats.py: a groove repeats by nature, and would make
a wandering melody over a drum loop look like form.

Beats are quarter notes (the file's ticks_per_beat), whatever the time signature says. Every
function takes the piece's times in ticks and converts to seconds only through its tempo map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from composer.core.evaluation.stats import mean_polyphony, pitched_notes
from composer.core.midi.excerpt import excerpt
from composer.core.midi.piece import Piece
from composer.core.midi.timeline import Timeline
from composer.core.tokens.codec import to_steps
from composer.core.tokens.config import TokenizerConfig

#: The tokenizer's default grid (12 steps a quarter note: sixteenths and triplets exact).
STEPS_PER_BEAT = TokenizerConfig().steps_per_beat
WINDOW_BEATS = 2  # a window: two quarter notes, about a motif; shorter repeats by chance
#: Whole beats back: from the first window that does not overlap, to 8 bars of 4/4.
LAGS = range(2, 33)
BARS_BACK = 8  # a bar repeats when it equals one of the 8 bars before it (a phrase and its answer)
HELD_SECONDS = 10.0  # a note held longer is a fault; the collections hold 48 in 794,410 notes
LATE_START_SECONDS = 3.3  # no file of the collections waits longer for its first note


def _ids(group: np.ndarray, code: np.ndarray, groups: int) -> np.ndarray:
    """One id per group 0..groups-1 (windows or bars), equal when the groups hold the same set of
    codes (one code a note), 0 when empty. group, code: int64 arrays, one entry a note."""
    ids = np.zeros(groups, np.int64)
    if len(group) == 0:
        return ids
    order = np.lexsort((code, group))
    group, code = group[order], code[order]
    keep = np.concatenate([[True], (group[1:] != group[:-1]) | (code[1:] != code[:-1])])
    group, code = group[keep], code[keep]  # a set: the same note twice counts once
    cuts = np.flatnonzero(np.diff(group)) + 1
    seen: dict[bytes, int] = {}
    for g, codes in zip(group[np.r_[0, cuts]].tolist(), np.split(code, cuts)):
        ids[g] = seen.setdefault(codes.tobytes(), len(seen) + 1)
    return ids


def _repeated(ids: np.ndarray, lags: range, first: int) -> tuple[int, int]:
    """(repeated, non-empty) among the groups from index `first` on: a non-empty group repeats
    when the group `lag` earlier has the same id, for some lag in `lags`."""
    hit = np.zeros(len(ids), bool)
    for lag in lags:
        if lag < len(ids):
            hit[lag:] |= ids[lag:] == ids[:-lag]
    counted = ids[first:] > 0
    return int((hit[first:] & counted).sum()), int(counted.sum())


def _onsets(piece: Piece) -> tuple[np.ndarray, np.ndarray]:
    """The pitched notes' onsets in grid steps from the start, and their pitches (int64)."""
    notes = pitched_notes(piece)
    if notes is None:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    steps = to_steps(notes["start"], piece.ticks_per_beat, STEPS_PER_BEAT)
    return steps, notes["pitch"].astype(np.int64)


def repetition_counts(piece: Piece, since: int = 0) -> tuple[int, int]:
    """(repeated, non-empty) 2-beat windows of `repetition`, counting the windows that begin at or
    after tick `since` (those before serve only as earlier music: a primer's, say)."""
    steps, pitches = _onsets(piece)
    if len(steps) == 0:
        return 0, 0
    beat = steps // STEPS_PER_BEAT
    # Window w spans beats [w, w + WINDOW_BEATS): a note is in the windows of its beat and of
    # the beats before it, at the offset (in steps) from each window's start.
    group = np.concatenate([beat - back for back in range(WINDOW_BEATS)])
    offset = np.concatenate(
        [steps - (beat - back) * STEPS_PER_BEAT for back in range(WINDOW_BEATS)]
    )
    inside = group >= 0
    code = offset[inside] * 128 + np.tile(pitches, WINDOW_BEATS)[inside]
    ids = _ids(group[inside], code, int(beat.max()) + 1)
    return _repeated(ids, LAGS, -(-since // piece.ticks_per_beat))


def repetition(piece: Piece, since: int = 0) -> float:
    """The share (0-1) of non-empty 2-beat windows whose exact notes occurred earlier at a lag of
    2 to 32 whole beats. Windows begin on every quarter-note beat (window w spans beats w and
    w + 1); a window's notes are the set of (pitch, onset in grid steps from the window's start)
    of the pitched notes that start in it (see the module's doc for why). Only windows beginning
    at or after tick `since` count. 0.0 for a piece without pitched notes."""
    repeated, windows = repetition_counts(piece, since)
    return repeated / windows if windows else 0.0


def bar_repeat_counts(piece: Piece, since: int = 0) -> tuple[int, int]:
    """(repeated, non-empty) bars of `bar_repeats`, counting the bars that begin at or after tick
    `since`."""
    notes = pitched_notes(piece)
    if notes is None:
        return 0, 0
    timeline = Timeline(piece.ticks_per_beat, piece.tempos, piece.time_signatures)
    ticks = notes["start"]
    signature = np.searchsorted(timeline.starts, ticks, side="right") - 1
    bar_ticks = (timeline.beat_ticks * timeline.numerators)[signature]
    into = ticks - timeline.starts[signature]
    whole = np.floor(into / bar_ticks + 1e-9)
    bar = timeline.first_bars[signature] + whole.astype(np.int64)
    offset = to_steps(np.round(into - whole * bar_ticks), piece.ticks_per_beat, STEPS_PER_BEAT)
    code = offset * 128 + notes["pitch"].astype(np.int64)
    ids = _ids(bar, code, int(bar.max()) + 1)
    at = timeline.bar_beat(since)  # bars from 1; the first bar counted begins at or after since
    first = at.bar - 1 if (at.beat, at.ticks) == (1, 0) else at.bar
    return _repeated(ids, range(1, BARS_BACK + 1), first)


def bar_repeats(piece: Piece, since: int = 0) -> float:
    """The share (0-1) of non-empty bars whose notes equal those of one of the 8 bars before
    them. Bars follow the piece's time signatures (timeline.py; 4/4 without any); a bar's notes
    are the set of (pitch, onset in grid steps from the bar's start) of the pitched notes that
    start in it. Only bars beginning at or after tick `since` count. 0.0 without pitched notes."""
    repeated, bars = bar_repeat_counts(piece, since)
    return repeated / bars if bars else 0.0


def held_notes(piece: Piece, seconds: float = HELD_SECONDS) -> int:
    """How many pitched notes sound longer than `seconds` (by the tempo map)."""
    notes = pitched_notes(piece)
    if notes is None:
        return 0
    lengths = piece.seconds(notes["end"]) - piece.seconds(notes["start"])
    return int((lengths > seconds).sum())


def opening_silence(piece: Piece) -> float:
    """Seconds before the first note of any track (drums too: a listener hears them); infinite
    for a piece without notes, which is silent throughout."""
    starts = [int(t.notes["start"].min()) for t in piece.tracks if len(t.notes)]
    return float(piece.seconds(min(starts))) if starts else math.inf


def polyphony(piece: Piece) -> float:
    """Pitched notes sounding, averaged over the time when any sounds (stats.mean_polyphony, on
    a 1/12-beat grid): 1.0 for a single line. Time-weighted rather than counted at onsets, so a
    held chord under a running melody counts for the whole time it sounds. 0.0 without notes."""
    notes = pitched_notes(piece)
    return 0.0 if notes is None else mean_polyphony(notes, piece.ticks_per_beat)


def pitch_range(piece: Piece) -> int:
    """Highest minus lowest pitched note, in semitones; 0 without pitched notes."""
    lowest_highest = piece.pitch_range
    return 0 if lowest_highest is None else lowest_highest[1] - lowest_highest[0]


@dataclass(frozen=True)
class FormFigures:
    """The figures of a set of pieces. Repetition and bar repeats pool every window and bar (a
    long piece counts for more, as it holds more music); held notes are per pitched note;
    polyphony and pitch range, properties of a whole piece, are means over pieces."""

    pieces: int
    notes: int  # pitched notes
    windows: int  # non-empty 2-beat windows
    repeated_windows: int
    bars: int  # non-empty bars
    repeated_bars: int
    polyphony: float  # mean over pieces, notes sounding
    pitch_range: float  # mean over pieces, semitones
    held_notes: int  # pitched notes longer than HELD_SECONDS
    late_starts: int  # pieces whose first note comes after LATE_START_SECONDS
    longest_opening: float  # seconds, the longest opening silence (inf: a piece without notes)

    @property
    def repetition(self) -> float:
        return self.repeated_windows / self.windows if self.windows else 0.0

    @property
    def bar_repeats(self) -> float:
        return self.repeated_bars / self.bars if self.bars else 0.0

    @property
    def held_per_1000_notes(self) -> float:
        return 1000 * self.held_notes / self.notes if self.notes else 0.0

    @classmethod
    def of(cls, pieces: Sequence[Piece], since: Sequence[int] | None = None) -> FormFigures:
        """The figures of `pieces`. `since` (ticks, one per piece) measures only the music from
        there on, as for a continuation after its primer: the windows and bars that begin there
        or later (the earlier ones are what they may repeat), and for the other figures the
        notes that start there or later, with the opening silence counted from there."""
        since = [0] * len(pieces) if since is None else list(since)
        windows = np.array([repetition_counts(p, s) for p, s in zip(pieces, since)]).reshape(-1, 2)
        bars = np.array([bar_repeat_counts(p, s) for p, s in zip(pieces, since)]).reshape(-1, 2)
        pieces = [excerpt(p, s, p.end_tick + 1) if s else p for p, s in zip(pieces, since)]
        openings = [opening_silence(p) for p in pieces]
        return cls(
            pieces=len(pieces),
            notes=sum(len(n) for n in map(pitched_notes, pieces) if n is not None),
            windows=int(windows[:, 1].sum()),
            repeated_windows=int(windows[:, 0].sum()),
            bars=int(bars[:, 1].sum()),
            repeated_bars=int(bars[:, 0].sum()),
            polyphony=float(np.mean([polyphony(p) for p in pieces])) if pieces else 0.0,
            pitch_range=float(np.mean([pitch_range(p) for p in pieces])) if pieces else 0.0,
            held_notes=sum(held_notes(p) for p in pieces),
            late_starts=sum(s > LATE_START_SECONDS for s in openings),
            longest_opening=max(openings, default=0.0),
        )
