"""The sampler on a small model trained here: determinism, variations, primers, streaming,
valid output for any token stream, and model files that are refused with a clear sentence."""

from __future__ import annotations

import json
import shutil

import mido
import numpy as np
import pretty_midi
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from composer.cli import main
from composer.core.generation import ModelFileError, Sampler, SamplingSettings, load_model
from composer.core.generation.stepper import LSTMStepper
from composer.core.midi import read_midi, write_midi
from composer.core.model import ModelConfig, MusicLSTM
from composer.core.tokens import TokenizerConfig, Vocabulary, decode, encode
from composer.core.training import new_run
from tests.conftest import corpus
from tests.training_helpers import collection_of, copy_chorales, tiny_model, tiny_training

VOCAB = Vocabulary(TokenizerConfig())


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny model trained for 30 steps on eight chorales (a few seconds)."""
    root = tmp_path_factory.mktemp("generation")
    folder = copy_chorales(corpus("bach_chorales"), root / "chorales", 8)
    trainer = new_run(
        root / "run",
        collection_of(folder, root / "cache"),
        tiny_model(),
        tiny_training(steps=30, eval_every=15),
    )
    for _ in trainer.run():
        pass
    return root / "run"


@pytest.fixture(scope="module")
def model(run_dir):
    return load_model(run_dir)


def sample(model, primer=None, **changes):
    options = {"seconds": 8.0, "seed": 1}
    options.update(changes)
    sampler = Sampler(model, SamplingSettings(**options), primer)
    updates = list(sampler.run())
    return sampler, updates


def test_stepping_the_cell_equals_nn_lstm():
    torch.manual_seed(0)
    net = MusicLSTM(ModelConfig(len(VOCAB), hidden_size=48, layers=3, embedding_size=20)).eval()
    tokens = torch.randint(3, len(VOCAB), (3, 40))
    whole, _ = net(tokens)
    stepper = LSTMStepper(net)
    logits, state = stepper.prime(tokens[:, :5])
    stepped = [logits]
    for t in range(5, 40):
        logits, state = stepper.step(tokens[:, t], state)
        stepped.append(logits)
    torch.testing.assert_close(torch.stack(stepped, 1), whole[:, 4:], rtol=1e-4, atol=1e-5)


def test_same_seed_gives_identical_midi_and_other_seeds_differ(model, tmp_path):
    def midi_bytes(seed):
        sampler, _ = sample(model, seed=seed, variations=2)
        paths = []
        for i, piece in enumerate(sampler.pieces()):
            paths.append(
                write_midi(piece, tmp_path / f"s{seed}-{len(list(tmp_path.iterdir()))}-{i}.mid")
            )
        return [p.read_bytes() for p in paths]

    first, again, other = midi_bytes(3), midi_bytes(3), midi_bytes(4)
    assert first == again
    assert first[0] != other[0] and first[0] != first[1]  # seeds and variations differ


def test_variations_are_distinct_and_keep_the_length(model):
    sampler, updates = sample(model, variations=4, seconds=6.0)
    pieces = sampler.pieces()
    assert len(pieces) == 4 and all(updates[-1].done)
    assert len({tuple(map(tuple, p.tracks[0].notes.tolist())) for p in pieces}) == 4
    for piece in pieces:
        assert piece.note_count > 0
        assert piece.duration_seconds <= 6.0 + 1e-3  # tempos are whole microseconds per beat


def test_length_in_tokens(model):
    sampler, updates = sample(model, seconds=None, max_tokens=50)
    assert updates[-1].step <= 50 and len(sampler.variations[0].tokens) <= 50


def test_a_primer_is_kept_and_continued(model, tmp_path):
    primer_file = sorted(corpus("bach_chorales").glob("*.mid"))[20]
    primer_tokens = encode(read_midi(primer_file), VOCAB)
    primer_piece = decode(primer_tokens, VOCAB)
    sampler, _ = sample(model, primer_tokens, seconds=5.0)
    [whole] = sampler.pieces()
    end_tick = primer_piece.end_tick
    expected = sorted(
        (n[0], n[1], n[2], n[3]) for t in primer_piece.tracks for n in t.notes.tolist()
    )
    kept = sorted(
        (n[0], n[1], n[2], n[3]) for t in whole.tracks for n in t.notes.tolist() if n[0] < end_tick
    )
    assert kept == expected  # every primer note, unchanged
    assert any(n[0] >= end_tick for t in whole.tracks for n in t.notes.tolist())  # then new music
    [alone] = sampler.pieces(continuation_only=True)
    assert 0 < alone.note_count < whole.note_count
    assert alone.duration_seconds <= 5.0 + 1e-3
    assert min(int(t.notes["start"].min()) for t in alone.tracks if len(t.notes)) < 480 * 4


def test_streamed_notes_are_the_final_notes(model):
    sampler = Sampler(model, SamplingSettings(seconds=10.0, seed=1), chunk_tokens=4)
    updates = list(sampler.run())
    streamed = sorted(n[:4] for u in updates for n in u.notes[0])
    final = sorted(tuple(n) for t in sampler.pieces()[0].tracks for n in t.notes.tolist())
    assert len(updates) > 3 and streamed == final


def test_stop_ends_generation_at_once(model):
    sampler = Sampler(model, SamplingSettings(seconds=600.0), None, chunk_tokens=4)
    updates = []
    for update in sampler.run():
        updates.append(update)
        sampler.stop()
    assert sampler.stopped and len(updates) == 2 and updates[-1].step == 4
    assert sampler.pieces()[0].duration_seconds < 600


@pytest.mark.slow
def test_sampled_streams_obey_the_grammar():
    """An untrained model at a high temperature proposes anything; the grammar must hold."""
    torch.manual_seed(0)
    from composer.core.generation.loading import LoadedModel

    net = MusicLSTM(ModelConfig(len(VOCAB), hidden_size=16, layers=1, embedding_size=8)).eval()
    loaded = LoadedModel(net, net.config, VOCAB, None, {})
    sampler = Sampler(
        loaded,
        # top_p=1.0: the whole distribution, so that the grammar alone keeps the stream valid
        SamplingSettings(seconds=None, max_tokens=3000, temperature=3.0, top_p=1.0, variations=3),
    )
    list(sampler.run())
    r = VOCAB.ranges
    for v in range(3):
        sounding, slot, previous = set(), 0, "Bos"
        for token in sampler.variations[v].tokens:
            kind, value = VOCAB.decompose(token)
            assert kind not in ("Pad", "Bos")
            if previous == "Velocity":
                assert kind == "NoteOn"
            if kind == "NoteOn":
                assert (slot, value) not in sounding
                sounding.add((slot, value))
            elif kind == "NoteOff":
                assert (slot, value) in sounding
                sounding.discard((slot, value))
            elif kind == "Program":
                slot = value
            elif kind == "Drums":
                slot = r["Drums"][0]
            elif kind == "Eos":
                assert not sounding
            previous = kind


def test_music_from_silence_starts_within_two_seconds_but_a_continuation_may_rest(model):
    """A model that would rather wait (its time shifts pushed far up) still starts its first
    note within MAX_OPENING_SECONDS from silence; after a primer it may rest as it likes."""
    from composer.core.generation.sampling import MAX_OPENING_SECONDS

    first, count = VOCAB.ranges["TimeShift"]
    with torch.no_grad():
        model.model.head.bias[first : first + count] += 12.0
    try:
        sampler = Sampler(model, SamplingSettings(seconds=6, variations=4, seed=1))
        list(sampler.run())
        for piece in sampler.pieces():
            starts = [int(t.notes["start"].min()) for t in piece.tracks if len(t.notes)]
            assert starts and float(piece.seconds(min(starts))) <= MAX_OPENING_SECONDS + 1e-6
        primer = read_midi(sorted(corpus("bach_chorales").glob("*.mid"))[0])
        sampler = Sampler(model, SamplingSettings(seconds=6, seed=1), primer)
        assert not sampler.from_silence
        list(sampler.run())
        waits = sampler.pieces(continuation_only=True)[0]
        assert (
            waits.note_count == 0
            or float(
                waits.seconds(
                    min(int(t.notes["start"].min()) for t in waits.tracks if len(t.notes))
                )
            )
            > MAX_OPENING_SECONDS
        )  # left to itself it waits
    finally:
        with torch.no_grad():
            model.model.head.bias[first : first + count] -= 12.0


@pytest.mark.slow
def test_no_note_is_held_past_ten_seconds_even_by_a_model_that_forgets_to_end_them():
    """The bundled model made to forget the note-offs of C3-B5: no note lasts over 10 s, and the
    music still moves on."""
    from composer.core.generation.sampling import MAX_HELD_SECONDS
    from composer.resources import default_model

    model = load_model(default_model())
    first = model.vocab.offset("NoteOff") + 48
    with torch.no_grad():
        model.model.head.bias[first : first + 36] -= 12.0
    sampler = Sampler(model, SamplingSettings(seconds=40, variations=2, seed=3, style="folk"))
    list(sampler.run())
    for piece in sampler.pieces():
        notes = np.concatenate([t.notes for t in piece.tracks])
        held = piece.seconds(notes["end"]) - piece.seconds(notes["start"])
        assert len(notes) and held.max() <= MAX_HELD_SECONDS + 1e-6
        assert piece.duration_seconds > 30


def _written_notes_are_valid(path):
    """Every note-on has its note-off later on the same channel and key; pretty_midi opens it."""
    for track in mido.MidiFile(path).tracks:
        open_notes, now = {}, 0
        for message in track:
            now += message.time
            if message.type == "note_on" and message.velocity > 0:
                assert (message.channel, message.note) not in open_notes
                open_notes[(message.channel, message.note)] = now
            elif message.type in ("note_off", "note_on"):
                start = open_notes.pop((message.channel, message.note))
                assert now > start
        assert not open_notes
    assert all(
        n.end > n.start for i in pretty_midi.PrettyMIDI(str(path)).instruments for n in i.notes
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, len(VOCAB) - 1), max_size=400))
def test_any_token_stream_decodes_to_a_valid_midi_file(tmp_path_factory, tokens):
    path = tmp_path_factory.mktemp("any") / "any.mid"
    write_midi(decode(tokens, VOCAB), path)
    _written_notes_are_valid(path)


def test_model_files_that_cannot_be_used_are_refused(run_dir, tmp_path):
    with pytest.raises(ModelFileError, match="is not a Composer model file"):
        load_model(next(corpus("bach_chorales").glob("*.mid")))
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "nothing.json")
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    checkpoint = copy / json.loads((copy / "run.json").read_text())["best"]
    info = json.loads(checkpoint.read_text())
    info["model"]["hidden_size"] = 33
    checkpoint.write_text(json.dumps(info))
    with pytest.raises(ModelFileError, match=r"shape .* but the model needs"):
        load_model(copy)
    info["model"]["hidden_size"] = 10**9
    checkpoint.write_text(json.dumps(info))
    with pytest.raises(ModelFileError, match="hidden_size must be 1 to 8192"):
        load_model(checkpoint)
    info["model"]["hidden_size"] = 32
    checkpoint.write_text(json.dumps(info))
    weights = checkpoint.with_suffix(".safetensors")
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="incomplete or damaged"):
        load_model(weights)


def test_generate_command_writes_variations_and_refuses_to_overwrite(run_dir, tmp_path, capsys):
    out = tmp_path / "out" / "tune.mid"
    args = ["generate", str(run_dir), "--out", str(out), "--seconds", "5", "--seed", "9"]
    assert main([*args, "--variations", "4"]) == 0
    printed = capsys.readouterr().out
    files = [out.with_name(f"tune-{i}.mid") for i in range(1, 5)]
    assert all(f"Wrote {f}" in printed for f in files) and "seed 9" in printed
    contents = [f.read_bytes() for f in files]
    assert len(set(contents)) == 4
    for f in files:
        _written_notes_are_valid(f)
    assert main([*args, "--variations", "4"]) == 2
    assert (
        "tune-1.mid already exists; choose another --out or add --force" in capsys.readouterr().err
    )
    assert [f.read_bytes() for f in files] == contents  # nothing was touched
    assert main([*args, "--variations", "4", "--force"]) == 0
    assert [f.read_bytes() for f in files] == contents  # same seed, same music
    assert (
        main(["generate", str(run_dir), "--out", str(tmp_path / "t.mid"), "--temperature", "0"])
        == 2
    )
    assert "temperature must be above 0 (for greedy output use top-k 1)" in capsys.readouterr().err
