"""The meter (issue 26): a model made with `--context` counts bars in the piece's own time
signatures, kept with each file's tokens in the cache, and places each part of a fill in the
piece; training and the sampler compute the same rows. Real jigs (6/8) and waltzes (3/4)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from composer.core.corpus import TokenCache, ingest
from composer.core.generation import Sampler, SamplingSettings, load_model
from composer.core.generation.fill import SpanFiller
from composer.core.midi import read_midi
from composer.core.midi.timeline import Timeline
from composer.core.model import ModelConfig
from composer.core.tokens import TokenizerConfig, Vocabulary, encode
from composer.core.tokens.codec import grid_notes
from composer.core.tokens.fill_in import example_tokens, part_origins
from composer.core.tokens.lookback import ContextReader, ContextSpec, context_ids, context_rows
from composer.core.tokens.meter import METER_BEATS, Meter, Placement, rows_problem
from composer.core.training.reading import read_pieces
from composer.core.training.run_info import read_run_info
from tests.conftest import corpus
from tests.core.test_context_generation import RecordingStepper, assert_fed_as_trained, grown_model
from tests.training_helpers import collection_of, tiny_model, tiny_training

VOCAB = Vocabulary(TokenizerConfig())
SPB = VOCAB.config.steps_per_beat
SPEC = ContextSpec(lookback_bars=2, beats_per_bar=4, meter=True)


def tune_in(numerator: int, denominator: int):
    """The first Nottingham tune (by name) in one time signature throughout: its path."""
    for path in sorted(corpus("nottingham").rglob("*.mid")):
        signatures = read_midi(path).time_signatures
        if len(signatures) == 1 and tuple(signatures[0].tolist())[1:] == (numerator, denominator):
            return path
    pytest.skip(f"no tune in {numerator}/{denominator} among the Nottingham files here")


def test_a_meter_counts_bars_of_each_time_signature():
    assert Meter.from_rows([], SPB).bar_steps.tolist() == [4 * SPB]  # MIDI's default, 4/4
    meter = Meter.from_rows([[0, 6, 8], [72, 3, 4], [72, 2, 4], [108, 5, 8]], SPB)
    assert meter.starts.tolist() == [0, 72, 108] and meter.bar_steps.tolist() == [36, 24, 30]
    starts, lengths = meter.bars_at(np.array([0, 40, 71, 72, 100, 107, 140]))
    assert starts.tolist() == [0, 36, 36, 72, 96, 96, 138]
    assert lengths.tolist() == [36, 36, 36, 24, 24, 24, 30]
    late = Meter.from_rows([[24, 3, 4]], SPB)  # 4/4 until the first signature
    assert late.starts.tolist() == [0, 24] and late.bar_steps.tolist() == [48, 36]
    assert rows_problem([[0, 3, 4]]) is None
    for bad in (
        [[0, 3, 5]],
        [[0, 0, 4]],
        [[-1, 3, 4]],
        [[0, 3]],
        [[0, 3.5, 4]],
        "3/4",
        [[True, 3, 4]],
    ):
        assert rows_problem(bad), bad


def test_the_cache_keeps_each_files_time_signatures(tmp_path):
    folder = tmp_path / "tunes"
    folder.mkdir()
    jig, waltz = tune_in(6, 8), tune_in(3, 4)
    for path in (jig, waltz):
        (folder / path.name).write_bytes(path.read_bytes())
    report = ingest(folder, tmp_path / "cache", TokenizerConfig(), jobs=0)
    cache = TokenCache(tmp_path / "cache", TokenizerConfig())
    for entry in report.entries:
        expected = Meter.of_piece(read_midi(entry.path), SPB)
        got = cache.meter(entry.sha)
        assert np.array_equal(got.bar_steps, expected.bar_steps)
        assert got.bar_steps.tolist() == [36]  # 6/8 and 3/4 bars are both 3 quarter notes


@pytest.mark.parametrize("signature", [(6, 8), (3, 4)])
def test_rows_count_the_tunes_own_bars_and_the_sampler_computes_the_same(signature):
    piece = read_midi(tune_in(*signature))
    tokens = encode(piece, VOCAB).astype(np.int64)
    placement = Placement(Meter.of_piece(piece, SPB))
    rows = context_rows(tokens, VOCAB, SPEC, placement)
    assert rows[:, 1].max() == 2  # three quarter notes a bar, not four
    reader = ContextReader(VOCAB, SPEC, len(VOCAB), placement)
    stepped = np.array([reader.feed(int(t)) for t in tokens])
    assert np.array_equal(stepped, context_ids(rows, tokens, len(VOCAB), SPEC))
    # A lookback a bar ago lands 36 steps earlier: where a tune repeats its bar, the token then
    # is the token now far more often than with the 4-beat bar older models count.
    times = np.cumsum([VOCAB_SHIFT.get(int(t), 0) for t in tokens])
    found = rows[:, 2] >= 0
    lag = times[np.flatnonzero(found)] - times[rows[found, 2] - 1]
    assert set(lag.tolist()) == {36}
    four = context_rows(tokens, VOCAB, ContextSpec(2, 4))
    assert agreement(rows, tokens) > 1.5 * agreement(four, tokens)  # twice as often here


def agreement(rows: np.ndarray, tokens: np.ndarray) -> float:
    """How often the token that came next a bar ago (rows' first lag) is the next token."""
    i = np.flatnonzero(rows[:-1, 2] >= 0)
    return float(np.mean(tokens[rows[i, 2]] == tokens[i + 1]))


VOCAB_SHIFT = {VOCAB.offset("TimeShift") + i: i + 1 for i in range(VOCAB.config.max_shift_steps)}


def test_a_fill_examples_parts_lie_where_they_were_cut_from():
    piece = read_midi(tune_in(6, 8))
    notes, tempos = grid_notes(piece, VOCAB)
    start, end = 5 * SPB, 11 * SPB  # a span from the middle of a bar
    infill = Vocabulary(TokenizerConfig(infill=True))
    notes, tempos = grid_notes(piece, infill)
    example = example_tokens(notes, tempos, start, end, infill)
    placement = Placement(Meter.of_piece(piece, SPB), part_origins(start, end, SPB))
    rows = context_rows(example, infill, SPEC, placement)
    middle = int(np.flatnonzero(example == infill.offset("Middle"))[0])
    # The Middle mark starts the span: 5 beats in is the third beat of the second 6/8 bar.
    assert rows[middle, :2].tolist() == [0, 2]
    reader = ContextReader(infill, SPEC, len(infill), placement)
    stepped = np.array([reader.feed(int(t)) for t in example])
    assert np.array_equal(stepped, context_ids(rows, example, len(infill), SPEC))


def test_training_reads_each_piece_and_example_in_its_meter(tmp_path):
    folder = tmp_path / "tunes"
    folder.mkdir()
    for path in (tune_in(6, 8), tune_in(3, 4), tune_in(4, 4)):
        (folder / path.name).write_bytes(path.read_bytes())
    collection = collection_of(folder, tmp_path / "cache", TokenizerConfig(infill=True))
    model = tiny_model().hearing_context(SPB)
    assert model.meter == 1 and model.context_shapes()["context_beat.weight"][0] == METER_BEATS
    from composer.core.training import new_run

    trainer = new_run(tmp_path / "run", collection, model, tiny_training(steps=2, fill_in=0.5,
                      validation_fraction=0))  # fmt: skip
    for _ in trainer.run():
        pass
    run = read_run_info(tmp_path / "run")
    train_set, _, _ = read_pieces(run, collection, trainer.config, trainer.model_config,
                                  trainer.vocab)  # fmt: skip
    beats = {
        collection.meter_of(sha).bar_steps[0] // SPB: rows[:, 1].max()
        for (sha, _), rows in zip(run.train, train_set.context_rows)
    }
    assert beats == {3: 2, 4: 3}
    assert len(train_set) > len(run.train)  # fill-in examples, each placed in its piece
    assert json.loads((tmp_path / "run" / "run.json").read_text())["model"]["meter"] == 1


def test_older_context_models_keep_counting_four_beats():
    counted = ModelConfig(len(VOCAB), context_steps=SPB, lookback_bars=2)
    assert counted.hearing_context(SPB).meter == 0  # it learnt 4/4 bars: it keeps them
    assert "meter" not in counted.to_dict()  # written as before the meter existed
    assert ModelConfig.from_dict(counted.to_dict()) == counted
    with_meter = replace(counted, meter=1)
    assert ModelConfig.from_dict(with_meter.to_dict()) == with_meter
    with pytest.raises(Exception, match="meter needs context_steps"):
        ModelConfig(len(VOCAB), meter=1)


@pytest.fixture(scope="module")
def meter_model(tmp_path_factory):
    return load_model(grown_model(tmp_path_factory.mktemp("meter"), meter=1))


def test_the_sampler_continues_a_jig_in_its_meter(meter_model):
    jig = read_midi(tune_in(6, 8))
    sampler = Sampler(
        meter_model, SamplingSettings(seconds=4, variations=2, seed=1, top_p=1.0), jig
    )
    assert sampler.placement.meter.bar_steps.tolist() == [36]
    sampler.stepper = recorder = RecordingStepper(sampler.stepper)
    for _ in sampler.run():
        pass
    assert_fed_as_trained(sampler, recorder)


def test_a_fill_in_a_waltz_is_read_in_its_meter(meter_model):
    waltz = read_midi(tune_in(3, 4))
    timeline = Timeline(waltz.ticks_per_beat, waltz.tempos, waltz.time_signatures)
    start, end = timeline.tick_of(3), timeline.tick_of(5)  # bars 3 and 4
    filler = SpanFiller(meter_model, waltz, start, end, SamplingSettings(seed=2, variations=2))
    placement = filler.sampler.placement
    assert (
        placement.meter.bar_steps.tolist() == [36] and placement.origins[-1] == 2 * 36
    )  # the middle
    filler.sampler.stepper = recorder = RecordingStepper(filler.sampler.stepper)
    for _ in filler.run():
        pass
    assert_fed_as_trained(filler.sampler, recorder)


def test_music_from_silence_is_written_in_the_time_signature_asked_for(
    meter_model, tmp_path, capsys
):
    from composer.cli import main
    from composer.core.generation.constraints import Constraints

    steering = Constraints(meter=(3, 4))
    sampler = Sampler(meter_model, SamplingSettings(seconds=3, seed=5), constraints=steering)
    assert sampler.placement.meter.bar_steps.tolist() == [36]
    sampler.stepper = recorder = RecordingStepper(sampler.stepper)
    for _ in sampler.run():
        pass
    assert_fed_as_trained(sampler, recorder)
    assert sampler.pieces()[0].time_signatures.tolist() == [(0, 3, 4)]
    assert not steering.active  # it places the bars, it restricts nothing

    out = tmp_path / "waltz.mid"
    model = str(meter_model.source)
    assert main(["generate", model, "--out", str(out), "--meter", "6/8", "--seconds", "3"]) == 0
    assert read_midi(out).time_signatures.tolist() == [(0, 6, 8)]
    capsys.readouterr()
    for bad, said in (("3/5", "not a time signature MIDI can write"), ("waltz", "3/4 or 6/8")):
        assert main(["generate", model, "--out", str(tmp_path / "x.mid"), "--meter", bad]) == 2
        err = capsys.readouterr().err
        assert said in err and "--meter" in err and "Traceback" not in err


def test_the_steer_box_offers_a_time_signature(qtbot):
    from PySide6.QtCore import Qt

    from composer.app.panels.steering_box import SteeringBox

    box = SteeringBox()
    qtbot.addWidget(box)
    box.setChecked(True)
    box.show()
    assert box.constraints().meter is None
    box.meter.setFocus()
    qtbot.keyClick(box.meter, Qt.Key.Key_Down)
    qtbot.keyClick(box.meter, Qt.Key.Key_Down)
    assert box.meter.currentText() == "3/4 (waltz)"
    assert box.constraints().meter == (3, 4) and box.describe()["meter"] == [3, 4]


def test_files_with_time_signatures_no_bar_fits_still_train_and_continue(tmp_path):
    """Real files hold 0/4, 3/128 and denominators that overflow: they are read as 4/4 (or the
    signature before), never a crash nor a cache entry refused later."""
    import mido

    folder = tmp_path / "odd"
    folder.mkdir()
    for name, numerator, exponent in (("zero", 0, 2), ("fine", 3, 7), ("overflow", 3, 9)):
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("time_signature", numerator=3, denominator=4))
        for i in range(8):
            track.append(
                mido.Message("note_on", note=60 + i, velocity=80, time=0 if i == 0 else 240)
            )
            track.append(mido.Message("note_off", note=60 + i, velocity=0, time=240))
        file = mido.MidiFile(ticks_per_beat=480)
        file.tracks.append(track)
        file.save(folder / f"{name}.mid")
        data = bytearray((folder / f"{name}.mid").read_bytes())
        at = data.index(bytes([0xFF, 0x58, 0x04]))
        data[at + 3], data[at + 4] = numerator, exponent  # what mido would not write
        (folder / f"{name}.mid").write_bytes(bytes(data))
    report = ingest(folder, tmp_path / "cache", TokenizerConfig(), jobs=0)
    assert report.ok == 3
    cache = TokenCache(tmp_path / "cache", TokenizerConfig())
    for entry in report.entries:
        assert cache.meter(entry.sha).bar_steps[0] > 0  # the entry is well formed
        piece = read_midi(entry.path)
        meter = Meter.of_piece(piece, SPB)
        assert (meter.bar_steps > 0).all()
    model = load_model(grown_model(tmp_path / "model", meter=1))
    sampler = Sampler(model, SamplingSettings(seconds=2, seed=0), read_midi(folder / "zero.mid"))
    list(sampler.run())
    assert sampler.finished() == [0]


AHEAD = ContextSpec(
    lookback_bars=2, beats_per_bar=4, meter=True, repeats=True, phrases=True, ahead=True
)


@pytest.mark.parametrize("signature", [(6, 8), (4, 4)])
def test_a_fills_middle_hears_the_bars_before_it_and_the_music_after_it(signature):
    """A model that looks ahead places a fill's parts in the piece: at the span's first token
    the bar before points into the prefix, and in the span's last bar the bar after points into
    the suffix, read first; at once and token by token alike, repeat flags included."""
    piece = read_midi(tune_in(*signature))
    notes, tempos = grid_notes(piece, VOCAB)
    meter = Meter.of_piece(piece, SPB)
    bar = int(meter.bar_steps[0])
    start, end = 4 * bar, 6 * bar  # two whole bars
    infill = Vocabulary(TokenizerConfig(infill=True))
    notes, tempos = grid_notes(piece, infill)
    example = example_tokens(notes, tempos, start, end, infill)
    placement = Placement(meter, part_origins(start, end, SPB))
    rows = context_rows(example, infill, AHEAD, placement)
    reader = ContextReader(infill, AHEAD, len(infill), placement)
    stepped = np.array([reader.feed(int(t)) for t in example])
    assert np.array_equal(stepped, context_ids(rows, example, len(infill), AHEAD))
    marks = {name: int(np.flatnonzero(example == infill.offset(name))[0]) for name in
             ("Suffix", "Prefix", "Middle", "EndMiddle")}  # fmt: skip
    one_back, one_ahead = AHEAD.bars.index(1), AHEAD.bars.index(-1)
    first = rows[marks["Middle"] + 1, 2 + one_back]  # the row read beside the first token in
    assert marks["Prefix"] < first <= marks["Middle"]  # the prefix, a bar before the span
    last_bar = range(marks["EndMiddle"] - 8, marks["EndMiddle"])
    ahead = rows[last_bar, 2 + one_ahead]
    assert ((ahead > marks["Suffix"]) & (ahead < marks["Prefix"])).any()  # in the suffix
    # Without looking ahead, the middle looks back within itself alone and never ahead.
    plain = context_rows(example, infill, SPEC, placement)
    assert plain[marks["Middle"] + 1, 2] == -1
