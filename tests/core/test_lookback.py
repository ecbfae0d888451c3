"""The context inputs (issue 26): meter and lookback rows, the same at once and token by token,
and the model's tables, which start at zero so that a model grown from one without them plays
exactly as before."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from composer.core.errors import SettingsError
from composer.core.midi import read_midi
from composer.core.model import ModelConfig, MusicLSTM
from composer.core.tokens import TokenizerConfig, Vocabulary, encode
from composer.core.tokens.codec import grid_notes
from composer.core.tokens.fill_in import example_tokens
from composer.core.tokens.lookback import (
    NO_MOMENT,
    REPEAT_ROWS,
    ContextSpec,
    ContextTracker,
    context_ids,
    context_rows,
)
from composer.core.tokens.meter import Meter, Placement
from tests.conftest import corpus

VOCAB = Vocabulary(TokenizerConfig())
SPEC = ContextSpec(lookback_bars=2, beats_per_bar=4)
REPEATS = ContextSpec(lookback_bars=2, beats_per_bar=4, repeats=True)
PHRASES = ContextSpec(lookback_bars=2, beats_per_bar=4, repeats=True, phrases=True)


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


@pytest.mark.slow
@pytest.mark.parametrize("spec", [SPEC, REPEATS, PHRASES], ids=["lookback", "repeats", "phrases"])
@pytest.mark.parametrize("index", range(18))
def test_the_rows_at_once_equal_the_rows_token_by_token(index, spec):
    tokens = real_sequences()[index]
    rows = context_rows(tokens, VOCAB, spec)
    tracker = ContextTracker(VOCAB, spec)
    step_by_step = np.array([tracker.feed(int(t)) for t in tokens])
    lags = len(spec.bars)
    assert rows.shape == (len(tokens), 2 + (2 * lags if spec.repeats else lags))
    assert np.array_equal(rows, step_by_step)


def test_real_tunes_repeat_their_phrases_more_than_their_bars():
    """On real folk tunes (their own bars), the token after a moment is the one that came next
    there 4 or 8 bars before far more often than 1 bar before, in long runs: the phrase lags
    give the model what the tunes repeat; the runs stay within the repeat table."""
    spec = ContextSpec(lookback_bars=2, beats_per_bar=4, meter=True, repeats=True, phrases=True)
    spb = VOCAB.config.steps_per_beat
    nexts, runs = [], []
    for path in sorted(corpus("nottingham").rglob("*.mid"))[:8]:
        piece = read_midi(path)
        tokens = encode(piece, VOCAB)
        rows = context_rows(tokens, VOCAB, spec, Placement(Meter.of_piece(piece, spb)))
        lookback = rows[:-1, spec.lookback]
        nexts.append((lookback >= 0) & (tokens[np.maximum(lookback, 0)] == tokens[1:, None]))
        runs.append(rows[:, spec.repeat])
    repeated, runs = np.concatenate(nexts).mean(axis=0), np.concatenate(runs)
    assert spec.bars == (1, 2, 4, 8)
    assert repeated[2] > 1.3 * repeated[0] and repeated[3] > 1.3 * repeated[0]
    assert (runs[:, 2:] >= 8).mean() > 3 * (runs[:, 0] >= 8).mean()
    assert runs.max() == REPEAT_ROWS - 1


def test_the_repeat_flags_count_tokens_repeated_and_start_again_at_a_change():
    """Three 4/4 bars of quarter notes, the second like the first, the third's second note
    another: the 1-bar count grows by one a token through the second bar, and starts again
    from 0 at the changed note."""
    r = VOCAB.ranges

    def bar(pitches):
        out = []
        for pitch in pitches:
            out += [r["NoteOn"][0] + pitch, r["TimeShift"][0] + 11, r["NoteOff"][0] + pitch]
        return out

    first = bar((60, 62, 64, 65))
    third = bar((60, 67, 64, 65))
    tokens = np.array([1, *first, *first, *third, 2])
    runs = context_rows(tokens, VOCAB, REPEATS)[:, 4]
    n = len(first)
    assert (runs[: n + 1] == 0).all()  # nothing a bar before to repeat
    # Token n + 1 (the second bar's first) is the first that repeats: counts 1, 2, 3, ...
    assert runs[n + 1 : 2 * n + 1].tolist() == list(range(1, n + 1))
    assert runs[2 * n + 1 : 2 * n + 4].tolist() == [n + 1, n + 2, n + 3]  # the third's first note
    changed = 2 * n + 4  # the NoteOn of 67, where the bar before had 62
    assert runs[changed] == 0 and runs[changed + 1] == 1  # its time shift is the bar's again
    assert runs[changed + 2] == 0 and runs[changed + 3] == 1  # NoteOff 67 vs 62, then E again


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
    ids = context_ids(rows, tokens, len(VOCAB), SPEC)
    assert (ids[:-2, 3] == len(VOCAB)).all() and np.array_equal(ids[second, 2], tokens[second + 1])


@pytest.mark.parametrize("given, copy, repeats", [(0, 0, 0), (12, 0, 0), (12, 1, 0), (12, 0, 1)])
def test_context_tables_start_at_zero_so_a_grown_model_plays_as_before(given, copy, repeats):
    plain = ModelConfig(len(VOCAB), hidden_size=32, embedding_size=16, layers=2)
    grown = replace(
        plain,
        context_steps=VOCAB.config.steps_per_beat,
        lookback_bars=2,
        given_ahead_steps=given,
        lookback_copy=copy,
        lookback_repeats=repeats,
    )
    spec = grown.context_spec()
    torch.manual_seed(0)
    old = MusicLSTM(plain).eval()
    new = MusicLSTM(grown).eval()
    missing = new.load_state_dict(old.state_dict(), strict=False).missing_keys
    assert sorted(missing) == sorted(grown.context_shapes())
    assert {k: tuple(v.shape) for k, v in new.state_dict().items()} == grown.tensor_shapes()
    assert grown.parameter_count == sum(p.numel() for p in new.parameters())
    tokens = torch.from_numpy(real_sequences()[0][:200].astype(np.int64))[None]
    context = torch.from_numpy(
        context_ids(
            context_rows(tokens[0].numpy(), VOCAB, spec), tokens[0].numpy(), len(VOCAB), spec
        )
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


def test_the_phrase_inputs_are_written_only_when_a_model_has_them():
    """A model without the phrases, repeat flags or look-ahead is written as before they existed
    (an older Composer reads it); a file asking to look ahead without the meter is refused."""
    saved = {"vocab_size": len(VOCAB), "hidden_size": 32, "layers": 2, "embedding_size": 16,
             "dropout": 0.1, "context_steps": 12, "lookback_bars": 2}  # fmt: skip
    config = ModelConfig.from_dict(saved)
    assert not {"lookback_repeats", "lookback_phrases", "lookback_ahead"} & set(config.to_dict())
    assert config.context_spec().bars == (1, 2) and config.lookback_lags == 2
    grown = config.hearing_context(12)
    assert grown.meter == 0 and grown.lookback_ahead == 0  # it counted 4/4 bars: no look-ahead
    assert grown.context_spec().bars == (1, 2, 4, 8) and grown.context_spec().repeats
    fresh = ModelConfig.from_dict({k: v for k, v in saved.items() if "context" not in k and
                                   "lookback" not in k}).hearing_context(12)  # fmt: skip
    assert fresh.context_spec().bars == (1, 2, 4, 8, -1, -2, -4)
    assert ModelConfig.from_dict(fresh.to_dict()) == fresh
    assert set(fresh.tensor_shapes()) == set(MusicLSTM(fresh).state_dict())
    with pytest.raises(SettingsError, match="lookback_ahead needs meter"):
        ModelConfig.from_dict(saved | {"lookback_ahead": 1})


def test_a_context_model_with_the_copy_bias_grows_the_phrase_lags_at_zero():
    """--from a context model made before the phrases (here with the copy bias) and --context:
    the new lags' tables and copy rows start at zero, so it plays as before."""
    from composer.core.training.start_from import load_weights

    old_config = ModelConfig(len(VOCAB), hidden_size=32, embedding_size=16, layers=2,
                             context_steps=12, lookback_bars=2, lookback_copy=1)  # fmt: skip
    torch.manual_seed(1)
    old = MusicLSTM(old_config).eval()
    with torch.no_grad():
        for table in (old.context_step, *old.lookback, old.copy):
            table.weight.normal_(0, 0.3)
    grown_config = old_config.hearing_context(12)
    assert grown_config.lookback_lags == 4 and grown_config.lookback_repeats
    grown = MusicLSTM(grown_config).eval()
    load_weights(grown, {"model": "test"}, old.state_dict())
    tokens = real_sequences()[0][:300].astype(np.int64)
    contexts = [
        torch.from_numpy(context_ids(context_rows(tokens, VOCAB, s), tokens, len(VOCAB), s))[None]
        for s in (old_config.context_spec(), grown_config.context_spec())
    ]
    with torch.no_grad():
        before = old(torch.from_numpy(tokens)[None], context=contexts[0])[0]
        after = grown(torch.from_numpy(tokens)[None], context=contexts[1])[0]
    torch.testing.assert_close(before, after)
