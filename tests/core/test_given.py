"""The given music (issue 26): the rows a model hears of the music it does not write, the same in
training and in the sampler; training examples with voices given; fill and `composer accompany`
keeping every note outside what they may change; older models unchanged."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from composer.cli import main
from composer.core.generation import SamplingSettings, load_model
from composer.core.generation.accompany import Accompaniment
from composer.core.generation.fill import SpanFiller, bar_span
from composer.core.midi import read_midi
from composer.core.model import MusicLSTM
from composer.core.tokens import TokenizerConfig, Vocabulary, encode
from composer.core.tokens.codec import GRID_DTYPE
from composer.core.tokens.given import (
    AHEAD,
    AHEAD_CLASSES,
    GIVEN_WIDTH,
    HARMONY,
    PRESENT,
    REMAINING,
    SOUNDING_CLASSES,
    GivenMusic,
    GivenTable,
    example_given_rows,
    given_rows,
)
from composer.core.training.data import Batcher, PieceSet
from composer.core.training.given_data import heard_examples, split_voices
from composer.resources import default_model
from tests.conftest import corpus
from tests.core.test_context_generation import RecordingStepper, core_of, grown_model
from tests.training_helpers import tiny_model

VOCAB = Vocabulary(TokenizerConfig())
SPB = VOCAB.config.steps_per_beat


def grid(*notes) -> np.ndarray:
    """GRID_DTYPE notes from (start, end, pitch) triples (slot 0)."""
    out = np.zeros(len(notes), GRID_DTYPE)
    for i, (start, end, pitch) in enumerate(notes):
        out[i] = (start, end, pitch, 4, 0)
    return out


def test_rows_say_what_sounds_what_comes_and_how_long_is_left():
    # Two beats: C4 held through the first beat, E4 struck at step 20, G4 struck before the span.
    given = GivenMusic.of(grid((0, 12, 60), (20, 30, 64), (-6, 3, 67)), 24, True, drum_slot=99)
    rows = given_rows(
        np.array([0, 2, 8, 13, 20, 24, 99]), given, ahead_steps=SPB, steps_per_beat=SPB
    )
    sounding = [set(np.flatnonzero(r[:128])) for r in rows]
    ahead = [set(np.flatnonzero(r[AHEAD : AHEAD + 128])) for r in rows]
    assert sounding[:5] == [{60, 67}, {60, 67}, {60}, set(), {64}]
    assert ahead[:5] == [set(), set(), {64}, {64}, set()]  # struck within the next 12 steps
    classes = [set(np.flatnonzero(r[SOUNDING_CLASSES : SOUNDING_CLASSES + 12])) for r in rows]
    assert classes[:5] == [{0, 7}, {0, 7}, {0}, set(), {4}]  # C and G, then E
    coming = [set(np.flatnonzero(r[AHEAD_CLASSES : AHEAD_CLASSES + 12])) for r in rows]
    assert coming[2] == {4}
    harmony = [set(np.flatnonzero(r[HARMONY : HARMONY + 12])) for r in rows]
    assert harmony[:4] == [{4}] * 4  # E4 struck within the next bar, from the start
    left = [int(np.flatnonzero(r[REMAINING:])[0]) for r in rows]
    assert left == [2, 2, 2, 1, 1, 0, 0]  # beats to the end; a time past it reads as the end
    assert rows[:, PRESENT].all()
    assert rows.sum(axis=1).min() >= 2  # every row says where it is
    nothing = given_rows(np.arange(25), GivenMusic.nothing(24), SPB, SPB)
    assert not nothing[:, :REMAINING].any() and (nothing[:, REMAINING:].sum(axis=1) == 1).all()


def test_drums_are_not_heard_as_pitches():
    drums = GivenMusic.of(grid((0, 12, 36)), 24, True, drum_slot=0)  # slot 0 plays drums here
    assert len(drums.pitch) == 0 and drums.present


def real_pieces(count=3):
    paths = []
    for name in ("bach_chorales", "pop909", "nottingham"):
        paths += sorted(corpus(name).rglob("*.mid"))[:count]
    return [read_midi(p) for p in paths]


def test_voices_split_the_top_line_from_the_rest_and_instruments_apart():
    rng = np.random.default_rng(0)
    chorale = read_midi(sorted(corpus("bach_chorales").glob("*.mid"))[0])
    from composer.core.tokens.codec import grid_notes

    notes, _ = grid_notes(chorale, VOCAB)
    soprano, _ = grid_notes(replace(chorale, tracks=chorale.tracks[:1]), VOCAB)
    tops = []
    for _ in range(40):
        given = split_voices(notes, 0, 48 * SPB, rng, len(VOCAB.config.programs))
        inside = notes["start"] < 48 * SPB
        assert not given[~inside].any()  # only notes of the span are given
        assert 0 < given[inside].sum() < inside.sum()
        top = {(n["start"], n["pitch"]) for n in notes[given]}
        tops.append(top)
    # Half the draws give the top line, which is nearly the soprano (voices seldom cross).
    sop = {(n["start"], n["pitch"]) for n in soprano[soprano["start"] < 48 * SPB]}
    best = max(len(t & sop) / len(t | sop) for t in tops)
    assert best > 0.8


def test_training_examples_carry_rows_and_a_batch_unpacks_and_transposes_them():
    pieces = [encode(p, VOCAB) for p in real_pieces(2)]
    examples, packed = heard_examples(pieces, VOCAB, 0.5, seed=4, ahead_steps=SPB)
    assert len(examples) == len(packed) > 5
    again = heard_examples(pieces, VOCAB, 0.5, seed=4, ahead_steps=SPB)
    assert all(np.array_equal(a, b) for a, b in zip(packed, again[1]))  # drawn from the seed
    unpacked = [np.unpackbits(r, axis=1, count=GIVEN_WIDTH).astype(bool) for r in packed]
    assert any(u[:, :AHEAD].any() for u in unpacked)  # voices given inside the span
    assert any(u[:, AHEAD:PRESENT].any() for u in unpacked)  # the suffix heard ahead
    # Rows start at the Middle mark: zero before it, one remaining-beats bit from it on.
    middle = VOCAB.offset("Middle")
    for tokens, rows in zip(examples, unpacked):
        at = int(np.flatnonzero(tokens == middle)[0])
        assert not rows[:at].any() and (rows[at:, REMAINING:].sum(axis=1) == 1).all()

    all_tokens = pieces + examples
    given = [None] * len(pieces) + packed
    batcher = Batcher(PieceSet(all_tokens, VOCAB, None, given), window=64)
    index = len(pieces) + int(np.argmax([u[:, :AHEAD].sum() for u in unpacked]))
    lanes = np.array([0, index, -1])
    batch = batcher.batch(lanes, np.zeros(3, np.int64))
    assert batch.given is not None and batch.given.shape == (3, 64, GIVEN_WIDTH)
    assert not batch.given[0].any() and not batch.given[2].any()  # a whole piece, an idle lane
    window = unpacked[index - len(pieces)][:64]
    assert np.array_equal(batch.given[1, : len(window)], window)
    shifted = batcher.batch(lanes, np.zeros(3, np.int64), np.array([0, 3, 0]), np.ones(3))
    moved = shifted.given[1, : len(window)]
    assert np.array_equal(moved[:, 3:128], window[:, : 128 - 3])  # up three semitones
    assert np.array_equal(moved[:, PRESENT:], window[:, PRESENT:])  # time is not transposed
    up = np.roll(window[:, HARMONY : HARMONY + 12], 3, axis=1)  # C's class is now D#'s
    assert np.array_equal(moved[:, HARMONY : HARMONY + 12], up)
    assert batcher.batch(np.array([0]), np.zeros(1, np.int64)).given is None  # nothing to read


@pytest.fixture(scope="module")
def given_model(tmp_path_factory):
    loaded = load_model(grown_model(tmp_path_factory.mktemp("given"), given_ahead=SPB))
    assert loaded.config.hears_given and loaded.model.given.weight.abs().sum() > 0
    return loaded


def test_the_sampler_hears_the_rows_training_computes(given_model):
    chorale = read_midi(sorted(corpus("bach_chorales").glob("*.mid"))[1])
    start, end = bar_span(chorale, 2, 4)
    settings = SamplingSettings(variations=2, seed=11)
    filler = SpanFiller(given_model, chorale, start, end, settings, tracks=[1, 2])
    sampler = filler.sampler
    recorder = RecordingStepper(sampler.stepper)
    sampler.stepper = recorder
    for _ in filler.run():
        pass
    given = sampler.given_table.given
    assert len(given.pitch) > 20  # soprano and bass inside, the suffix after
    ahead = given_model.config.given_ahead_steps
    primer_rows = example_given_rows(sampler.primer, given, VOCAB, ahead)
    assert np.array_equal(recorder.primed_given[0].numpy(), primer_rows.astype(np.float32))
    for i in range(2):
        tokens = sampler.tokens(i)
        rows = example_given_rows(tokens, given, VOCAB, ahead)  # as training computes them
        new = len(tokens) - len(sampler.primer)
        for part, vectors in enumerate(recorder.stepper.given_vectors(torch.from_numpy(rows))):
            fed = torch.stack([g[part][i] for g in recorder.given[:new]])
            assert torch.allclose(fed, vectors[len(sampler.primer) :], atol=1e-6)


def test_a_model_grown_with_the_given_music_at_zero_fills_as_before(tmp_path):
    old = load_model(grown_model(tmp_path / "old"))
    new = load_model(grown_model(tmp_path / "new", given_ahead=SPB))
    with torch.no_grad():
        new.model.given.weight.zero_()
        new.model.given_out.weight.zero_()
    piece = read_midi(sorted(corpus("nottingham").glob("*.mid"))[3])
    start, end = bar_span(piece, 3, 4)
    out = []
    for loaded in (old, new):
        filler = SpanFiller(loaded, piece, start, end, SamplingSettings(variations=2, seed=5))
        for _ in filler.run():
            pass
        out.append(filler.pieces())
    for a, b in zip(*out):
        for x, y in zip(a.tracks, b.tracks):
            assert np.array_equal(x.notes, y.notes)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["plain", "given"])
def test_accompany_keeps_every_track_tick_for_tick(tmp_path, model, given_model):
    # plain: a model that hears nothing inside the span (the bundled one's core, as models
    # made before the given music)
    loaded = core_of(load_model(default_model())) if model == "plain" else given_model
    rng = np.random.default_rng(7)
    for piece in real_pieces(2):
        bars = int(len(piece.tracks))  # vary with the piece
        first = int(rng.integers(1, 4))
        start, end = bar_span(piece, first, first + bars)
        heard = sorted(rng.choice(len(piece.tracks), int(rng.integers(1, len(piece.tracks) + 1)), replace=False).tolist())  # fmt: skip
        part = Accompaniment(
            loaded, piece, SamplingSettings(variations=1, seed=3), program=33,
            start=start, end=end, heard=heard,
        )  # fmt: skip
        assert part.hears_inside == (model == "given")
        for _ in part.run():
            pass
        (out,) = part.pieces()
        path = tmp_path / "out.mid"
        from composer.core.midi import write_midi

        write_midi(out, path, overwrite=True)
        back = read_midi(path)
        assert len(back.tracks) == len(piece.tracks) + 1
        for was, now in zip(piece.tracks, back.tracks):
            assert (was.name, was.program) == (now.name, now.program)
            assert np.array_equal(was.notes, now.notes)
        assert np.array_equal(back.tempos, piece.tempos)
        assert np.array_equal(back.time_signatures, piece.time_signatures)
        new = back.tracks[-1]
        assert new.program == 33 and new.name == "Electric Bass (finger)"
        if len(new.notes):
            assert new.notes["start"].min() >= start and new.notes["end"].max() <= end
            # No range asked for: the bass keeps to a bass's usual range (E1 to C4).
            assert new.notes["pitch"].min() >= 28 and new.notes["pitch"].max() <= 60


@pytest.mark.slow
def test_composer_accompany_on_the_command_line(tmp_path, capsys, given_model):
    tune = sorted(corpus("nottingham").glob("*.mid"))[0]
    out = tmp_path / "with-bass.mid"
    model = Path(given_model.source)
    assert main(["accompany", str(tune), "--model", str(model), "--program", "acoustic bass",
                 "--range", "E1-G3", "--bars", "1-4", "--variations", "2", "--seed", "2",
                 "--out", str(out)]) == 0  # fmt: skip
    said = capsys.readouterr().out
    assert "a new Acoustic Bass part for bars 1-4, hearing the other tracks" in said
    for name in ("with-bass-1.mid", "with-bass-2.mid"):
        piece = read_midi(tmp_path / name)
        bass = piece.tracks[-1]
        assert bass.program == 32 and len(bass.notes)
        assert bass.notes["pitch"].min() >= 28 and bass.notes["pitch"].max() <= 55
    assert main(["accompany", str(tune), "--program", "bass", "--out", str(out)]) == 2
    assert "could be 32 (Acoustic Bass)" in capsys.readouterr().err
    assert main(["accompany", str(tune), "--with", "7", "--out", str(out)]) == 2
    assert "tracks 1 to 2" in capsys.readouterr().err
    assert main(["accompany", str(tune), "--drums", "--out", str(out), "--seed", "1"]) == 0
    said = capsys.readouterr().out
    assert "hearing the other tracks" in said  # the bundled model hears them since issue 26
    assert read_midi(out).tracks[-1].is_drum
    older = grown_model(tmp_path / "older", context=False)  # a model from before: it says so
    assert main(["accompany", str(tune), "--model", str(older), "--drums", "--out", str(out),
                 "--seed", "1", "--force"]) == 0  # fmt: skip
    assert "cannot hear the other tracks" in capsys.readouterr().out


def test_a_model_without_the_given_music_has_no_table():
    config = grown_config = core_of(load_model(default_model())).config
    assert not config.hears_given and "given.weight" not in config.tensor_shapes()
    grown_config = config.hearing_context(SPB)
    assert grown_config.given_ahead_steps == SPB
    assert grown_config.tensor_shapes()["given.weight"] == (config.embedding_size, GIVEN_WIDTH)
    assert MusicLSTM(grown_config).given.weight.abs().sum() == 0
    table = GivenTable(GivenMusic.nothing(SPB * 4), SPB, SPB)
    assert table.rows.shape == (SPB * 4 + 1, GIVEN_WIDTH)


@pytest.mark.slow
def test_a_run_that_hears_given_music_learns_it_and_resumes_bit_for_bit(tmp_path):
    from composer.core.training import TrainControl, new_run, resume_run
    from tests.core.test_training import events, latest_weights
    from tests.training_helpers import collection_of, copy_chorales, tiny_training

    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 8)
    chorales = collection_of(folder, tmp_path / "cache")
    config = tiny_training(steps=16, eval_every=5, batch_size=8, fill_in=0.5)
    model = tiny_model().hearing_context(SPB)
    assert model.hears_given
    straight = tmp_path / "straight"
    trainer = new_run(straight, chorales, model, config)
    assert trainer.train_set.given is not None
    assert sum(rows is not None for rows in trainer.train_set.given) > 4  # the examples
    events(trainer)
    interrupted = tmp_path / "interrupted"
    control = TrainControl()
    events(new_run(interrupted, chorales, model, config, control=control), control, stop_at=7)
    events(resume_run(interrupted, chorales))
    a, b = latest_weights(straight), latest_weights(interrupted)
    assert a["model.given.weight"].abs().sum() > 0  # it learnt from the given rows
    for name in a:
        assert torch.equal(a[name], b[name]), name


def test_stepping_with_given_music_gives_the_logits_of_one_forward_pass(given_model):
    from composer.core.generation.stepper import LSTMStepper
    from composer.core.model import context_tensor
    from composer.core.tokens.codec import grid_notes
    from composer.core.tokens.lookback import ContextReader
    from composer.core.training.given_data import voices_example

    loaded, config = given_model, given_model.config
    chorale = read_midi(sorted(corpus("bach_chorales").glob("*.mid"))[2])
    notes, tempos = grid_notes(chorale, VOCAB)
    given = split_voices(notes, 8 * SPB, 24 * SPB, np.random.default_rng(1), 99)
    tokens, heard = voices_example(notes, tempos, 8 * SPB, 24 * SPB, VOCAB, True, given, False)
    rows = torch.from_numpy(example_given_rows(tokens, heard, VOCAB, config.given_ahead_steps))
    assert rows.any()
    context = context_tensor(config, VOCAB, tokens)
    ids = torch.from_numpy(tokens)[None]
    with torch.inference_mode():
        whole, _ = loaded.model(ids, context=context, given=rows.float()[None])
        deaf, _ = loaded.model(ids, context=context)
    assert (whole - deaf).abs().max() > 0.1  # the given music matters
    stepper = LSTMStepper(loaded.model)
    vectors, biases = stepper.given_vectors(rows)
    reader = ContextReader(VOCAB, config.context_spec(), config.vocab_size)
    logits, state = stepper.prime(ids[:, :1], context[:, :1], rows.float()[None, :1])
    reader.feed(int(tokens[0]))
    stepped = [logits]
    for at, token in enumerate(tokens[1:].tolist(), start=1):
        row = torch.from_numpy(reader.feed(token))[None]
        given_at = (vectors[at : at + 1], biases[at : at + 1])
        logits, state = stepper.step(torch.tensor([token]), state, row, given_at)
        stepped.append(logits)
    torch.testing.assert_close(torch.cat(stepped), whole[0], atol=3e-5, rtol=1e-5)


def test_a_context_model_made_before_the_given_music_grows_it_at_zero(tmp_path):
    """`composer train --from OLD --context`, OLD a model with meter and lookback made before
    the given music: the new tables start at zero, so the grown model fills exactly as OLD."""
    from composer.core.model import context_tensor
    from composer.core.tokens.codec import grid_notes
    from composer.core.tokens.fill_in import example_tokens
    from composer.core.training import new_run
    from composer.core.training.start_from import hearing_context, read_start
    from tests.training_helpers import collection_of, copy_chorales, tiny_training

    old_path = grown_model(tmp_path / "old")  # context, no given music
    start = read_start(old_path)
    assert not start.model.hears_given
    grown = hearing_context(start, SPB)
    assert grown.model.hears_given and grown.model.lookback_bars == 2
    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 4)
    collection = collection_of(folder, tmp_path / "cache")
    trainer = new_run(tmp_path / "tuned", collection, grown.model, tiny_training(steps=1),
                      start_from=grown)  # fmt: skip
    model = trainer.model.eval()
    assert not model.given.weight.any() and not model.given_out.weight.any()
    chorale = read_midi(sorted(corpus("bach_chorales").glob("*.mid"))[5])
    notes, tempos = grid_notes(chorale, VOCAB)
    tokens = example_tokens(notes, tempos, 8 * SPB, 16 * SPB, VOCAB)
    heard = GivenMusic.of(notes[notes["start"] >= 16 * SPB], 8 * SPB, True, 99)
    rows = torch.from_numpy(example_given_rows(tokens, heard, VOCAB, SPB)).float()[None]
    ids = torch.from_numpy(tokens)[None]
    old = load_model(old_path).model.eval()
    with torch.no_grad():
        before, _ = old(ids, context=context_tensor(old.config, VOCAB, tokens))
        after, _ = model(ids, context=context_tensor(model.config, VOCAB, tokens), given=rows)
    assert torch.equal(before, after)
    trainer.close()


def test_instruments_are_named_as_musicians_name_them():
    from composer.core.errors import SettingsError
    from composer.core.generation.steering_text import parse_program, parse_programs

    assert parse_program("Acoustic Bass") == 32 and parse_program(" cello ") == 42
    assert parse_program("73") == 73
    assert parse_programs("0, 40") == {0, 40}
    assert parse_programs("violin, strings") == {40, *range(40, 48)}
    assert parse_programs("Piano") == set(range(8))  # a family: all its instruments
    assert parse_programs("none") == frozenset()
    with pytest.raises(SettingsError, match=r"could be 40 \(Violin\), 41 \(Viola\)"):
        parse_programs("vilin")
    with pytest.raises(SettingsError, match="numbered 0 to 127"):
        parse_program("200")
    with pytest.raises(SettingsError, match="could be 32 \\(Acoustic Bass\\)"):
        parse_program("bass")  # one instrument wanted: the family will not do
