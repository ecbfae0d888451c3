"""A musician's words for the steering, and the numbers the masks (constraints.py) use: keys and
scales ('D minor'), rhythm grids ('1/16'), notes ('C4'), ranges ('C3-C6') and General MIDI
programs ('0, 40', '40=G3-E7'). Each parser raises SettingsError with a sentence giving the form
it accepts. Grids are in the tokenizer's grid steps (TokenizerConfig.steps_per_beat to a quarter
note).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from composer.core.errors import SettingsError

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
        from composer.core.midi.piece import KEY_NAMES

        return f"{KEY_NAMES[self.tonic]} {self.scale}"


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


def grids_for(steps_per_beat: int) -> dict[str, int]:
    """The GRIDS a model with `steps_per_beat` grid steps to a quarter note can hold: name ->
    steps between onsets (1/32 is 1.5 steps at 12 a beat, so not there)."""
    whole = steps_per_beat * 4
    return {name: whole // division for name, division in GRIDS.items() if whole % division == 0}


def grid_name(grid_steps: int, steps_per_beat: int) -> str:
    """A grid in a musician's words: '1/16' for 3 steps at 12 a beat (grids_for); '5-step' for a
    spacing that has no name."""
    names = {steps: name for name, steps in grids_for(steps_per_beat).items()}
    return names.get(grid_steps, f"{grid_steps}-step")


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
    """'0, 40', 'piano, violin', 'strings, 33': the General MIDI programs named, by number, by
    instrument name (as parse_program takes it) or by family ('strings': all eight of them);
    'none' -> no program (drums alone). SettingsError with the fix otherwise."""
    if text.strip().lower() == "none":
        return frozenset()
    from composer.core.midi.piece import GM_FAMILIES

    families = {family.lower(): index for index, family in enumerate(GM_FAMILIES)}
    programs: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        family = families.get(" ".join(part.lower().split()))
        if family is not None:
            programs.update(range(8 * family, 8 * family + 8))
        else:
            programs.add(parse_program(part))
    if not programs:
        raise SettingsError(
            f"{text!r}: list General MIDI instruments separated by commas, by number or name, "
            "e.g. 0, 40 or piano, violin (or 'none' for drums alone)"
        )
    return frozenset(programs)


def parse_instrument_range(text: str) -> tuple[int, int, int]:
    """'40=G3-E7' -> (40, 55, 88): one General MIDI program's lowest and highest note."""
    program, _, span = text.partition("=")
    if not program.strip().isdigit() or int(program) > 127 or not span:
        raise SettingsError(
            f"write a General MIDI number and a range, e.g. 40=G3-E7 (not {text.strip()!r})"
        )
    return (int(program), *parse_range(span))


def parse_program(text: str) -> int:
    """One General MIDI instrument, by number ('32') or by name, case-insensitive ('acoustic
    bass', or a unique part of a name: 'cello'). SettingsError naming close matches otherwise."""
    import difflib

    from composer.core.midi.piece import gm_program_name

    wanted = " ".join(text.lower().split())
    if wanted.isdigit():
        if int(wanted) > 127:
            raise SettingsError("General MIDI programs are numbered 0 to 127")
        return int(wanted)
    names = {gm_program_name(p).lower(): p for p in range(128)}
    if wanted in names:
        return names[wanted]
    partial = [p for name, p in names.items() if wanted and wanted in name]
    if len(partial) == 1:
        return partial[0]
    close = partial or [names[n] for n in difflib.get_close_matches(wanted, list(names), n=4)]
    if close:
        listed = ", ".join(f"{p} ({gm_program_name(p)})" for p in close[:6])
        raise SettingsError(f"{text.strip()!r} could be {listed}: give one of them")
    raise SettingsError(
        f"{text.strip()!r} is not a General MIDI instrument: give a number 0-127 or a name such "
        "as 'acoustic bass' or 'string ensemble 1'"
    )


def parse_meter(text: str) -> tuple[int, int] | None:
    """A time signature, "3/4" or "6/8" -> (3, 4); "off" or "" -> None. SettingsError with one
    sentence for text that is not one (Constraints checks that MIDI can write it)."""
    text = text.strip().lower()
    if text in ("", "off", "none"):
        return None
    numerator, slash, denominator = text.partition("/")
    if not slash or not numerator.strip().isdigit() or not denominator.strip().isdigit():
        raise SettingsError(f"{text!r} is not a time signature; write it as 3/4 or 6/8")
    return int(numerator), int(denominator)
