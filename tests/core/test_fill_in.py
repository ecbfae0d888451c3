"""Fill-in-the-middle: the vocabulary's new marks, the layout of training examples on real MIDI,
training with them, filling a span of a real piece (property test over spans and seeds), the
`composer fill` command, and the evaluation that compares both sides with the left side only."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from composer.cli import main
from composer.core.generation import SamplingSettings, load_model
from composer.core.generation.fill import SpanFiller
from composer.core.midi import read_midi, write_midi
from composer.core.midi.timeline import Timeline
from composer.core.tokens import TokenizerConfig, Vocabulary, decode, encode
from composer.core.tokens.codec import grid_notes
from composer.core.tokens.fill_in import (
    example_tokens,
    grid_from_tokens,
    mark,
    part_tokens,
)
from composer.core.tokens.stream import StreamDecoder
from composer.core.training import new_run
from composer.core.training.fill_in_data import fill_in_examples
from composer.core.training.start_from import read_start
from tests.conftest import corpus
from tests.training_helpers import collection_of, copy_chorales, tiny_model, tiny_training

VOCAB = Vocabulary(TokenizerConfig())
#: The tiny models here are barely trained: nucleus sampling (top-p 0.95, the default) can cut
#: away every time shift, and then the sampler rightly stops them as stuck. These tests are about
#: the span, whatever is sampled, so they sample from the whole distribution.
WHOLE = 1.0


def real_pieces(count_each: int = 6):
    paths = []
    for name in ("pop909", "nottingham", "bach_chorales"):
        paths += sorted(corpus(name).glob("*.mid"))[:count_each]
    return [read_midi(p) for p in paths]


# --- the vocabulary ----------------------------------------------------------------------------
def test_the_marks_come_last_and_old_vocabularies_keep_every_id():
    old = Vocabulary(TokenizerConfig.from_json({}))  # a model saved before fill-in
    assert not old.config.infill and len(VOCAB) == len(old) + 4
    assert VOCAB.names(range(len(old))) == old.names(range(len(old)))
    assert VOCAB.names(range(len(old), len(VOCAB))) == ["Suffix", "Prefix", "Middle", "EndMiddle"]
    assert old.config.fingerprint == VOCAB.config.fingerprint  # one token cache for both
    assert TokenizerConfig.from_json(VOCAB.config.to_json()) == VOCAB.config
    with pytest.raises(ValueError, match="no fill-in marks"):
        mark(old, "Middle")


def test_the_bundled_model_still_loads_and_generates():
    from composer.resources import default_model

    loaded = load_model(default_model())
    from composer.core.generation import Sampler

    sampler = Sampler(loaded, SamplingSettings(seconds=3.0, seed=0))
    for _ in sampler.run():
        pass
    assert sampler.pieces()[0].note_count > 0


# --- the layout, on real music -------------------------------------------------------------------
def test_grid_from_tokens_reads_what_encode_wrote():
    for piece in real_pieces():
        notes, tempos = grid_notes(piece, VOCAB)
        got_notes, got_tempos = grid_from_tokens(encode(piece, VOCAB), VOCAB)
        assert np.array_equal(np.sort(notes, order=["slot", "pitch", "start"]), got_notes)
        assert np.array_equal(tempos, got_tempos)


def test_each_part_decodes_on_its_own_and_the_middle_lasts_the_span():
    spb = VOCAB.config.steps_per_beat
    for piece in real_pieces(3):
        notes, tempos = grid_notes(piece, VOCAB)
        start, end = 4 * spb, 9 * spb  # beats 5 to 9
        sequence = example_tokens(notes, tempos, start, end, VOCAB)
        names = VOCAB.names(sequence)
        assert names[0] == "Suffix" and names[-1] == "EndMiddle"
        middle = sequence[names.index("Middle") + 1 : -1]
        decoder = StreamDecoder(VOCAB)
        decoder.feed_many(middle)
        assert decoder.time == end - start and not decoder.sounding  # exactly the span, closed
        inside = notes[(notes["start"] >= start) & (notes["start"] < end)].copy()
        inside["end"] = np.minimum(inside["end"], end)
        expected = sorted(
            (s - start, e - start, p) for s, e, p in inside[["start", "end", "pitch"]]
        )
        assert sorted(n[:3] for n in decoder.notes()) == expected
        assert VOCAB.names(middle)[0].startswith("Tempo")  # the part restates the tempo...
        assert any(n.startswith("Program") for n in VOCAB.names(middle)[:3]) or not len(inside)


def test_a_part_restates_the_tempo_in_force():
    piece = real_pieces(1)[0]
    notes, tempos = grid_notes(piece, VOCAB)
    later = np.array([[0, 10], [48, 20]])
    tokens = part_tokens(notes, later, 96, 192, VOCAB)
    assert VOCAB.names(tokens)[0] == f"Tempo_{round(float(VOCAB.tempo_values[20]))}"
    assert tempos[0, 0] == 0


def test_examples_hold_the_share_asked_and_are_the_same_for_a_seed():
    pieces = [encode(p, VOCAB) for p in real_pieces(4)]
    examples = fill_in_examples(pieces, VOCAB, 0.5, seed=3)
    whole, made = sum(map(len, pieces)), sum(map(len, examples))
    assert 0.45 < made / (whole + made) < 0.6
    again = fill_in_examples(pieces, VOCAB, 0.5, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(examples, again))
    marks = {mark(VOCAB, "Suffix"), mark(VOCAB, "Prefix")}
    assert all(int(e[0]) in marks and int(e[-1]) == mark(VOCAB, "EndMiddle") for e in examples)
    assert any(int(e[0]) == mark(VOCAB, "Prefix") for e in examples)  # some without a suffix
    assert fill_in_examples(pieces, VOCAB, 0.0, seed=3) == []


# --- a model trained to fill in ------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny model trained for 150 steps on twelve chorales, half its tokens fill-in examples
    (fewer leave it writing hundreds of tokens a step, which the sampler stops as stuck)."""
    root = tmp_path_factory.mktemp("fill")
    folder = copy_chorales(corpus("bach_chorales"), root / "chorales", 12)
    trainer = new_run(
        root / "run",
        collection_of(folder, root / "cache"),
        tiny_model(),
        tiny_training(steps=150, eval_every=75),
    )
    for _ in trainer.run():
        pass
    return root / "run"


@pytest.fixture(scope="module")
def model(run_dir):
    return load_model(run_dir)


@pytest.fixture(scope="module")
def song():
    return read_midi(sorted(corpus("pop909").glob("*.mid"))[0])


def bar_ticks(piece, first, last):
    timeline = Timeline(piece.ticks_per_beat, piece.tempos, piece.time_signatures)
    return timeline.tick_of(first), timeline.tick_of(last + 1)


def outside(piece, start, end):
    return [t.notes[(t.notes["start"] < start) | (t.notes["start"] >= end)] for t in piece.tracks]


@pytest.fixture(scope="module")
def bundled():
    from composer.resources import default_model

    return load_model(default_model())


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.slow
@given(first=st.integers(1, 40), bars=st.integers(1, 4), seed=st.integers(0, 2**20))
def test_a_filled_span_is_exact_and_leaves_the_rest_as_it_was(
    bundled, song, tmp_path, first, bars, seed
):
    """With the model a musician has on first launch: a tiny model trained for seconds can get
    stuck where no music stands before the span (the sampler stops it, as it should)."""
    start, end = bar_ticks(song, first, first + bars - 1)
    filler = SpanFiller(
        bundled, song, start, end, SamplingSettings(seed=seed, variations=2, top_p=WHOLE)
    )
    assert filler.both_sides
    for _ in filler.run():
        pass
    assert filler.finished() == [0, 1]
    original = read_midi(write_midi(song, tmp_path / "original.mid", overwrite=True))
    for piece in filler.pieces():
        path = write_midi(piece, tmp_path / "filled.mid", overwrite=True)
        back = read_midi(path)
        kept, now = outside(original, start, end), outside(back, start, end)
        assert len(back.tracks) >= len(original.tracks)
        for a, b in zip(kept, now):
            assert np.array_equal(a, b)  # every note outside the span, tick for tick
        assert all(len(b) == 0 for b in now[len(kept) :])
        assert np.array_equal(back.tempos, original.tempos)
        assert np.array_equal(back.time_signatures, original.time_signatures)
        for track in back.tracks:
            new = track.notes[(track.notes["start"] >= start) & (track.notes["start"] < end)]
            assert (new["end"] <= end).all() and (new["end"] > new["start"]).all()


@pytest.mark.slow
def test_the_same_seed_fills_alike_and_only_the_chosen_tracks_change(model, song):
    start, end = bar_ticks(song, 9, 12)

    def fill(tracks=None):
        filler = SpanFiller(model, song, start, end, SamplingSettings(seed=5, top_p=WHOLE), tracks)
        for _ in filler.run():
            pass
        return filler.pieces()[0]

    a, b = fill(), fill()
    assert all(np.array_equal(x.notes, y.notes) for x, y in zip(a.tracks, b.tracks))
    only_first = fill([0])
    assert len(only_first.tracks) == len(song.tracks)  # no new instrument appears
    for kept, now in zip(song.tracks[1:], only_first.tracks[1:]):
        assert np.array_equal(kept.notes, now.notes)


@pytest.fixture(scope="module")
def older_run_dir(tmp_path_factory):
    """A tiny model made as before fill-in existed: no marks in its vocabulary, no examples."""
    root = tmp_path_factory.mktemp("older")
    folder = copy_chorales(corpus("bach_chorales"), root / "chorales", 8)
    old = TokenizerConfig(infill=False)
    size = len(Vocabulary(old))
    model = replace(tiny_model(), vocab_size=size)
    trainer = new_run(
        root / "run",
        collection_of(folder, root / "cache", old),
        model,
        tiny_training(steps=10, eval_every=10, fill_in=0.0),
    )
    for _ in trainer.run():
        pass
    return root / "run"


def test_a_model_without_fill_in_continues_from_the_left(older_run_dir, song):
    loaded = load_model(older_run_dir)
    assert not loaded.vocab.config.infill
    start, end = bar_ticks(song, 5, 6)
    filler = SpanFiller(loaded, song, start, end, SamplingSettings(seed=1, top_p=WHOLE))
    assert not filler.both_sides
    for _ in filler.run():
        pass
    [piece] = filler.pieces()
    for a, b in zip(outside(song, start, end), outside(piece, start, end)):
        assert np.array_equal(a, b)
    for track in piece.tracks:
        new = track.notes[(track.notes["start"] >= start) & (track.notes["start"] < end)]
        assert (new["end"] <= end).all()


def test_fine_tuning_an_older_model_adds_the_marks_and_keeps_its_weights(tmp_path, older_run_dir):
    start = read_start(older_run_dir)
    folder = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 6)
    trainer = new_run(
        tmp_path / "run",
        collection_of(folder, tmp_path / "cache"),  # read with the marks: they are added
        start.model,
        tiny_training(steps=1, eval_every=1),
        start_from=start,
    )
    grown = trainer.model.embedding.weight.detach()
    before = load_model(older_run_dir).model.embedding.weight.detach()
    assert grown.shape[0] == before.shape[0] + 4 == len(VOCAB)
    assert torch.equal(grown[: before.shape[0]], before)
    head = trainer.model.head.weight.detach()
    assert torch.equal(head[: before.shape[0]], load_model(older_run_dir).model.head.weight)
    for _ in trainer.run():  # and it trains, fill-in examples included
        pass
    assert load_model(tmp_path / "run").vocab.config.infill


# --- the command line and the evaluation ---------------------------------------------------------
@pytest.mark.slow
def test_composer_fill_writes_the_piece_with_new_bars(run_dir, song, tmp_path, capsys):
    source = write_midi(song, tmp_path / "song.mid")
    out = tmp_path / "out.mid"
    args = ["fill", str(source), "--bars", "9-12", "--out", str(out), "--model", str(run_dir)]
    args += ["--top-p", str(WHOLE)]
    assert main([*args, "--seed", "4", "--variations", "2"]) == 0
    printed = capsys.readouterr().out
    assert "seed 4" in printed and "both sides" in printed
    start, end = bar_ticks(song, 9, 12)
    for path in (tmp_path / "out-1.mid", tmp_path / "out-2.mid"):
        for a, b in zip(
            outside(read_midi(source), start, end), outside(read_midi(path), start, end)
        ):
            assert np.array_equal(a, b)
    assert main([*args, "--seed", "4"]) == 0
    assert main([*args, "--seed", "4"]) == 2  # exists: --force replaces it
    assert "already exists" in capsys.readouterr().err
    for wrong, said in (
        (["--bars", "0"], "bars count from 1"),
        (["--bars", "9-x"], "is not a bar"),
        (["--tracks", "9"], "tracks 1 to"),
    ):
        bad = ["fill", str(source), "--out", str(tmp_path / "x.mid"), "--model", str(run_dir)]
        assert main([*bad, "--bars", "3", *wrong]) == 2
        err = capsys.readouterr().err
        assert said in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.slow
def test_composer_fill_refuses_bars_past_the_end_naming_the_last_bar(song, tmp_path, capsys):
    """Issue 25: `--bars 1-100000` of a short piece sampled for over 900 s (bars past the end were
    accepted) and `--bars 99999999999999999999` was a traceback. A real process, so that the old
    behaviour fails by its time limit rather than hanging the run."""
    import subprocess
    import sys

    source = write_midi(song, tmp_path / "song.mid")
    timeline = Timeline(song.ticks_per_beat, song.tempos, song.time_signatures)
    bars = timeline.bar_beat(song.end_tick - 1).bar
    assert timeline.tick_of(bars) < song.end_tick <= timeline.tick_of(bars + 1)
    for asked in ("1-100000", "99999999999999999999", f"{bars}-{bars + 1}"):
        command = [sys.executable, "-m", "composer", "fill", str(source), "--bars", asked,
                   "--out", str(tmp_path / "out.mid")]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr == (
            f"composer fill: --bars {asked}: the piece has {bars} bars; choose bars 1 to {bars}.\n"
        )
    assert not (tmp_path / "out.mid").exists()
    out = tmp_path / "last.mid"  # the last bar itself is the piece's
    assert main(["fill", str(source), "--bars", str(bars), "--out", str(out), "--seed", "1"]) == 0
    assert f"filling bar {bars} " in capsys.readouterr().out and out.exists()


def test_evaluate_compares_both_sides_with_the_left_side(run_dir, capsys):
    assert main(["evaluate", str(run_dir), "--samples", "2", "--seconds", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    fill = report["fill_in"]
    assert fill["spans"] > 0 and fill["middle_tokens"] > fill["spans"]
    assert fill["both_sides_nats"] > 0 and fill["left_side_nats"] > 0


def test_decoding_a_filled_piece_round_trips(model, song):
    start, end = bar_ticks(song, 3, 4)
    filler = SpanFiller(model, song, start, end, SamplingSettings(seed=2, top_p=WHOLE))
    for _ in filler.run():
        pass
    assert decode(encode(filler.pieces()[0], VOCAB), VOCAB).note_count > 0


def test_runs_and_models_saved_before_fill_in_keep_loading_generating_and_resuming(
    older_run_dir, tmp_path
):
    """Files written before fill-in existed have no "infill" in their tokenizer and no "fill_in"
    in their training settings: they read as a model without the marks and a run without
    fill-in examples."""
    import shutil

    from composer.core.generation import Sampler
    from composer.core.training import resume_run

    run_dir = tmp_path / "old"
    shutil.copytree(older_run_dir, run_dir)
    for path in [run_dir / "run.json", *(run_dir / "checkpoints").glob("*.json")]:
        data = json.loads(path.read_text())
        data["tokenizer"].pop("infill")
        data["training"].pop("fill_in")
        path.write_text(json.dumps(data))
    loaded = load_model(run_dir)
    assert not loaded.vocab.config.infill and len(loaded.vocab) == len(VOCAB) - 4
    sampler = Sampler(loaded, SamplingSettings(seconds=2.0, seed=0, top_p=WHOLE))
    for _ in sampler.run():
        pass
    assert sampler.pieces()[0].note_count > 0
    old = TokenizerConfig(infill=False)
    folder = json.loads((run_dir / "run.json").read_text())["folder"]
    trainer = resume_run(run_dir, collection_of(folder, tmp_path / "cache", old), steps=12)
    assert trainer.config.fill_in == 0.0 and len(trainer.train_set) == len(trainer.info.train)
    for _ in trainer.run():
        pass
    assert trainer.step == 12


def test_filling_with_an_instrument_the_piece_lacks_writes_its_notes(bundled, song):
    """Issue 25: `fill --programs 40` emptied the bars (the span starts as piano, which the
    steering forbids, and the model never chose the violin). Now the bars hold violin notes."""
    from composer.core.generation.constraints import Constraints

    start, end = bar_ticks(song, 9, 12)
    violin = Constraints(programs=frozenset({40}))
    filler = SpanFiller(
        bundled, song, start, end, SamplingSettings(seed=1, variations=2), constraints=violin
    )
    for _ in filler.run():
        pass
    assert not any(t.program == 40 for t in song.tracks)
    for piece in filler.pieces():
        inside = {
            ("drums" if t.is_drum else t.program): int(
                ((t.notes["start"] >= start) & (t.notes["start"] < end)).sum()
            )
            for t in piece.tracks
        }
        assert inside.get(40, 0) >= 8 and sum(inside.values()) == inside[40], inside


def test_bars_the_model_leaves_empty_are_said(song, tmp_path, capsys):
    """Issue 25: `fill --programs 40` emptied the bars without a word. A model that only rests
    (the bundled one, its head changed) leaves them empty: the file is written, since the rest
    of the piece is music, and a sentence says the bars are empty."""
    from tests.core.test_constraints import _resting_copy_of_the_bundled_model

    folder = tmp_path / "resting"
    folder.mkdir()
    resting = _resting_copy_of_the_bundled_model(folder)
    source = write_midi(song, tmp_path / "song.mid")
    out = tmp_path / "out.mid"
    assert main(["fill", str(source), "--bars", "9-10", "--out", str(out),
                 "--model", str(resting), "--seed", "1"]) == 0  # fmt: skip
    start, end = bar_ticks(song, 9, 10)
    back = read_midi(out)
    assert not any(
        ((t.notes["start"] >= start) & (t.notes["start"] < end)).any() for t in back.tracks
    )
    err = capsys.readouterr().err
    assert err == (
        f"composer fill: no notes were written in bars 9-10 of {out}, so it is written with "
        "bars 9-10 empty (the rest of the piece is music); try another seed or temperature.\n"
    ), err  # the one sentence of every front; no steering was used, so none to loosen


def test_a_fill_advises_loosening_only_the_steering_asked_for(bundled, song):
    """The tracks chosen keep the new notes to their instruments (steering the sampler), and a
    fill keeps the piece's tempo: neither is steering to loosen when the bars come out empty."""
    from composer.core.generation.constraints import Constraints

    start, end = bar_ticks(song, 9, 10)

    def advice(tracks, constraints):
        filler = SpanFiller(bundled, song, start, end, SamplingSettings(), tracks, constraints)
        return filler, filler.silent_sentence("in bars 9-10", "so they are empty").split("; ")[1]

    assert len(song.tracks) > 1
    one_track, said = advice([0], None)
    assert one_track.sampler.constraints.active and said == "try another seed or temperature"
    assert advice(None, Constraints(tempo_bpm=150.0))[1] == "try another seed or temperature"
    steered = Constraints(polyphony=2, tempo_bpm=150.0)
    assert advice([0], steered)[1] == "loosen the steering (polyphony 2) or try another seed"


def test_tracks_and_instruments_that_exclude_each_other_are_named(song, tmp_path, capsys):
    """`fill --tracks 1 --programs 40` on a piano track: the new notes must go to the track
    chosen and may only be violin. It said "allow at least one instrument", though one was."""
    source = write_midi(song, tmp_path / "song.mid")
    assert song.tracks[0].program == 0 and not song.tracks[0].is_drum
    assert main(["fill", str(source), "--bars", "9", "--tracks", "1", "--programs", "40",
                 "--out", str(tmp_path / "x.mid")]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "the tracks chosen play program 0, but only program 40 and drums may play" in err
    assert err.count("\n") == 1 and not (tmp_path / "x.mid").exists()


def test_a_fill_keeps_the_pieces_tempo_whatever_tempo_is_steered(model, song, tmp_path):
    """The Steer box's tempo reaches Regenerate selection too: the span keeps the piece's tempo
    map, exactly; the command line offers no --tempo to fill (it did, and it did nothing)."""
    from composer.core.generation.constraints import Constraints

    start, end = bar_ticks(song, 9, 10)
    steered = Constraints(tempo_bpm=150.0)
    filler = SpanFiller(model, song, start, end, SamplingSettings(seed=3), None, steered)
    for _ in filler.run():
        pass
    assert np.array_equal(filler.pieces()[0].tempos, song.tempos)
    assert filler.sampler.constraints.tempo_bpm is None
    out = tmp_path / "x.mid"
    with pytest.raises(SystemExit) as refused:
        main(["fill", str(sorted(corpus("pop909").glob("*.mid"))[0]), "--bars", "9", "--tempo", "150",
              "--out", str(out)])  # fmt: skip
    assert refused.value.code == 2 and not out.exists()
