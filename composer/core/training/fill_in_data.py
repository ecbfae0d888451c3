"""Fill-in-the-middle training examples, cut from the training pieces (tokens/fill_in.py has the
layout and says why it suits an LSTM).

The examples are drawn once per run, from its seed, and read beside the whole pieces as pieces of
their own: the window stream (data.py) deals pieces by their lengths, so an example must have its
length before training starts, and a resumed run draws the very same ones. Each example is a
different cut (pieces are visited again and again, each visit a new cut), so a collection of a
few dozen files still gives thousands of different spans to fill.
"""

from __future__ import annotations

import numpy as np

from composer.core.tokens.fill_in import (
    draw_span,
    example_tokens,
    grid_and_parts,
    part_origins,
)
from composer.core.tokens.vocab import Vocabulary

#: The share of examples that withhold the suffix (`Prefix … Middle … EndMiddle`): the model also
#: learns to fill from the left alone, which `composer evaluate` compares with filling from both.
LEFT_ONLY_SHARE = 0.125


def fill_in_examples(
    pieces: list[np.ndarray], vocab: Vocabulary, share: float, seed: int, log=None
) -> list[np.ndarray]:
    """Examples (uint16 token arrays) that hold `share` (0 to below 1) of all the tokens read
    (whole pieces plus examples), cut at random beats from `pieces` (uint16 token arrays).
    log: a list that gets, per example, (the index of the piece it was cut from, where its
    parts begin in that piece: fill_in.part_origins)."""
    rng = np.random.default_rng([seed, 2])
    spb = vocab.config.steps_per_beat

    def cut(notes, tempos, beats, _parts):
        start, end = draw_span(rng, beats)
        suffix = rng.random() >= LEFT_ONLY_SHARE
        example = example_tokens(notes, tempos, start * spb, end * spb, vocab, suffix)
        origins = part_origins(start * spb, end * spb, spb, suffix)
        return example.astype(np.uint16), len(example), origins

    return draw_examples(pieces, vocab, share, rng, cut, log)


def draw_examples(
    pieces: list[np.ndarray], vocab: Vocabulary, share: float, rng, make, log=None, parts=None
) -> list:
    """What make(notes, tempos, beats, note_parts) -> (example, its token count, its part
    origins) makes of pieces visited in random orders (each visit a new cut), until the examples
    hold `share` of all the tokens read. notes and tempos: a piece's grid
    (fill_in.grid_and_parts); beats: its length in beats (at least 2: shorter pieces have
    nothing to cut); note_parts: each note's track, or None when not known. parts: per piece,
    the track of each NoteOn token (TokenCache.parts) or None; None: none known. log: a list
    that gets (index of the piece, part origins) per example: its style and its place in the
    meter."""
    if share <= 0 or not pieces:
        return []
    wanted = share / (1.0 - share) * sum(len(p) for p in pieces)
    spb = vocab.config.steps_per_beat
    examples: list = []
    made = 0
    while made < wanted:
        before = made
        for index in rng.permutation(len(pieces)).tolist():
            on_parts = None if parts is None else parts[index]
            notes, tempos, note_parts = grid_and_parts(pieces[index], vocab, on_parts)
            beats = -(-int(notes["end"].max()) // spb) if len(notes) else 0
            if beats < 2:
                continue
            example, tokens, origins = make(notes, tempos, beats, note_parts)
            examples.append(example)
            if log is not None:
                log.append((index, origins))
            made += tokens
            if made >= wanted:
                break
        if made == before:  # no piece is two beats long: nothing to cut
            break
    return examples
