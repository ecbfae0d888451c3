"""How much the music after a span helps a fill-in model write it: the NLL of middles given both
sides against the same middles given only the side before (tokens/fill_in.py has the layout).

Spans are drawn as training draws them (draw_span), from a seed, on the evaluated files; each is
scored twice by the same model: `Suffix … Prefix … Middle …` and `Prefix … Middle …` (the layout
without its suffix, which training also uses), over the middle's tokens and its EndMiddle. A model
that hears given music (tokens/given.py) hears the suffix as the span's end nears in the first,
and only the beats left in the second, as when it fills.
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
    part_origins,
)
from composer.core.tokens.given import span_given
from composer.core.tokens.meter import Meter, Placement
from composer.core.tokens.vocab import Vocabulary


def fill_in_report(
    model: MusicLSTM,
    vocab: Vocabulary,
    pieces: list[np.ndarray],
    spans: int = 4,
    seed: int = 0,
    meters: list[Meter] | None = None,
) -> dict | None:
    """Mean NLL per middle token (nats) with both sides and with the left side only, over
    `spans` spans per piece (pieces: token arrays), over the whole middle and over its last beat
    (and EndMiddle). meters: each piece's time signatures (None: 4/4). None for a model without
    fill-in marks."""
    if not has_fill_in(vocab):
        return None
    model.eval()
    rng = np.random.default_rng([seed, 3])
    spb = vocab.config.steps_per_beat
    middle = mark(vocab, "Middle")
    first_shift, shifts = vocab.ranges["TimeShift"]
    both, left, both_end, left_end = [], [], [], []
    meters = meters or [Meter.four_four(spb)] * len(pieces)
    for tokens, meter in zip(pieces, meters):
        notes, tempos = grid_from_tokens(tokens, vocab)
        beats = -(-int(notes["end"].max()) // spb) if len(notes) else 0
        if beats < 2:
            continue
        for _ in range(spans):
            start, end = (b * spb for b in draw_span(rng, beats))
            for suffix, out, out_end in ((True, both, both_end), (False, left, left_end)):
                sequence = example_tokens(notes, tempos, start, end, vocab, suffix)
                at = int(np.flatnonzero(sequence == middle)[0])
                # A model that hears given music hears the suffix come near, as it fills.
                given = span_given(notes, notes[:0], start, end, vocab, suffix)
                placement = Placement(meter, part_origins(start, end, spb, suffix))
                # the targets after the Middle mark
                nll = token_nll(model, sequence, vocab, given, placement=placement)[at:]
                out.append(nll)
                # The time at which each target sounds: the last beat is where the music after
                # the span matters most (the join).
                targets = sequence[at + 1 :]
                is_shift = (targets >= first_shift) & (targets < first_shift + shifts)
                time = np.cumsum(np.where(is_shift, targets - first_shift + 1, 0))
                out_end.append(nll[time >= end - start - spb])
    if not both:
        return None
    both_nats, left_nats = float(np.concatenate(both).mean()), float(np.concatenate(left).mean())
    # Spans differ in length and difficulty, and one span's tokens are not independent: the
    # uncertainty of the gain is the standard error of the per-span differences.
    per_span = np.array([lo.mean() - bo.mean() for lo, bo in zip(left, both)])
    spread = float(per_span.std(ddof=1) / np.sqrt(len(per_span))) if len(per_span) > 1 else 0.0
    end_both, end_left = (
        float(np.concatenate(both_end).mean()),
        float(np.concatenate(left_end).mean()),
    )
    return {
        "spans": len(both),
        "middle_tokens": int(sum(len(b) for b in both)),
        "both_sides_nats": round(both_nats, 4),
        "left_side_nats": round(left_nats, 4),
        "relative": round(_gain(left_nats, both_nats), 4),
        "span_gain_nats": round(float(per_span.mean()), 4),  # mean over spans of left - both
        "span_gain_standard_error": round(spread, 4),
        "last_beat_both_sides_nats": round(end_both, 4),
        "last_beat_left_side_nats": round(end_left, 4),
        "last_beat_relative": round(_gain(end_left, end_both), 4),
    }


def _gain(left: float, both: float) -> float:
    return (left - both) / left if left > 0 else 0.0
