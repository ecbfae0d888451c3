"""What the sampler needs to write a span of exactly known length (generation/fill.py builds it):
what the model reads first, and the mask that keeps the music inside the span.

The mask (ANDed with the grammar's) lets no time shift run past the span's end and no note start
there (a key struck again within one step starts a step later, each time). A variation is done when its time reaches the end: the notes still sounding end there,
which is what a training example's middle does before its EndMiddle (notes are cut at the
border), so the sampler closes them itself rather than asking the model for each note-off and
the EndMiddle: nothing else may come there, and a barely trained model could dither for ever
between instruments that still sound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.core.tokens.given import GivenMusic
from composer.core.tokens.meter import Placement
from composer.core.tokens.stream import StreamDecoder
from composer.core.tokens.vocab import Vocabulary


@dataclass(frozen=True)
class FillSpan:
    """A span to write. `context` (int64, shape (L,)) is read before the first new token: for a
    model trained to fill in, the suffix, prefix and Middle mark (tokens/fill_in.py); else Bos
    and the music before the span. The new music starts at time 0 and lasts `steps` grid steps."""

    context: np.ndarray
    steps: int
    tempo_bin: int  # the tempo in force at the span's start: the only tempo token allowed
    # Notes kept from before the span that still sound in it: (instrument slot, pitch, step it
    # ends at). Striking the same key of the same instrument while one sounds would cut it short
    # in the exported file (MIDI pairs a note-off with the last note-on of its key).
    held: tuple[tuple[int, int, int], ...] = ()
    # What a model that hears given music hears in the span (tokens/given.py): the kept tracks'
    # notes and the suffix, in the span's time. None: nothing given (a span of its own).
    given: GivenMusic | None = None
    # Where the context's parts lie in the piece and its meter (tokens/meter.py), for a model
    # that follows the meter; None: 4/4 from each part's start.
    placement: Placement | None = None


class SpanMask:
    """The masks of one FillSpan for one vocabulary; `allowed` per step."""

    def __init__(self, span: FillSpan, vocab: Vocabulary):
        self.span, r = span, vocab.ranges
        self.shift = r["TimeShift"][0]
        self.on = r["NoteOn"][0]
        self.anytime = np.ones(len(vocab), bool)
        first, count = r["Tempo"]
        self.anytime[first : first + count] = False  # the piece keeps its own tempo map
        self.anytime[first + span.tempo_bin] = True
        self.anytime[r["Eos"][0]] = False  # the span ends by its length, not by Eos

    def allowed(self, decoders: list[StreamDecoder]) -> np.ndarray:
        """Bool mask (B, V): what may come next in each variation's span."""
        mask = np.repeat(self.anytime[None], len(decoders), axis=0)
        for row, d in enumerate(decoders):
            left = self.span.steps - d.time
            mask[row, self.shift + max(left, 0) :] = False  # TimeShift_k moves k steps
            # A key struck again at once sounds a step later (each time): none past the end.
            late = [p for p, starts in d.delayed_until().items() if starts >= self.span.steps]
            mask[row, self.on + np.array(late, np.int64)] = False
            for slot, pitch, until in self.span.held:
                if slot == d.slot and d.time < until:
                    mask[row, self.on + pitch] = False
        return mask

    def finished(self, decoder: StreamDecoder) -> bool:
        """Whether a variation has filled the span; if so, its notes still sounding end at the
        span's end (as the notes of a training example's middle do)."""
        if decoder.time < self.span.steps and not decoder.ended:
            return False  # (an end forced on a model that left nothing else: silence to the end)
        decoder.close()
        return True
