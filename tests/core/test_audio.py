"""Rendering to audio with FluidSynth and the built-in fallback, WAV files, `composer render`."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from composer.cli import main
from composer.core.audio import fluidsynth_status, render, seconds_to_tick, write_wav
from composer.core.midi import read_midi
from composer.core.midi.piece import Piece, Track, make_notes
from tests.conftest import corpus_file

needs_fluidsynth = pytest.mark.skipif(
    fluidsynth_status() is not None, reason="libfluidsynth is not installed"
)


def _band_file():
    """pretty_midi's example: 13 tracks (drums among them), 420 tempo changes, 352 s; without
    ../shared, tests/data/quirks/band.mid: 14 channels (drums among them), 420 tempo changes, 324 s."""
    return corpus_file("library_testdata", "pretty_midi/example.mid")


def _first_seconds(piece: Piece, seconds: float) -> Piece:
    tracks = []
    for track in piece.tracks:
        keep = piece.seconds(track.notes["end"]) <= seconds
        tracks.append(Track(track.program, track.is_drum, track.name, track.notes[keep]))
    return Piece(piece.ticks_per_beat, tracks, piece.tempos, piece.time_signatures)


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples)))) if len(samples) else 0.0


@pytest.mark.slow
@needs_fluidsynth
def test_composer_render_writes_a_wav_as_long_as_the_music(tmp_path, capsys):
    out = tmp_path / "band.wav"
    assert main(["render", str(_band_file()), "--out", str(out)]) == 0
    assert "rendered with FluidSynth" in capsys.readouterr().out
    with wave.open(str(out)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 44_100)
        seconds = wav.getnframes() / wav.getframerate()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    piece = read_midi(_band_file())
    assert (
        piece.duration_seconds - 0.5 <= seconds <= piece.duration_seconds + 0.5 + 1.0
    )  # + release
    assert np.abs(pcm).max() > 20_000 and _rms(pcm / 32768) > 0.02  # loud enough, not silent
    assert main(["render", str(_band_file()), "--out", str(out)]) == 2  # no silent overwrite
    assert "already exists; choose another --out or add --force" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("engine", [pytest.param("fluidsynth", marks=needs_fluidsynth), "built-in"])
def test_drums_and_pitched_instruments_both_sound(engine):
    piece = _first_seconds(read_midi(_band_file()), 100.0)  # the drums start softly (hi-hats)
    drums = Piece(piece.ticks_per_beat, [t for t in piece.tracks if t.is_drum], piece.tempos)
    pitched = Piece(piece.ticks_per_beat, [t for t in piece.tracks if not t.is_drum], piece.tempos)
    assert drums.note_count and pitched.note_count
    for part in (drums, pitched):
        audio = render(part, engine=engine)
        # Normalising raises the level at most 20 times, so a clear peak means real sound.
        assert audio.engine == engine and np.abs(audio.samples).max() > 0.5
        assert _rms(audio.samples) > 0.001
    silence = render(Piece(480, []), engine=engine)
    assert _rms(silence.samples) == 0.0


def test_the_fallback_follows_the_notes_in_time():
    beat = 480
    piece = Piece(
        beat,
        [Track(0, False, "", make_notes([0, 4 * beat], [beat, 5 * beat], [69, 69], [100, 100]))],
    )
    audio = render(piece, engine="built-in")  # 120 BPM: notes at 0-0.5 s and 2.0-2.5 s
    rate = audio.sample_rate
    loud = [
        _rms(audio.samples[int(a * rate) : int(b * rate)])
        for a, b in ((0.1, 0.4), (0.8, 1.8), (2.1, 2.4))
    ]
    assert loud[0] > 0.05 and loud[2] > 0.05 and loud[1] < loud[0] / 20
    spectrum = np.abs(np.fft.rfft(audio.samples[int(0.1 * rate) : int(0.4 * rate), 0]))
    peak_hz = np.argmax(spectrum) * rate / (2 * (len(spectrum) - 1))
    assert abs(peak_hz - 440) < 10  # A4 sounds as A4


def test_playhead_ticks_follow_the_tempo_map():
    piece = read_midi(_band_file())  # 420 tempo changes
    for seconds in (0.0, 10.0, 123.4, 300.0):
        tick = seconds_to_tick(piece, seconds)
        assert abs(float(piece.seconds(tick)) - seconds) < 0.02


def test_wav_files_are_written_atomically_and_never_replaced_silently(tmp_path):
    samples = np.zeros((441, 2), np.float32)
    path = write_wav(samples, 44_100, tmp_path / "a.wav")
    with pytest.raises(FileExistsError):
        write_wav(samples, 44_100, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav"]


def test_a_piece_too_long_to_render_is_one_sentence_before_any_audio_is_made(tmp_path):
    """Issue 25: `composer render` of a small file holding one note for 77.7 hours grew to
    3.7 GB and wrote nothing. A real process with 1.5 GB of address space: rendering (or any
    copy of that much audio) cannot fit, refusing does."""
    import resource
    import subprocess
    import sys

    from composer.core.audio.synth import MAX_RENDER_SECONDS
    from tests.audio_fixtures import one_note_for_hours

    source = one_note_for_hours(tmp_path / "long.mid")
    assert read_midi(source).duration_seconds > 70 * 3600 > MAX_RENDER_SECONDS

    def small_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))

    command = [sys.executable, "-m", "composer", "render", str(source), "--out",
               str(tmp_path / "long.wav")]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, preexec_fn=small_memory
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr == (
        "composer render: the piece lasts 77.7 hours, and Composer renders at most 2 hours "
        "of audio; shorten it, or play it through a MIDI output or another program.\n"
    )
    assert list(tmp_path.iterdir()) == [source]  # no WAV, not even half of one


def test_the_longest_music_composer_writes_can_be_rendered():
    """The render limit follows the generation's: a primer as long as the longest generation,
    continued by the longest generation, still plays (checked, not rendered: 2.5 GB)."""
    from composer.core.audio.synth import AudioError, check_render_length
    from composer.core.generation.settings import MAX_SECONDS
    from composer.core.midi.piece import Piece, Track, make_notes

    def lasting(seconds: float) -> Piece:  # 120 BPM: 960 ticks a second at 480 per beat
        end = round(seconds * 960)
        return Piece(480, [Track(0, False, "Piano", make_notes([0], [end], [60], [90]))])

    check_render_length(lasting(2 * MAX_SECONDS))
    with pytest.raises(AudioError, match="renders at most 2 hours"):
        check_render_length(lasting(2 * MAX_SECONDS + 1))
