"""The event vocabulary and the codec: readable ids, JSON config, and round trips."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from composer.core.midi import Piece, Track, make_notes, read_midi
from composer.core.midi.piece import make_tempos
from composer.core.tokens import BOS, EOS, TokenizerConfig, Vocabulary, decode, encode, quantize
from tests.conftest import corpus, corpus_file
from tests.midi_files import off, on, write_midi_events

CONFIGS = {
    "default": TokenizerConfig(),
    "fine-grid": TokenizerConfig(steps_per_beat=24, max_shift_steps=96, velocity_bins=16),
    "coarse-piano-only": TokenizerConfig(
        steps_per_beat=4, max_shift_steps=8, tempo_bins=1, programs=(0,), drums=False
    ),
}


def assert_same_piece(got: Piece, want: Piece) -> None:
    assert got.ticks_per_beat == want.ticks_per_beat
    assert [(t.program, t.is_drum) for t in got.tracks] == [
        (t.program, t.is_drum) for t in want.tracks
    ]
    for a, b in zip(got.tracks, want.tracks):
        assert a.notes.tolist() == b.notes.tolist()
    assert got.tempos.tolist() == want.tempos.tolist()


def test_every_id_has_a_readable_name_that_maps_back():
    vocab = Vocabulary(TokenizerConfig())
    names = [vocab.name(i) for i in range(len(vocab))]
    assert len(set(names)) == len(vocab)
    assert all(vocab.id(name) == i for i, name in enumerate(names))
    assert names[BOS] == "Bos" and names[EOS] == "Eos" and names[0] == "Pad"
    for name in ["NoteOn_60", "NoteOff_127", "TimeShift_48", "Program_40", "Drums", "Tempo_120"]:
        assert name in names
    assert len(vocab) < 2**16  # token arrays are uint16


def test_config_round_trips_through_json_and_keys_the_cache():
    config = TokenizerConfig(steps_per_beat=24, programs=(0, 40, 33))
    again = TokenizerConfig.from_json(config.to_json())
    assert again == config and again.fingerprint == config.fingerprint
    assert TokenizerConfig().fingerprint != config.fingerprint
    assert Vocabulary(config).to_json_dict()["size"] == len(Vocabulary(config))


@pytest.mark.parametrize(
    "bad", [{"steps_per_beat": 0}, {"programs": ()}, {"min_bpm": 300}, {"velocity_bins": 200}]
)
def test_invalid_config_is_refused(bad):
    with pytest.raises(ValueError):
        TokenizerConfig(**bad)
    with pytest.raises(ValueError, match="unknown"):
        TokenizerConfig.from_json('{"steps_per_bar": 4}')


def test_a_short_tune_encodes_to_the_expected_events(tmp_path):
    events = [on(60, 80), off(60, time=480), on(62, 100, time=240), off(62, time=6000)]
    piece = read_midi(write_midi_events(tmp_path / "t.mid", events))
    vocab = Vocabulary(TokenizerConfig())
    assert vocab.names(encode(piece, vocab)) == [
        "Bos", "Tempo_120", "Program_0", "Velocity_82", "NoteOn_60", "TimeShift_12",
        "NoteOff_60", "TimeShift_6", "Velocity_102", "NoteOn_62",
        "TimeShift_48", "TimeShift_48", "TimeShift_48", "TimeShift_6", "NoteOff_62", "Eos",
    ]  # fmt: skip


def test_quantize_moves_notes_by_at_most_half_a_step(tmp_path):
    vocab = Vocabulary(TokenizerConfig())
    piece = read_midi(corpus_file("library_testdata", "pretty_midi/example.mid"))
    grid = quantize(piece, vocab)
    scale = grid.ticks_per_beat / piece.ticks_per_beat
    half_step = grid.ticks_per_beat / vocab.config.steps_per_beat / 2
    original = np.sort(np.concatenate([t.notes["start"] for t in piece.tracks])) * scale
    moved = np.sort(np.concatenate([t.notes["start"] for t in grid.tracks]))
    assert len(moved) <= len(original)
    # Only same-pitch notes that land on one step of one instrument merge (this file has three
    # choir tracks on one program, in unison at times): a few percent.
    assert len(moved) > 0.95 * len(original)
    kept = np.searchsorted(original, moved)  # each quantised start is near an original one
    nearest = np.minimum(
        np.abs(original[np.clip(kept, 0, len(original) - 1)] - moved),
        np.abs(original[np.clip(kept - 1, 0, len(original) - 1)] - moved),
    )
    assert nearest.max() <= half_step


@pytest.mark.slow
@pytest.mark.parametrize("config_name", CONFIGS)
@pytest.mark.parametrize("folder", ["bach_chorales", "nottingham", "library_testdata"])
def test_decode_of_encode_equals_quantize_on_real_files(folder, config_name):
    vocab = Vocabulary(CONFIGS[config_name])
    paths = sorted(corpus(folder).rglob("*.mid"))
    paths = paths[:: max(1, len(paths) // 60)]  # an even spread, to keep the suite quick
    for path in paths:
        piece = read_midi(path)
        tokens = encode(piece, vocab)
        assert tokens.dtype == np.uint16 and tokens[0] == BOS and tokens[-1] == EOS
        assert_same_piece(decode(tokens, vocab), quantize(piece, vocab))


def test_decode_repairs_what_a_model_may_get_wrong():
    vocab = Vocabulary(TokenizerConfig())
    names = ["Bos", "NoteOff_61", "NoteOn_60", "NoteOn_60", "TimeShift_3", "NoteOn_64",
             "TimeShift_2", "NoteOff_60", "Drums", "NoteOn_36"]  # fmt: skip
    piece = decode([vocab.id(n) for n in names], vocab)  # no Eos: still-sounding notes are closed
    pitched = [t for t in piece.tracks if not t.is_drum][0]
    per_step = piece.ticks_per_beat // vocab.config.steps_per_beat
    assert [(s // per_step, e // per_step, p) for s, e, p, _ in pitched.notes.tolist()] == [
        (0, 5, 60),
        (3, 5, 64),
    ]  # fmt: skip  (60 struck twice at once is one note)
    assert [t.is_drum for t in piece.tracks] == [False, True]
    with pytest.raises(ValueError, match="outside"):
        decode([len(vocab)], vocab)


@st.composite
def grid_pieces(draw, config: TokenizerConfig):
    """Pieces already on the grid, with no same-pitch overlap: these must round-trip exactly."""
    vocab = Vocabulary(config)
    per_step = -(-480 // config.steps_per_beat)
    tracks = []
    last_slot = len(config.programs) - (0 if config.drums else 1)  # the drum slot is the last
    slots = draw(st.sets(st.integers(0, last_slot), min_size=1, max_size=3))
    for slot in sorted(slots):
        notes = []
        for pitch in draw(st.sets(st.integers(0, 127), min_size=1, max_size=6)):
            time = 0
            for _ in range(draw(st.integers(1, 4))):
                time += draw(st.integers(0, 120))
                length = draw(st.integers(1, 150))
                velocity = int(
                    vocab.velocity_values[draw(st.integers(0, config.velocity_bins - 1))]
                )
                notes.append((time * per_step, (time + length) * per_step, pitch, velocity))
                time += length
        is_drum = slot == len(config.programs)
        columns = list(zip(*notes))
        track = Track(0 if is_drum else config.programs[slot], is_drum, "", make_notes(*columns))
        tracks.append(track)
    bpm_bins = draw(st.lists(st.integers(0, config.tempo_bins - 1), min_size=1, max_size=4))
    tempo_rows, step = [], 0
    for i, b in enumerate(bpm_bins):
        if i == 0 or b != bpm_bins[i - 1]:
            tempo_rows.append((step * per_step, round(60e6 / vocab.tempo_values[b])))
        step += draw(st.integers(1, 30))
    return Piece(config.steps_per_beat * per_step, tracks, make_tempos(tempo_rows))


@pytest.mark.slow
@pytest.mark.parametrize("config_name", CONFIGS)
def test_generated_grid_pieces_round_trip_exactly(config_name):
    config = CONFIGS[config_name]
    vocab = Vocabulary(config)

    @settings(max_examples=150, deadline=None)
    @given(grid_pieces(config))
    def round_trip(piece):
        got = decode(encode(piece, vocab), vocab)
        # Tracks come in slot order already; tempo changes after the last note say nothing.
        last_end = max(int(t.notes["end"].max()) for t in piece.tracks)
        tempos = piece.tempos[piece.tempos["tick"] <= last_end]
        assert_same_piece(got, Piece(piece.ticks_per_beat, piece.tracks, tempos))

    round_trip()


def test_the_event_kinds_are_named_once_and_are_the_vocabularys():
    """Kind names every event type the vocabulary has, and nothing else: code compares with
    Kind.NOTE_ON, so a typo fails loudly instead of never matching."""
    from composer.core.tokens.vocab import Kind

    vocab = Vocabulary(TokenizerConfig())
    assert set(Kind.all()) == set(vocab.ranges)
    assert len(set(Kind.all())) == len(Kind.all())
