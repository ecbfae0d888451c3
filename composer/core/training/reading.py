"""What a run reads: its training pieces and the fill-in examples cut from them, its validation
pieces, and beside each the given music, the style and the meter its model hears.

Everything here is a pure function of the run's files, its settings and its seed, so that a
resumed run reads exactly what it read before (tests/core/test_training.py and test_styles.py hold a
resumed run's weights equal to an uninterrupted one's).
"""

from __future__ import annotations

import numpy as np

from composer.core.model import ModelConfig
from composer.core.tokens.fill_in import has_fill_in
from composer.core.tokens.meter import Placement
from composer.core.tokens.vocab import Vocabulary
from composer.core.training.config import TrainConfig
from composer.core.training.data import Collection, PieceSet
from composer.core.training.fill_in_data import fill_in_examples
from composer.core.training.given_data import heard_examples
from composer.core.training.run_info import RunInfo
from composer.core.training.styles import StyleDropout, file_styles


def read_pieces(
    run: RunInfo, collection: Collection, c: TrainConfig, model: ModelConfig, vocab: Vocabulary
) -> tuple[PieceSet, PieceSet, StyleDropout | None]:
    """(training pieces, validation pieces, the style dropout of a model with styles). The
    training pieces are the run's training files, then the fill-in examples cut from them (for
    a vocabulary with the fill-in marks), each example with the given music (a model that hears
    it), the style (a model with styles) and the place in the meter (a model that follows it) of
    the piece it was cut from."""
    pieces = [collection.tokens(s) for s, _ in run.train]
    given = None  # a model that hears given music: the fill-in examples' rows, packed
    ahead = model.given_ahead_steps
    made: list[tuple[int, tuple]] = []  # per fill-in example: its piece, its part origins
    if has_fill_in(vocab) and ahead:
        parts = [collection.parts_of(s) for s, _ in run.train] if c.voices_by_track else None
        examples, rows = heard_examples(pieces, vocab, c.fill_in, c.seed, ahead, made, parts)
        given = [None] * len(pieces) + rows
        pieces += examples
    elif has_fill_in(vocab):  # read beside the whole pieces, as pieces of their own
        pieces += fill_in_examples(pieces, vocab, c.fill_in, c.seed, made)
    sources = np.array([index for index, _ in made], np.int64)
    styles = val_styles = dropout = None
    if model.styles:  # each example plays in the style of its piece
        of_file = file_styles(model, run.styles, run.train)
        styles = np.concatenate([of_file, of_file[sources]])
        val_styles = file_styles(model, run.styles, run.validation)
        dropout = StyleDropout(styles, c.seed)
    spec = model.context_spec()  # None: a model without context inputs
    lines = val_lines = None
    if spec is not None and spec.meter:  # each example in the meter of its piece
        meters = [collection.meter_of(s) for s, _ in run.train]
        lines = [Placement(m) for m in meters]
        lines += [Placement(meters[index], origins) for index, origins in made]
        val_lines = [Placement(collection.meter_of(s)) for s, _ in run.validation]
    train_set = PieceSet(pieces, vocab, spec, given, styles, lines)
    validation = [collection.tokens(s) for s, _ in run.validation]
    val_set = PieceSet(validation, vocab, spec, styles=val_styles, placements=val_lines)
    return train_set, val_set, dropout
