"""Steering the sampler (issue 17, the core): key and scale, range, polyphony, instruments, tempo
and grid hold for any settings and seed, and the decoded music stays valid."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from composer.core.errors import SettingsError
from composer.core.generation import Sampler, SamplingSettings
from composer.core.generation.constraints import ConstraintMask, Constraints
from composer.core.generation.loading import LoadedModel
from composer.core.generation.steering_text import (
    SCALES,
    Key,
    parse_grid,
    parse_key,
    parse_programs,
)
from composer.core.model import ModelConfig, MusicLSTM
from composer.core.tokens import TokenizerConfig, Vocabulary

VOCAB = Vocabulary(TokenizerConfig())
STEPS_PER_BEAT = VOCAB.config.steps_per_beat


@pytest.fixture(scope="module")
def untrained():
    """An untrained model at a high temperature proposes anything: the masks must hold."""
    torch.manual_seed(0)
    net = MusicLSTM(ModelConfig(len(VOCAB), hidden_size=16, layers=1, embedding_size=8)).eval()
    return LoadedModel(net, net.config, VOCAB, None, {})


def test_keys_and_grids_by_their_names():
    assert parse_key("D minor") == Key(2, "minor")
    assert parse_key("c# Dorian") == Key(1, "dorian")
    assert parse_key("Bb major pentatonic").pitch_classes == {10, 0, 2, 5, 7}
    assert parse_key("A aeolian") == Key(9, "minor") and parse_key("off") is None
    with pytest.raises(ValueError, match="is not a key"):
        parse_key("H minor")
    with pytest.raises(ValueError, match="is not a key"):
        parse_key("C superlocrian")
    assert (
        parse_grid("1/16", 12) == 3
        and parse_grid("1/12", 12) == 4
        and parse_grid("off", 12) is None
    )
    with pytest.raises(ValueError, match="not a grid"):
        parse_grid("1/7", 12)


def test_a_grid_refused_is_not_listed_as_allowed():
    """Issue 25: --grid 1/32 (1.5 steps at 12 a beat) was refused by a message listing 1/32."""
    with pytest.raises(SettingsError) as refused:
        parse_grid("1/32", 12)
    listed = str(refused.value).split("use one of ")[1]
    assert "1/32" not in listed and "12 steps to a beat" in str(refused.value)
    for name in ("1/4", "1/8", "1/16", "1/6", "1/12", "1/24"):  # each one listed works
        assert name in listed and parse_grid(name, 12) >= 1
    assert parse_grid("1/32", 8) == 1  # where the steps allow it, it is allowed


def test_a_range_that_holds_no_note_of_the_key_is_refused():
    with pytest.raises(ValueError, match="widen the range"):
        ConstraintMask(Constraints(key=Key(2, "major"), lowest=60, highest=60), VOCAB)


constraint_sets = st.builds(
    Constraints,
    key=st.one_of(st.none(), st.builds(Key, st.integers(0, 11), st.sampled_from(sorted(SCALES)))),
    lowest=st.integers(30, 60),
    highest=st.integers(61, 100),
    ranges=st.lists(
        st.tuples(st.integers(0, 127), st.integers(40, 60), st.integers(72, 90)), max_size=2
    ).map(tuple),
    polyphony=st.one_of(st.none(), st.integers(1, 4)),
    programs=st.one_of(st.none(), st.frozensets(st.integers(0, 127), min_size=1, max_size=3)),
    drums=st.booleans(),
    tempo_bpm=st.one_of(st.none(), st.floats(40, 200)),
    grid_steps=st.one_of(st.none(), st.sampled_from([2, 3, 4, 6, 12])),
)


@pytest.mark.slow
@settings(max_examples=12, deadline=None)
@given(constraints=constraint_sets, seed=st.integers(0, 10_000))
def test_every_constraint_holds_for_any_settings_and_seed(untrained, constraints, seed):
    sampler = Sampler(
        untrained,
        SamplingSettings(seconds=None, max_tokens=250, temperature=2.0, seed=seed, variations=2),
        constraints=constraints,
    )
    list(sampler.run())
    allowed_slots = (
        None
        if constraints.programs is None
        else {int(VOCAB.program_slot[p]) for p in constraints.programs}
    )
    drum_slot = len(VOCAB.config.programs)
    for variation in sampler.variations:
        time, slot, sounding = 0, 0, {}
        for token in variation.tokens:
            kind, value = VOCAB.decompose(token)
            if kind == "TimeShift":
                time += value + 1
            elif kind == "Program":
                slot = value
                assert allowed_slots is None or value in allowed_slots
            elif kind == "Drums":
                slot = drum_slot
                assert constraints.drums
            elif kind == "Tempo" and constraints.tempo_bpm is not None:
                assert value == VOCAB.tempo_bin(constraints.tempo_bpm)
            elif kind == "NoteOn":
                if slot != drum_slot:
                    low, high = constraints.lowest, constraints.highest
                    for program, lo, hi in constraints.ranges:
                        if VOCAB.program_slot[program] == slot:
                            low, high = lo, hi
                    assert low <= value <= high
                    if constraints.key is not None:
                        assert value % 12 in constraints.key.pitch_classes
                assert allowed_slots is None or slot in allowed_slots or slot == drum_slot
                if constraints.grid_steps:
                    assert time % constraints.grid_steps == 0, "an onset off the grid"
                sounding.setdefault(slot, set()).add(value)
                if constraints.polyphony is not None:
                    assert len(sounding[slot]) <= constraints.polyphony
            elif kind == "NoteOff":
                sounding.get(slot, set()).discard(value)
        notes = variation.decoder.notes()  # decoding stays valid: no overlap of one key
        by_key: dict = {}
        for start, end, pitch, _, note_slot in sorted(notes):
            assert end > start
            if constraints.grid_steps:  # the decoded note too, not only its token
                assert start % constraints.grid_steps == 0, "a note moved off the grid"
            assert by_key.get((note_slot, pitch), -1) <= start, "same-pitch notes overlap"
            by_key[(note_slot, pitch)] = end
    if constraints.tempo_bpm is not None:  # written as asked, not as its token's bin
        for piece in sampler.pieces():
            assert piece.tempos.tolist() == [(0, round(60e6 / constraints.tempo_bpm))]


def test_the_command_line_steers_the_bundled_model(tmp_path, capsys):
    import mido

    from composer.cli import main

    out = tmp_path / "steered.mid"
    assert main(["generate", "--out", str(out), "--seconds", "12", "--seed", "3",
                 "--key", "D minor", "--range", "C4-C6", "--range", "0=C4-C6", "--grid", "1/8", "--programs", "0",
                 "--no-drums", "--tempo", "100", "--polyphony", "2"]) == 0  # fmt: skip
    midi = mido.MidiFile(out)
    d_minor = parse_key("D minor").pitch_classes
    eighth = midi.ticks_per_beat // 2
    onsets = 0
    for track in midi.tracks:
        now = 0
        for message in track:
            now += message.time
            if message.type == "note_on" and message.velocity > 0:
                onsets += 1
                assert message.note % 12 in d_minor and 60 <= message.note <= 84
                assert now % eighth == 0 and message.channel != 9
            if message.type == "program_change":
                assert message.program == 0
            if message.type == "set_tempo":
                assert message.tempo == 600_000  # 100 BPM exactly
    assert onsets > 5
    for bad, words in (("--key=H minor", "is not a key"), ("--range=C6-C3", "first note is above"),
                       ("--grid=1/7", "not a grid"), ("--programs=0,300", "numbered 0 to 127")):  # fmt: skip
        assert main(["generate", "--out", str(tmp_path / "x.mid"), bad]) == 2
        error = capsys.readouterr().err
        assert words in error and error.count("\n") == 1, error


@pytest.mark.slow
def test_density_lands_near_the_target(tmp_path):
    """Steered to 1 and to 4 notes per beat, the bundled model lands near them over 30 seconds
    (hard bounds at 10% plus a soft bias)."""
    from composer.core.generation import load_model
    from composer.resources import default_model

    model = load_model(default_model())
    for target in (1.0, 4.0):
        sampler = Sampler(
            model,
            SamplingSettings(seconds=30, seed=1, variations=4, top_p=0.95),
            constraints=Constraints(density=target),
        )
        list(sampler.run())
        measured = 0
        for v in sampler.variations:
            beats = (v.decoder.time - sampler.primer_steps) / STEPS_PER_BEAT
            if beats < 16:  # the model ended this piece (Eos) early: too short to measure
                continue
            measured += 1
            assert abs(v.notes_written / beats / target - 1) < 0.2, (target, v.notes_written, beats)
        assert measured >= 2


def test_detect_takes_the_key_and_density_of_the_primer(tmp_path, capsys):
    import mido

    from composer.cli import main
    from composer.core.generation.constraints import detect_key
    from composer.core.midi import read_midi
    from tests.conftest import corpus

    primer = sorted(corpus("nottingham").glob("*.mid"))[0]  # ashover1 or 01-reel-in-g: G major
    piece = read_midi(primer)
    key = detect_key(row for t in piece.tracks for row in t.notes)
    assert str(key) == "G major"
    out = tmp_path / "more.mid"
    assert main(["generate", "--primer", str(primer), "--continuation-only", "--out", str(out),
                 "--seconds", "10", "--seed", "2", "--key", "detect", "--density", "primer"]) == 0  # fmt: skip
    pitches = [m.note for m in mido.MidiFile(out) if m.type == "note_on" and m.velocity > 0]
    assert pitches and all(p % 12 in key.pitch_classes for p in pitches)
    assert main(["generate", "--out", str(out), "--force", "--key", "detect"]) == 2
    assert "add --primer" in capsys.readouterr().err


@pytest.mark.slow
def test_programs_without_piano_steer_the_bundled_model_to_them(tmp_path, capsys):
    """Issue 25: `--programs 40` wrote files of 0 notes (the stream starts as piano; the model,
    denied its piano notes, wrote rests to the end), and `--programs 33` tempo after tempo. Now
    the first thing on an instrument not chosen is one that is: every variation plays, and
    only what was chosen (a program first, not the drums that are allowed too)."""
    import mido

    from composer.cli import main

    out = tmp_path / "violin.mid"
    args = ["generate", "--out", str(out), "--programs", "40", "--seconds", "8", "--seed", "1"]
    assert main([*args, "--variations", "4"]) == 0
    for i in range(1, 5):
        midi = mido.MidiFile(tmp_path / f"violin-{i}.mid")
        ons = [m for m in midi if m.type == "note_on" and m.velocity > 0]
        programs = {m.program for m in midi if m.type == "program_change"}
        assert len(ons) >= 10 and programs == {40}, (i, len(ons), programs)
        assert all(m.channel != 9 for m in ons)
    assert " 0 notes" not in capsys.readouterr().out

    from composer.core.generation import load_model
    from composer.resources import default_model

    model = load_model(default_model())
    for constraints, wanted in (
        (Constraints(programs=frozenset({33})), {33}),  # the bass: stuck on tempo tokens before
        (Constraints(programs=frozenset({40, 42})), {40, 42}),
        (Constraints(programs=parse_programs("none"), drums=True), {"drums"}),
    ):
        sampler = Sampler(
            model, SamplingSettings(seconds=6, seed=0, variations=4), constraints=constraints
        )
        list(sampler.run())
        for piece in sampler.pieces():
            played = {"drums" if t.is_drum else t.program for t in piece.tracks if len(t.notes)}
            assert piece.note_count >= 10 and played <= wanted, (constraints, played)


def test_drums_alone_for_a_model_without_drums_is_refused_in_a_sentence():
    no_drums = Vocabulary(TokenizerConfig(drums=False))
    with pytest.raises(SettingsError, match="no drums"):
        ConstraintMask(Constraints(programs=frozenset(), drums=True), no_drums)


def test_a_density_the_polyphony_and_grid_cannot_hold_is_refused_naming_them(tmp_path, capsys):
    """Issue 25: --density 32 --polyphony 1 --grid 1/4 sampled until the stuck check blamed a
    "damaged or barely trained" model. The settings contradict each other (one note per beat
    at most), so the command says which, before sampling."""
    from composer.cli import main

    assert main(["generate", "--out", str(tmp_path / "x.mid"), "--density", "32",
                 "--polyphony", "1", "--grid", "1/4"]) == 2  # fmt: skip
    error = capsys.readouterr().err
    assert "density of 32" in error and "polyphony 1 on a 1/4 grid" in error, error
    assert "(1 per beat)" in error and "stuck" not in error and error.count("\n") == 1
    sixteenths = Constraints(density=5, polyphony=1, grid_steps=3)  # one instrument: 4 a beat
    with pytest.raises(SettingsError, match=r"one instrument play \(4 per beat\)"):
        ConstraintMask(sixteenths, VOCAB)
    duet = Constraints(density=5, polyphony=1, grid_steps=3, programs=frozenset({0, 40}))
    ConstraintMask(duet, VOCAB)  # two instruments and drums: 12 a beat
    with pytest.raises(SettingsError, match=r"\(12 per beat\); lower the density, raise the "
                       r"polyphony$"):  # fmt: skip
        ConstraintMask(Constraints(density=13, polyphony=1), VOCAB)  # no grid: 12 steps a beat


@pytest.mark.slow
def test_stuck_under_steering_names_the_steering_not_a_damaged_model():
    """Issue 25: the stuck check blamed a "damaged or barely trained" model even where the
    steering may have left it nothing it would play. The bundled model, damaged to write
    nothing but tempo, is stopped either way; with steering the sentence names the settings."""
    from composer.core.generation import ModelFileError, load_model
    from composer.resources import default_model

    model = load_model(default_model())
    with torch.no_grad():  # every prediction a tempo: the music never moves forward
        model.model.head.weight.zero_()
        model.model.head.bias.fill_(-30.0)
        model.model.head.bias[VOCAB.offset("Tempo") + 15] = 30.0
    settings = SamplingSettings(seconds=4, seed=0, variations=1)
    steering = Constraints(key=Key(2, "minor"), lowest=48, highest=84, polyphony=1)
    with pytest.raises(ModelFileError) as steered:
        list(Sampler(model, settings, constraints=steering).run())
    said = str(steered.value)
    assert "without moving the music forward" in said and "damaged" not in said
    assert "steering (key D minor, range C3-C6, polyphony 1)" in said and "loosen" in said
    with pytest.raises(ModelFileError, match=r"the model is stuck \(damaged or barely"):
        list(Sampler(model, settings).run())


def test_the_steering_is_summed_up_in_a_musicians_words():
    """The summary (in the stuck sentence) said "grid of 3 steps" and "tempo 100": the grid has
    the name the musician chose it by, the tempo its unit."""
    steering = Constraints(
        key=Key(2, "minor"), polyphony=1, tempo_bpm=100.0, grid_steps=3, density=2.0
    )
    said = steering.summary(STEPS_PER_BEAT)
    assert said == "key D minor, polyphony 1, 100 BPM, 1/16 grid, 2 notes per beat", said
    assert Constraints(grid_steps=4).summary(STEPS_PER_BEAT) == "1/12 grid"
    assert Constraints(grid_steps=5).summary(STEPS_PER_BEAT) == "5-step grid"  # no name
    assert Constraints(grid_steps=3).summary(4) == "3-step grid"  # 1/16 is a step at 4 a beat


def _resting_copy_of_the_bundled_model(folder):
    """The bundled model's files, its head changed to predict nothing but a beat's rest."""
    import hashlib
    import json
    import shutil

    from safetensors.torch import load_file, save

    from composer.resources import default_model

    source = default_model()
    for path in source.parent.iterdir():
        shutil.copy(path, folder / path.name)
    info = json.loads((folder / source.name).read_text())
    tensors = load_file(str(folder / info["weights"]))
    tensors["model.head.weight"].zero_()
    tensors["model.head.bias"].fill_(-30.0)
    tensors["model.head.bias"][VOCAB.offset("TimeShift") + 11] = 30.0  # TimeShift_12
    data = save(tensors, metadata={"format": "composer-model"})
    (folder / info["weights"]).write_bytes(data)
    info.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (folder / source.name).write_text(json.dumps(info))
    return folder / source.name


def test_a_variation_without_notes_is_said_and_not_written(tmp_path, capsys):
    """Issue 25: pieces of 0 notes were written with exit status 0 ("Wrote x.mid (0.0 s, 0
    notes)"). A model that only rests after a primer is the one sure way left to get one (from
    silence the grammar has it start within 2 s): the command says which files got no notes,
    writes none of them, and exits with 1."""
    from composer.cli import main
    from tests.conftest import corpus

    resting = _resting_copy_of_the_bundled_model(tmp_path)
    out = tmp_path / "rest.mid"
    primer = sorted(corpus("bach_chorales").glob("*.mid"))[0]
    assert main(["generate", str(resting), "--out", str(out), "--seconds", "3", "--primer",
                 str(primer), "--variations", "2", "--seed", "1"]) == 1  # fmt: skip
    captured = capsys.readouterr()
    assert not list(tmp_path.glob("rest*.mid")) and "Wrote" not in captured.out
    err = captured.err
    assert err.count("\n") == 1 and "no notes were written for" in err, err
    assert str(tmp_path / "rest-1.mid") in err and str(tmp_path / "rest-2.mid") in err
    # No steering was used, so there is none to loosen.
    assert err.endswith("so nothing was saved there; try another seed or temperature.\n"), err


def test_the_no_notes_sentence_advises_the_steering_only_where_some_was_used(untrained):
    """Every front said "loosen the steering" of a variation without notes, steered or not. The
    one sentence (Sampler.silent_sentence) names the steering when there is some, and advises
    nothing after a stop, which ended the variations early."""
    settings = SamplingSettings(seconds=2, seed=0, variations=2)
    free = Sampler(untrained, settings)
    assert free.silent_sentence("for x.mid", "so nothing was saved there") == (
        "no notes were written for x.mid, so nothing was saved there; "
        "try another seed or temperature"
    )
    steering = Constraints(key=Key(2, "minor"), grid_steps=3)
    steered = Sampler(untrained, settings, constraints=steering)
    assert steered.silent_sentence("in variation 2", "so it was not opened") == (
        "no notes were written in variation 2, so it was not opened; "
        "loosen the steering (key D minor, 1/16 grid) or try another seed"
    )
    steered.stop()  # before the first token: nothing written
    list(steered.run())
    assert steered.stopped and steered.silent() == [0, 1]
    assert steered.silent_sentence("in variations 1, 2", "so they were not opened") == (
        "no notes were written in variations 1, 2 before the generation was stopped, "
        "so they were not opened"
    )
