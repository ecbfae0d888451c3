"""How much the music after a span helps a fill-in model write it: the NLL of middles given both
sides against the same middles given only the side before (tokens/fill_in.py has the layout).

Spans are drawn as training draws them (draw_span), from a seed, on the evaluated files; each is
scored twice by the same model: `Suffix … Prefix … Middle …` and `Prefix … Middle …` (the layout
without its suffix, which training also uses), over the middle's tokens and its EndMiddle.
"""

from __future__ import annotations

import numpy as np

from composer.core.evaluation.likelihood import token_nll
from composer.core.model import MusicLSTM
from composer.core.tokens.fill_in import (
    draw_span,
    example_tokens,
    grid_from_tokens,
    has_fill_in,
    mark,
)
from composer.core.tokens.vocab import Vocabulary


def fill_in_report(
    model: MusicLSTM, vocab: Vocabulary, pieces: list[np.ndarray], spans: int = 4, seed: int = 0
) -> dict | None:
    """Mean NLL per middle token (nats) with both sides and with the left side only, over
    `spans` spans per piece (pieces: token arrays). None for a model without fill-in marks."""
    if not has_fill_in(vocab):
        return None
    model.eval()
    rng = np.random.default_rng([seed, 3])
    spb = vocab.config.steps_per_beat
    middle = mark(vocab, "Middle")
    both, left = [], []
    for tokens in pieces:
        notes, tempos = grid_from_tokens(tokens, vocab)
        beats = -(-int(notes["end"].max()) // spb) if len(notes) else 0
        if beats < 2:
            continue
        for _ in range(spans):
            start, end = (b * spb for b in draw_span(rng, beats))
            for suffix, out in ((True, both), (False, left)):
                sequence = example_tokens(notes, tempos, start, end, vocab, suffix)
                at = int(np.flatnonzero(sequence == middle)[0])
                out.append(token_nll(model, sequence)[at:])  # targets after the Middle mark
    if not both:
        return None
    both_nats, left_nats = float(np.concatenate(both).mean()), float(np.concatenate(left).mean())
    return {
        "spans": len(both),
        "middle_tokens": int(sum(len(b) for b in both)),
        "both_sides_nats": round(both_nats, 4),
        "left_side_nats": round(left_nats, 4),
        "relative": round((left_nats - both_nats) / left_nats, 4) if left_nats > 0 else 0.0,
    }
