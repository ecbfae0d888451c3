"""The reader's handling of real-world MIDI quirks, one test each."""

from __future__ import annotations

import numpy as np
import pytest

from composer.core.midi import MidiReadError, Piece, read_midi, read_midi_bytes, write_midi
from tests.conftest import corpus, corpus_file
from tests.midi_files import off, on, program, simple_tune, tempo, write_midi_events


def notes_of(piece: Piece, track: int = 0) -> list[tuple]:
    return [tuple(n) for n in piece.tracks[track].notes.tolist()]


def test_file_without_tempo_plays_at_120_bpm(tmp_path):
    piece = read_midi(simple_tune(tmp_path / "a.mid"))
    assert piece.tempos.tolist() == [(0, 500_000)]
    assert piece.duration_seconds == pytest.approx(2.5)  # five quarter notes at 120 BPM


def test_tempo_changes_convert_ticks_to_seconds(tmp_path):
    events = [tempo(60)]
    for i in range(200):  # expressive piano files carry hundreds of tempo changes
        events += [on(60), off(60, time=240), tempo(60 + i, time=240)]
    piece = read_midi(write_midi_events(tmp_path / "t.mid", events))
    assert len(piece.tempos) == 201
    # Beat 0 at 60 BPM, beat k at 59 + k BPM, and the last note lasts half a beat at 258 BPM.
    expected = 1 + sum(60 / (59 + k) for k in range(1, 199)) + 0.5 * 60 / 258
    assert piece.duration_seconds == pytest.approx(expected, rel=1e-6)  # tempos are whole µs


def test_same_pitch_overlaps_pair_first_on_with_first_off(tmp_path):
    events = [on(64, 80), on(64, 90, time=100), off(64, time=100), off(64, time=100)]
    piece = read_midi(write_midi_events(tmp_path / "o.mid", events))
    assert notes_of(piece) == [(0, 200, 64, 80), (100, 300, 64, 90)]


def test_zero_length_notes_are_kept(tmp_path):
    events = [on(38), off(38), on(40, time=10), off(40, time=480)]
    piece = read_midi(write_midi_events(tmp_path / "z.mid", events))
    assert notes_of(piece) == [(0, 0, 38, 80), (10, 490, 40, 80)]


def test_notes_never_turned_off_end_with_their_track(tmp_path):
    events = [on(60), on(67, time=0), off(67, time=480), on(64, time=480)]  # 60 and 64 hang
    piece = read_midi(write_midi_events(tmp_path / "h.mid", events))
    end = 960  # the track's end-of-track marker
    assert notes_of(piece) == [(0, end, 60, 80), (0, 480, 67, 80), (960, end, 64, 80)]


def test_type0_file_splits_channels_into_instruments_and_channel_10_is_drums(tmp_path):
    events = [program(40, channel=0), program(33, channel=1)]
    events += [on(72, channel=0), on(40, channel=1), on(36, 100, channel=9)]
    events += [off(72, time=480, channel=0), off(40, channel=1), off(36, channel=9)]
    piece = read_midi(write_midi_events(tmp_path / "t0.mid", events, type_=0))
    found = sorted((t.program, t.is_drum, t.notes["pitch"].tolist()) for t in piece.tracks)
    assert found == [(0, True, [36]), (33, False, [40]), (40, False, [72])]
    assert {t.label for t in piece.tracks} == {"Violin", "Electric Bass (finger)", "Drums"}


def test_very_fine_resolution_and_very_long_file(tmp_path):
    events = []
    for _ in range(1200):  # 1200 beats at 10080 ticks per beat: over 12 million ticks
        events += [on(60), off(60, time=10080)]
    piece = read_midi(write_midi_events(tmp_path / "long.mid", events, ticks_per_beat=10080))
    assert piece.ticks_per_beat == 10080
    assert piece.end_tick == 1200 * 10080 > 10_000_000  # pretty_midi calls this "corrupt"
    assert piece.note_count == 1200


def test_bad_bytes_give_one_sentence_naming_the_problem(tmp_path):
    good = simple_tune(tmp_path / "good.mid").read_bytes()
    cases = {
        b"": "empty",
        b"This is a text file renamed to .mid\n": "not a MIDI file",
        good[: len(good) // 2]: "damaged or truncated",
        b"MThd\x00\x00": "damaged or truncated",
    }
    for data, phrase in cases.items():
        with pytest.raises(MidiReadError) as caught:
            read_midi_bytes(data, "song.mid")
        assert phrase in caught.value.reason
        assert str(caught.value).startswith("song.mid: ")
        assert caught.value.reason.count(". ") == 0  # one sentence


def test_missing_file_is_a_read_error(tmp_path):
    with pytest.raises(MidiReadError, match="could not be read"):
        read_midi(tmp_path / "nope.mid")


def test_riff_wrapped_midi_is_unwrapped(tmp_path):
    smf = simple_tune(tmp_path / "a.mid").read_bytes()
    riff = b"RIFF" + (len(smf) + 12).to_bytes(4, "little") + b"RMIDdata"
    riff += len(smf).to_bytes(4, "little") + smf
    assert read_midi_bytes(riff).note_count == 5


def test_write_then_read_keeps_notes_programs_drums_and_tempo(tmp_path):
    source = corpus_file("library_testdata", "pretty_midi/example.mid")
    piece = read_midi(source)
    again = read_midi(write_midi(piece, tmp_path / "copy.mid"))
    assert np.array_equal(again.tempos, piece.tempos)
    key = lambda t: (t.is_drum, t.program, t.notes.tolist())  # noqa: E731
    assert sorted(map(key, again.tracks)) == sorted(map(key, piece.tracks))


def test_write_refuses_to_overwrite_unless_asked(tmp_path):
    piece = read_midi(simple_tune(tmp_path / "a.mid"))
    target = simple_tune(tmp_path / "b.mid")
    before = target.read_bytes()
    with pytest.raises(FileExistsError):
        write_midi(piece, target)
    assert target.read_bytes() == before
    write_midi(piece, target, overwrite=True)
    assert read_midi(target).note_count == 5


def test_real_corpus_files_read(tmp_path):
    for name in ["bach_chorales", "nottingham"]:
        for path in sorted(corpus(name).glob("*.mid"))[:25]:
            piece = read_midi(path)
            assert piece.note_count > 0 and piece.duration_seconds > 0
