"""Playback: through a real audio output (a private PulseAudio server's null sink, see
tests/audio_fixtures.py) to the end and round a loop, without any sound device (the real path, in
a process of its own), MIDI output through a stand-in port (there is no MIDI system here), the
playhead against the audio clock, and WAV export from the app."""

from __future__ import annotations

import os
import subprocess
import sys
import wave

import mido
import pytest

from composer.app.playback.player import Playback, playhead_tick
from composer.core.audio.midi_out import output_ports, play_to_port
from composer.core.midi import read_midi, write_midi
from composer.core.midi.piece import Piece, Track, make_notes, make_tempos
from tests.conftest import corpus, corpus_file

pytest_plugins = ["tests.audio_fixtures"]  # the PulseAudio server, started before any window


class FakePort:
    """Stands in for a mido output port (no MIDI system on this machine): records what is sent."""

    def __init__(self):
        self.sent: list[mido.Message] = []
        self.closed = False

    def send(self, message):
        self.sent.append(message)

    def close(self):
        self.closed = True


class FakeClock:
    """Time that passes only when the player sleeps, so the test runs instantly and exactly."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def _tune(beats_per_note: float = 0.5) -> Piece:
    beat = 480
    step = int(beat * beats_per_note)
    starts = [i * step for i in range(4)]
    piano = make_notes(starts, [s + step for s in starts], [60, 62, 64, 65], [90] * 4)
    drums = make_notes([0, 2 * step], [60, 2 * step + 60], [36, 38], [100, 100])
    return Piece(
        beat, [Track(24, False, "", piano), Track(0, True, "", drums)], make_tempos([(0, 500_000)])
    )


WITHOUT_A_DEVICE = """
import sys
from pathlib import Path
from PySide6.QtCore import QSettings
QSettings.setDefaultFormat(QSettings.Format.IniFormat)
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[2])
from composer.app.main import create_app
from composer.app.window import MainWindow
app = create_app()
window = MainWindow()
window.tell = lambda text: print("told:", text)
window.pieces.open_paths([Path(sys.argv[1])])
print("available:", window.playback.available)
window.player.play_pause()
print("status:", window.state_label.text())  # one sentence, nothing raised
window.pieces.zoom_in()  # and everything else keeps working
print("notes:", len(window.pieces.variations[0][0]))
"""


@pytest.mark.slow
def test_without_a_sound_device_playback_is_off_and_says_why(tmp_path):
    """In a process of its own: this one's QtMultimedia has found the test PulseAudio server."""
    chorale = sorted(corpus("bach_chorales").glob("*.mid"))[0]
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_A_DEVICE, str(chorale), str(tmp_path / "settings")],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "PULSE_SERVER": f"unix:{tmp_path / 'nobody-listens-here'}",
        },
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    assert lines["available"] == "False"
    assert lines["status"].startswith("Playback is off: ")
    assert "told" not in lines and int(lines["notes"]) > 0


def test_the_midi_menu_lists_ports_or_says_why_there_are_none(window):  # noqa: F811
    names, reason = output_ports()
    texts = [action.text() for action in window.midi_menu.actions()]
    assert texts[0] == "Internal synthesiser"
    if reason:
        assert texts[-1] == reason and not window.midi_menu.actions()[-1].isEnabled()
        assert "::" not in reason and "Alsa" not in reason  # no library's internal text
    else:
        assert set(names) <= set(texts)


def test_playing_to_a_midi_port_sends_the_notes_in_order():
    port, clock = FakePort(), FakeClock()
    positions = []
    reached = play_to_port(
        _tune(), port, clock=clock, sleep=clock.sleep, on_position=positions.append
    )
    kinds = [(m.type, getattr(m, "note", None), m.channel) for m in port.sent]
    assert kinds[0] == ("program_change", None, 0) and port.sent[0].program == 24
    notes = [(t, n, c) for t, n, c in kinds if t in ("note_on", "note_off")]
    assert notes[:4] == [
        ("note_on", 60, 0),
        ("note_on", 36, 9),
        ("note_off", 36, 9),
        ("note_off", 60, 0),
    ]
    assert (
        sum(t == "note_on" for t, _, _ in notes) == 6 == sum(t == "note_off" for t, _, _ in notes)
    )
    assert kinds[-2:] == [("control_change", None, 0), ("control_change", None, 9)]  # all notes off
    assert reached == pytest.approx(1.0) and positions == sorted(positions)
    assert clock.now - 100.0 == pytest.approx(1.0, abs=0.02)  # in time: 4 eighths at 120 BPM


def test_stopping_midi_output_ends_the_sounding_notes():
    port, clock = FakePort(), FakeClock()
    play_to_port(
        _tune(), port, clock=clock, sleep=clock.sleep, should_stop=lambda: clock.now > 100.3
    )
    sounding = set()
    for message in port.sent:
        if message.type == "note_on":
            sounding.add((message.channel, message.note))
        elif message.type == "note_off":
            sounding.discard((message.channel, message.note))
    assert not sounding and len([m for m in port.sent if m.type == "note_on"]) < 6


@pytest.mark.slow
def test_the_app_plays_through_a_midi_port_and_moves_the_playhead(window, qtbot, tmp_path):  # noqa: F811
    path = write_midi(_tune(0.25), tmp_path / "tune.mid")
    window.pieces.open_paths([path])
    port = FakePort()
    window.playback.midi_port = port
    window.player.play_pause()
    qtbot.waitUntil(lambda: window.player.state == "stopped" and bool(port.sent), timeout=10_000)
    assert sum(m.type == "note_on" for m in port.sent) == 6
    view = window.pieces.variations[0][1]
    assert view.playhead() >= 3 * 120  # the last note's start, in ticks
    window.player.use_internal_synth()
    assert port.closed and window.playback.midi_port is None


def test_the_playhead_follows_the_audio_clock_through_tempo_changes():
    piece = read_midi(corpus_file("library_testdata", "pretty_midi/example.mid"))  # 420 tempos
    for start, heard_us in ((0.0, 1_500_000), (40.0, 12_345_678), (200.0, 90_000_000)):
        tick = playhead_tick(piece, start, heard_us)
        assert float(piece.seconds(tick)) == pytest.approx(start + heard_us / 1e6, abs=0.02)


def test_export_wav_from_the_app(window, qtbot, tmp_path):  # noqa: F811
    window.pieces.open_paths([sorted(corpus("bach_chorales").glob("*.mid"))[0]])
    out = tmp_path / "chorale.wav"
    window.exporting.export_wav_to(0, out)
    qtbot.waitUntil(
        lambda: out.exists() and "Exported" in window.state_label.text(), timeout=60_000
    )
    with wave.open(str(out)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    piece = window.pieces.variations[0][0].to_piece()
    assert piece.duration_seconds - 0.5 <= seconds <= piece.duration_seconds + 1.5


@pytest.mark.slow
def test_a_midi_port_loops_the_selection(window, qtbot, tmp_path):
    window.pieces.open_paths([write_midi(_tune(0.25), tmp_path / "tune.mid")])  # 4 notes in 0.5 s
    port = FakePort()
    window.playback.midi_port = port
    # The first two notes and the first drum. (The selection ends short of tick 240 because
    # play_to_port also sends the note-ons exactly at its end.)
    window.pieces.variations[0][1].set_selection(0, 200)
    window.actions_by_name["loop_selection"].setChecked(True)
    window.player.play_pause()
    qtbot.waitUntil(lambda: sum(m.type == "note_on" for m in port.sent) > 6, timeout=10_000)
    assert window.player.state == "playing"  # went round again rather than stopping
    window.player.stop_playback()
    qtbot.waitUntil(lambda: window.playback.worker is None, timeout=5_000)
    played = {m.note for m in port.sent if m.type == "note_on"}
    assert played == {60, 62, 36}  # only what is selected


@pytest.mark.slow
def test_a_piece_plays_to_its_end_then_stops_and_closes_the_sink(
    audio_device, window, qtbot, tmp_path
):
    window.pieces.open_paths([write_midi(_tune(0.5), tmp_path / "tune.mid")])  # 1 s at 120 BPM
    view = window.pieces.variations[0][1]
    while_playing = []
    window.playback.state.connect(
        lambda state: while_playing.append(
            (state, view.follow(), window.actions_by_name["play_pause"].text())
        )
    )
    window.player.play_pause()
    qtbot.waitUntil(lambda: window.player.state == "playing", timeout=30_000)
    assert ("playing", True, "&Pause") in while_playing  # following, and the button says Pause
    qtbot.waitUntil(lambda: window.player.state == "stopped", timeout=20_000)
    assert window.playback.sink is None and not window.playback.playing
    assert window.state_label.text() == Playback.AT_THE_END
    assert view.playhead() == 4 * 240  # the last note's end, where the music stopped
    assert not view.follow() and window.actions_by_name["play_pause"].text() == "&Play"
    assert window.transport.position.text() == "1.3"  # bar 1, beat 3 of 4/4
    window.player.play_pause()  # Play at the end starts again from the beginning
    qtbot.waitUntil(lambda: window.player.state == "playing", timeout=30_000)
    assert window.playback.start_seconds == 0.0
    window.player.stop_playback()
    assert window.playback.sink is None and window.state_label.text() == "Stopped."


@pytest.mark.slow
def test_loop_plays_the_selection_again_and_again(audio_device, window, qtbot, tmp_path):
    window.pieces.open_paths([write_midi(_tune(0.5), tmp_path / "tune.mid")])  # 1 s at 120 BPM
    view = window.pieces.variations[0][1]
    view.set_selection(240, 720)  # the 2nd and 3rd notes: half a second
    window.actions_by_name["loop_selection"].setChecked(True)
    ticks = []
    window.playback.playhead.connect(ticks.append)
    window.player.play_pause()
    qtbot.waitUntil(lambda: any(b < a for a, b in zip(ticks, ticks[1:])), timeout=20_000)
    assert window.player.state == "playing" and window.playback.sink is not None
    window.player.stop_playback()
    assert min(ticks) >= 240 and max(ticks) <= 720  # inside the selection, round and round
    assert window.playback.sink is None


@pytest.mark.slow
def test_playing_through_an_audio_output_moves_the_playhead_with_the_sound(
    audio_device, window, qtbot, tmp_path
):
    window.pieces.open_paths([write_midi(_tune(1.0), tmp_path / "tune.mid")])  # 2 s at 120 BPM
    window.player.play_pause()
    qtbot.waitUntil(lambda: window.player.state == "playing", timeout=30_000)
    view = window.pieces.variations[0][1]
    qtbot.waitUntil(lambda: (view.playhead() or 0) > 480, timeout=10_000)  # past the first beat
    window.player.play_pause()  # pause: the playhead stays
    qtbot.waitUntil(lambda: window.player.state == "paused", timeout=5_000)
    held = view.playhead()
    qtbot.wait(300)
    assert view.playhead() == held
    window.player.stop_playback()
    assert window.player.state == "stopped"


def test_a_chosen_soundfont_is_used_and_remembered(window, qtbot, tmp_path):  # noqa: F811
    from composer.app import settings
    from composer.core.audio import default_soundfont

    window.player.set_soundfont(default_soundfont())
    assert settings.read(settings.SOUNDFONT) == str(default_soundfont())
    bad = tmp_path / "not-a-soundfont.sf2"
    bad.write_bytes(b"RIFF nonsense")
    window.player.set_soundfont(bad)
    window.pieces.open_paths([sorted(corpus("bach_chorales").glob("*.mid"))[0]])
    told = len(window.told)
    window.exporting.export_wav_to(0, tmp_path / "x.wav")
    qtbot.waitUntil(lambda: len(window.told) > told, timeout=30_000)
    assert "not-a-soundfont.sf2" in window.told[-1] and not (tmp_path / "x.wav").exists()


def test_the_app_says_a_piece_is_too_long_to_play_or_export(audio_device, window, qtbot, tmp_path):
    """The app shares the renderer's limit: Play and Export WAV show its sentence (not the bug
    dialog, not gigabytes of audio). One note held for 77.7 hours."""
    from tests.audio_fixtures import one_note_for_hours

    window.pieces.open_paths([one_note_for_hours(tmp_path / "long.mid")])
    said = "the piece lasts 77.7 hours, and Composer renders at most 2 hours of audio"
    window.player.play_pause()
    qtbot.waitUntil(lambda: said in window.state_label.text(), timeout=30_000)
    assert window.player.state == "stopped" and window.playback.sink is None
    out = tmp_path / "long.wav"
    window.exporting.export_wav_to(0, out)
    qtbot.waitUntil(lambda: bool(window.told), timeout=30_000)
    assert window.told == [f"Could not write {out}: {said}; shorten it, or play it through a "
                           "MIDI output or another program."]  # fmt: skip
    assert not out.exists()
