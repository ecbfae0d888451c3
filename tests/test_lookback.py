"""The context inputs (issue 26): meter and lookback rows, the same at once and token by token,
and the model's tables, which start at zero so that a model grown from one without them plays
exactly as before."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from composer.core.midi import read_midi
from composer.core.model import ModelConfig, MusicLSTM
from composer.core.tokens import TokenizerConfig, Vocabulary, encode
from composer.core.tokens.codec import grid_notes
from composer.core.tokens.fill_in import example_tokens
from composer.core.tokens.lookback import (
    NO_MOMENT,
    ContextSpec,
    ContextTracker,
    context_ids,
    context_rows,
)
from tests.conftest import corpus

VOCAB = Vocabulary(TokenizerConfig())
SPEC = ContextSpec(lookback_bars=2, beats_per_bar=4)


def real_sequences():
    """Whole pieces of three collections, and fill-in examples (parts that restart time) cut
    from them."""
    out = []
    for name in ("nottingham", "bach_chorales", "pop909"):
        for path in sorted(corpus(name).rglob("*.mid"))[:3]:
            piece = read_midi(path)
            out.append(encode(piece, VOCAB))
            notes, tempos = grid_notes(piece, VOCAB)
            spb = VOCAB.config.steps_per_beat
            out.append(example_tokens(notes, tempos, 8 * spb, 12 * spb, VOCAB))
    return out


@pytest.mark.parametrize("index", range(18))
def test_the_rows_at_once_equal_the_rows_token_by_token(index):
    tokens = real_sequences()[index]
    rows = context_rows(tokens, VOCAB, SPEC)
    tracker = ContextTracker(VOCAB, SPEC)
    step_by_step = np.array([tracker.feed(int(t)) for t in tokens])
    assert rows.shape == (len(tokens), 4)
    assert np.array_equal(rows, step_by_step)


def test_a_bar_played_again_is_heard_a_bar_later():
    """Two identical 4/4 bars of quarter notes: from the second bar on, the token after every
    position is the one the 1-bar lookback points at; two bars back nothing was played yet."""
    r = VOCAB.ranges
    bar = []
    for pitch in (60, 62, 64, 65):
        bar += [r["NoteOn"][0] + pitch, r["TimeShift"][0] + 11, r["NoteOff"][0] + pitch]
    tokens = np.array([1, *bar, *bar, 2])
    rows = context_rows(tokens, VOCAB, SPEC)
    second = np.arange(len(bar), 2 * len(bar))  # positions whose next token is in bar 2
    assert np.array_equal(tokens[rows[second, 2]], tokens[second + 1])
    # Two bars back is the start only once both bars are over (the first note came next then).
    assert (rows[:-2, 3] == NO_MOMENT).all() and rows[-2:, 3].tolist() == [1, 2]
    beats = rows[1 + 3 * np.arange(8) + 1, 1]  # after each time shift
    assert beats.tolist() == [1, 2, 3, 0, 1, 2, 3, 0]
    assert (rows[1 + 3 * np.arange(8) + 1, 0] == 0).all()  # on the beat
    ids = context_ids(rows, tokens, len(VOCAB))
    assert (ids[:-2, 3] == len(VOCAB)).all() and np.array_equal(ids[second, 2], tokens[second + 1])


@pytest.mark.parametrize("given, copy", [(0, 0), (12, 0), (12, 1)])
def test_context_tables_start_at_zero_so_a_grown_model_plays_as_before(given, copy):
    plain = ModelConfig(len(VOCAB), hidden_size=32, embedding_size=16, layers=2)
    grown = replace(
        plain,
        context_steps=VOCAB.config.steps_per_beat,
        lookback_bars=2,
        given_ahead_steps=given,
        lookback_copy=copy,
    )
    torch.manual_seed(0)
    old = MusicLSTM(plain).eval()
    new = MusicLSTM(grown).eval()
    missing = new.load_state_dict(old.state_dict(), strict=False).missing_keys
    assert sorted(missing) == sorted(grown.context_shapes())
    assert {k: tuple(v.shape) for k, v in new.state_dict().items()} == grown.tensor_shapes()
    assert grown.parameter_count == sum(p.numel() for p in new.parameters())
    tokens = torch.from_numpy(real_sequences()[0][:200].astype(np.int64))[None]
    context = torch.from_numpy(
        context_ids(context_rows(tokens[0].numpy(), VOCAB, SPEC), tokens[0].numpy(), len(VOCAB))
    )[None]
    with torch.no_grad():
        assert torch.equal(old(tokens)[0], new(tokens, context=context)[0])
    with pytest.raises(ValueError, match="context"):
        new(tokens)


def test_models_saved_before_context_inputs_read_as_without_them():
    saved = {"vocab_size": len(VOCAB), "hidden_size": 32, "layers": 2, "embedding_size": 16,
             "dropout": 0.1}  # fmt: skip
    config = ModelConfig.from_dict(saved)
    assert config.context_steps == 0 and config.context_spec() is None
    assert set(config.tensor_shapes()) == set(MusicLSTM(config).state_dict())
