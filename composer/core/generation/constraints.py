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

Times are in the tokenizer's grid steps (TokenizerConfig.steps_per_beat to a quarter note).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from composer.core.errors import SettingsError
from composer.core.generation.settings import MAX_TEMPO_BPM, MIN_TEMPO_BPM
from composer.core.midi.piece import note_name
from composer.core.tokens.stream import StreamDecoder
from composer.core.tokens.vocab import EOS, Vocabulary

#: Pitch classes of each scale above its tonic (semitones).
SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),  # natural minor
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
    "major pentatonic": (0, 2, 4, 7, 9),
    "minor pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
}
_ALIASES = {
    "ionian": "major",
    "aeolian": "minor",
    "natural minor": "minor",
    "pentatonic": "major pentatonic",
}
_TONICS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

#: Grids by the names musicians use, as fractions of a whole note.
GRIDS = {"1/4": 4, "1/8": 8, "1/16": 16, "1/32": 32, "1/6": 6, "1/12": 12, "1/24": 24}


@dataclass(frozen=True)
class Key:
    """A tonic (pitch class 0-11, C = 0) and a scale name from SCALES."""

    tonic: int
    scale: str

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset((self.tonic + step) % 12 for step in SCALES[self.scale])

    def __str__(self) -> str:
        names = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
        return f"{names[self.tonic]} {self.scale}"


def parse_key(text: str) -> Key | None:
    """'D minor', 'C# dorian', 'Bb major pentatonic' -> Key; 'off' or 'chromatic' -> None.
    SettingsError with the names it accepts otherwise."""
    words = text.strip().split(None, 1)
    if not words or words[0].lower() in ("off", "chromatic", "none"):
        return None
    found = re.fullmatch(r"([A-Ga-g])([#b]?)", words[0])
    scale = (
        _ALIASES.get(words[1].strip().lower(), words[1].strip().lower())
        if len(words) > 1
        else "major"
    )
    if not found or scale not in SCALES:
        raise SettingsError(
            f"{text!r} is not a key: give a tonic and a scale, e.g. 'D minor' or 'C# dorian' "
            f"(scales: {', '.join(SCALES)}), or 'off'"
        )
    tonic = _TONICS[found.group(1).upper()] + {"#": 1, "b": -1, "": 0}[found.group(2)]
    return Key(tonic % 12, scale)


# Krumhansl-Kessler key profiles: how well each pitch class fits a major or minor key on C.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


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


def notes_per_beat(piece) -> float:
    """How busy a piece is: its notes (drums included) per beat of its length."""
    notes = sum(len(t.notes) for t in piece.tracks)
    end = max((int(t.notes["end"].max()) for t in piece.tracks if len(t.notes)), default=0)
    if not notes or end <= 0:
        raise SettingsError("the primer has no notes to measure its density by")
    return notes / (end / piece.ticks_per_beat)


def grids_for(steps_per_beat: int) -> dict[str, int]:
    """The GRIDS a model with `steps_per_beat` grid steps to a quarter note can hold: name ->
    steps between onsets (1/32 is 1.5 steps at 12 a beat, so not there)."""
    whole = steps_per_beat * 4
    return {name: whole // division for name, division in GRIDS.items() if whole % division == 0}


def parse_grid(text: str, steps_per_beat: int) -> int | None:
    """'1/16' -> grid steps between allowed onsets (3 at 12 steps per beat); 'off' -> None."""
    if text.strip().lower() in ("off", "none", "any"):
        return None
    usable = grids_for(steps_per_beat)
    if text.strip() not in usable:
        raise SettingsError(
            f"{text!r} is not a grid this model's tokens can hold ({steps_per_beat} steps to a "
            f"beat): use one of {', '.join(usable)} or 'off'"
        )
    return usable[text.strip()]


def parse_note(text: str) -> int:
    """'C4' -> 60 (middle C), 'F#2' -> 42, 'Bb5' -> 82; a plain number is a MIDI note number."""
    text = text.strip()
    if text.isdigit():
        number = int(text)
    else:
        found = re.fullmatch(r"([A-Ga-g])([#b]?)(-?\d)", text)
        if not found:
            raise SettingsError(f"{text!r} is not a note: write it like C4 (middle C), F#2 or Bb5")
        accidental = {"#": 1, "b": -1, "": 0}[found.group(2)]
        number = 12 * (int(found.group(3)) + 1) + _TONICS[found.group(1).upper()] + accidental
    if not 0 <= number <= 127:
        raise SettingsError(f"{text!r} is outside the MIDI notes (C-1 to G9)")
    return number


def parse_range(text: str) -> tuple[int, int]:
    """'C3-C6' -> (48, 84): the lowest and highest note allowed."""
    parts = re.fullmatch(r"\s*(\S+?)\s*(?:-|\.\.|to)\s*(\S+)\s*", text)
    if not parts:
        raise SettingsError(
            f"{text!r} is not a range: write the lowest and highest note, e.g. C3-C6"
        )
    low, high = parse_note(parts.group(1)), parse_note(parts.group(2))
    if low > high:
        raise SettingsError(f"in {text!r} the first note is above the second; write low-high")
    return low, high


def parse_programs(text: str) -> frozenset[int]:
    """'0, 40' -> the General MIDI programs {0, 40}; 'none' -> no program (drums alone).
    SettingsError with the fix otherwise."""
    if text.strip().lower() == "none":
        return frozenset()
    try:
        programs = frozenset(int(p) for p in text.replace(" ", "").split(",") if p)
    except ValueError:
        raise SettingsError(
            f"{text!r}: list General MIDI numbers separated by commas, e.g. 0, 40 "
            "(or 'none' for drums alone)"
        ) from None
    if not all(0 <= p <= 127 for p in programs):
        raise SettingsError("General MIDI programs are numbered 0 to 127")
    return programs


def parse_instrument_range(text: str) -> tuple[int, int, int]:
    """'40=G3-E7' -> (40, 55, 88): one General MIDI program's lowest and highest note."""
    program, _, span = text.partition("=")
    if not program.strip().isdigit() or int(program) > 127 or not span:
        raise SettingsError(
            f"write a General MIDI number and a range, e.g. 40=G3-E7 (not {text.strip()!r})"
        )
    return (int(program), *parse_range(span))


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

    @property
    def active(self) -> bool:
        return self != Constraints()

    def summary(self) -> str:
        """The settings that steer, in words: 'key D minor, polyphony 1, grid of 3 steps'."""
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
            parts.append(f"tempo {self.tempo_bpm:g}")
        if self.grid_steps is not None:
            parts.append(f"grid of {self.grid_steps} steps")
        if self.density is not None:
            parts.append(f"density {self.density:g}")
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
            if unchosen and d.last_kind != "Velocity":
                mask[row, self.shift : self.shift + self.shifts] = False
                if d.last_kind == "Tempo":
                    mask[row, self.tempo] = False
                if self.slots[: self.drum_slot].any():
                    # A program, not drums: at one moment the training streams name programs
                    # before drums, and a model that wanted piano takes drums over a bass
                    # (3 of 4 seeds for --programs 33), playing its piano part on the kit.
                    mask[row, self.drums] = False
            silent = unchosen
            if self.c.grid_steps:
                grid = self.c.grid_steps
                lands = (d.time + np.arange(1, self.shifts + 1)) % grid == 0
                mask[row, self.shift : self.shift + self.shifts] = lands
                silent |= d.time % grid != 0  # a primer may end off the grid: shift first
                notes[row, d.delayed_pitches()] = False  # they would start a step late
            sounding = [pitch for slot, pitch in d.sounding if slot == d.slot]
            if self.c.polyphony is not None:
                silent |= len(sounding) >= self.c.polyphony  # the chord is full
            free = notes[row].copy()
            free[sounding] = False
            silent |= not free.any()  # every allowed key is sounding already
            # No note now, so no velocity either (a note must follow it), unless a primer
            # already ended on a velocity: its note must come.
            if silent and d.last_kind != "Velocity":
                notes[row] = False
                mask[row, self.velocity] = False
            elif not d.finished and not d.sounding:
                # Nothing played yet: begin with music, not silence. Masks that narrow the
                # choice (a key, a grid) can leave a long rest the likeliest start, and a model
                # that has rested long rests on: pieces of nothing but time.
                mask[row, self.shift : self.shift + self.shifts] = False
        return mask


def check_density_reachable(constraints: Constraints, steps_per_beat: int, slots) -> None:
    """SettingsError naming the settings when the density asked for is more notes per beat than
    the polyphony and the grid let the instruments play: at most `polyphony` note-ons per onset
    (a note lasts at least a step) and an onset per grid step. The density steering makes the
    instrument that is playing play more; it cannot count on the model to bring in others, so
    without a list of programs one instrument is counted. Asked for more, the base model hopped
    across four or five instruments to approach it, or wrote a thousand tokens at one moment
    and was stopped as stuck. slots: ConstraintMask.slots (last: drums)."""
    c = constraints
    if c.density is None or c.polyphony is None:
        return  # a chord of any size can hold any density
    onsets = steps_per_beat / (c.grid_steps or 1)
    instruments = int(np.count_nonzero(slots)) if c.programs is not None else 1
    most = c.polyphony * onsets * instruments
    if c.density <= most:
        return
    grid = {steps: name for name, steps in grids_for(steps_per_beat).items()}.get(
        c.grid_steps, f"{c.grid_steps} steps"
    )
    where = f" on a {grid} grid" if c.grid_steps else ""
    who = f"the {instruments} instruments allowed" if instruments > 1 else "one instrument"
    fix = "raise the polyphony or choose a finer grid" if c.grid_steps else "raise the polyphony"
    raise SettingsError(
        f"a density of {c.density:g} notes per beat is more than polyphony {c.polyphony}{where} "
        f"lets {who} play ({most:g} per beat); lower the density, {fix}"
    )


#: Logits added to note-ons (and velocities) per unit of log(target / measured density): a
#: measured density half the target adds about 2, making a note about 8 times likelier.
DENSITY_GAIN = 3.0
#: The measured density starts as if this many beats had been played at the target, so that
#: the first note or the first rest does not swing the bias to its limit.
DENSITY_PRIOR_BEATS = 2.0
DENSITY_MAX_BIAS = 8.0


def density_bias(target: float, notes: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Logit bias for note-ons per variation, (B,): positive while a variation has played fewer
    notes per beat than `target`, negative while more. notes: note-ons written, (B,); beats:
    beats of new music so far, (B,). The measured rate includes everything so far, so the
    steering integrates its error and the whole piece lands near the target."""
    rate = (notes + target * DENSITY_PRIOR_BEATS) / (beats + DENSITY_PRIOR_BEATS)
    bias = DENSITY_GAIN * np.log(target / rate)
    return np.clip(bias, -DENSITY_MAX_BIAS, DENSITY_MAX_BIAS)


def density_mask(
    target: float, decoders: list[StreamDecoder], notes: np.ndarray, beats: np.ndarray, vocab
) -> np.ndarray:
    """Hard bounds around the soft steering (density_bias): a variation 10% ahead of the
    density asked for may not start a note (it must move on in time), one 10% behind may
    not move on in time (it must play), and none may end before its length. Bool (B, V);
    notes: note-ons written, (B,); beats: beats of new music so far, (B,)."""
    on, velocity, shift = (
        slice(*_span(vocab.ranges[k])) for k in ("NoteOn", "Velocity", "TimeShift")
    )
    mask = np.ones((len(decoders), len(vocab)), bool)
    mask[:, EOS] = False  # a density is asked of the whole length: no ending before it
    for row, d in enumerate(decoders):
        if notes[row] >= target * (beats[row] + 0.5) * 1.1 and d.last_kind != "Velocity":
            mask[row, on] = mask[row, velocity] = False
        elif notes[row] < target * beats[row] * 0.9 - 1:
            mask[row, shift] = False
    return mask


def _span(first_count: tuple[int, int]) -> tuple[int, int]:
    first, count = first_count
    return first, first + count
