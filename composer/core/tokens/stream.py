"""Decoding token by token: what `decode` does, one id at a time, for a sampler and a live view.

The state machine repairs what a model may get wrong: a note-off for a silent note is ignored, a
note-on for a sounding note restarts it, a note never overlaps the previous one of its key (notes
last at least one step), notes still sounding at the end are closed, and the first Eos ends the
piece. Its state (time, instrument, sounding notes, the last event) is also what the
sampler masks impossible tokens with.
"""

from __future__ import annotations

import numpy as np

from composer.core.tokens.vocab import Kind, Vocabulary

Note = tuple[
    int, int, int, int, int
]  # (start step, end step, pitch, velocity bin, instrument slot)


class StreamDecoder:
    """Feed token ids; read finished notes as they come, or the whole piece at the end."""

    def __init__(self, vocab: Vocabulary):
        self.vocab = vocab
        self.kinds, self.values = lookup_tables(vocab)
        self.drum_slot = len(vocab.config.programs)
        self.time = 0  # grid steps since the start
        self.slot = 0  # instrument slot of the next note event (drum_slot for drums)
        self.vbin = vocab.config.velocity_bins // 2
        self.bpm = 120.0  # the tempo now, for counting seconds
        self.seconds = 0.0  # seconds of music so far, by the tempo tokens
        self.sounding: dict[tuple[int, int], tuple[int, int]] = {}  # (slot, pitch) -> (start, vbin)
        self.struck_at: dict[tuple[int, int], float] = {}  # (slot, pitch) -> seconds, when sounding
        # The keys of `sounding` as a table, (instrument slots + drums, 128) bool: a sampler reads
        # the current instrument's row each token (Grammar) where a scan of `sounding` cost 66 us.
        self.down = np.zeros((self.drum_slot + 1, 128), bool)
        self.finished: list[Note] = []
        self.tempos: list[tuple[int, int]] = [(0, int(vocab.tempo_bin(120.0)))]
        self.last_kind = "Bos"
        # The step each key's last note ended at (0: none yet), (slots + drums, 128).
        self.free_at = np.zeros((self.drum_slot + 1, 128), np.int64)
        self.ended = False  # an Eos was read; later ids are ignored
        self._taken = 0

    def feed(self, token: int) -> None:
        if self.ended:
            return
        if not 0 <= token < len(self.kinds):
            raise ValueError(
                f"token id {token} is outside this vocabulary of {len(self.kinds)} ids"
            )
        kind, value = self.kinds[token], self.values[token]
        self.last_kind = kind
        if kind == Kind.TIME_SHIFT:
            self.time += value
            self.seconds += value / self.vocab.config.steps_per_beat * 60.0 / self.bpm
        elif kind == Kind.NOTE_ON:
            key = (self.slot, value)
            if key in self.sounding:
                if self.sounding[key][0] == self.time:  # struck twice at once: one note
                    return
                self._end(*key)  # struck again while sounding: end it here
            # A note lasts at least one step, so one ended at this very step may reach past now:
            # the new one starts when it ends, never on top of it.
            self.sounding[key] = (max(self.time, int(self.free_at[key])), self.vbin)
            self.struck_at[key] = self.seconds
            self.down[key] = True
        elif kind == Kind.NOTE_OFF:
            if (self.slot, value) in self.sounding:
                self._end(self.slot, value)
        elif kind == Kind.VELOCITY:
            self.vbin = value
        elif kind == Kind.PROGRAM:
            self.slot = value
        elif kind == Kind.DRUMS:
            self.slot = self.drum_slot
        elif kind == Kind.TEMPO:
            if value != self.tempos[-1][1]:  # the bin in force again: no change (see set_bpm)
                self.bpm = float(self.vocab.tempo_values[value])
            self.tempos.append((self.time, value))
        elif kind in (Kind.EOS, Kind.END_MIDDLE):  # a filled span ends at EndMiddle
            self.ended = True

    def set_bpm(self, bpm: float) -> None:
        """Count seconds at `bpm` (quarter notes per minute) from now on, until a Tempo token of
        another bin than the one in force: the exact tempo a written file carries where the
        tokens hold only its nearest bin (a primer's own tempo, a tempo asked for)."""
        self.bpm = float(bpm)

    def feed_many(self, tokens) -> None:
        for token in np.asarray(tokens, dtype=np.int64).tolist():
            if self.ended:
                break
            self.feed(token)

    def _end(self, slot: int, pitch: int) -> None:
        start, vbin = self.sounding.pop((slot, pitch))
        self.down[slot, pitch] = False
        end = max(self.time, start + 1)
        self.finished.append((start, end, pitch, vbin, slot))
        self.free_at[slot, pitch] = end

    def delayed_pitches(self) -> np.ndarray:
        """Pitches of the current instrument that a note-on now would start later than now: a
        note that began and ended at this very step lasts one step, so the next of its key
        starts when it ends (a grid-keeping sampler avoids them)."""
        return np.flatnonzero(self.free_at[self.slot] > self.time)

    def delayed_until(self) -> dict[int, int]:
        """Pitch -> the step a note-on of it now would start at, for the current instrument's
        keys that a note-on now would start later than now (see delayed_pitches)."""
        ends = self.free_at[self.slot]
        return {int(p): int(ends[p]) for p in np.flatnonzero(ends > self.time)}

    def take_finished(self) -> list[Note]:
        """Notes finished since the last call."""
        notes = self.finished[self._taken :]
        self._taken = len(self.finished)
        return notes

    def close(self) -> None:
        """End every sounding note now (at least one step long)."""
        for slot, pitch in list(self.sounding):
            self._end(slot, pitch)

    def notes(self) -> list[Note]:
        """Finished notes, plus sounding ones as if they ended now."""
        now = [
            (s, max(self.time, s + 1), p, v, slot) for (slot, p), (s, v) in self.sounding.items()
        ]
        return self.finished + now

    def tempo_rows(self) -> np.ndarray:
        """(step, tempo bin) rows, one per step (the last change at a step wins)."""
        steps = np.array([s for s, _ in self.tempos], np.int64)
        keep = np.append(steps[1:] != steps[:-1], True)
        return np.array(self.tempos, np.int64)[keep]


def lookup_tables(vocab: Vocabulary) -> tuple[list[str], list[int]]:
    """Event type and value of every id, so that decoding does no range search per token."""
    kinds, values = [], []
    for name, (_, size) in vocab.ranges.items():  # ranges are in id order
        kinds.extend([name] * size)
        values.extend(range(1, size + 1) if name == Kind.TIME_SHIFT else range(size))
    return kinds, values


def instrument_marks(tokens: np.ndarray, vocab: Vocabulary) -> np.ndarray:
    """1 at a Drums token, 0 at a Program token, -1 elsewhere (same shape as `tokens`)."""
    r = vocab.ranges
    first, size = r["Program"]
    drums = r["Drums"][0] if r["Drums"][1] else -1
    program = (tokens >= first) & (tokens < first + size)
    return np.where(tokens == drums, 1, np.where(program, 0, -1))


def playing_drums(marks: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """Whether each position plays drums: marks (B, T) from instrument_marks, initial (B,) the
    state before the first position (the last mark carried forward)."""
    marks = marks.copy()
    marks[:, 0] = np.where(marks[:, 0] >= 0, marks[:, 0], initial)
    index = np.where(marks >= 0, np.arange(marks.shape[1]), 0)
    np.maximum.accumulate(index, axis=1, out=index)
    return np.take_along_axis(marks, index, axis=1) == 1
