"""Choosing the next token: the grammar mask, temperature, top-k, top-p, and seeded draws."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from composer.core.tokens.stream import StreamDecoder
from composer.core.tokens.vocab import Vocabulary


@dataclass(frozen=True)
class SamplingSettings:
    """How to sample. Greedy decoding (always the likeliest token) is `top_k=1`."""

    temperature: float = 1.0  # > 0; below 1 plays safer, above 1 takes more risks
    top_k: int = 0  # keep only the k likeliest tokens (0: all)
    top_p: float = 1.0  # keep the likeliest tokens whose probabilities add up to p (1: all)
    max_tokens: int | None = None  # stop after this many new tokens
    seconds: float | None = 30.0  # stop after this much new music (by its tempo tokens)
    seed: int = 0  # variation i draws from its own generator seeded with seed + i
    variations: int = 1  # sampled together, as one batch

    def __post_init__(self) -> None:
        checks = [
            (self.temperature > 0, "temperature must be above 0 (for greedy output use top-k 1)"),
            (self.top_k >= 0, "top-k must be 0 (off) or more"),
            (0 < self.top_p <= 1, "top-p must be above 0 and at most 1"),
            (
                self.max_tokens is None or self.max_tokens >= 1,
                "the length in tokens must be at least 1",
            ),
            (self.seconds is None or self.seconds > 0, "the length in seconds must be above 0"),
            (
                self.max_tokens is not None or self.seconds is not None,
                "give a length in tokens or seconds",
            ),
            (1 <= self.variations <= 64, "variations must be 1 to 64"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


class Grammar:
    """Which tokens may come next, given a decoder's state, so that sampled music is valid:
    never Pad or Bos; a note-off only for a sounding note and a note-on only for a silent one (of
    the current instrument); after a Velocity, a note-on; Eos only with no note sounding and at
    least one note written."""

    def __init__(self, vocab: Vocabulary):
        r = vocab.ranges
        self.size = len(vocab)
        self.on, self.off = r["NoteOn"][0], r["NoteOff"][0]
        self.eos = r["Eos"][0]
        self.base = np.ones(self.size, bool)
        self.base[[r["Pad"][0], r["Bos"][0]]] = False
        self.base[self.off : self.off + 128] = False  # allowed per sounding note below
        self.only_note_on = np.zeros(self.size, bool)
        self.only_note_on[self.on : self.on + 128] = True

    def allowed(self, decoder: StreamDecoder, notes_written: int) -> np.ndarray:
        """Bool mask over the vocabulary, shape (V,)."""
        mask = self.only_note_on.copy() if decoder.last_kind == "Velocity" else self.base.copy()
        for slot, pitch in decoder.sounding:
            if slot == decoder.slot:
                mask[self.on + pitch] = False
                if decoder.last_kind != "Velocity":
                    mask[self.off + pitch] = True
        mask[self.eos] = bool(mask[self.eos] and not decoder.sounding and notes_written > 0)
        if not mask.any():  # cannot happen with 128 pitches, but never leave nothing to draw
            mask[self.eos] = True
        return mask


def filter_logits(
    logits: torch.Tensor, allowed: torch.Tensor, settings: SamplingSettings
) -> torch.Tensor:
    """Probabilities (B, V) from logits (B, V): grammar mask, temperature, top-k, then top-p."""
    logits = logits.float().masked_fill(~allowed, float("-inf")) / settings.temperature
    if settings.top_k:
        k = min(settings.top_k, logits.shape[-1])
        kth = torch.topk(logits, k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    if settings.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
        before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs  # mass of likelier tokens
        sorted_probs = sorted_probs.masked_fill(before >= settings.top_p, 0.0)  # keeps the first
        probs = torch.zeros_like(probs).scatter_(-1, order, sorted_probs)
        probs = probs / probs.sum(dim=-1, keepdim=True)
    return probs


def draw(probs: torch.Tensor, generators: list[torch.Generator]) -> torch.Tensor:
    """One token per row by inverse transform sampling, row i with generators[i]: (B,) int64.

    A uniform number per row from its own generator keeps each variation's draws independent of
    how many variations share the batch."""
    u = torch.cat([torch.rand(1, generator=g) for g in generators]).to(probs.device)
    cdf = torch.cumsum(probs, dim=-1)
    u = u[:, None] * cdf[:, -1:]  # strictly inside the total mass, which rounding may put below 1
    return torch.searchsorted(cdf, u, right=True)[:, 0].clamp_(max=probs.shape[-1] - 1)
