"""The meter a token sequence is read in: the piece's time signatures on the token grid, and where
each part of a fill-in sequence lies in the piece (issue 26).

The context inputs (tokens/lookback.py) tell the model where the music is in the bar and what it
played 1, 2 (4 and 8) bars before. A model made with `ModelConfig.meter` counts those bars in the
piece's own time signatures (3/4 waltzes and 6/8 jigs are a third of the folk tunes), kept with
each file's tokens in the cache; a file without any is in 4/4, as MIDI says. Older context models
count 4-beat bars from each part's start, as they were trained.

A Placement is what a sequence of tokens needs besides its ids: the Meter, in grid steps from the
piece's first tick (token time 0), and the origin of each *part*: the tokens before the first
fill-in mark are part 0, and each Suffix, Prefix or Middle mark starts a part whose time 0 lies at
that origin in the piece (fill_in.part_origins).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Rows of the beat-in-bar table of a model that follows the meter: beats of a quarter note from
#: the bar line, the last row standing for this one and any later (a 9/4 bar's last beats).
METER_BEATS = 8
#: Time signatures a cache entry keeps at most (a file that changes meter every bar keeps its
#: first ones; the rest of the piece stays in the last kept).
MAX_SIGNATURES = 512


@dataclass(frozen=True)
class Meter:
    """Time signatures on the token grid: where each starts (grid steps, the first at 0,
    increasing) and how long its bar is (grid steps), int64 arrays of one shape (K,)."""

    starts: np.ndarray
    bar_steps: np.ndarray

    @classmethod
    def four_four(cls, steps_per_beat: int) -> Meter:
        return cls(np.zeros(1, np.int64), np.array([4 * steps_per_beat], np.int64))

    @classmethod
    def from_rows(cls, rows, steps_per_beat: int) -> Meter:
        """From (grid step, numerator, denominator) rows, as the cache keeps them (`rows`);
        4/4 where there are none or before the first."""
        rows = sorted(((int(s), int(n), int(d)) for s, n, d in rows), key=lambda r: r[0])
        starts, bars = [0], [4 * steps_per_beat]
        for step, numerator, denominator in rows[:MAX_SIGNATURES]:
            if numerator < 1 or denominator < 1:  # no bar to count: the one before goes on
                continue
            bar = max(1, round(numerator * 4 * steps_per_beat / denominator))
            if max(step, 0) == starts[-1]:  # two at one place: the later holds
                bars[-1] = bar
            else:
                starts.append(step)
                bars.append(bar)
        return cls(np.array(starts, np.int64), np.array(bars, np.int64))

    @classmethod
    def of_piece(cls, piece, steps_per_beat: int) -> Meter:
        """The meter of a Piece (its time signatures, ticks rounded to the grid)."""
        return cls.from_rows(signature_rows(piece, steps_per_beat), steps_per_beat)

    def bars_at(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(start of the bar, its length) at each time (grid steps >= 0), int64 like `times`. Bars
        are counted from each time signature's start."""
        times = np.asarray(times, np.int64)
        which = np.searchsorted(self.starts, times, side="right") - 1
        which = np.maximum(which, 0)
        origin, length = self.starts[which], self.bar_steps[which]
        return origin + (times - origin) // length * length, length


#: The latest grid step a kept time signature may start at (MIDI's latest tick, 2**40, at a grid
#: far finer than any): beyond it a cache entry is damaged.
MAX_STEP = 2**48
#: Denominators a time signature may have: MIDI writes powers of 2; beyond 64 no music uses one.
DENOMINATORS = (1, 2, 4, 8, 16, 32, 64)


def signature_rows(piece, steps_per_beat: int) -> list[list[int]]:
    """[[grid step, numerator, denominator], ...] of a Piece's time signatures, as the cache keeps
    them (JSON); at most MAX_SIGNATURES. Signatures no bar can be counted in (0/4, 3/128, a
    denominator that overflowed: real files hold them) are left out: 4/4, or the signature
    before, goes on there."""
    from composer.core.tokens.codec import to_steps  # the notes' own rounding to the grid

    signatures = piece.time_signatures
    steps = to_steps(signatures["tick"], piece.ticks_per_beat, steps_per_beat).tolist()
    rows = []
    for step, numerator, denominator in zip(
        steps, signatures["numerator"].tolist(), signatures["denominator"].tolist()
    ):
        row = [int(step), int(numerator), int(denominator)]
        if rows_problem([row]) is None and len(rows) < MAX_SIGNATURES:
            rows.append(row)
    return rows


def rows_problem(rows) -> str | None:
    """Why `rows` (from JSON) are not signature rows, as words; None when they are."""
    if not isinstance(rows, list) or len(rows) > MAX_SIGNATURES:
        return "not a list of time signatures"
    for row in rows:
        if not (isinstance(row, list) and len(row) == 3):
            return "a time signature is not [step, numerator, denominator]"
        if any(isinstance(x, bool) or not isinstance(x, int) for x in row):
            return "a time signature holds something other than whole numbers"
        step, numerator, denominator = row
        if (
            not 0 <= step <= MAX_STEP
            or not 1 <= numerator <= 255
            or denominator not in DENOMINATORS
        ):
            return f"{numerator}/{denominator} at step {step} is not a time signature"
    return None


@dataclass(frozen=True)
class Placement:
    """Where a token sequence lies in its piece: its Meter and the origin (grid steps in the
    piece) of each part (index 0: the tokens before any fill-in mark)."""

    meter: Meter
    origins: tuple[int, ...] = ()

    def origin_of(self, parts: np.ndarray) -> np.ndarray:
        """The origin of each part index (int64, like `parts`); 0 beyond those given."""
        table = np.zeros(int(parts.max(initial=0)) + 1, np.int64)
        known = np.asarray(self.origins[: len(table)], np.int64)
        table[: len(known)] = known
        return table[parts]
