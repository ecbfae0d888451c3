"""Training with context inputs (issue 26, `composer train --context`): the batches read what the
sampler computes on the same (augmented) music, a run learns and resumes bit for bit, `--from` a
model without them grows them at zero, and a run without them is what it was before."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from composer.cli import main
from composer.core.generation.loading import load_model
from composer.core.midi import read_midi
from composer.core.model import MusicLSTM
from composer.core.tokens import TokenizerConfig, Vocabulary, encode
from composer.core.tokens.codec import grid_notes
from composer.core.tokens.fill_in import example_tokens
from composer.core.tokens.lookback import ContextSpec, context_ids, context_rows
from composer.core.tokens.stream import instrument_marks
from composer.core.training import TrainControl, TrainingError, new_run, resume_run
from composer.core.training.data import Batcher, PieceSet
from composer.core.training.start_from import hearing_context, load_weights, read_start
from tests.conftest import corpus, corpus_file
from tests.core.test_training import events, latest_weights
from tests.training_helpers import (
    collection_of,
    copy_chorales,
    tiny_model,
    tiny_trained_run,
    tiny_training,
)

VOCAB = Vocabulary(TokenizerConfig())
SPB = VOCAB.config.steps_per_beat
SPEC = ContextSpec(lookback_bars=2, beats_per_bar=4)
PHRASES = ContextSpec(lookback_bars=2, beats_per_bar=4, repeats=True, phrases=True)
TINY = ["--hidden-size", "32", "--embedding-size", "16", "--window", "64", "--device", "cpu"]


def with_context(config):
    return replace(config, context_steps=SPB, lookback_bars=2)


@pytest.fixture
def chorales(tmp_path):
    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 8)
    return collection_of(folder, tmp_path / "cache")


@pytest.mark.parametrize("spec", [SPEC, PHRASES], ids=["lookback", "phrases and repeats"])
def test_a_window_reads_what_the_sampler_computes_on_the_augmented_piece(spec):
    """A band (drums beside pitched parts, hundreds of tempo changes) transposed and stretched,
    and a fill-in example cut from it: windows in the middle read the context of the whole
    augmented piece, lookback ids from before the window start included."""
    music = read_midi(corpus_file("library_testdata", "pretty_midi/example.mid"))
    band = encode(music, VOCAB)
    notes, tempos = grid_notes(music, VOCAB)
    example = example_tokens(notes, tempos, 16 * SPB, 24 * SPB, VOCAB)
    assert (instrument_marks(band, VOCAB) == 1).any()  # drums, which are never transposed
    pieces = PieceSet([band.astype(np.uint16), example.astype(np.uint16)], VOCAB, spec)
    window = 64
    batcher = Batcher(pieces, window)
    whole = Batcher(pieces, int(pieces.lengths.max()))
    v = len(VOCAB)
    lags = len(spec.bars)
    padding = [0, 0] + [v] * lags + [0] * (lags if spec.repeats else 0)
    reached_back = 0
    for p, shift, stretch in ((0, 5, 1.07), (0, -4, 0.93), (1, 3, 1.05)):
        length = int(pieces.lengths[p])
        augmented = whole.batch(np.array([p]), np.array([0]), np.array([shift]),
                                np.array([stretch])).inputs[0, :length]  # fmt: skip
        assert not np.array_equal(augmented, pieces.tokens[p])
        expected = context_ids(context_rows(augmented, VOCAB, spec), augmented, v, spec)
        offsets = np.arange(window, length, window)[:40]
        for o in offsets.tolist():
            batch = batcher.batch(np.array([p, -1]), np.array([o, 0]), np.array([shift, 0]),
                                  np.array([stretch, 1.0]))  # fmt: skip
            n = min(window, length - o)
            assert np.array_equal(batch.inputs[0, :n], augmented[o : o + n])
            assert np.array_equal(batch.context[0, :n], expected[o : o + n]), (p, o)
            assert (batch.context[0, n:] == padding).all()
            assert (batch.context[1] == padding).all()  # an idle lane
            rows = pieces.context_rows[p][o : o + n, spec.lookback]
            reached_back += int(((rows >= 0) & (rows < o)).sum())
    assert reached_back > 100


@pytest.mark.slow
def test_a_run_with_context_learns_and_its_checkpoints_hold_the_tables(tmp_path, capsys):
    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 8)
    run = tmp_path / "run"
    args = ["train", str(folder), "--out", str(run), "--context", "--steps", "30",
            "--eval-every", "15", "--fill-in", "0.3", "--learning-rate", "1e-2", *TINY]  # fmt: skip
    assert main(args) == 0
    info = json.loads((run / "run.json").read_text())
    assert info["model"]["context_steps"] == SPB and info["model"]["lookback_bars"] == 2
    losses = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    train = [r["loss"] for r in losses if r["event"] == "train"]  # means of 10 steps
    assert train[-1] < train[0] - 1.0
    validation = [r["loss"] for r in losses if r["event"] == "validation"]
    assert validation[-1] < np.log(len(VOCAB)) - 2.0  # far below a uniform guess
    loaded = load_model(run)
    assert loaded.config.context_steps == SPB and loaded.config.lookback_bars == 2
    for name in ("context_step", "context_beat", "lookback.0", "lookback.1"):
        table = loaded.model.get_submodule(name).weight
        assert table.abs().sum() > 0, name  # trained away from their zero start
    # Resuming keeps the run's context; a run without it cannot gain it on resume.
    assert main(["train", "--out", str(run), "--resume", "--context", "--steps", "31"]) == 0
    plain = tmp_path / "plain"
    assert main(["train", str(folder), "--out", str(plain), "--steps", "1", *TINY]) == 0
    capsys.readouterr()
    assert main(["train", "--out", str(plain), "--resume", "--context", "--steps", "2"]) == 2
    assert "drop --context" in capsys.readouterr().err
    # A run made with the context of before the phrase lags keeps it on resume and says so.
    older = json.loads((run / "run.json").read_text())
    for name in ("lookback_repeats", "lookback_phrases", "lookback_ahead"):
        assert older["model"].pop(name) == 1
    (run / "run.json").write_text(json.dumps(older))
    assert main(["train", "--out", str(run), "--resume", "--context", "--steps", "32"]) == 2
    assert "drop --context" in capsys.readouterr().err


@pytest.mark.slow
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


def test_from_a_model_without_context_grows_it_at_zero_and_plays_as_before(tmp_path):
    base_dir, _ = tiny_trained_run(tmp_path / "base", files=4, steps=3)
    start = hearing_context(read_start(base_dir), SPB)
    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 4)
    collection = collection_of(folder, tmp_path / "cache")
    trainer = new_run(tmp_path / "tuned", collection, start.model, tiny_training(steps=1),
                      start_from=start)  # fmt: skip
    grown = trainer.model.eval()
    for name in start.model.context_shapes():
        assert not grown.state_dict()[name].any(), name
    old = load_model(base_dir).model.eval()
    piece = collection.tokens(next(iter(collection.files))).astype(np.int64)
    spec = start.model.context_spec()
    context = context_ids(context_rows(piece, VOCAB, spec), piece, len(VOCAB), spec)
    tokens = torch.from_numpy(piece)[None]
    with torch.no_grad():
        before, _ = old(tokens)
        after, _ = grown(tokens, context=torch.from_numpy(context)[None])
    assert torch.equal(before, after)
    trainer.close()

    # The same on the command line; the run records the grown model.
    out = tmp_path / "cli"
    assert main(["train", str(folder), "--out", str(out), "--from", str(base_dir), "--context",
                 "--steps", "1", "--window", "64", "--device", "cpu",
                 "--cache-dir", str(tmp_path / "cache")]) == 0  # fmt: skip
    model = json.loads((out / "run.json").read_text())["model"]
    assert model["context_steps"] == SPB and model["lookback_bars"] == 2


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


def test_a_model_with_context_gaining_the_fill_in_marks_keeps_its_lookback_rows():
    """The last row of a lookback table is "nothing then": it stays last when ids are added."""
    before = Vocabulary(TokenizerConfig(infill=False))
    old = MusicLSTM(with_context(replace(tiny_model(), vocab_size=len(before))))
    torch.nn.init.normal_(old.lookback[0].weight)
    grown = MusicLSTM(with_context(tiny_model()))
    added = len(VOCAB) - len(before)
    assert added == 4
    load_weights(grown, {"model": "old"}, old.state_dict())
    was, now = old.lookback[0].weight, grown.lookback[0].weight
    assert torch.equal(now[: len(before)], was[:-1]) and torch.equal(now[-1], was[-1])
    assert not now[len(before) : -1].any()
