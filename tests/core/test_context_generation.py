"""Generation and evaluation with a model that reads context inputs (issue 26): the sampler
feeds the model exactly the rows training computes for the tokens it wrote, the stepper gives
the logits of one forward pass, generate, fill and `composer evaluate` work with such a model,
and a model without them (the bundled one) is untouched."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors.torch import save as save_safetensors

from composer.cli import main
from composer.core.generation import Sampler, SamplingSettings, load_model
from composer.core.generation.constraints import Constraints
from composer.core.generation.fill import SpanFiller
from composer.core.generation.loading import ModelFileError
from composer.core.generation.stepper import LSTMStepper
from composer.core.midi import read_midi, write_midi
from composer.core.midi.timeline import Timeline
from composer.core.model import ModelConfig, MusicLSTM, context_tensor
from composer.core.tokens import encode
from composer.core.tokens.lookback import ContextReader, context_ids, context_rows
from composer.resources import default_model
from tests.conftest import corpus


def grown_model(
    folder,
    scale: float = 0.3,
    steps: int | None = None,
    given_ahead: int = 0,
    copy: int = 0,
    meter: int = 0,
    context: bool = True,
    phrases: int = 0,
):
    """The bundled model with context inputs added (the tokenizer's 12-step beat unless `steps`,
    lookback of 1 and 2 bars, with `phrases` 4 and 8 bars too, the repeat flags and (with the
    meter) the look-ahead, the given music `given_ahead` steps ahead), written as a model file;
    its context tables hold random values `scale` wide (0: the zeros a model grown by
    training starts from)."""
    source = default_model()
    info = json.loads(source.read_text())
    base = load_model(source)
    steps = steps or base.vocab.config.steps_per_beat
    config = replace(
        core_config(base.config),
        context_steps=steps,
        lookback_bars=2,
        given_ahead_steps=given_ahead,
        lookback_copy=copy,
        meter=meter,
        lookback_repeats=phrases,
        lookback_phrases=phrases,
        lookback_ahead=phrases * meter,
    )
    if not context:  # the bundled model's core alone: a model that hears no context
        config = core_config(base.config)
    model = MusicLSTM(config)
    # The bundled model's embedding, LSTM and head; its own context tables and styles are not
    # this test model's (it is the model without them, grown).
    core = {
        k: v
        for k, v in base.model.state_dict().items()
        if k.startswith(("embedding", "lstm", "head"))
    }
    missing = model.load_state_dict(core, strict=False).missing_keys
    prefixes = ("context_", "lookback.", "repeat.", "given.", "given_out.", "copy.")
    assert (missing or not context) and all(k.startswith(prefixes) for k in missing)
    generator = torch.Generator().manual_seed(26)
    tables = [model.context_step, model.context_beat, *model.lookback, *model.repeat]
    tables = tables if context else []
    with torch.no_grad():
        for table in tables + ([model.given, model.given_out] if given_ahead else []):
            table.weight.copy_(torch.randn(table.weight.shape, generator=generator) * scale)
        if copy:  # a strong pull toward repeating, so that a test sees it
            model.copy.weight.copy_(torch.randn(model.copy.weight.shape, generator=generator))
            model.copy.bias.fill_(3.0 * (scale > 0))
    weights = {f"model.{k}": v.contiguous() for k, v in model.state_dict().items()}
    data = save_safetensors(weights, metadata={"format": "composer-model"})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.safetensors").write_bytes(data)
    info |= {
        "model": config.to_dict(),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "provenance": {"name": "context test model"},
    }
    (folder / "model.json").write_text(json.dumps(info))
    return folder / "model.json"


def core_config(config: ModelConfig) -> ModelConfig:
    """The size of `config` alone: no context inputs, no styles."""
    return ModelConfig(
        config.vocab_size,
        hidden_size=config.hidden_size,
        layers=config.layers,
        embedding_size=config.embedding_size,
        dropout=config.dropout,
    )


def core_of(loaded):
    """The bundled model's embedding, LSTM and head alone, as a model without context inputs or
    styles: what the context tests grow (the bundled model hears the bar itself since issue 26)."""
    from composer.core.generation.loading import LoadedModel

    config = core_config(loaded.config)
    net = MusicLSTM(config)
    core = {
        k: v
        for k, v in loaded.model.state_dict().items()
        if k.startswith(("embedding", "lstm", "head"))
    }
    net.load_state_dict(core)
    return LoadedModel(net.eval(), config, loaded.vocab, loaded.source, loaded.info)


@pytest.fixture(scope="module")
def context_model(tmp_path_factory):
    loaded = load_model(grown_model(tmp_path_factory.mktemp("context")))
    assert loaded.config.context_steps == 12 and len(loaded.model.lookback) == 2
    return loaded


@pytest.fixture(scope="module")
def bundled():
    return load_model(default_model())


@pytest.fixture(scope="module")
def chorale():
    return read_midi(sorted(corpus("bach_chorales").glob("*.mid"))[0])


@pytest.fixture(scope="module")
def song():
    return read_midi(sorted(corpus("pop909").glob("*.mid"))[0])


class RecordingStepper:
    """An LSTMStepper that keeps what the sampler gives it to read."""

    def __init__(self, stepper: LSTMStepper):
        self.stepper, self.steps, self.given = stepper, [], []

    def prime(self, tokens, context=None, given=None):
        self.primed = (tokens.clone(), context.clone())
        self.primed_given = None if given is None else given.clone()
        return self.stepper.prime(tokens, context, given)

    def step(self, tokens, state, context=None, given=None):
        self.steps.append((tokens.clone(), context.clone()))
        self.given.append(None if given is None else tuple(g.clone() for g in given))
        return self.stepper.step(tokens, state, context, given)

    def __getattr__(self, name):  # given_vectors and the rest: the stepper's own
        return getattr(self.stepper, name)


def assert_fed_as_trained(sampler: Sampler, recorder: RecordingStepper) -> None:
    """Each variation's tokens (primer or span context, then what it wrote) were read with
    exactly the context rows training computes for them at once."""
    vocab, size = sampler.vocab, sampler.loaded.config.vocab_size
    spec = sampler.loaded.config.context_spec()
    primer_tokens, primer_rows = recorder.primed
    for i in range(len(sampler.variations)):
        tokens = sampler.tokens(i)
        new = len(tokens) - len(sampler.primer)
        assert new > 0 and len(recorder.steps) >= new
        fed = np.concatenate([primer_tokens[i], [t[i] for t, _ in recorder.steps[:new]]])
        rows = np.concatenate([primer_rows[i], [r[i] for _, r in recorder.steps[:new]]])
        assert np.array_equal(fed, tokens)  # a time shift cut at the end is read as cut
        expected = context_rows(tokens, vocab, spec, sampler.placement)
        assert np.array_equal(rows, context_ids(expected, tokens, size, spec))


@pytest.mark.slow
@pytest.mark.parametrize("which", ["context", "phrases"])
def test_the_sampler_feeds_the_rows_training_computes(which, context_model, phrase_model, chorale):
    """A primer piece, a tempo asked for (a token after the primer) and a length that cuts the
    last time shift: every row read equals the rows of the whole sequence at once."""
    sampler = Sampler(
        context_model if which == "context" else phrase_model,
        SamplingSettings(seconds=5, variations=3, seed=4, top_p=1.0),
        chorale,
        constraints=Constraints(tempo_bpm=100),
    )
    sampler.stepper = recorder = RecordingStepper(sampler.stepper)
    for _ in sampler.run():
        pass
    assert sampler.finished() == [0, 1, 2]
    assert_fed_as_trained(sampler, recorder)


@pytest.mark.parametrize("which", ["context", "phrases"])
def test_a_fill_feeds_the_rows_training_computes_for_its_layout(
    which, context_model, phrase_model, song
):
    start, end = bar_ticks(song, 9, 10)
    loaded = context_model if which == "context" else phrase_model
    filler = SpanFiller(loaded, song, start, end, SamplingSettings(seed=2, variations=2, top_p=1.0))
    filler.sampler.stepper = recorder = RecordingStepper(filler.sampler.stepper)
    for _ in filler.run():
        pass
    assert filler.finished() == [0, 1]
    assert_fed_as_trained(filler.sampler, recorder)


@pytest.fixture(scope="module")
def copy_model(tmp_path_factory):
    loaded = load_model(grown_model(tmp_path_factory.mktemp("copy"), copy=1))
    assert loaded.model.copy is not None
    return loaded


@pytest.fixture(scope="module")
def phrase_model(tmp_path_factory):
    loaded = load_model(grown_model(tmp_path_factory.mktemp("phrases"), phrases=1, meter=1))
    assert len(loaded.model.lookback) == 7 and len(loaded.model.repeat) == 7
    return loaded


@pytest.mark.slow
@pytest.mark.parametrize("which", ["context", "copy", "phrases"])
def test_stepping_token_by_token_gives_the_logits_of_one_forward_pass(
    which, context_model, copy_model, phrase_model, chorale
):
    loaded = {"context": context_model, "copy": copy_model, "phrases": phrase_model}[which]
    tokens = encode(chorale, loaded.vocab)[:400].astype(np.int64)
    context = context_tensor(loaded.config, loaded.vocab, tokens)
    with torch.inference_mode():
        whole, _ = loaded.model(torch.from_numpy(tokens)[None], context=context)
        without, _ = loaded.model(torch.from_numpy(tokens)[None], context=torch.zeros_like(context))
    assert (whole - without).abs().max() > 0.1  # the tables matter
    stepper = LSTMStepper(loaded.model)
    reader = ContextReader(loaded.vocab, loaded.config.context_spec(), loaded.config.vocab_size)
    logits, state = stepper.prime(torch.from_numpy(tokens[:1])[None], context[:, :1])
    reader.feed(int(tokens[0]))
    stepped = [logits]
    for token in tokens[1:].tolist():
        row = torch.from_numpy(reader.feed(token))[None]
        logits, state = stepper.step(torch.tensor([token]), state, row)
        stepped.append(logits)
    assert torch.equal(torch.from_numpy(reader.ids), torch.from_numpy(tokens))
    torch.testing.assert_close(torch.cat(stepped), whole[0], atol=2e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="context"):
        stepper.step(torch.tensor([tokens[0]]), state)


def test_a_grown_model_with_zero_tables_writes_what_the_model_it_grew_from_writes(
    tmp_path, bundled
):
    """The context path adds exact zeros until training moves the tables: the same tokens, so
    the path itself changes nothing but the inputs."""
    grown = load_model(grown_model(tmp_path, scale=0.0))
    written = []
    for loaded in (core_of(bundled), grown):
        sampler = Sampler(loaded, SamplingSettings(seconds=4, variations=2, seed=9))
        for _ in sampler.run():
            pass
        written.append([sampler.tokens(i) for i in range(2)])
    for a, b in zip(*written):
        assert np.array_equal(a, b)


def test_a_model_whose_beat_is_not_its_tokenizers_is_refused(tmp_path):
    """Its step-in-beat table would be read past its end in the middle of a generation."""
    with pytest.raises(ModelFileError, match="counts 6 steps a beat but its tokenizer 12"):
        load_model(grown_model(tmp_path, steps=6))


def bar_ticks(piece, first, last):
    timeline = Timeline(piece.ticks_per_beat, piece.tempos, piece.time_signatures)
    return timeline.tick_of(first), timeline.tick_of(last + 1)


def outside(piece, start, end):
    return [t.notes[(t.notes["start"] < start) | (t.notes["start"] >= end)] for t in piece.tracks]


@pytest.mark.slow
@pytest.mark.parametrize("which", ["context", "bundled"])
def test_generate_and_fill_work_with_and_without_context(
    which, context_model, bundled, song, tmp_path
):
    loaded = context_model if which == "context" else bundled
    sampler = Sampler(loaded, SamplingSettings(seconds=6, variations=2, seed=1))
    for _ in sampler.run():
        pass
    assert sampler.finished() == [0, 1] and not sampler.silent()
    assert all(sum(len(t.notes) for t in p.tracks) > 0 for p in sampler.pieces())

    start, end = bar_ticks(song, 5, 6)
    filler = SpanFiller(loaded, song, start, end, SamplingSettings(seed=3, variations=2))
    for _ in filler.run():
        pass
    assert filler.finished() == [0, 1]
    original = read_midi(write_midi(song, tmp_path / "original.mid", overwrite=True))
    for piece in filler.pieces():
        back = read_midi(write_midi(piece, tmp_path / "filled.mid", overwrite=True))
        kept, now = outside(original, start, end), outside(back, start, end)
        for a, b in zip(kept, now):
            assert np.array_equal(a, b)  # every note outside the span, tick for tick
        assert all(len(b) == 0 for b in now[len(kept) :])
        for track in back.tracks:
            new = track.notes[(track.notes["start"] >= start) & (track.notes["start"] < end)]
            assert (new["end"] <= end).all()


@pytest.mark.slow
def test_composer_evaluate_scores_a_model_with_context(tmp_path, capsys):
    model = grown_model(tmp_path / "model")
    folder = tmp_path / "chorales"
    folder.mkdir()
    for path in sorted(corpus("bach_chorales").glob("*.mid"))[:3]:
        shutil.copy(path, folder / path.name)
    args = ["evaluate", str(model), str(folder), "--samples", "2", "--seconds", "4", "--json"]
    assert main(args) == 0, capsys.readouterr().err
    result = json.loads(capsys.readouterr().out)
    lstm = result["lstm"]
    assert result["files"] == 3 and np.isfinite(lstm["nats"]) and lstm["positions"] > 0
    assert np.isfinite(lstm["short_context_at_positions"])
    assert result["fill_in"]["spans"] > 0 and np.isfinite(result["fill_in"]["both_sides_nats"])
