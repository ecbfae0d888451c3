"""Playback in the app: the piece rendered (FluidSynth, or the built-in synthesiser) and played
through QtMultimedia's QAudioSink, or sent to a MIDI output port.

The playhead follows the audio clock (the sink's processed microseconds), not a free-running timer,
so it stays with the sound on long pieces. The same timer notices the end: playback stops there
("Stopped at the end.") and the sink is closed, or, looping, the selection starts again.

Without an audio device QAudioSink fails quietly (state Stopped, an OpenError, no exception): that
is detected, playback is turned off with a sentence, and everything else keeps working.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QTimer, Signal, Slot

from composer.app.workers import UserError, Worker, WorkerThreads
from composer.core.midi.piece import Piece


def audio_output() -> tuple[object | None, str | None]:
    """(the default QAudioDevice, None), or (None, why playback is off)."""
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError:
        return None, "Playback is off: QtMultimedia could not load (install libpulse0)"
    device = QMediaDevices.defaultAudioOutput()
    if device.isNull() or not QMediaDevices.audioOutputs():
        return (
            None,
            "Playback is off: no audio output device was found (export MIDI or WAV instead)",
        )
    return device, None


def playhead_tick(piece: Piece, start_seconds: float, processed_us: int) -> int:
    """The tick being heard after the sink has played `processed_us` from `start_seconds`."""
    from composer.core.audio import seconds_to_tick

    return seconds_to_tick(piece, start_seconds + processed_us / 1e6)


class PlaybackState(str, Enum):
    """What Playback is doing. The `state` signal carries the value as a plain str (Qt's); read
    it back with PlaybackState(value)."""

    PLAYING = "playing"
    PAUSED = "paused"
    STOPPED = "stopped"


class Playback(QObject):
    """Plays one piece at a time. Signals: `playhead(tick)` while playing; `state` (a
    PlaybackState's value); `message(sentence)` for the status bar."""

    playhead = Signal(int)  # tick
    state = Signal(str)  # a PlaybackState
    message = Signal(str)

    AT_THE_END = "Stopped at the end."

    def __init__(self, threads: WorkerThreads, parent: QObject | None = None):
        super().__init__(parent)
        self.threads = threads
        self.device, self.reason = audio_output()
        self.soundfont = None  # a .sf2 path, or None for the default
        self.midi_port = None  # an open mido output port, or None for the internal synthesiser
        self.sink = None
        self.buffer: QBuffer | None = None
        self.worker: Worker | None = None
        self.piece: Piece | None = None
        self.start_seconds = 0.0  # where the audio handed to the sink starts, in seconds
        self.end_seconds: float | None = None  # where it ends (None: the end of the piece)
        self.end_tick = 0  # the same end in ticks, where the playhead stops
        self.loop = False
        self._cache: tuple[object, object] | None = None  # (piece key, Audio)
        self._pending: tuple[object, float | None] = (None, None)  # what is being rendered
        self._base_us = 0  # the sink's processed microseconds when the loop last restarted
        self.timer = QTimer(self)
        self.timer.setInterval(30)
        self.timer.timeout.connect(self._tick)

    @property
    def available(self) -> bool:
        return self.device is not None or self.midi_port is not None

    @property
    def playing(self) -> bool:
        return self.worker is not None or (self.sink is not None and self.timer.isActive())

    def forget_audio(self) -> None:
        """Render again on the next play (the sounds changed: another soundfont)."""
        self._cache = None

    def play(
        self, piece: Piece, start_tick: int = 0, end_tick: int | None = None, loop: bool = False
    ) -> None:
        """Play `piece` from `start_tick` to `end_tick` (None: its end), looping when asked."""
        self.stop()
        if not self.available:
            self.message.emit(self.reason)
            return
        self.piece, self.loop = piece, loop
        self.start_seconds = float(piece.seconds(start_tick))
        end_seconds = float(piece.seconds(end_tick)) if end_tick else None
        self.end_seconds, self.end_tick = end_seconds, int(end_tick or piece.end_tick)
        if self.midi_port is not None:
            self._play_midi(piece, end_seconds)
            return
        key = _content_key(piece)
        if self._cache is not None and self._cache[0] == key:
            self._start_sink(self._cache[1], end_seconds)
            return
        soundfont = self.soundfont
        self.worker = Worker(lambda worker: _render(worker, piece, soundfont))
        self._pending = (key, end_seconds)
        self.worker.succeeded.connect(self._on_rendered)
        self.worker.failed.connect(self._on_failed)
        self.message.emit("Rendering audio…")
        self.threads.start(self.worker)

    @Slot(object)
    def _on_rendered(self, audio) -> None:
        key, end_seconds = self._pending
        self._cache = (key, audio)
        if self.sender() is not self.worker:  # stopped (or replaced) while rendering
            return
        self.worker = None
        if audio.note:
            self.message.emit(audio.note + ".")
        self._start_sink(audio, end_seconds)

    @Slot(str, bool)
    def _on_failed(self, message: str, unexpected: bool) -> None:
        self.worker = None
        self.message.emit(message)
        self.state.emit(PlaybackState.STOPPED)

    def _start_sink(self, audio, end_seconds: float | None) -> None:
        from PySide6.QtMultimedia import QAudioFormat, QAudioSink

        from composer.core.audio.wav import to_pcm16

        rate = audio.sample_rate
        first = int(self.start_seconds * rate)
        last = int(end_seconds * rate) if end_seconds else len(audio.samples)
        pcm = to_pcm16(audio.samples[first:last]).tobytes()
        fmt = QAudioFormat()
        fmt.setSampleRate(rate)
        fmt.setChannelCount(2)
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        self.buffer = QBuffer(self)
        self.buffer.setData(QByteArray(pcm))
        self.buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.sink = QAudioSink(self.device, fmt, self)
        self.sink.start(self.buffer)
        if self.sink.error().name != "NoError":  # no device after all: fails quietly
            self.device, self.reason = (
                None,
                "Playback is off: the audio output could not be opened (export MIDI or WAV instead)",
            )
            self.stop()
            self.message.emit(self.reason)
            return
        self._base_us = 0
        self.timer.start()
        self.state.emit(PlaybackState.PLAYING)

    def _check_finished(self) -> bool:
        """Loop or stop once the sink has played everything; True when playback has ended.
        Polled from the playhead timer: PySide6 cannot deliver the sink's
        stateChanged(QAudio::State) to a Python slot, and Qt 6.7 moved these enums from QAudio to
        QtAudio (the two do not compare equal), hence the name."""
        if self.sink is None or self.buffer is None or self.sink.state().name != "IdleState":
            return False
        if not self.buffer.atEnd():  # starved for a moment, not finished
            return False
        if self.loop:  # the selection again, from its start
            self.buffer.seek(0)
            # Started again while idle, the sink goes on at once and its clock keeps counting
            # (Qt warns that it was started already, and restarts all the same; stop() then
            # start() would reset the clock but open the stream again: a gap in the music).
            self._base_us = self.sink.processedUSecs()
            self.sink.start(self.buffer)
            return False
        self.playhead.emit(self.end_tick)
        self.stop()
        self.message.emit(self.AT_THE_END)
        return True

    @Slot()
    def _tick(self) -> None:
        if self.sink is None or self.piece is None or self._check_finished():
            return
        heard_us = max(self.sink.processedUSecs() - self._base_us, 0)
        self.playhead.emit(playhead_tick(self.piece, self.start_seconds, heard_us))

    def pause(self) -> None:
        if self.sink is not None and self.timer.isActive():
            self.sink.suspend()
            self.timer.stop()
            self.state.emit(PlaybackState.PAUSED)
        elif self.sink is not None:
            self.sink.resume()
            self.timer.start()
            self.state.emit(PlaybackState.PLAYING)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        self.timer.stop()
        if self.sink is not None:
            self.sink.stop()
            self.sink.deleteLater()
            self.sink = None
        if self.buffer is not None:
            self.buffer.close()
            self.buffer = None
        self.state.emit(PlaybackState.STOPPED)

    # --- MIDI output ------------------------------------------------------------------------------
    def _play_midi(self, piece: Piece, end_seconds: float | None) -> None:
        port, start = self.midi_port, self.start_seconds
        self.worker = Worker(lambda worker: _send(worker, piece, port, start, end_seconds))
        self.worker.progress.connect(self._on_midi_position)
        self.worker.succeeded.connect(self._on_midi_done)
        self.worker.failed.connect(self._on_failed)
        self.state.emit(PlaybackState.PLAYING)
        self.threads.start(self.worker)

    @Slot(object)
    def _on_midi_position(self, seconds: float) -> None:
        if self.piece is not None:
            from composer.core.audio import seconds_to_tick

            self.playhead.emit(seconds_to_tick(self.piece, seconds))

    @Slot(object)
    def _on_midi_done(self, seconds: float) -> None:
        if self.sender() is not self.worker:  # stopped by the user, or replaced
            return
        self.worker = None
        self._on_midi_position(seconds)
        if self.loop and self.piece is not None:  # the selection again, from its start
            self._play_midi(self.piece, self.end_seconds)
            return
        self.state.emit(PlaybackState.STOPPED)
        self.message.emit(self.AT_THE_END)


def _render(worker: Worker, piece: Piece, soundfont):
    from composer.core.audio import AudioError, render

    try:
        return render(piece, soundfont, should_stop=lambda: worker.stop_requested)
    except AudioError as exc:
        raise UserError(str(exc)) from None


def _send(worker: Worker, piece: Piece, port, start: float, end: float | None) -> float:
    from composer.core.audio.midi_out import play_to_port

    return play_to_port(
        piece,
        port,
        start=start,
        end=end,
        should_stop=lambda: worker.stop_requested,
        on_position=worker.report,
    )


def _content_key(piece: Piece) -> str:
    """What the rendered audio depends on: the notes, programs and tempo map. (The window builds a
    new Piece for every Play, so the object's identity would never hit the cache.)"""
    import hashlib

    digest = hashlib.sha256(str(piece.ticks_per_beat).encode())
    digest.update(piece.tempos.tobytes())
    for track in piece.tracks:
        digest.update(f"{track.program}:{track.is_drum}".encode())
        digest.update(track.notes.tobytes())
    return digest.hexdigest()
