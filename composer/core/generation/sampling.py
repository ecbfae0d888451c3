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
        has no primer, so it must start within MAX_OPENING_SECONDS. Built row by row from the
        decoder's table of keys down: once a token, so a handful of NumPy calls (issue 29)."""
        mask = np.empty((len(decoders), self.size), bool)
        for row, (d, written) in enumerate(zip(decoders, notes_written)):
            after_velocity = d.last_kind == Kind.VELOCITY
            allowed = mask[row]
            allowed[:] = self.only_note_on if after_velocity else self.base
            if d.sounding:
                down = d.down[d.slot]  # the keys down of this instrument
                allowed[self.on : self.on + 128] &= ~down
                if not after_velocity:
                    allowed[self.off : self.off + 128] = down
                if down.all():  # a velocity only where a note-on can follow it
                    allowed[self.velocity] = False
            if d.sounding or not written:  # the end: with nothing sounding, after some music
                allowed[self.eos] = False
            if from_silence and not written and not d.sounding:
                # No time shift may take the silence before the first note past it.
                steps_a_second = d.bpm / 60.0 * self.steps_per_beat
                left = (MAX_OPENING_SECONDS - d.seconds) * steps_a_second
                allowed[self.shifts][self.shift_steps > left + 1e-6] = False
            if not allowed.any():  # never leave nothing to draw
                allowed[self.eos] = True
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


class SeededDraws:
    """One uniform number in [0, 1) per variation and step, each variation from its own torch
    generator seeded `seed + i`, so that a variation does not depend on how many share the batch.
    Drawn CHUNK at a time: torch gives the same sequence in chunks as one by one (tested), and a
    call costs about what one number did."""

    CHUNK = 256

    def __init__(self, seed: int, variations: int):
        self.generators = [torch.Generator().manual_seed(seed + i) for i in range(variations)]
        self.left = np.empty((variations, 0), np.float32)

    def next(self) -> np.ndarray:
        """The next number of each variation, (B,) float32."""
        if not self.left.shape[1]:
            self.left = torch.stack(
                [torch.rand(self.CHUNK, generator=g) for g in self.generators]
            ).numpy()
        numbers, self.left = self.left[:, 0], self.left[:, 1:]
        return numbers


def choose(
    logits: np.ndarray, allowed: np.ndarray, settings: SamplingSettings, uniform: np.ndarray
) -> np.ndarray:
    """The next token of each row, (B,) int64, from logits (B, V) float32, the grammar mask
    (B, V) bool and one uniform number in [0, 1) per row (SeededDraws), NumPy arrays all.

    Temperature divides the logits; top-k and top-p keep the likeliest tokens (worked out on the
    sorted probabilities, which are then sampled directly); each row takes the token where the
    cumulative probability passes its number (inverse transform sampling).

    Every float and every order is computed as when this ran on tensors alone, so that a seed
    gives the same music as before (tests/core/test_choose.py compares the two on random logits):
    the softmax and the cumulative sums are torch's (NumPy's exp and sums round otherwise), and
    so is the order of equal logits (torch.sort's is its own). The rest is NumPy's, whose calls
    cost 1-2 us where torch's cost about 5: a step of the small model costs 0.2-0.3 ms on a
    2-core machine, and everything else a sampling step did cost more than that (issue 29).
    """
    rows, size = logits.shape
    scale = np.float32(settings.temperature)
    if settings.top_k or settings.top_p < 1.0:
        # top-k: the k likeliest (-inf where fewer are allowed); top-p: all, in order
        ordered, order = _likeliest_first(logits, allowed, scale, settings.top_k or None)
    else:
        ordered, order = _masked(logits, allowed, scale), None
    probs = torch.softmax(torch.from_numpy(ordered), dim=-1)
    cdf = torch.cumsum(probs, dim=-1).numpy()
    if settings.top_p < 1.0:  # keep tokens while the likelier ones hold less than top_p
        cdf = _nucleus(probs.numpy(), cdf, np.float32(settings.top_p))
    chosen = np.empty(rows, np.int64)
    for row in range(rows):
        sums = cdf[row]
        # Strictly inside the kept mass, which rounding may leave off 1 (u < 1 - 2^-24).
        index = int(np.searchsorted(sums, uniform[row] * sums[-1], side="right"))
        chosen[row] = index if order is None else order[row, index]
    return chosen


def _nucleus(probs: np.ndarray, cdf: np.ndarray, top_p: np.float32) -> list[np.ndarray]:
    """Per row, the cumulative sums of its probabilities (B, V; sorted likeliest first) once
    those that come after top_p of the mass are set to 0: kept while the likelier ones hold less
    than top_p. Where the kept ones are the first n (always, but for rounding), that is the first n
    of `cdf` as it is (float32 sums of float64 additions, the same to the bit); otherwise the
    sums are made again, as torch.cumsum makes them."""
    rows = []
    for row_probs, row_cdf in zip(probs, cdf):
        dropped = row_cdf - row_probs >= top_p
        n = int(dropped.argmax()) if dropped.any() else len(dropped)
        if dropped[n:].all():
            rows.append(row_cdf[: max(n, 1)])
        else:
            kept = np.where(dropped, np.float32(0), row_probs)
            rows.append(torch.cumsum(torch.from_numpy(kept), dim=0).numpy())
    return rows


def _likeliest_first(
    logits: np.ndarray, allowed: np.ndarray, scale: np.float32, top_k: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """The k likeliest allowed logits of each row (divided by the temperature), likeliest
    first, then -inf where fewer are allowed, (B, k) float32, and the token of each place (B, k)
    int64, k = min(top_k, V) or V: what torch.topk, or torch.sort(descending=True) without a
    top_k, gives for the masked logits. NumPy sorts the allowed ones only; where two are
    equal, torch's own order of ties is taken instead."""
    rows, size = logits.shape
    k = min(top_k or size, size)
    ordered = np.empty((rows, k), np.float32)
    order = np.empty((rows, size), np.int64)  # past the allowed: never read (no chance)
    for row in range(rows):
        ids = np.flatnonzero(allowed[row])
        values = logits[row, ids]
        if scale != 1.0:
            values = values / scale
        by_likelihood = np.argsort(values)[::-1]
        values = values[by_likelihood]
        if (values[1:] == values[:-1]).any():  # ties: torch's order for them
            masked = torch.from_numpy(_masked(logits[row], allowed[row], scale))
            if top_k:
                values, indices = torch.topk(masked, k)
            else:
                values, indices = torch.sort(masked, descending=True)
            ordered[row], order[row, :k] = values.numpy(), indices.numpy()
            continue
        ordered[row, : len(values)] = values[:k]
        ordered[row, len(values) :] = _MINUS_INFINITY
        order[row, : len(ids)] = ids[by_likelihood]
    return ordered, order[:, :k]


def _masked(logits: np.ndarray, allowed: np.ndarray, scale: np.float32) -> np.ndarray:
    """The logits divided by the temperature, -inf where not allowed (any shape, float32)."""
    masked = np.where(allowed, logits, _MINUS_INFINITY)
    return masked / scale if scale != 1.0 else masked


_MINUS_INFINITY = np.float32(-np.inf)
