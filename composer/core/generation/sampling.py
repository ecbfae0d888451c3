"""Choosing the next token: the grammar mask, temperature, top-k, top-p, and seeded draws."""

from __future__ import annotations

import numpy as np
import torch

# The settings and the limits live in settings.py (torch-free, for the command line and the app);
# they are re-exported here, where the sampler's callers have always found them.
from composer.core.generation.settings import (  # noqa: F401
    MAX_LOGIT,
    MAX_SECONDS,
    MAX_TEMPERATURE,
    MAX_TOKENS,
    MAX_TOKENS_PER_SECOND,
    MIN_TEMPERATURE,
    TOKENS_AT_ONE_MOMENT,
    SamplingSettings,
)
from composer.core.tokens.stream import StreamDecoder, lookup_tables
from composer.core.tokens.vocab import FILL_MARKS, Kind, Vocabulary

#: Music from silence starts within this many seconds: once a variation has waited this long
#: without a note, it may not wait longer (no time shift until a note starts). The longest any file
#: of the collections waits is 3.3 s (evaluation/form.py); models left to themselves waited 16 s.
MAX_OPENING_SECONDS = 2.0
#: No note sounds longer than this: a time shift that would hold one longer is written as its
#: note-off instead (measured at the tempos in force). The collections hold 48 notes over 10 s
#: in 794,410 (evaluation/form.py); models that forgot to end notes held 1.5 to 4 in 1000,
#: silently closed at the end of the piece.
MAX_HELD_SECONDS = 10.0


class Grammar:
    """Which tokens may come next, given a decoder's state, so that sampled music is valid:
    never Pad or Bos; a note-off only for a sounding note and a note-on only for a silent one (of
    the current instrument); after a Velocity, a note-on; Eos only with no note sounding and at
    least one note written; music from silence starts within MAX_OPENING_SECONDS; and no note is
    held longer than MAX_HELD_SECONDS (`instead_of`)."""

    def __init__(self, vocab: Vocabulary):
        r = vocab.ranges
        self.size = len(vocab)
        self.on, self.off = r["NoteOn"][0], r["NoteOff"][0]
        self.eos = r["Eos"][0]
        first, count = r["Velocity"]
        self.velocity = slice(first, first + count)
        self.base = np.ones(self.size, bool)
        self.base[[r["Pad"][0], r["Bos"][0]]] = False
        for mark in FILL_MARKS:  # a span filler allows EndMiddle itself (generation/fill.py)
            first, size = r[mark]
            self.base[first : first + size] = False
        self.base[self.off : self.off + 128] = False  # allowed per sounding note below
        self.only_note_on = np.zeros(self.size, bool)
        self.only_note_on[self.on : self.on + 128] = True
        first, count = r["TimeShift"]
        self.shifts = slice(first, first + count)
        self.steps_per_beat = vocab.config.steps_per_beat
        self.kinds, self.values = lookup_tables(vocab)
        self.shift_steps = np.asarray(self.values[first : first + count])  # grid steps each
        self.program = r["Program"][0]
        self.drums = r["Drums"][0]
        self.drum_slot = len(vocab.config.programs)

    def allowed(
        self, decoders: list[StreamDecoder], notes_written: list[int], from_silence: bool = False
    ) -> np.ndarray:
        """Bool mask over the vocabulary for each decoder, shape (B, V). from_silence: the music
        has no primer, so it must start within MAX_OPENING_SECONDS."""
        after_velocity = np.array([d.last_kind == Kind.VELOCITY for d in decoders])
        mask = np.where(after_velocity[:, None], self.only_note_on, self.base)
        sounding = np.zeros((len(decoders), 128), bool)  # in each decoder's current instrument
        for row, d in enumerate(decoders):
            for slot, pitch in d.sounding:
                if slot == d.slot:
                    sounding[row, pitch] = True
        mask[:, self.on : self.on + 128] &= ~sounding
        # A velocity only where a note-on can follow it (a model that holds every key of an
        # instrument down would otherwise be left with nothing to write but the end).
        mask[:, self.velocity] &= ~sounding.all(axis=1)[:, None]
        mask[:, self.off : self.off + 128] = sounding & ~after_velocity[:, None]
        silent = np.array([not d.sounding for d in decoders])
        mask[:, self.eos] &= silent & (np.asarray(notes_written) > 0)
        if from_silence:  # no time shift may take the silence before the first note past it
            for row, (d, n) in enumerate(zip(decoders, notes_written)):
                if not n and not d.sounding:
                    steps_a_second = d.bpm / 60.0 * self.steps_per_beat
                    left = (MAX_OPENING_SECONDS - d.seconds) * steps_a_second
                    mask[row, self.shifts][self.shift_steps > left + 1e-6] = False
        mask[~mask.any(axis=1), self.eos] = True  # never leave nothing to draw
        return mask

    def instead_of(self, d: StreamDecoder, token: int) -> int | None:
        """What the sampler writes in place of a drawn time shift that would hold a sounding note
        past MAX_HELD_SECONDS: the note-off of one such note in the current instrument, else a
        change to the instrument of one (or, where only notes struck at this moment would pass it,
        the shift shortened to the limit); None when the shift may stand. The model draws again
        after it, so the shift comes once no note would pass the limit. (Masking the long shifts
        instead left models that wanted one looping over notes struck and ended at one moment.)"""
        if not d.sounding or self.kinds[token] != Kind.TIME_SHIFT:
            return None
        step = 60.0 / (d.bpm * self.steps_per_beat)  # seconds, at the tempo in force
        due = d.seconds + self.values[token] * step - MAX_HELD_SECONDS - 1e-9
        overdue = [key for key in d.sounding if d.struck_at[key] < due]
        if not overdue:
            return None
        earlier = [key for key in overdue if d.struck_at[key] < d.seconds - 1e-9]
        if not earlier:  # the shift alone is longer than a note may last (a very slow tempo)
            steps = max(1, int(MAX_HELD_SECONDS / step + 1e-6))
            return self.shifts.start + int(np.searchsorted(self.shift_steps, steps))
        here = [pitch for slot, pitch in earlier if slot == d.slot]
        if here:
            return self.off + here[0]
        slot = earlier[0][0]  # the sampler writes the note-off next (ending_after)
        return self.drums if slot == self.drum_slot else self.program + slot

    def ending_after(self, d: StreamDecoder, change: int) -> int:
        """The note-off that follows `change` (an instrument change instead_of gave): of the
        longest-held note of that instrument."""
        slot = self.drum_slot if change == self.drums else change - self.program
        pitches = [(d.struck_at[key], key[1]) for key in d.sounding if key[0] == slot]
        return self.off + min(pitches)[1]


def choose(
    logits: torch.Tensor,
    allowed: torch.Tensor,
    settings: SamplingSettings,
    generators: list[torch.Generator],
) -> torch.Tensor:
    """The next token of each row, (B,) int64, from logits (B, V) and the grammar mask (B, V).

    Temperature divides the logits; top-k and top-p keep the likeliest tokens (worked out on the
    sorted probabilities, which are then sampled directly); each row draws one uniform number from
    its own generator and takes the token where the cumulative probability passes it (inverse
    transform sampling), so a variation does not depend on how many share the batch.
    """
    logits = logits.float().masked_fill(~allowed, float("-inf"))
    if settings.temperature != 1.0:
        logits = logits / settings.temperature
    order = None
    if settings.top_k:
        logits, order = torch.topk(logits, min(settings.top_k, logits.shape[-1]), dim=-1)
    elif settings.top_p < 1.0:
        logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = torch.softmax(logits, dim=-1)
    cdf = torch.cumsum(probs, dim=-1)
    if settings.top_p < 1.0:  # keep tokens while the likelier ones hold less than top_p
        probs = probs.masked_fill(cdf - probs >= settings.top_p, 0.0)
        cdf = torch.cumsum(probs, dim=-1)
    u = torch.cat([torch.rand(1, generator=g) for g in generators]).to(logits.device)
    u = u[:, None] * cdf[:, -1:]  # strictly inside the kept mass (rounding may leave it below 1)
    index = torch.searchsorted(cdf, u, right=True).clamp_(max=cdf.shape[-1] - 1)
    return (order.gather(1, index) if order is not None else index)[:, 0]
