"""The event vocabulary, derived from a TokenizerConfig as a table of (event type, size) ranges.

Token ids are offset arithmetic over that table (note-seq's habit): the id of `NoteOn_60` is the
offset of the NoteOn range plus 60. Every id has a readable name such as `NoteOn_60`,
`TimeShift_12` (grid steps), `Velocity_83` (the MIDI velocity the bin decodes to), `Tempo_120`
(BPM), `Program_40` or `Drums`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from composer.core.tokens.config import TokenizerConfig

PAD, BOS, EOS = 0, 1, 2  # fixed ids so that padding and sequence marks never move


class Kind:
    """The event types, by name: compare with these (`kind == Kind.NOTE_ON`), never with a
    string written out, so that a typo is an AttributeError, not a comparison that is always
    false. They are the keys of Vocabulary.ranges and the kinds of stream.lookup_tables."""

    PAD, BOS, EOS = "Pad", "Bos", "Eos"
    PROGRAM, DRUMS = "Program", "Drums"
    TEMPO, VELOCITY = "Tempo", "Velocity"
    NOTE_ON, NOTE_OFF, TIME_SHIFT = "NoteOn", "NoteOff", "TimeShift"
    SUFFIX, PREFIX, MIDDLE, END_MIDDLE = "Suffix", "Prefix", "Middle", "EndMiddle"

    @classmethod
    def all(cls) -> tuple[str, ...]:
        return tuple(v for k, v in vars(cls).items() if k.isupper())


#: The fill-in-the-middle marks (tokens/fill_in.py), last so that every other id keeps its place.
FILL_MARKS = (Kind.SUFFIX, Kind.PREFIX, Kind.MIDDLE, Kind.END_MIDDLE)


@dataclass(frozen=True)
class Vocabulary:
    """Maps token ids to (event type, value) and back for one TokenizerConfig."""

    config: TokenizerConfig

    @cached_property
    def ranges(self) -> dict[str, tuple[int, int]]:
        """Event type -> (first id, count), in id order."""
        c = self.config
        sizes = [
            (Kind.PAD, 1),
            (Kind.BOS, 1),
            (Kind.EOS, 1),
            (Kind.PROGRAM, len(c.programs)),
            (Kind.DRUMS, 1 if c.drums else 0),
            (Kind.TEMPO, c.tempo_bins),
            (Kind.VELOCITY, c.velocity_bins),
            (Kind.NOTE_ON, 128),
            (Kind.NOTE_OFF, 128),
            (Kind.TIME_SHIFT, c.max_shift_steps),
            *((mark, 1 if c.infill else 0) for mark in FILL_MARKS),
        ]
        out, offset = {}, 0
        for name, size in sizes:
            out[name] = (offset, size)
            offset += size
        return out

    def __len__(self) -> int:
        return sum(size for _, size in self.ranges.values())

    def offset(self, event_type: str) -> int:
        return self.ranges[event_type][0]

    # --- values that bins stand for -------------------------------------------------------------
    @cached_property
    def velocity_values(self) -> np.ndarray:
        """MIDI velocity (1-127) each velocity bin decodes to: the middle of the bin."""
        bins = self.config.velocity_bins
        centres = np.floor((np.arange(bins) + 0.5) * 128 / bins).astype(np.int64)
        return np.clip(centres, 1, 127)

    def velocity_bin(self, velocity):
        """Bin index of MIDI velocities (scalar or array)."""
        v = np.clip(np.asarray(velocity, dtype=np.int64), 1, 127)
        return v * self.config.velocity_bins // 128

    @cached_property
    def tempo_values(self) -> np.ndarray:
        """BPM each tempo bin decodes to, log-spaced between min_bpm and max_bpm."""
        c = self.config
        if c.tempo_bins == 1:
            return np.array([120.0])
        return c.min_bpm * (c.max_bpm / c.min_bpm) ** (np.arange(c.tempo_bins) / (c.tempo_bins - 1))

    def tempo_bin(self, bpm):
        """Nearest tempo bin (in log space) of BPM values (scalar or array)."""
        c = self.config
        if c.tempo_bins == 1:
            return np.zeros_like(np.asarray(bpm), dtype=np.int64)
        position = np.log(np.asarray(bpm, float) / c.min_bpm) / np.log(c.max_bpm / c.min_bpm)
        return np.clip(np.rint(position * (c.tempo_bins - 1)), 0, c.tempo_bins - 1).astype(np.int64)

    @cached_property
    def program_slot(self) -> np.ndarray:
        """For each GM program 0-127, the index in config.programs of the program that plays it."""
        programs = self.config.programs
        slot = np.zeros(128, dtype=np.int64)
        for program in range(128):
            family = [p for p in programs if p // 8 == program // 8]
            chosen = program if program in programs else (family[0] if family else programs[0])
            slot[program] = programs.index(chosen)
        return slot

    # --- readable names ---------------------------------------------------------------------------
    def decompose(self, token: int) -> tuple[str, int]:
        """(event type, index within its range) of a token id."""
        token = int(token)
        for name, (first, size) in self.ranges.items():
            if first <= token < first + size:
                return name, token - first
        raise ValueError(f"token id {token} is outside this vocabulary of {len(self)} ids")

    def name(self, token: int) -> str:
        """Readable form of one id, e.g. 'NoteOn_60'."""
        kind, index = self.decompose(token)
        if kind in (Kind.PAD, Kind.BOS, Kind.EOS, Kind.DRUMS, *FILL_MARKS):
            return kind
        value = {
            "Program": lambda i: self.config.programs[i],
            "Tempo": lambda i: round(float(self.tempo_values[i])),
            "Velocity": lambda i: int(self.velocity_values[i]),
            "TimeShift": lambda i: i + 1,
        }.get(kind, lambda i: i)(index)
        return f"{kind}_{value}"

    def names(self, tokens) -> list[str]:
        return [self.name(t) for t in np.asarray(tokens).tolist()]

    @cached_property
    def _ids_by_name(self) -> dict[str, int]:
        return {self.name(i): i for i in range(len(self))}

    def id(self, name: str) -> int:
        """Token id of a readable name (the inverse of `name`)."""
        try:
            return self._ids_by_name[name]
        except KeyError:
            raise ValueError(f"{name!r} is not a token of this vocabulary") from None

    def to_json_dict(self) -> dict:
        """The vocabulary as saved beside a model: config, size and every readable name."""
        return {
            "config": json.loads(self.config.to_json()),
            "size": len(self),
            "tokens": [self.name(i) for i in range(len(self))],
        }
