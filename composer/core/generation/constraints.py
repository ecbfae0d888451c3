"""Steering the sampler without retraining: which tokens a musician's settings allow next.

Each constraint is a mask over the vocabulary, worked out from a StreamDecoder's state and ANDed
with the grammar's (sampling.Grammar), so it holds for every model, old and new:

- key and scale: note-ons outside the scale's pitch classes are never sampled (drums exempt);
- pitch range: note-ons outside [lowest, highest] (or an instrument's own range) are never
  sampled (drums exempt);
- polyphony: no note-on while the current instrument already sounds that many notes;
- instruments: only the chosen General MIDI programs (and drums, when allowed); a stream on
  another instrument (every stream starts as piano) must choose one of them before anything;
- tempo: only the token of the chosen tempo's bin (the file carries the tempo itself);
- rhythm grid: time shifts land only on the grid, so every onset is on it.

Times are in the tokenizer's grid steps (TokenizerConfig.steps_per_beat to a quarter note). The
settings' names ('D minor', '1/16') are read in steering_text.py; the density steering lives in
density.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from composer.core.errors import SettingsError
from composer.core.generation.density import check_density_reachable
from composer.core.generation.settings import MAX_TEMPO_BPM, MIN_TEMPO_BPM
from composer.core.generation.steering_text import Key, grid_name
from composer.core.midi.piece import (
    TIME_SIGNATURE_DTYPE,
    TIME_SIGNATURE_RANGES,
    note_name,
    time_signature_problem,
)
from composer.core.tokens.stream import StreamDecoder
from composer.core.tokens.vocab import Kind, Vocabulary

# Krumhansl-Kessler key profiles: how well each pitch class fits a major or minor key on C.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def primer_key(piece) -> Key:
    """The key of a Piece's pitched notes (drums tell no key)."""
    return detect_key(row for t in piece.tracks if not t.is_drum for row in t.notes)


def detect_key(notes) -> Key:
    """The major or minor key that best fits some music (Krumhansl-Schmuckler: the correlation of
    its pitch classes, weighted by duration, with each key's profile). notes: rows with
    "pitch", "start" and "end" (a Piece's tracks' notes, drums left out by the caller)."""
    weights = np.zeros(12)
    for row in notes:
        weights[int(row["pitch"]) % 12] += max(int(row["end"]) - int(row["start"]), 1)
    if not weights.any():
        raise SettingsError("there are no notes to find a key in; choose the key yourself")
    best, best_score = Key(0, "major"), -2.0
    for tonic in range(12):
        for scale, profile in (("major", _MAJOR_PROFILE), ("minor", _MINOR_PROFILE)):
            score = np.corrcoef(weights, np.roll(profile, tonic))[0, 1]
            if score > best_score:
                best, best_score = Key(tonic, scale), score
    return best


@dataclass(frozen=True)
class Constraints:
    """What a musician allows. None (or the full range) leaves the model free."""

    key: Key | None = None
    lowest: int = 0  # MIDI note numbers, inclusive
    highest: int = 127
    ranges: tuple[tuple[int, int, int], ...] = ()  # (GM program, lowest, highest): its own range
    polyphony: int | None = None  # at most this many notes sounding per instrument
    programs: frozenset[int] | None = None  # General MIDI programs allowed (None: any)
    drums: bool = True  # whether drums may appear
    # The new music's tempo in BPM, MIN_TEMPO_BPM to MAX_TEMPO_BPM (None: the model's): written
    # exactly, while the model hears only its nearest bin's token.
    tempo_bpm: float | None = None
    grid_steps: int | None = None  # onsets only every this many grid steps (None: anywhere)
    density: float | None = None  # notes per beat to steer toward, all instruments (None: free)
    # The time signature (numerator, denominator) of music written from silence: written to the
    # piece, and the bar a model that follows the meter counts (tokens/meter.py). A primer or a
    # piece being filled keeps its own. None: 4/4.
    meter: tuple[int, int] | None = None

    def with_primer(self, piece, *, key: bool = False, density: bool = False) -> Constraints:
        """These constraints with the key (`key`) and the notes per beat (`density`) taken from
        `piece`, a Piece: the one home of "like the primer" (the Steer box, --key detect,
        --density primer, and the bars around a span being rewritten). SettingsError when it has
        no notes to take them from."""
        from composer.core.generation.density import notes_per_beat

        out = self
        if key:
            out = replace(out, key=primer_key(piece))
        if density:
            out = replace(out, density=notes_per_beat(piece))
        return out

    def __post_init__(self) -> None:
        for low, high in [(self.lowest, self.highest)] + [(lo, hi) for _, lo, hi in self.ranges]:
            if not 0 <= low <= high <= 127:
                raise SettingsError("a range must run from a lower to a higher note, within 0-127")
        if self.polyphony is not None and self.polyphony < 1:
            raise SettingsError("polyphony must be at least 1 note")
        if self.programs is not None and not self.programs and not self.drums:
            raise SettingsError("allow at least one instrument (a program, or drums)")
        if self.tempo_bpm is not None and not MIN_TEMPO_BPM <= self.tempo_bpm <= MAX_TEMPO_BPM:
            raise SettingsError(
                f"the tempo must be {MIN_TEMPO_BPM:g} to {MAX_TEMPO_BPM:g} BPM "
                f"({self.tempo_bpm:g} was asked)"
            )
        if self.density is not None and not 0.05 <= self.density <= 32:
            raise SettingsError("the density must be 0.05 to 32 notes per beat")
        if self.meter is not None:
            numerator, denominator = self.meter
            (low, high), (_, most) = TIME_SIGNATURE_RANGES.values()
            fits = low <= numerator <= high and 1 <= denominator <= most
            if not fits or time_signature_problem(
                np.array([(0, numerator, denominator)], dtype=TIME_SIGNATURE_DTYPE)
            ):
                raise SettingsError(
                    f"{numerator}/{denominator} is not a time signature MIDI can write: "
                    f"{low} to {high} beats over 1, 2, 4, 8 or another power of 2"
                )

    @property
    def active(self) -> bool:
        """Whether anything restricts what the model may play (the meter restricts nothing: it
        places the bars)."""
        return replace(self, meter=None) != Constraints()

    def summary(self, steps_per_beat: int) -> str:
        """The settings that restrict what the model plays, in a musician's words: 'key D minor,
        polyphony 1, 100 BPM, 1/16 grid' (what loosening would free). steps_per_beat: the model's grid steps to a quarter note (its grid names)."""
        free = Constraints()
        parts = [f"key {self.key}"] if self.key else []
        if (self.lowest, self.highest) != (free.lowest, free.highest):
            parts.append(f"range {note_name(self.lowest)}-{note_name(self.highest)}")
        parts += [f"program {p} {note_name(lo)}-{note_name(hi)}" for p, lo, hi in self.ranges]
        if self.polyphony is not None:
            parts.append(f"polyphony {self.polyphony}")
        if self.programs is not None:
            parts.append(f"programs {', '.join(map(str, sorted(self.programs))) or 'none'}")
        if not self.drums:
            parts.append("no drums")
        if self.tempo_bpm is not None:
            parts.append(f"{self.tempo_bpm:g} BPM")
        if self.grid_steps is not None:
            parts.append(f"{grid_name(self.grid_steps, steps_per_beat)} grid")
        if self.density is not None:
            parts.append(f"{self.density:g} notes per beat")
        return ", ".join(parts)


class ConstraintMask:
    """The masks of one Constraints for one vocabulary, built once; `allowed` per step."""

    def __init__(self, constraints: Constraints, vocab: Vocabulary):
        self.c, self.vocab = constraints, vocab
        r, size = vocab.ranges, len(vocab)
        self.on = r["NoteOn"][0]
        self.shift, self.shifts = r["TimeShift"]
        self.drum_slot = len(vocab.config.programs)
        pitches = np.arange(128)
        in_key = np.ones(128, bool)
        if constraints.key is not None:
            in_key = np.isin(pitches % 12, sorted(constraints.key.pitch_classes))
        count = r["Program"][1]
        # (slots, 128): the note-ons each pitched instrument slot may play.
        bounds = np.array([[constraints.lowest, constraints.highest]] * count)
        for program, low, high in constraints.ranges:
            slot = int(vocab.program_slot[program])
            bounds[slot] = (low, high)
        self.melodic_notes = (pitches >= bounds[:, :1]) & (pitches <= bounds[:, 1:]) & in_key
        if not self.melodic_notes.any(axis=1).all():
            raise SettingsError(
                f"no note of {constraints.key} lies between the lowest and highest notes chosen; "
                "widen the range"
            )
        self.velocity = slice(*_span(r["Velocity"]))
        self.tempo = slice(*_span(r["Tempo"]))
        self.drums = slice(*_span(r["Drums"]))
        self.fixed = np.ones(size, bool)  # what no state changes
        first, count = r["Program"]
        self.slots = np.ones(count + 1, bool)  # instrument slots that may play (last: drums)
        if constraints.programs is not None:
            allowed = {int(vocab.program_slot[p]) for p in constraints.programs}
            self.slots[:count] = [slot in allowed for slot in range(count)]
            self.fixed[first : first + count] = self.slots[:count]
        if not r["Drums"][1] or not constraints.drums:
            self.fixed[r["Drums"][0] : r["Drums"][0] + r["Drums"][1]] = False
            self.slots[count] = False
        if not self.slots.any():  # only drums chosen, and this model has none
            raise SettingsError(
                "this model has no drums, so drums alone leave it nothing to play; "
                "choose an instrument too"
            )
        check_density_reachable(constraints, vocab.config.steps_per_beat, self.slots)
        self.lands = None  # [time % grid, shift - 1]: the shift lands on the grid
        if grid := constraints.grid_steps:
            self.lands = (np.arange(grid)[:, None] + np.arange(1, self.shifts + 1)) % grid == 0
        if constraints.tempo_bpm is not None:
            first, count = r["Tempo"]
            self.fixed[first : first + count] = False
            self.fixed[first + int(vocab.tempo_bin(constraints.tempo_bpm))] = True

    def allowed(self, decoders: list[StreamDecoder]) -> np.ndarray:
        """Bool mask (B, V): what the constraints allow next for each decoder."""
        mask = np.repeat(self.fixed[None], len(decoders), axis=0)
        notes = mask[:, self.on : self.on + 128]
        for row, d in enumerate(decoders):
            if d.slot != self.drum_slot:
                notes[row] &= self.melodic_notes[d.slot]
            # On an instrument not chosen (a stream starts as piano, slot 0), the next thing is an
            # instrument that is: no time, and no second tempo. Left free, the bundled model asked
            # for the violin alone wrote rests for the whole length, and for the bass alone tempo
            # after tempo (the bass was too unlikely to survive top-p); either way, no notes.
            unchosen = not self.slots[min(d.slot, self.drum_slot)]
            if unchosen and d.last_kind != Kind.VELOCITY:
                mask[row, self.shift : self.shift + self.shifts] = False
                if d.last_kind == Kind.TEMPO:
                    mask[row, self.tempo] = False
                if self.slots[: self.drum_slot].any():
                    # A program, not drums: at one moment the training streams name programs
                    # before drums, and a model that wanted piano takes drums over a bass
                    # (3 of 4 seeds for --programs 33), playing its piano part on the kit.
                    mask[row, self.drums] = False
            silent = unchosen
            if self.c.grid_steps:
                grid = self.c.grid_steps
                mask[row, self.shift : self.shift + self.shifts] = self.lands[d.time % grid]
                silent |= d.time % grid != 0  # a primer may end off the grid: shift first
                notes[row, d.delayed_pitches()] = False  # they would start a step late
            down = d.down[d.slot]  # the keys of this instrument sounding
            if self.c.polyphony is not None:
                silent |= int(down.sum()) >= self.c.polyphony  # the chord is full
            silent |= not (notes[row] > down).any()  # every allowed key is sounding already
            # No note now, so no velocity either (a note must follow it), unless a primer
            # already ended on a velocity: its note must come.
            if silent and d.last_kind != Kind.VELOCITY:
                notes[row] = False
                mask[row, self.velocity] = False
            elif not d.finished and not d.sounding:
                # Nothing played yet: begin with music, not silence. Masks that narrow the
                # choice (a key, a grid) can leave a long rest the likeliest start, and a model
                # that has rested long rests on: pieces of nothing but time.
                mask[row, self.shift : self.shift + self.shifts] = False
        return mask


def _span(first_count: tuple[int, int]) -> tuple[int, int]:
    first, count = first_count
    return first, first + count
