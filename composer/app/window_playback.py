"""The window's playback controls: play/pause, stop, loop, MIDI output, WAV export."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QFileDialog

from composer.app import settings
from composer.app.playback import Playback
from composer.app.workers import UserError, Worker


class PlaybackControls:
    """Mixed into MainWindow: needs current(), tell(), show_status(), threads, menus, tabs."""

    def set_up_playback(self) -> None:
        self.playback = Playback(self.threads, self)
        self.playback.playhead.connect(self._on_playhead)
        self.playback.message.connect(self.show_status)
        self.playback.state.connect(self._on_playback_state)
        self._build_midi_menu()
        chosen = settings.read(settings.SOUNDFONT)
        self.playback.soundfont = Path(chosen) if chosen and Path(chosen).is_file() else None
        if not self.playback.available:
            self.show_status(self.playback.reason)

    def _build_midi_menu(self) -> None:
        from composer.core.audio.midi_out import output_ports

        menu = self.menus["Playback"].addMenu("MIDI &output")
        group = QActionGroup(self)
        internal = QAction("Internal synthesiser", self, checkable=True, checked=True)
        internal.triggered.connect(self.use_internal_synth)
        group.addAction(internal)
        menu.addAction(internal)
        names, reason = output_ports()
        for name in names:
            action = QAction(name, self, checkable=True)
            action.triggered.connect(lambda checked=False, n=name: self.use_midi_port(n))
            group.addAction(action)
            menu.addAction(action)
        if reason:
            note = menu.addAction(reason)
            note.setEnabled(False)
        self.midi_menu = menu

    def choose_soundfont(self) -> None:
        from composer.core.audio import default_soundfont

        current = str(self.playback.soundfont or default_soundfont())
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a soundfont", current, "SoundFont (*.sf2)"
        )
        if path:
            self.set_soundfont(Path(path))

    def set_soundfont(self, path: Path | None) -> None:
        """Use `path` (a .sf2 file) for playback and WAV export; None for the default."""
        self.playback.soundfont = path
        self.playback._cache = None  # render again with the new sounds
        settings.write(settings.SOUNDFONT, str(path) if path else "")
        self.show_status(f"Soundfont: {path.name if path else 'TimGM6mb (the default)'}")

    @Slot()
    def use_internal_synth(self) -> None:
        self.playback.stop()
        if self.playback.midi_port is not None:
            self.playback.midi_port.close()
        self.playback.midi_port = None

    def use_midi_port(self, name: str) -> None:
        from composer.core.audio.midi_out import open_port

        self.playback.stop()
        try:
            self.playback.midi_port = open_port(name)
        except Exception as exc:  # noqa: BLE001 - rtmidi raises assorted errors
            self.tell(f"Could not open the MIDI port {name} ({exc}); choose another output.")
            return
        self.show_status(f"Playing through {name}.")

    def play_pause(self) -> None:
        if self.playback.playing or self._playback_state == "paused":
            self.playback.pause()
            return
        found = self.current()
        if found is None or len(found[0]) == 0:
            self.tell("There is nothing to play yet; generate or open some music first.")
            return
        model, view = found
        selection = view.selection()
        start = selection[0] if selection else (view.playhead() or 0)
        end = selection[1] if selection else None
        loop = bool(selection) and self.actions_by_name["loop_selection"].isChecked()
        self._playing_view = view
        self.playback.play(model.to_piece(), start, end, loop)

    def stop_playback(self) -> None:
        self.playback.stop()

    @Slot(int)
    def _on_playhead(self, tick: int) -> None:
        view = getattr(self, "_playing_view", None)
        if view is not None:
            view.set_playhead(tick)

    @Slot(str)
    def _on_playback_state(self, state: str) -> None:
        self._playback_state = state
        if state == "playing":
            self.show_status("Playing…")

    _playback_state = "stopped"

    # --- WAV export -------------------------------------------------------------------------------
    def export_wav(self) -> None:
        if path := self.ask_save_path("Export WAV", ".wav", "WAV audio (*.wav)"):
            self.export_wav_to(self.tabs.currentIndex(), path, overwrite=True)

    def export_wav_to(self, index: int, path: Path, *, overwrite: bool = False) -> Worker:
        """Render variation `index` and write it to `path` in the background."""
        piece = self.variations[index][0].to_piece()
        soundfont = self.playback.soundfont
        worker = Worker(lambda w: _write_wav(w, piece, soundfont, path, overwrite))
        worker.succeeded.connect(self.show_status)
        worker.failed.connect(self._on_export_failed)
        self.show_status(f"Rendering {path.name}…")
        return self.threads.start(worker)

    @Slot(str, bool)
    def _on_export_failed(self, message: str, unexpected: bool) -> None:
        self.tell(message)


def _write_wav(worker, piece, soundfont, path: Path, overwrite: bool) -> str:
    from composer.core.audio import AudioError, render, write_wav

    if path.exists() and not overwrite:
        raise UserError(f"{path} already exists; choose another name")
    try:
        audio = render(piece, soundfont, should_stop=lambda: worker.stop_requested)
        write_wav(audio.samples, audio.sample_rate, path, overwrite=overwrite)
    except (AudioError, OSError) as exc:
        raise UserError(f"Could not write {path}: {exc}") from None
    return f"Exported {path} ({audio.seconds:.1f} s)" + (f"; {audio.note}" if audio.note else "")
