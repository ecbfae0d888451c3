"""Write the MIDI files in tests/data/: music composed here, by rule, so that the tests run on a
fresh clone without ../shared/corpora (tests/conftest.py `corpus()` falls back to these).

    python scripts/make_test_data.py [--out tests/data]

Nothing is downloaded and nothing is copied from anywhere: every note comes from the rules below
and a seeded random generator, so a run writes the same bytes every time (the test
`tests/project/test_test_data.py` checks that the committed files are what this script writes). The files
are part of Composer and share its MIT licence.

- chorales/ (24 files): four voices in four tracks (Soprano, Alto, Tenor, Bass), one velocity,
  120 BPM (as the Bach export has it), key and time signatures, phrases that end in cadences with a held chord; passing
  eighths in the inner voices. Stands in for ../shared/corpora/bach_chorales.
- folk/ (12 files): a melody track and a chord track, no tempo event (120 BPM), one velocity;
  reels and hornpipes in 4/4, jigs in 6/8, waltzes in 3/4, each in two repeated strains. The first
  (by name) is in G major. Stands in for ../shared/corpora/nottingham.
- songs/ (6 files, 48 bars or more): arrangements in several tracks with expressive velocities:
  a ballad for piano in POP909's three tracks (MELODY, BRIDGE, PIANO, all program 0, the sustain
  pedal in PIANO), then tracks of different programs: a band with drums on channel 10, a waltz in
  3/4 with tempo changes, a march in minor, a piano nocturne with rubato (a tempo event every
  bar), a groove with drums and bass. Stands in for pop909.
- quirks/ (4 files): what library test suites keep: a long type 0 file of 14 channels (drums
  among them, three choir parts on one program in unison at times, 400+ tempo changes, pitch
  bends and controllers, about five and a half minutes), a file whose drum hits are one per
  track, a short primer whose other tracks only name an instrument, a track without its
  end-of-track event, and notes that overlap, last no time or are never turned off. Stands in
  for ../shared/corpora/library_testdata.
"""

from __future__ import annotations

import argparse
import random
import struct
from dataclasses import dataclass, field
from pathlib import Path

import mido

ROOT = Path(__file__).resolve().parents[1]

# --- writing ---------------------------------------------------------------------------------------


@dataclass
class Part:
    """One track: its notes as (start beat, length in beats, pitch, velocity)."""

    name: str
    program: int
    channel: int
    notes: list[tuple[float, float, int, int]] = field(default_factory=list)
    controls: list[tuple[float, mido.Message]] = field(default_factory=list)  # (beat, message)

    def add(self, start: float, length: float, pitch: int, velocity: int = 80) -> None:
        self.notes.append((start, length, pitch, velocity))


@dataclass
class Score:
    parts: list[Part]
    beats_per_bar: int = 4
    beat_unit: int = 4  # the time signature's denominator
    tempos: list[tuple[float, float]] = field(default_factory=list)  # (beat, BPM); none: 120
    key: str = "C"
    ticks_per_beat: int = 480


def _ticks(beat: float, ticks_per_beat: int) -> int:
    return round(beat * ticks_per_beat)


def _to_track(events: list[tuple[int, int, mido.Message]]) -> mido.MidiTrack:
    """Absolute (tick, order, message) events as a track with delta times."""
    track, now = mido.MidiTrack(), 0
    for tick, _order, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=tick - now))
        now = tick
    return track


def _meta_events(score: Score) -> list[tuple[int, int, mido.Message]]:
    tpb = score.ticks_per_beat
    events = [
        (0, 0, mido.MetaMessage("key_signature", key=score.key)),
        (0, 0, mido.MetaMessage("time_signature", numerator=score.beats_per_bar,
                                denominator=score.beat_unit)),
    ]  # fmt: skip
    for beat, bpm in score.tempos:
        tempo = mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm))
        events.append((_ticks(beat, tpb), 0, tempo))
    return events


def _part_events(part: Part, tpb: int) -> list[tuple[int, int, mido.Message]]:
    events = [(0, 0, mido.MetaMessage("track_name", name=part.name))] if part.name else []
    if part.channel != 9:
        events.append((0, 1, mido.Message("program_change", channel=part.channel,
                                          program=part.program)))  # fmt: skip
    for beat, message in part.controls:
        events.append((_ticks(beat, tpb), 2, message.copy(channel=part.channel)))
    for start, length, pitch, velocity in part.notes:
        on, off = _ticks(start, tpb), _ticks(start + length, tpb)
        events.append((off, 3, mido.Message("note_off", channel=part.channel, note=pitch)))
        events.append((on, 4, mido.Message("note_on", channel=part.channel, note=pitch,
                                           velocity=velocity)))  # fmt: skip
    return events


def write_score(score: Score, path: Path, midi_type: int = 1, conductor: bool = True) -> Path:
    """Type 1: a conductor track (tempo, meter, key) unless `conductor` is False (then the meta
    events open the first part's track), then one track per part. Type 0: everything in one."""
    tpb = score.ticks_per_beat
    midi = mido.MidiFile(type=midi_type, ticks_per_beat=tpb)
    meta = _meta_events(score)
    if midi_type == 0:
        events = meta + [e for part in score.parts for e in _part_events(part, tpb)]
        midi.tracks.append(_to_track(events))
    else:
        if conductor:
            midi.tracks.append(_to_track(meta))
        for i, part in enumerate(score.parts):
            extra = meta if (i == 0 and not conductor) else []
            midi.tracks.append(_to_track(extra + _part_events(part, tpb)))
    path.parent.mkdir(parents=True, exist_ok=True)
    midi.save(path)
    return path


# --- harmony -------------------------------------------------------------------------------------

MAJOR = [0, 2, 4, 5, 7, 9, 11]
HARMONIC_MINOR = [0, 2, 3, 5, 7, 8, 11]
NATURAL_MINOR = [0, 2, 3, 5, 7, 8, 10]
NAMES = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


def key_name(tonic: int, minor: bool) -> str:
    return NAMES[tonic % 12] + ("m" if minor else "")


def triad(tonic: int, minor: bool, degree: int, seventh: bool = False) -> list[int]:
    """Pitch classes of the chord on `degree` (0 = I), root first; V is major in minor keys."""
    scale = HARMONIC_MINOR if minor else MAJOR
    if minor and degree in (2, 5, 6):  # III, VI, VII from the natural minor
        scale = NATURAL_MINOR
    steps = [0, 2, 4, 6] if seventh else [0, 2, 4]
    return [(tonic + scale[(degree + s) % 7]) % 12 for s in steps]


# What may follow each degree in a phrase (I=0 ... vii=6), as in a harmony primer.
FOLLOWS = {0: [3, 4, 5, 1, 3], 1: [4, 4, 6], 2: [5, 3], 3: [4, 0, 1, 4], 4: [0, 0, 5],
           5: [1, 3, 1], 6: [0]}  # fmt: skip


def progression(rng: random.Random, length: int, cadence: list[int]) -> list[int]:
    """`length` degrees from I that end with `cadence`."""
    degrees = [0]
    while len(degrees) < length - len(cadence):
        degrees.append(rng.choice(FOLLOWS[degrees[-1]]))
    return degrees + cadence


def nearest(pcs: list[int], near: int, low: int, high: int) -> int:
    """The pitch with a pitch class in `pcs` closest to `near`, within [low, high]."""
    options = [p for p in range(low, high + 1) if p % 12 in pcs]
    return min(options, key=lambda p: (abs(p - near), p))


# --- chorales ------------------------------------------------------------------------------------

CHORALE_KEYS = [(7, False), (2, False), (9, True), (0, False), (5, False), (4, True),
                (10, False), (2, True), (9, False), (7, True), (3, False), (11, True)]  # fmt: skip
RANGES = [(60, 79), (55, 74), (48, 67), (40, 60)]  # soprano, alto, tenor, bass


def _pick(pcs: list[int], near: int, low: int, high: int, fallback: list[int]) -> int:
    """A pitch of `pcs` (else of `fallback`) near `near` within [low, high] (widened if empty)."""
    for choice, lo, hi in ((pcs, low, high), (fallback, low, high), (fallback, low - 5, high)):
        if any(p % 12 in choice for p in range(lo, hi + 1)):
            return nearest(choice, near, lo, hi)
    return near


def chorale(index: int) -> Score:
    rng = random.Random(1000 + index)
    tonic, minor = CHORALE_KEYS[index % len(CHORALE_KEYS)]
    scale = HARMONIC_MINOR if minor else MAJOR
    meter = 3 if index % 5 == 4 else 4
    phrases, beats_per_phrase = 4, 4 * meter  # four bars a phrase
    # The chords first: (degree, length in beats), the last of each phrase held for two beats.
    chords = []
    for phrase in range(phrases):
        cadence = [3, 4, 0] if phrase == phrases - 1 else ([1, 4] if phrase % 2 == 0 else [4, 0])
        degrees = progression(rng, beats_per_phrase - 1, cadence)
        chords += [(d, 2.0 if i == len(degrees) - 1 else 1.0) for i, d in enumerate(degrees)]
    # Then the voices, each moving to the nearest tone it may take.
    voices, voicings = [72 - (tonic > 6) * 5, 64, 57, 48], []
    for degree, length in chords:
        pcs = triad(tonic, minor, degree)
        inversion = length == 1.0 and rng.random() < 0.2  # the third in the bass now and then
        bass = nearest([pcs[1] if inversion else pcs[0]], voices[3], *RANGES[3])
        soprano = nearest(pcs, voices[0] + rng.choice([-2, -1, 0, 1, 2]), *RANGES[0])
        alto_want = [pc for pc in pcs if pc not in (soprano % 12, bass % 12)] or pcs
        alto = _pick(alto_want, voices[1], RANGES[1][0], soprano - 1, pcs)
        tenor_want = [pc for pc in pcs if pc not in (soprano % 12, alto % 12, bass % 12)] or pcs
        tenor = _pick(tenor_want, voices[2], max(RANGES[2][0], bass + 3), alto - 1, pcs)
        voices = [soprano, alto, tenor, bass]
        voicings.append(voices)
    parts = [Part(name, 0, channel) for channel, name in
             enumerate(["Soprano", "Alto", "Tenor", "Bass"])]  # fmt: skip
    beat = 0.0
    for i, ((_degree, length), voicing) in enumerate(zip(chords, voicings)):
        following = voicings[i + 1] if i + 1 < len(voicings) and length == 1.0 else None
        for v, pitch in enumerate(voicing):
            gap = abs(following[v] - pitch) if following else 0
            if v > 0 and gap in (3, 4) and rng.random() < 0.6:
                # a passing eighth between two chord tones a third apart
                step = 1 if following[v] > pitch else -1
                passing = pitch + step
                while (passing - tonic) % 12 not in scale:
                    passing += step
                parts[v].add(beat, 0.5, pitch, 84)
                parts[v].add(beat + 0.5, 0.5, passing, 84)
            else:
                parts[v].add(beat, length, pitch, 84)
        beat += length
    # One tempo, 120 BPM, as every file of the Bach export has. Measured here: tiny models trained
    # for 30 steps on chorales of five different tempos got stuck (notes without time) filling
    # bars at top-p 0.95 for 10 seeds of 12, where the real chorales' models never did.
    return Score(parts, meter, 4, [(0.0, 120)], key_name(tonic, minor), ticks_per_beat=960)


# --- folk tunes ----------------------------------------------------------------------------------

FOLK = [  # (style, tonic, minor); the first is in G major (tests/core/test_constraints.py)
    ("reel", 7, False), ("jig", 2, False), ("waltz", 0, False), ("hornpipe", 9, False),
    ("reel", 9, True), ("jig", 7, False), ("waltz", 5, False), ("reel", 2, False),
    ("jig", 4, True), ("hornpipe", 10, False), ("waltz", 7, False), ("reel", 0, False),
]  # fmt: skip
# Rhythms of one bar, in beats of the file (a quarter note; 6/8 counts dotted quarters as 1.5).
BAR_RHYTHMS = {
    "reel": [[0.5] * 8, [1, 0.5, 0.5, 0.5, 0.5, 1], [0.5] * 4 + [1, 1]],
    "hornpipe": [[0.75, 0.25] * 4, [0.75, 0.25, 0.75, 0.25, 1, 1], [0.5] * 8],
    "jig": [[0.5] * 6, [1, 0.5, 0.5, 0.5, 0.5], [1, 0.5, 1, 0.5], [0.5] * 3 + [1, 0.5]],
    "waltz": [[1, 1, 1], [2, 1], [1, 0.5, 0.5, 1], [3]],
}
METERS = {"reel": (4, 4), "hornpipe": (4, 4), "jig": (6, 8), "waltz": (3, 4)}


def folk_tune(index: int) -> tuple[str, Score]:
    style, tonic, minor = FOLK[index]
    rng = random.Random(2000 + index)
    numerator, denominator = METERS[style]
    bar_beats = numerator * 4 / denominator
    scale = NATURAL_MINOR if minor else MAJOR
    low = 62 if tonic < 5 else 55 + tonic % 5  # a fiddle's range, roughly D4 to B5
    pitches = [p for p in range(low, low + 22) if (p - tonic) % 12 in scale]
    melody, chords = Part("", 0, 0), Part("", 0, 1)
    strain_a = [0, 3, 0, 4, 0, 3, 4, 0]  # a chord (degree) per bar
    strain_b = [3, 0, 4, 0, 5, 3, 4, 0] if not minor else [2, 6, 2, 4, 0, 3, 4, 0]
    home = pitches.index(next(p for p in pitches if (p - tonic) % 12 == 0 and p >= low + 5))
    beat = 0.0
    for strain in (strain_a, strain_b):
        rhythms = [rng.choice(BAR_RHYTHMS[style]) for _ in strain]
        rhythms[-1] = BAR_RHYTHMS[style][-1] if style == "waltz" else [bar_beats / 2] * 2
        bars = []  # the same strain twice, its notes chosen once
        position = home
        for bar, degree in enumerate(strain):
            pcs = triad(tonic, minor, degree)
            notes, at = [], 0.0
            for k, length in enumerate(rhythms[bar]):
                strong = at == 0 or at * 2 == bar_beats
                if bar == len(strain) - 1 and k == len(rhythms[bar]) - 1:
                    choices = [i for i, p in enumerate(pitches) if (p - tonic) % 12 == 0]
                elif strong:
                    choices = [i for i, p in enumerate(pitches) if p % 12 in pcs]
                else:
                    choices = [position + d for d in (-2, -1, 1, 2, -1, 1)]
                choices = [c for c in choices if 0 <= c < len(pitches)] or [home]
                position = min(choices, key=lambda c: abs(c - position) + rng.random() * 2.5)
                notes.append((at, length, pitches[position]))
                at += length
            bars.append(notes)
        for _ in range(2):
            for bar, degree in enumerate(strain):
                for at, length, pitch in bars[bar]:
                    melody.add(beat + at, length * 0.95, pitch, 100)
                pcs = triad(tonic, minor, degree)
                chord = sorted(nearest([pc], 52, 45, 64) for pc in pcs)
                if style == "waltz":  # bass on one, the chord on two and three
                    chords.add(beat, 1, chord[0] - 12, 100)
                    for k in (1, 2):
                        for pitch in chord:
                            chords.add(beat + k, 1, pitch, 100)
                else:
                    for pitch in chord:
                        chords.add(beat, bar_beats, pitch, 100)
                beat += bar_beats
    name = f"{index + 1:02d}-{style}-in-{key_name(tonic, minor).replace('#', 's').lower()}.mid"
    score = Score([melody, chords], numerator, denominator, [], key_name(tonic, minor))
    return name, score


def write_folk(path: Path, score: Score) -> Path:
    """As the Nottingham files are: no conductor track; meter and key open both tracks."""
    midi = mido.MidiFile(type=1, ticks_per_beat=score.ticks_per_beat)
    meta = _meta_events(score)
    for part in score.parts:
        midi.tracks.append(_to_track(meta + _part_events(part, score.ticks_per_beat)))
    path.parent.mkdir(parents=True, exist_ok=True)
    midi.save(path)
    return path


# --- songs ---------------------------------------------------------------------------------------


def _melody_line(rng, tonic, minor, degrees, bar_beats, low, rhythms):
    """A singable line over one chord per bar: chord tones on strong beats, steps between."""
    scale = NATURAL_MINOR if minor else MAJOR
    pitches = [p for p in range(low, low + 19) if (p - tonic) % 12 in scale]
    position, line = len(pitches) // 2, []
    for bar, degree in enumerate(degrees):
        pcs = triad(tonic, minor, degree)
        at = 0.0
        for length in rng.choice(rhythms):
            if at % 2 == 0:
                choices = [i for i, p in enumerate(pitches) if p % 12 in pcs]
            else:
                choices = [position + d for d in (-1, 1, -2, 2)]
            choices = [c for c in choices if 0 <= c < len(pitches)]
            position = min(choices, key=lambda c: abs(c - position) + rng.random() * 3)
            if rng.random() > 0.12 or at == 0:  # a rest now and then
                line.append((bar * bar_beats + at, length, pitches[position]))
            at += length
    return line


def _velocity(rng, base, beat, bar_beats):
    accent = 10 if beat % bar_beats == 0 else (4 if beat % 1 == 0 else 0)
    return max(20, min(127, base + accent + rng.randint(-8, 8)))


def _song_form(rng, tonic, minor, bars):
    verse = progression(rng, 8, [4, 0]) if not minor else [0, 5, 3, 4, 0, 5, 1, 4]
    chorus = [3, 4, 0, 5, 3, 4, 0, 0] if not minor else [5, 2, 6, 0, 5, 2, 4, 0]
    form = (verse + verse + chorus + verse + chorus + chorus + verse + chorus) * 2
    return form[:bars]


def ballad(rng) -> Score:
    tonic, minor, bars, bar_beats = 3, False, 56, 4
    degrees = _song_form(rng, tonic, minor, bars)
    melody, strings, piano = Part("MELODY", 0, 0), Part("BRIDGE", 0, 1), Part("PIANO", 0, 2)
    rhythms = [[1, 0.5, 0.5, 1, 1], [1.5, 0.5, 2], [0.5] * 4 + [2], [2, 1, 1]]
    for start, length, pitch in _melody_line(rng, tonic, minor, degrees, 4, 67, rhythms):
        melody.add(start, length, pitch, _velocity(rng, 78, start, bar_beats))
    for bar, degree in enumerate(degrees):
        pcs, beat = triad(tonic, minor, degree), bar * bar_beats
        for pitch in sorted(nearest([pc], 62, 55, 70) for pc in pcs[1:]):
            strings.add(beat, 4, pitch, _velocity(rng, 52, beat, 4))
        root = nearest([pcs[0]], 40, 36, 47)
        piano.add(beat, 2, root, _velocity(rng, 70, beat, 4))
        arpeggio = [root + 7, nearest([pcs[1]], 58, 52, 64), nearest([pcs[2]], 62, 55, 67)]
        for k in range(8):
            at = beat + k * 0.5
            piano.add(at, 0.5, arpeggio[k % 3] + (12 if k == 4 else 0), _velocity(rng, 58, at, 4))
        piano.controls += [(beat, mido.Message("control_change", control=64, value=127)),
                           (beat + 3.9, mido.Message("control_change", control=64, value=0))]  # fmt: skip
    return Score([melody, strings, piano], 4, 4, [(0.0, 72)], key_name(tonic, minor))


DRUM_KICK, DRUM_SNARE, DRUM_HAT, DRUM_OPEN_HAT, DRUM_CRASH = 36, 38, 42, 46, 49


def band(rng) -> Score:
    tonic, minor, bars = 9, True, 48
    degrees = _song_form(rng, tonic, minor, bars)
    lead, bass, keys, drums = (Part("Lead", 65, 0), Part("Bass", 33, 1), Part("Keys", 4, 2),
                               Part("Drums", 0, 9))  # fmt: skip
    rhythms = [[0.5, 0.5, 1, 1, 1], [1, 1, 0.5, 0.5, 1], [1.5, 0.5, 1, 1]]
    for start, length, pitch in _melody_line(rng, tonic, minor, degrees, 4, 64, rhythms):
        lead.add(start, length * 0.9, pitch, _velocity(rng, 84, start, 4))
    for bar, degree in enumerate(degrees):
        pcs, beat = triad(tonic, minor, degree), bar * 4
        root = nearest([pcs[0]], 38, 33, 45)
        for at, length, pitch in ((0, 1.5, root), (1.5, 0.5, root), (2, 1, root + 7),
                                  (3, 1, root + 12 if bar % 2 else root + 10)):  # fmt: skip
            bass.add(beat + at, length * 0.9, pitch, _velocity(rng, 90, beat + at, 4))
        chord = sorted(nearest([pc], 60, 53, 67) for pc in pcs)
        for at in (0.5, 1.5, 2.5, 3.5):  # off-beat stabs
            for pitch in chord:
                keys.add(beat + at, 0.4, pitch, _velocity(rng, 60, beat + at, 4))
        if bar % 8 == 0:
            drums.add(beat, 1, DRUM_CRASH, 100)
        for k in range(8):
            at = beat + k * 0.5
            hat = DRUM_OPEN_HAT if k == 7 and bar % 4 == 3 else DRUM_HAT
            drums.add(at, 0.25, hat, _velocity(rng, 60, at, 4))
            if k in (0, 3, 4) or (k == 7 and bar % 2):
                drums.add(at, 0.25, DRUM_KICK, _velocity(rng, 96, at, 4))
            if k in (2, 6):
                drums.add(at, 0.25, DRUM_SNARE, _velocity(rng, 92, at, 4))
    return Score([lead, bass, keys, drums], 4, 4, [(0.0, 104)], key_name(tonic, minor))


def waltz(rng) -> Score:
    tonic, minor, bars, bar_beats = 7, False, 64, 3
    degrees = _song_form(rng, tonic, minor, bars)
    violin, piano, cello = Part("Violin", 40, 0), Part("Piano", 0, 1), Part("Cello", 42, 2)
    rhythms = [[1, 1, 1], [2, 1], [1.5, 0.5, 1], [3]]
    for start, length, pitch in _melody_line(rng, tonic, minor, degrees, 3, 67, rhythms):
        violin.add(start, length, pitch, _velocity(rng, 80, start, 3))
    tempos = []
    for bar, degree in enumerate(degrees):
        pcs, beat = triad(tonic, minor, degree), bar * bar_beats
        cello.add(beat, 3, nearest([pcs[0]], 43, 36, 50), _velocity(rng, 74, beat, 3))
        for k in (1, 2):
            for pitch in sorted(nearest([pc], 60, 55, 67) for pc in pcs):
                piano.add(beat + k, 0.8, pitch, _velocity(rng, 56, beat + k, 3))
        if bar % 16 == 0:
            tempos.append((float(beat), 132.0))  # a tempo
        elif bar % 16 >= 14:  # each section slows into the next
            tempos.append((float(beat), 132.0 - 14 * (bar % 16 - 13)))
    return Score([violin, piano, cello], 3, 4, tempos, key_name(tonic, minor))


def march(rng) -> Score:
    tonic, minor, bars = 2, True, 48
    degrees = _song_form(rng, tonic, minor, bars)
    trumpet, horn, piano = Part("Trumpet", 56, 0), Part("Horn", 60, 1), Part("Piano", 0, 2)
    rhythms = [[0.75, 0.25, 1, 1, 1], [1, 1, 2], [0.5, 0.5, 1, 0.5, 0.5, 1]]
    for start, length, pitch in _melody_line(rng, tonic, minor, degrees, 4, 65, rhythms):
        trumpet.add(start, length * 0.85, pitch, _velocity(rng, 92, start, 4))
    for bar, degree in enumerate(degrees):
        pcs, beat = triad(tonic, minor, degree), bar * 4
        horn.add(beat, 4, nearest([pcs[1]], 57, 50, 64), _velocity(rng, 64, beat, 4))
        root = nearest([pcs[0]], 40, 34, 46)
        chord = sorted(nearest([pc], 57, 52, 64) for pc in pcs)
        for k in range(4):
            if k % 2 == 0:
                piano.add(
                    beat + k, 0.9, root + (7 if k == 2 else 0), _velocity(rng, 80, beat + k, 4)
                )
            else:
                for pitch in chord:
                    piano.add(beat + k, 0.5, pitch, _velocity(rng, 66, beat + k, 4))
    return Score([trumpet, horn, piano], 4, 4, [(0.0, 112)], key_name(tonic, minor))


def nocturne(rng) -> Score:
    tonic, minor, bars = 4, False, 48
    degrees = _song_form(rng, tonic, minor, bars)
    right, left = Part("Right hand", 0, 0), Part("Left hand", 0, 1)
    rhythms = [[1.5, 0.5, 1, 1], [0.5] * 2 + [3], [1, 0.25, 0.25, 0.5, 2]]
    for start, length, pitch in _melody_line(rng, tonic, minor, degrees, 4, 68, rhythms):
        right.add(start, length, pitch, _velocity(rng, 70, start, 4))
    tempos = []
    for bar, degree in enumerate(degrees):
        pcs, beat = triad(tonic, minor, degree), bar * 4
        root = nearest([pcs[0]], 40, 33, 47)
        figure = [root, root + 7, nearest([pcs[1]], root + 16, root + 12, root + 20), root + 12]
        for k in range(8):
            at = beat + k * 0.5
            left.add(at, 0.5, figure[k % 4], _velocity(rng, 52, at, 4))
        phrase = bar % 8
        tempos.append((float(beat), 66 + 4 * min(phrase, 7 - phrase) + rng.randint(-2, 2)))
    return Score([right, left], 4, 4, tempos, key_name(tonic, minor))


def groove(rng) -> Score:
    tonic, minor, bars = 5, False, 52
    degrees = _song_form(rng, tonic, minor, bars)
    synth, guitar, bass, drums = (Part("Synth lead", 81, 0), Part("Guitar", 25, 1),
                                  Part("Bass", 34, 2), Part("Drums", 0, 9))  # fmt: skip
    rhythms = [[0.25, 0.25, 0.5, 1, 0.5, 0.5, 1], [1, 0.5, 0.5, 2], [0.5] * 8]
    for start, length, pitch in _melody_line(rng, tonic, minor, degrees, 4, 70, rhythms):
        if start >= 8 * 4:  # the lead enters after eight bars
            synth.add(start, length * 0.8, pitch, _velocity(rng, 88, start, 4))
    for bar, degree in enumerate(degrees):
        pcs, beat = triad(tonic, minor, degree, seventh=True), bar * 4
        root = nearest([pcs[0]], 38, 29, 41)
        for k in range(8):
            at = beat + k * 0.5
            pitch = root + (12 if k in (3, 7) else 0)
            bass.add(at, 0.35, pitch, _velocity(rng, 92, at, 4))
            drums.add(at, 0.25, DRUM_HAT, _velocity(rng, 56, at, 4))
            if k in (0, 5):
                drums.add(at, 0.25, DRUM_KICK, 104)
            if k in (2, 6):
                drums.add(at, 0.25, DRUM_SNARE, _velocity(rng, 96, at, 4))
        for at in (0, 1.5, 2.5):
            for pitch in sorted(nearest([pc], 62, 55, 70) for pc in pcs[1:]):
                guitar.add(beat + at, 0.6, pitch, _velocity(rng, 72, beat + at, 4))
    return Score([synth, guitar, bass, drums], 4, 4, [(0.0, 96)], key_name(tonic, minor))


SONGS = [("01-ballad.mid", ballad), ("02-band.mid", band), ("03-waltz.mid", waltz),
         ("04-march.mid", march), ("05-nocturne.mid", nocturne), ("06-groove.mid", groove)]  # fmt: skip


# --- quirks --------------------------------------------------------------------------------------


def long_band() -> Score:
    """About five and a half minutes, 14 channels, 400+ tempo changes (a slow drift every bar and a
    swell every beat near section ends), written as a type 0 file at 96 ticks per beat."""
    rng = random.Random(4000)
    tonic, minor, bars = 0, False, 140
    degrees = (_song_form(rng, tonic, minor, 64) * 3)[:bars]
    parts = {
        "piano": Part("", 0, 0), "bass": Part("", 33, 1), "strings": Part("", 48, 2),
        "choir1": Part("", 52, 3), "choir2": Part("", 52, 4), "choir3": Part("", 52, 5),
        "guitar": Part("", 27, 6), "organ": Part("", 19, 7), "brass": Part("", 61, 8),
        "drums": Part("", 0, 9), "flute": Part("", 73, 10), "harp": Part("", 46, 11),
        "synth": Part("", 89, 12), "timpani": Part("", 47, 13),
    }  # fmt: skip
    tempos = []
    for bar, degree in enumerate(degrees):
        pcs, beat = triad(tonic, minor, degree), bar * 4
        section = bar // 20
        tempo = 84 + 12 * (section % 3) + (bar % 20) * 0.6
        if bar % 20 >= 10:  # the second half of each section swells: a tempo event every beat
            tempos += [(beat + k, tempo + 2 * k + (bar % 20 - 10) * 1.5) for k in range(4)]
        else:  # the first half drifts: one every two beats
            tempos += [(beat + k, tempo + k) for k in (0, 2)]
        root = nearest([pcs[0]], 40, 33, 45)
        chord = sorted(nearest([pc], 60, 55, 67) for pc in pcs)
        for k in range(4):
            parts["piano"].add(beat + k, 0.9, chord[k % 3], _velocity(rng, 64, beat + k, 4))
        parts["bass"].add(beat, 2, root, 90)
        parts["bass"].add(beat + 2, 2, root + 7, 84)
        if bar >= 4:  # drums from bar 5: hi-hats alone at first, softly, then the whole kit
            for k in range(8):
                at = beat + k * 0.5
                drums = parts["drums"]
                drums.add(at, 0.25, DRUM_HAT, _velocity(rng, 40 if bar < 12 else 64, at, 4))
                if bar >= 12 and k in (0, 4):
                    drums.add(at, 0.25, DRUM_KICK, 100)
                if bar >= 12 and k in (2, 6):
                    drums.add(at, 0.25, DRUM_SNARE, _velocity(rng, 90, at, 4))
        if section % 2 == 1:  # the choir: three parts, in unison on the downbeat of odd bars
            unison = bar % 2 == 1
            for name, top in (("choir1", 72), ("choir2", 67), ("choir3", 60)):
                pitch = nearest([pcs[0]], 67, 60, 74) if unison else nearest(pcs, top, 55, 79)
                parts[name].add(beat, 4, pitch, 70)
        else:
            for pitch in chord:
                parts["strings"].add(beat, 4, pitch + 12, 58)
        if section in (1, 4, 6):
            parts["organ"].add(beat, 4, root + 24, 50)
        if section in (2, 5):
            for k, pitch in enumerate(chord + chord[::-1][1:]):
                parts["harp"].add(beat + k * 0.8, 0.8, pitch + 12, _velocity(rng, 60, beat, 4))
            parts["brass"].add(beat, 1.5, chord[-1], 88)
            parts["brass"].controls.append((beat + 1, mido.Message("pitchwheel", pitch=-1200)))
            parts["brass"].controls.append((beat + 1.5, mido.Message("pitchwheel", pitch=0)))
        if section in (3, 6) and bar % 4 != 3:
            for start, length, pitch in _melody_line(rng, tonic, minor, [degree], 4, 72,
                                                     [[1, 0.5, 0.5, 2], [2, 2]]):  # fmt: skip
                parts["flute"].add(beat + start, length, pitch, _velocity(rng, 74, start, 4))
        if section in (0, 3) and bar % 2 == 0:
            parts["guitar"].add(beat, 1.5, chord[0] - 12, 70)
            parts["synth"].add(beat + 2, 2, chord[1] + 12, 54)
        if bar % 20 == 19:
            parts["timpani"].add(beat + 3, 1, root + 12, 110)
        parts["strings"].controls.append((beat, mido.Message("control_change", control=11,
                                                             value=70 + bar % 40)))  # fmt: skip
    for part in parts.values():
        if part.channel != 9:
            part.controls.append((0.0, mido.Message("control_change", control=7, value=100)))
    parts["piano"].controls.append((300.0, mido.Message("program_change", program=1)))
    return Score(list(parts.values()), 4, 4, tempos, key_name(tonic, minor), ticks_per_beat=96)


def drums_one_per_track(path: Path) -> Path:
    """Forty drum hits, each in a track of its own (as a drum-machine export may write them)."""
    midi = mido.MidiFile(type=1, ticks_per_beat=220)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("time_signature", numerator=4,
                                                        denominator=4)]))  # fmt: skip
    for i in range(40):
        pitch = [DRUM_KICK, DRUM_HAT, DRUM_SNARE, DRUM_HAT][i % 4]
        midi.tracks.append(mido.MidiTrack([
            mido.Message("note_on", channel=9, note=pitch, velocity=80 + i % 3 * 10, time=i * 110),
            mido.Message("note_off", channel=9, note=pitch, time=55),
        ]))  # fmt: skip
    midi.save(path)
    return path


def primer(path: Path) -> Path:
    """Fifteen notes of a tune, then tracks that name an instrument and play nothing."""
    score = Score([Part("Electric Piano", 4, 0)], 4, 4, [(0.0, 120)], "C", ticks_per_beat=384)
    for k, pitch in enumerate([60, 60, 67, 67, 69, 69, 67, 65, 65, 64, 64, 62, 62, 60, 67]):
        score.parts[0].add(k * 0.5, 0.45, pitch, 100)
    for name, program, channel in (("Acoustic Guitar", 24, 1), ("Percussion", 0, 9),
                                   ("Bass", 32, 5), ("Violin", 40, 11)):  # fmt: skip
        score.parts.append(Part(name, program, channel))
    return write_score(score, path)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack(">I", len(body)) + body


def odd_notes(path: Path) -> Path:
    """One track, written byte by byte: running status, note-offs as note-ons of velocity 0, a
    same-pitch note struck again while it sounds, a note of no length, a note never turned off,
    and no end-of-track event."""
    tpb = 480
    body = b"".join([
        b"\x00\xff\x51\x03" + mido.bpm2tempo(90).to_bytes(3, "big"),
        b"\x00\xc0\x00",  # piano
        b"\x00\x90\x3c\x50",  # C4 on
        b"\x83\x60\x3e\x50",  # D4 on a beat later, running status
        b"\x83\x60\x3c\x00",  # C4 off (velocity 0)
        b"\x00\x3e\x00",  # D4 off
        b"\x00\x40\x50",  # E4 on
        b"\x81\x70\x40\x50",  # E4 again while it sounds (overlap)
        b"\x81\x70\x40\x00",  # one E4 off
        b"\x81\x70\x40\x00",  # the other
        b"\x00\x43\x50\x00\x43\x00",  # G4 of no length
        b"\x00\x48\x64",  # C5, never turned off
        b"\x83\x60\x30\x50",  # C3 a beat later
        b"\x87\x40\x80\x30\x00",  # C3 off (a real note-off) two beats later
    ])  # fmt: skip
    header = _chunk(b"MThd", struct.pack(">HHH", 0, 1, tpb))
    path.write_bytes(header + _chunk(b"MTrk", body))
    return path


# --- main ----------------------------------------------------------------------------------------

README = """\
# Test data

Every MIDI file under this folder was composed by rule by `scripts/make_test_data.py` (chord
progressions, voice leading and rhythms written in that script, with a seeded random generator);
none is copied or derived from other music or from any collection. Run the script again to
write the same bytes. They are part of Composer and are covered by its MIT licence (LICENSE in
the project root).

When `../shared/corpora` (real MIDI collections beside the checkout, see the README's
Development section) is absent, `tests/conftest.py` `corpus()` reads these folders instead, so
that the tests that need real-looking music run on a fresh clone:

| folder | stands in for | files | what is in it |
|---|---|---|---|
| chorales/ | bach_chorales | 24 | four voices in four tracks, one velocity, cadences, passing eighths |
| folk/ | nottingham | 12 | melody and chords in two tracks, no tempo event; reels, jigs, hornpipes, waltzes |
| songs/ | pop909 | 6 | 48 to 64 bars in 2 to 4 tracks, expressive velocities: a piano ballad in POP909's three tracks, then different programs, drums on channel 10, tempo changes, 3/4 |
| quirks/ | library_testdata | 4 | a long type 0 file (14 channels, drums, 400+ tempo changes), a drum hit per track, a primer with empty tracks, odd notes written byte by byte |

Tests whose figures belong to a real collection (for example the number of files and duplicates
in the Nottingham collection) still skip without `../shared/corpora`.
"""


def write_all(out: Path) -> list[Path]:
    written = []
    for i in range(24):
        written.append(write_score(chorale(i), out / "chorales" / f"chorale-{i + 1:02d}.mid"))
    for i in range(len(FOLK)):
        name, score = folk_tune(i)
        written.append(write_folk(out / "folk" / name, score))
    for i, (name, make) in enumerate(SONGS):
        written.append(write_score(make(random.Random(3000 + i)), out / "songs" / name))
    quirks = out / "quirks"
    quirks.mkdir(parents=True, exist_ok=True)
    written.append(write_score(long_band(), quirks / "band.mid", midi_type=0))
    written.append(drums_one_per_track(quirks / "drums.mid"))
    written.append(primer(quirks / "primer.mid"))
    written.append(odd_notes(quirks / "odd-notes.mid"))
    (out / "README.md").write_text(README)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data")
    args = parser.parse_args(argv)
    written = write_all(args.out)
    total = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} MIDI files ({total / 1024:.0f} KiB) and README.md in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
