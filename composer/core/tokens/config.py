"""The tokenizer configuration: one frozen object that fixes every range of the vocabulary.

Time is on a beat-relative grid (steps per quarter note), not absolute milliseconds:
- what a musician exports lands on the DAW's bars and beats, and the piano roll can draw a grid;
- the same tune played at 90 or 120 BPM gives the same tokens, so a small collection teaches more;
- files without tempo events (all of Nottingham) or with hundreds of them (expressive piano with
  a tempo map) are handled the same way; tempo itself is kept as Tempo tokens.
The cost is that rubato recorded against a fixed tempo is quantised to the grid; 12 steps per beat
keeps sixteenths and eighth/sixteenth triplets exact, and 24 adds thirty-seconds.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field

from composer.core.errors import SettingsError

#: Bump when encoding changes in a way that makes cached tokens stale for an unchanged config.
CODEC_VERSION = 2  # 2: the facts keep each file's time signatures (tokens/meter.py)


@dataclass(frozen=True)
class TokenizerConfig:
    """Every number the vocabulary is derived from. Serialised with each model and cache entry."""

    steps_per_beat: int = 12  # grid resolution per quarter note; 12 = 16ths and triplets exact
    max_shift_steps: int = (
        48  # longest single TimeShift token (48 = one 4/4 bar); longer rests chain
    )
    velocity_bins: int = 32  # loudness levels kept (Performance RNN uses 32; the ear hears fewer)
    tempo_bins: int = 31  # log-spaced levels: 30 bins over 3 octaves = 10 per octave, ~7% apart,
    # so 30, 60, 120 and 240 BPM are exact
    min_bpm: float = (
        30.0  # tempos below are clamped; slower than any real largo at quarter-note beat
    )
    max_bpm: float = 240.0  # tempos above are clamped
    # General MIDI programs with their own token; any other program is played by the first listed
    # program of its GM family (eight programs per family), else by programs[0].
    programs: tuple[int, ...] = field(default_factory=lambda: tuple(range(128)))
    drums: bool = True  # keep drum tracks (channel 10) under a Drums token; False drops them
    # Four marks after every other id (Suffix, Prefix, Middle, EndMiddle) for fill-in-the-middle
    # training (tokens/fill_in.py). They change no piece's tokens, only the vocabulary's size, so
    # the token cache ignores them; models saved before they existed read as False.
    infill: bool = True

    def __post_init__(self) -> None:
        # JSON gives lists; keep the config hashable and comparable.
        object.__setattr__(self, "programs", tuple(int(p) for p in self.programs))
        checks = [
            (1 <= self.steps_per_beat <= 480, "steps_per_beat must be between 1 and 480"),
            (1 <= self.max_shift_steps <= 4096, "max_shift_steps must be between 1 and 4096"),
            (1 <= self.velocity_bins <= 127, "velocity_bins must be between 1 and 127"),
            (1 <= self.tempo_bins <= 256, "tempo_bins must be between 1 and 256"),
            (0 < self.min_bpm < self.max_bpm, "min_bpm must be positive and below max_bpm"),
            (len(self.programs) > 0, "programs must list at least one program"),
            (all(0 <= p <= 127 for p in self.programs), "programs must be between 0 and 127"),
            (len(set(self.programs)) == len(self.programs), "programs must not repeat"),
        ]
        for ok, message in checks:
            if not ok:
                raise SettingsError(message)

    def to_json(self) -> str:
        """A canonical JSON text: the same config always gives the same text."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | dict) -> TokenizerConfig:
        """The config in `text` (JSON, or its object), every field of its type; SettingsError
        with one sentence otherwise (a file may hold anything: "12", [12], true, 1e9)."""
        data = json.loads(text) if isinstance(text, str) else text
        if not isinstance(data, dict):
            raise SettingsError("the tokenizer settings are not a JSON object")
        data = {"infill": False, **data}  # saved before fill-in-the-middle existed
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise SettingsError(f"unknown tokenizer settings: {', '.join(sorted(unknown))}")
        for name, value in data.items():
            kind = _KINDS[name]
            if not _of_kind(value, kind):
                raise SettingsError(f"the tokenizer setting {name} is not {_KIND_WORDS[kind]}")
        return cls(**data)

    @property
    def fingerprint(self) -> str:
        """A short hash of the config and codec version; it keys the token cache. The fill-in
        marks change no piece's tokens, so configs that differ only in `infill` share a cache."""
        settings = asdict(self)
        del settings["infill"]
        canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"))
        text = f"{CODEC_VERSION}:{canonical}".encode()
        return hashlib.sha256(text).hexdigest()[:16]


#: The kind of each field in JSON: "int" (not a bool), "number", "bool", or "ints" (a list).
_KINDS = {
    "steps_per_beat": "int",
    "max_shift_steps": "int",
    "velocity_bins": "int",
    "tempo_bins": "int",
    "min_bpm": "number",
    "max_bpm": "number",
    "programs": "ints",
    "drums": "bool",
    "infill": "bool",
}
_KIND_WORDS = {
    "int": "a whole number",
    "number": "a number",
    "bool": "true or false",
    "ints": "a list of whole numbers",
}


def _of_kind(value, kind: str) -> bool:
    def whole(v) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if kind == "int":
        return whole(value)
    if kind == "number":
        return (whole(value) or isinstance(value, float)) and math.isfinite(value)
    if kind == "bool":
        return isinstance(value, bool)
    return isinstance(value, (list, tuple)) and all(whole(v) for v in value)
