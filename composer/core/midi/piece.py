"""The note model: one piece of music, with every time in MIDI ticks.

Ticks are the one internal time unit (a beat is `ticks_per_beat` ticks); seconds exist only at the
edges, through the tempo map. Notes live in NumPy structured arrays so that tokenising a piece of
fifty thousand notes is a handful of vectorised operations rather than a Python loop per note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: One note: start and end in ticks (end >= start), MIDI pitch 0-127, velocity 1-127.
NOTE_DTYPE = np.dtype([("start", "<i8"), ("end", "<i8"), ("pitch", "u1"), ("velocity", "u1")])
#: One tempo change: the tick it takes effect and its length of a beat in microseconds.
TEMPO_DTYPE = np.dtype([("tick", "<i8"), ("us_per_beat", "<i8")])
#: One time signature: the tick it takes effect, numerator and denominator (4 for quarter notes).
TIME_SIGNATURE_DTYPE = np.dtype([("tick", "<i8"), ("numerator", "<i4"), ("denominator", "<i4")])

DEFAULT_US_PER_BEAT = 500_000  # 120 BPM: what the MIDI standard assumes when a file sets no tempo
DRUM_CHANNEL = 9  # "channel 10" in a musician's numbering
_PITCHED_CHANNELS = [ch for ch in range(16) if ch != DRUM_CHANNEL]


def track_channel(index: int, is_drum: bool) -> int:
    """The MIDI channel (0-15) the track at `index` of a piece plays on: drums on channel 10,
    the others round the remaining fifteen in track order. The one rule the MIDI writer, the
    synthesiser and MIDI output share."""
    return DRUM_CHANNEL if is_drum else _PITCHED_CHANNELS[index % len(_PITCHED_CHANNELS)]


# What a Standard MIDI File can hold, for the writer and for readers of our own files (the
# autosaved session) that must refuse what could not be played or exported.
#: Ticks per beat: the header's division is 15 bits (the 16th means SMPTE time, which we never write).
MAX_TICKS_PER_BEAT = 32767
#: Microseconds per beat: a tempo event holds 24 bits (about 0.36 BPM at the slowest).
MAX_US_PER_BEAT = 0xFFFFFF
#: The inclusive range of each note field a MIDI data byte (7 bits) carries; a velocity of 0
#: would be a note-off.
NOTE_VALUE_RANGES = {"pitch": (0, 127), "velocity": (1, 127), "program": (0, 127)}
#: The inclusive range of a time signature's numerator (a byte; 0 beats is no metre) and
#: denominator, which must also be a power of 2: MIDI stores its log2 (mido takes up to 2**255),
#: and TIME_SIGNATURE_DTYPE's int32 holds up to 2**30.
TIME_SIGNATURE_RANGES = {"numerator": (1, 255), "denominator": (1, 2**30)}
#: The latest tick a piece's notes and tempo map may reach: 2**40 is 36 years at 960 ticks a
#: beat and 120 BPM, and far enough below int64's end that converting ticks to grid steps
#: (tokens.codec.to_steps multiplies them) cannot overflow.
MAX_TICK = 2**40


def ticks_per_beat_problem(ticks_per_beat: int) -> str | None:
    """Why `ticks_per_beat` cannot be written to a MIDI file, as one sentence; None if it can."""
    if not 1 <= ticks_per_beat <= MAX_TICKS_PER_BEAT:
        return f"a MIDI file's resolution is 1 to {MAX_TICKS_PER_BEAT} ticks per beat"
    return None


def time_signature_problem(signatures: np.ndarray) -> str | None:
    """Why time signatures (TIME_SIGNATURE_DTYPE) cannot be written to a MIDI file, naming the
    first that cannot, as words to follow "it has"; None if all can."""
    numerators = signatures["numerator"].astype(np.int64)
    denominators = signatures["denominator"].astype(np.int64)
    (low, high), (dlow, dhigh) = TIME_SIGNATURE_RANGES.values()
    bad = (numerators < low) | (numerators > high) | (denominators < dlow) | (denominators > dhigh)
    bad |= (denominators & (denominators - 1)) != 0  # not a power of 2
    if not bad.any():
        return None
    first = int(np.argmax(bad))
    return (
        f"a time signature of {numerators[first]}/{denominators[first]}, and MIDI writes "
        f"{low} to {high} beats over 1, 2, 4, 8 or another power of 2"
    )


def make_notes(start=(), end=(), pitch=(), velocity=()) -> np.ndarray:
    """Build a note array (NOTE_DTYPE) sorted by start, then pitch, from four equal-length sequences."""
    notes = np.empty(len(start), dtype=NOTE_DTYPE)
    notes["start"], notes["end"], notes["pitch"], notes["velocity"] = start, end, pitch, velocity
    # lexsort on plain columns is several times faster than sorting the structured array.
    return notes[np.lexsort((notes["end"], notes["pitch"], notes["start"]))]


def make_tempos(pairs=((0, DEFAULT_US_PER_BEAT),)) -> np.ndarray:
    """Build a tempo map (TEMPO_DTYPE) from (tick, microseconds per beat) pairs."""
    return np.array(list(pairs), dtype=TEMPO_DTYPE)


@dataclass
class Track:
    """The notes of one instrument. `program` is the General MIDI program (0-127)."""

    program: int
    is_drum: bool
    name: str
    notes: np.ndarray  # NOTE_DTYPE, sorted by start

    def __post_init__(self) -> None:
        if not 0 <= self.program <= 127:
            raise ValueError(f"program must be 0-127, got {self.program}")
        if self.notes.dtype != NOTE_DTYPE:
            raise TypeError("notes must be an array of NOTE_DTYPE (use make_notes)")
        if len(self.notes) and np.any(self.notes["end"] < self.notes["start"]):
            raise ValueError("a note ends before it starts")

    @property
    def label(self) -> str:
        """A readable instrument name: 'Drums' or the General MIDI program name."""
        return "Drums" if self.is_drum else gm_program_name(self.program)

    def __repr__(self) -> str:
        return f"Track({self.label!r}, name={self.name!r}, notes={len(self.notes)})"


@dataclass
class Piece:
    """A whole piece: tracks of notes plus the tempo map and time signatures, all in ticks."""

    ticks_per_beat: int  # a MIDI file holds 1 to MAX_TICKS_PER_BEAT
    tracks: list[Track] = field(default_factory=list)
    tempos: np.ndarray = field(default_factory=make_tempos)  # TEMPO_DTYPE, sorted, first at tick 0
    time_signatures: np.ndarray = field(
        default_factory=lambda: np.array([(0, 4, 4)], dtype=TIME_SIGNATURE_DTYPE)
    )

    def __post_init__(self) -> None:
        if self.ticks_per_beat <= 0:
            raise ValueError(f"ticks_per_beat must be positive, got {self.ticks_per_beat}")
        if len(self.tempos) == 0 or self.tempos["tick"][0] != 0:
            # A tempo map always answers "how fast at tick 0"; before a file's first tempo event
            # the MIDI standard plays at 120 BPM.
            self.tempos = np.concatenate([make_tempos(), self.tempos])

    @property
    def note_count(self) -> int:
        return sum(len(t.notes) for t in self.tracks)

    @property
    def end_tick(self) -> int:
        """The tick at which the last note ends (0 for a piece without notes)."""
        ends = [int(t.notes["end"].max()) for t in self.tracks if len(t.notes)]
        return max(ends, default=0)

    def seconds(self, ticks) -> np.ndarray:
        """Convert ticks (scalar or array) to seconds through the tempo map."""
        ticks = np.asarray(ticks, dtype=np.float64)
        change_ticks = self.tempos["tick"].astype(np.float64)
        sec_per_tick = self.tempos["us_per_beat"] / 1e6 / self.ticks_per_beat
        # Seconds elapsed at each tempo change, then linear within the segment.
        seconds_at_change = np.concatenate(
            [[0.0], np.cumsum(np.diff(change_ticks) * sec_per_tick[:-1])]
        )
        segment = np.searchsorted(change_ticks, ticks, side="right") - 1
        return seconds_at_change[segment] + (ticks - change_ticks[segment]) * sec_per_tick[segment]

    @property
    def duration_seconds(self) -> float:
        return float(self.seconds(self.end_tick))

    @property
    def pitch_range(self) -> tuple[int, int] | None:
        """Lowest and highest pitched (non-drum) note, or None when there is none."""
        pitches = [t.notes["pitch"] for t in self.tracks if not t.is_drum and len(t.notes)]
        if not pitches:
            return None
        joined = np.concatenate(pitches)
        return int(joined.min()), int(joined.max())

    def __repr__(self) -> str:
        return (
            f"Piece(ticks_per_beat={self.ticks_per_beat}, tracks={len(self.tracks)}, "
            f"notes={self.note_count}, tempos={len(self.tempos)}, "
            f"seconds={self.duration_seconds:.1f})"
        )


# The 128 General MIDI program names, in program order.
_GM_NAMES = """Acoustic Grand Piano|Bright Acoustic Piano|Electric Grand Piano|Honky-tonk Piano|
Electric Piano 1|Electric Piano 2|Harpsichord|Clavinet|Celesta|Glockenspiel|Music Box|Vibraphone|
Marimba|Xylophone|Tubular Bells|Dulcimer|Drawbar Organ|Percussive Organ|Rock Organ|Church Organ|
Reed Organ|Accordion|Harmonica|Tango Accordion|Acoustic Guitar (nylon)|Acoustic Guitar (steel)|
Electric Guitar (jazz)|Electric Guitar (clean)|Electric Guitar (muted)|Overdriven Guitar|
Distortion Guitar|Guitar Harmonics|Acoustic Bass|Electric Bass (finger)|Electric Bass (pick)|
Fretless Bass|Slap Bass 1|Slap Bass 2|Synth Bass 1|Synth Bass 2|Violin|Viola|Cello|Contrabass|
Tremolo Strings|Pizzicato Strings|Orchestral Harp|Timpani|String Ensemble 1|String Ensemble 2|
Synth Strings 1|Synth Strings 2|Choir Aahs|Voice Oohs|Synth Choir|Orchestra Hit|Trumpet|Trombone|
Tuba|Muted Trumpet|French Horn|Brass Section|Synth Brass 1|Synth Brass 2|Soprano Sax|Alto Sax|
Tenor Sax|Baritone Sax|Oboe|English Horn|Bassoon|Clarinet|Piccolo|Flute|Recorder|Pan Flute|
Blown Bottle|Shakuhachi|Whistle|Ocarina|Lead 1 (square)|Lead 2 (sawtooth)|Lead 3 (calliope)|
Lead 4 (chiff)|Lead 5 (charang)|Lead 6 (voice)|Lead 7 (fifths)|Lead 8 (bass + lead)|
Pad 1 (new age)|Pad 2 (warm)|Pad 3 (polysynth)|Pad 4 (choir)|Pad 5 (bowed)|Pad 6 (metallic)|
Pad 7 (halo)|Pad 8 (sweep)|FX 1 (rain)|FX 2 (soundtrack)|FX 3 (crystal)|FX 4 (atmosphere)|
FX 5 (brightness)|FX 6 (goblins)|FX 7 (echoes)|FX 8 (sci-fi)|Sitar|Banjo|Shamisen|Koto|Kalimba|
Bagpipe|Fiddle|Shanai|Tinkle Bell|Agogo|Steel Drums|Woodblock|Taiko Drum|Melodic Tom|Synth Drum|
Reverse Cymbal|Guitar Fret Noise|Breath Noise|Seashore|Bird Tweet|Telephone Ring|Helicopter|
Applause|Gunshot""".replace("\n", "").split("|")
assert len(_GM_NAMES) == 128


def gm_program_name(program: int) -> str:
    """The General MIDI name of a program number 0-127, e.g. 0 -> 'Acoustic Grand Piano'."""
    return _GM_NAMES[program]


#: The 16 General MIDI families, eight programs each, in program order.
GM_FAMILIES = (
    "Piano", "Chromatic percussion", "Organ", "Guitar", "Bass", "Strings", "Ensemble", "Brass",
    "Reed", "Pipe", "Synth lead", "Synth pad", "Synth effects", "Ethnic", "Percussive",
    "Sound effects",
)  # fmt: skip


def gm_family_name(program: int) -> str:
    """The General MIDI family of a program number 0-127, e.g. 33 -> 'Bass'."""
    return GM_FAMILIES[program // 8]


#: The usual range (lowest, highest MIDI note) of each General MIDI family, and of the
#: instruments whose own range differs from their family's: what a new part keeps to when the
#: musician gives no range (orchestration tables' written ranges, rounded to whole notes).
_FAMILY_RANGES = (
    (21, 108), (48, 96), (36, 96), (40, 88), (28, 60), (36, 96), (36, 96), (40, 84),
    (49, 91), (60, 96), (48, 96), (36, 96), (36, 96), (48, 88), (36, 84), (36, 96),
)  # fmt: skip
_PROGRAM_RANGES = {
    40: (55, 100), 41: (48, 88), 42: (36, 76), 43: (28, 60), 46: (24, 103), 47: (40, 57),
    52: (48, 84), 53: (48, 84), 56: (54, 84), 57: (40, 72), 58: (28, 58), 59: (54, 84),
    60: (41, 77), 64: (56, 88), 65: (49, 81), 66: (44, 76), 67: (36, 69), 68: (58, 91),
    69: (52, 81), 70: (34, 75), 71: (50, 91), 72: (74, 108),
}  # fmt: skip


def gm_usual_range(program: int) -> tuple[int, int]:
    """The usual (lowest, highest) MIDI note of a General MIDI program, e.g. 32 -> (28, 60)."""
    return _PROGRAM_RANGES.get(program, _FAMILY_RANGES[program // 8])


#: The twelve pitch classes as notes are named (sharps, as a piano roll's keys read).
PITCH_CLASS_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
#: The twelve tonics as keys are named (the spelling key signatures use: Eb major, not D#).
KEY_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def note_name(pitch: int) -> str:
    """A MIDI pitch in scientific notation with sharps, middle C (60) as 'C4'."""
    return f"{PITCH_CLASS_NAMES[pitch % 12]}{pitch // 12 - 1}"
