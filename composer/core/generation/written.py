"""The piece a generation writes: the primer exactly as given, then the new music in the primer's
ticks, at the exact tempo in force where the primer ends or at the tempo asked for.

Tokens hold times on a grid of steps and a tempo as the nearest of the vocabulary's bins (about
7% apart: 100 BPM is heard as 97.47); a musician's file holds neither limit. The tokens are what
the model hears; the file is put together here, once, for the command line and the app:

- the primer's tracks (names, programs, notes), tempo map and time signatures as given, at its
  ticks_per_beat, never re-quantised: its bars come back tick for tick and keep their tempo
  against a DAW's grid;
- the new notes after it, each in the primer's track the model heard as its instrument (else in
  a new track), grid step s at tick to_ticks(s): exact at 96, 480, 960... ticks a beat, the
  nearest tick at a resolution the grid does not divide;
- where the new music starts (the primer's last note-off, on the grid), the tempo in force there
  in the primer, or the one asked for, exactly; tempo changes the model writes later come as
  their bins, and a tempo token that repeats the bin in force changes nothing (which is how
  StreamDecoder counts seconds, so `--seconds 30 --tempo 100` is 30 s of the file).

With `continuation_only` the new music alone, moved to start at tick 0, with the tempo and the
time signature in force where it began. Without a primer the piece starts at tick 0 at the
resolution `decode` writes (480 ticks a beat at 12 steps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from composer.core.midi.excerpt import excerpt
from composer.core.midi.piece import TIME_SIGNATURE_DTYPE, Piece, Track, make_notes, make_tempos
from composer.core.tokens.codec import decoded_ticks_per_beat, grid_notes, to_steps, to_ticks
from composer.core.tokens.vocab import Vocabulary


@dataclass(frozen=True)
class Continuation:
    """Where new music goes in the written piece: after `primer` (a piece without notes when
    there is none), from grid step `start_step`, at `us_per_beat` microseconds a beat."""

    vocab: Vocabulary
    primer: Piece
    start_step: int
    us_per_beat: int

    @classmethod
    def after(
        cls,
        primer: Piece | None,
        vocab: Vocabulary,
        start_step: int | None = None,
        tempo_bpm: float | None = None,
        meter: tuple[int, int] | None = None,
    ) -> Continuation:
        """The new music after `primer`, from `start_step` (default: where the primer's notes
        end on the grid, as the sampler reads its tokens), at `tempo_bpm` (BPM) if given, else
        at the primer's tempo in force there (the tempo change at the step the tokens hold).
        meter: the time signature of music from silence (numerator, denominator; None: 4/4);
        a primer keeps its own."""
        spb = vocab.config.steps_per_beat
        if primer is None:
            primer = Piece(decoded_ticks_per_beat(spb))  # as decode writes
            if meter is not None:
                primer.time_signatures = np.array([(0, *meter)], dtype=TIME_SIGNATURE_DTYPE)
        if start_step is None:
            notes, _ = grid_notes(primer, vocab)
            start_step = int(notes["end"].max()) if len(notes) else 0
        tempos = primer.tempos
        steps = to_steps(tempos["tick"], primer.ticks_per_beat, spb)
        in_force = int(tempos["us_per_beat"][steps <= start_step][-1])
        us = in_force if tempo_bpm is None else round(60e6 / tempo_bpm)
        return cls(vocab, primer, int(start_step), us)

    @property
    def ticks_per_beat(self) -> int:
        return self.primer.ticks_per_beat

    @property
    def start_tick(self) -> int:
        """Where the new music starts, in the primer's ticks."""
        return int(self.ticks(self.start_step))

    @property
    def bpm(self) -> float:
        """The tempo the new music starts at, as the file carries it (quarter notes a minute)."""
        return 60e6 / self.us_per_beat

    def ticks(self, steps) -> np.ndarray:
        """Grid steps (from the primer's start) to ticks of the written piece."""
        return to_ticks(steps, self.ticks_per_beat, self.vocab.config.steps_per_beat)

    def piece(
        self, notes: np.ndarray, tempos: np.ndarray, continuation_only: bool = False
    ) -> Piece:
        """The written piece. notes: the new notes as int rows (start step, end step, pitch,
        velocity bin, instrument slot), steps from the primer's start; tempos: (step, tempo bin)
        rows read from the start of the new music on, the first the bin in force there."""
        tracks = [
            replace(t, notes=t.notes[:0].copy() if continuation_only else t.notes.copy())
            for t in self.primer.tracks
        ]
        self._add_notes(tracks, np.asarray(notes, np.int64).reshape(-1, 5))
        piece = Piece(
            self.ticks_per_beat,
            tracks,
            self._tempo_map(np.asarray(tempos, np.int64).reshape(-1, 2)),
            self.primer.time_signatures.copy(),
        )
        if not continuation_only:
            return piece
        last = max(piece.end_tick, int(piece.tempos["tick"].max()), self.start_tick)
        return excerpt(piece, self.start_tick, last + 1)

    def _add_notes(self, tracks: list[Track], notes: np.ndarray) -> None:
        """Put each new note in the track of its instrument slot (a new one when none plays it)."""
        slot_of = self.vocab.program_slot

        def home(program: int, drum: bool, slot: int) -> Track | None:
            return next(
                (t for t in tracks if t.is_drum == drum and (drum or slot_of[t.program] == slot)),
                None,
            )

        add_grid_notes(tracks, notes, self.ticks(notes[:, :2]), self.vocab, home)

    def _tempo_map(self, tempos: np.ndarray) -> np.ndarray:
        """The primer's tempo changes up to the start, the exact tempo there, then the model's
        changes of bin as their bins' tempos (one change per tick, the last)."""
        start = self.start_tick
        kept = self.primer.tempos[self.primer.tempos["tick"] <= start]
        rows = [(int(t), int(us)) for t, us in kept.tolist()]
        if not rows or rows[-1][1] != self.us_per_beat:
            rows.append((start, self.us_per_beat))
        values = self.vocab.tempo_values
        for (step, tempo_bin), (_, before) in zip(tempos[1:].tolist(), tempos[:-1].tolist()):
            if tempo_bin != before:
                rows.append((int(self.ticks(step)), round(60e6 / float(values[tempo_bin]))))
        ticks = np.array([t for t, _ in rows])
        last = np.append(ticks[1:] != ticks[:-1], True)  # several at one tick: the last wins
        return make_tempos(row for row, keep in zip(rows, last.tolist()) if keep)


def add_grid_notes(
    tracks: list[Track],
    notes: np.ndarray,
    ticks: np.ndarray,
    vocab: Vocabulary,
    home: Callable[[int, bool, int], Track | None],
) -> None:
    """Add sampled notes to `tracks`, in place: the one home of how new notes become a piece's
    (a generation's continuation and a filled span alike).

    notes: int rows (start step, end step, pitch, velocity bin, instrument slot), shape (N, 5);
    ticks: their (start, end) in the piece's ticks, shape (N, 2). `home(program, drum, slot)`
    picks the track an instrument's notes go to; None appends a new track named for it. A note
    lasts at least a tick (a step may round to none), and each track stays in make_notes's order.
    """
    drum_slot = len(vocab.config.programs)
    for slot in np.unique(notes[:, 4]).tolist():
        rows = notes[:, 4] == slot
        drum = slot == drum_slot
        program = 0 if drum else vocab.config.programs[slot]
        track = home(program, drum, slot)
        if track is None:
            track = Track(program, drum, "", make_notes())
            track.name = track.label
            tracks.append(track)
        added = make_notes(
            ticks[rows, 0],
            np.maximum(ticks[rows, 1], ticks[rows, 0] + 1),
            notes[rows, 2],
            vocab.velocity_values[notes[rows, 3]],
        )
        joined = np.concatenate([track.notes, added])
        track.notes = joined[np.lexsort((joined["end"], joined["pitch"], joined["start"]))]
