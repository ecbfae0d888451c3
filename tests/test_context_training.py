"""Training with context inputs (issue 26, `composer train --context`): the batches read what the
sampler computes on the same (augmented) music, a run learns and resumes bit for bit, `--from` a
model without them grows them at zero, and a run without them is what it was before."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from composer.core.midi import read_midi
from composer.core.tokens import TokenizerConfig, Vocabulary, encode
from composer.core.tokens.codec import grid_notes
from composer.core.tokens.fill_in import example_tokens
from composer.core.tokens.lookback import ContextSpec, context_ids, context_rows
from composer.core.training import TrainControl, TrainingError, new_run, resume_run
from composer.core.training.data import Batcher, PieceSet, instrument_marks
from tests.conftest import corpus, corpus_file
from tests.test_training import events, latest_weights
from tests.training_helpers import (
    collection_of,
    copy_chorales,
    tiny_model,
    tiny_training,
)

VOCAB = Vocabulary(TokenizerConfig())
SPB = VOCAB.config.steps_per_beat
SPEC = ContextSpec(lookback_bars=2, beats_per_bar=4)
TINY = ["--hidden-size", "32", "--embedding-size", "16", "--window", "64", "--device", "cpu"]


def with_context(config):
    return replace(config, context_steps=SPB, lookback_bars=2)


@pytest.fixture
def chorales(tmp_path):
    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 8)
    return collection_of(folder, tmp_path / "cache")


def test_a_window_reads_what_the_sampler_computes_on_the_augmented_piece():
    """A band (drums beside pitched parts, hundreds of tempo changes) transposed and stretched,
    and a fill-in example cut from it: windows in the middle read the context of the whole
    augmented piece, lookback ids from before the window start included."""
    music = read_midi(corpus_file("library_testdata", "pretty_midi/example.mid"))
    band = encode(music, VOCAB)
    notes, tempos = grid_notes(music, VOCAB)
    example = example_tokens(notes, tempos, 16 * SPB, 24 * SPB, VOCAB)
    assert (instrument_marks(band, VOCAB) == 1).any()  # drums, which are never transposed
    pieces = PieceSet([band.astype(np.uint16), example.astype(np.uint16)], VOCAB, SPEC)
    window = 64
    batcher = Batcher(pieces, window)
    whole = Batcher(pieces, int(pieces.lengths.max()))
    v = len(VOCAB)
    reached_back = 0
    for p, shift, stretch in ((0, 5, 1.07), (0, -4, 0.93), (1, 3, 1.05)):
        length = int(pieces.lengths[p])
        augmented = whole.batch(np.array([p]), np.array([0]), np.array([shift]),
                                np.array([stretch])).inputs[0, :length]  # fmt: skip
        assert not np.array_equal(augmented, pieces.tokens[p])
        expected = context_ids(context_rows(augmented, VOCAB, SPEC), augmented, v)
        offsets = np.arange(window, length, window)[:40]
        for o in offsets.tolist():
            batch = batcher.batch(np.array([p, -1]), np.array([o, 0]), np.array([shift, 0]),
                                  np.array([stretch, 1.0]))  # fmt: skip
            n = min(window, length - o)
            assert np.array_equal(batch.inputs[0, :n], augmented[o : o + n])
            assert np.array_equal(batch.context[0, :n], expected[o : o + n]), (p, o)
            assert (batch.context[0, n:] == [0, 0, v, v]).all()  # padding
            assert (batch.context[1] == [0, 0, v, v]).all()  # an idle lane
            rows = pieces.context_rows[p][o : o + n]
            reached_back += int(((rows[:, 2:] >= 0) & (rows[:, 2:] < o)).sum())
    assert reached_back > 100


def test_a_resumed_run_with_context_reaches_the_same_weights(tmp_path, chorales):
    # As test_training's, across an epoch border, with dropout, transposition and tempo stretch.
    config = tiny_training(steps=24, eval_every=5, batch_size=8, tempo_stretch=0.1)
    model = with_context(tiny_model(dropout=0.2))
    straight = tmp_path / "straight"
    events(new_run(straight, chorales, model, config))
    interrupted = tmp_path / "interrupted"
    control = TrainControl()
    events(new_run(interrupted, chorales, model, config, control=control), control, stop_at=7)
    second = events(resume_run(interrupted, chorales))
    assert [p.step for p in second if p.event == "step"][0] == 8
    assert max(p.epoch for p in second) >= 2
    a, b = latest_weights(straight), latest_weights(interrupted)
    assert a.keys() == b.keys() and "model.lookback.1.weight" in a
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_a_model_counting_another_grid_is_refused(tmp_path, chorales):
    model = replace(tiny_model(), context_steps=SPB * 2, lookback_bars=2)
    with pytest.raises(TrainingError, match="steps a beat"):
        new_run(tmp_path / "run", chorales, model, tiny_training())


def test_a_run_without_context_reads_and_writes_no_context(tmp_path, chorales):
    trainer = new_run(tmp_path / "run", chorales, tiny_model(), tiny_training(steps=2))
    assert trainer.train_set.context_rows is None
    batch = trainer.batcher.batch(np.array([0]), np.array([0]))
    assert batch.context is None
    events(trainer)
    (weights,) = (tmp_path / "run" / "checkpoints").glob("*.safetensors")
    shapes = {k: tuple(v.shape) for k, v in load_file(weights).items() if k.startswith("model.")}
    assert shapes == {f"model.{k}": v for k, v in tiny_model().tensor_shapes().items()}
    assert not any("context" in k or "lookback" in k for k in shapes)
