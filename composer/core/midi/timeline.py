"""Where a tick is, in a musician's terms: bar and beat, clock time, and the tempo there.

Pure arithmetic over a piece's tempo map and time signatures (the arrays of `piece.py`); the
transport bar of the app shows what this computes.

Counting follows the score and every DAW: bars and beats are numbered from 1, and a beat is the
note value of the time signature's denominator (a quarter note in 3/4, an eighth in 6/8, so a bar
of 6/8 has six beats). A time signature starts a new bar where it takes effect, even when the
previous bar is not full yet (MIDI files sometimes change metre mid-bar); that short bar counts as
one bar. Before the first time signature the music is in 4/4, and before the first tempo at
120 BPM, as the MIDI standard says. Tempo is in quarter notes per minute, as MIDI stores it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.core.midi.piece import (
    DEFAULT_US_PER_BEAT,
    TIME_SIGNATURE_DTYPE,
    Piece,
    make_tempos,
)


@dataclass(frozen=True)
class BarBeat:
    """A position as bar (from 1), beat (from 1) and ticks into that beat (from 0)."""

    bar: int
    beat: int
    ticks: int

    def __str__(self) -> str:
        """'5.3': bar 5, beat 3 (the ticks into the beat are left out)."""
        return f"{self.bar}.{self.beat}"


class Timeline:
    """Answers 'which bar and beat, what time, how fast' for ticks of one piece.

    `ticks_per_beat` is ticks per quarter note (the MIDI file's division); `tempos` is an array of
    TEMPO_DTYPE and `time_signatures` one of TIME_SIGNATURE_DTYPE, both sorted by tick (either
    may be empty)."""

    def __init__(self, ticks_per_beat: int, tempos: np.ndarray, time_signatures: np.ndarray):
        if ticks_per_beat <= 0:
            raise ValueError(f"ticks_per_beat must be positive, got {ticks_per_beat}")
        self.ticks_per_beat = int(ticks_per_beat)
        tempos = np.asarray(tempos) if len(tempos) else make_tempos()
        # Piece adds 120 BPM at tick 0 when the map starts later; its seconds() is the one
        # tick -> seconds conversion in the code base.
        self._piece = Piece(self.ticks_per_beat, [], tempos.copy())
        self.tempos = self._piece.tempos
        self._set_signatures(time_signatures)

    def _set_signatures(self, time_signatures: np.ndarray) -> None:
        signatures = np.asarray(time_signatures, dtype=TIME_SIGNATURE_DTYPE)
        if len(signatures) == 0 or signatures["tick"][0] > 0:
            signatures = np.concatenate([np.array([(0, 4, 4)], TIME_SIGNATURE_DTYPE), signatures])
        signatures = signatures[np.argsort(signatures["tick"], kind="stable")]
        # A nonsense numerator or denominator (0, negative) reads as 4, rather than dividing by 0.
        numerators = np.where(signatures["numerator"] > 0, signatures["numerator"], 4)
        denominators = np.where(signatures["denominator"] > 0, signatures["denominator"], 4)
        #: Where each signature takes effect, in ticks; its beat and bar lengths in ticks.
        self.starts = np.maximum(signatures["tick"], 0).astype(np.int64)
        self.numerators = numerators.astype(np.int64)
        self.beat_ticks = self.ticks_per_beat * 4 / denominators
        bar_ticks = self.beat_ticks * self.numerators
        lengths = np.diff(self.starts)
        # Bars before each signature: every earlier signature's bars, a short last one included.
        bars = np.ceil(lengths / bar_ticks[:-1] - 1e-9).astype(np.int64)
        self.first_bars = np.concatenate([[0], np.cumsum(bars)])

    def bar_beat(self, tick: int) -> BarBeat:
        """The bar, beat and ticks into the beat at `tick` (ticks before 0 read as 0)."""
        tick = max(int(tick), 0)
        i = int(np.searchsorted(self.starts, tick, side="right")) - 1
        into = tick - int(self.starts[i])
        beats = int(into // self.beat_ticks[i] + 1e-9)  # whole beats since the signature
        bar, beat = divmod(beats, int(self.numerators[i]))
        ticks = round(into - beats * self.beat_ticks[i])
        return BarBeat(int(self.first_bars[i]) + bar + 1, beat + 1, max(ticks, 0))

    def tick_of(self, bar: int, beat: int = 1) -> int:
        """The tick where `bar` (from 1) and `beat` (from 1) begin: bar_beat's inverse."""
        i = int(np.searchsorted(self.first_bars, bar - 1, side="right")) - 1
        i = max(i, 0)
        beats = (bar - 1 - int(self.first_bars[i])) * int(self.numerators[i]) + beat - 1
        return int(self.starts[i]) + round(beats * self.beat_ticks[i])

    def seconds(self, tick: int) -> float:
        """Seconds from the start of the piece to `tick`, through the tempo map."""
        return float(self._piece.seconds(max(int(tick), 0)))

    def bpm(self, tick: int) -> float:
        """The tempo in force at `tick`, in quarter notes per minute."""
        i = int(np.searchsorted(self.tempos["tick"], max(int(tick), 0), side="right")) - 1
        us_per_beat = int(self.tempos["us_per_beat"][i]) if i >= 0 else DEFAULT_US_PER_BEAT
        return 60e6 / max(us_per_beat, 1)

    def signature(self, tick: int) -> tuple[int, int]:
        """The time signature in force at `tick`, as (numerator, denominator)."""
        i = int(np.searchsorted(self.starts, max(int(tick), 0), side="right")) - 1
        return int(self.numerators[i]), round(self.ticks_per_beat * 4 / self.beat_ticks[i])


def format_clock(seconds: float) -> str:
    """Seconds as minutes:seconds to the tenth, e.g. 67.25 -> '1:07.2' (a clock truncates)."""
    tenths = int(max(seconds, 0.0) * 10 + 1e-6)
    minutes, tenths = divmod(tenths, 600)
    return f"{minutes}:{tenths // 10:02d}.{tenths % 10}"


def format_bpm(bpm: float) -> str:
    """A tempo as a musician writes it: '120 BPM', or '92.5 BPM' when not a whole number."""
    text = f"{bpm:.1f}".removesuffix(".0")
    return f"{text} BPM"
