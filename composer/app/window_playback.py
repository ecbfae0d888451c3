"""The window's playback controls: play/pause, stop, loop, the transport bar, MIDI output, WAV
export."""

from __future__ import annotations

import weakref
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QFileDialog
from shiboken6 import isValid

from composer.app import settings
from composer.app.playback import Playback
from composer.app.transport import TransportBar
from composer.app.workers import UserError, Worker


class PlaybackControls:
    """Mixed into MainWindow: needs current(), tell(), show_status(), threads, menus, tabs and
    actions_by_name."""

    _playback_state = "stopped"
    _playing_view = None  # the piano roll whose music is playing (or was, last)

    def set_up_playback(self) -> None:
        self.playback = Playback(self.threads, self)
        self.playback.playhead.connect(self._on_playhead)
        self.playback.message.connect(self.show_status)
        self.playback.state.connect(self._on_playback_state)
        self.transport = TransportBar(self.actions_by_name, self)
        self.addToolBar(self.transport)
        self.playback.playhead.connect(self.transport.set_position)
        # The tab bar, not the tab widget: the window blocks the widget's signals while it
        # replaces the tabs, and a new tab's notes arrive after it is shown.
        self._watched = weakref.WeakSet()  # the piano rolls whose changes the transport shows
        self.tabs.tabBar().currentChanged.connect(self._on_tab_shown)
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
        piece = model.to_piece()
        selection = view.selection()
        start = selection[0] if selection else (view.playhead() or 0)
        if not selection and start >= piece.end_tick:
            start = 0  # the playhead is at the end: play from the top again
        end = selection[1] if selection else None
        loop = bool(selection) and self.actions_by_name["loop_selection"].isChecked()
        self._playing_view = view
        self.transport.set_timing(piece.ticks_per_beat, piece.tempos, piece.time_signatures)
        self.playback.play(piece, start, end, loop)

    def stop_playback(self) -> None:
        self.playback.stop()

    def _live_playing_view(self):
        """The playing piano roll, or None once its tab has been closed or replaced."""
        view = self._playing_view
        return view if view is not None and isValid(view) else None

    @Slot(int)
    def _on_playhead(self, tick: int) -> None:
        if view := self._live_playing_view():
            view.set_playhead(tick)

    @Slot(str)
    def _on_playback_state(self, state: str) -> None:
        before, self._playback_state = self._playback_state, state
        self.transport.set_playing(state == "playing")
        view = self._live_playing_view()
        if view is not None and state in ("playing", "stopped"):
            view.set_follow(state == "playing")  # keep the playhead in sight while playing
        if state == "playing":
            self.show_status("Playing…")
        elif state == "paused":
            self.show_status("Paused.")
        elif before != "stopped":
            self.show_status("Stopped.")  # at the end, Playback then says so

    # --- the transport bar follows the piano roll shown ---------------------------------------
    @Slot(int)
    def _on_tab_shown(self, index: int) -> None:
        found = self.current()
        if found is None:
            return
        model, view = found
        if view not in self._watched:
            self._watched.add(view)
            model.changed.connect(self._show_timing)
            view.selection_changed.connect(self._on_selection)
            view.playhead_moved.connect(self._on_playhead_moved)  # a click on the ruler
        self._show_timing()

    @Slot()
    def _show_timing(self) -> None:
        """Give the transport the tempo map and metre of the piece shown."""
        if self.playback.playing or (found := self.current()) is None:
            return  # while playing, the transport keeps the timing of what is heard
        model, view = found
        self.transport.set_timing(model.ticks_per_beat, model.tempos, model.time_signatures)
        self.transport.set_position(view.playhead() or 0)

    @Slot(int, int)
    def _on_selection(self, start: int, end: int) -> None:
        """Not playing, the transport shows where the selection starts (or the playhead)."""
        found = self.current()
        if found is None or self.playback.playing:
            return
        self.transport.set_position(start if end > start else (found[1].playhead() or 0))

    @Slot(int)
    def _on_playhead_moved(self, tick: int) -> None:
        """The user put the playhead somewhere: the transport says where (unless playing)."""
        if not self.playback.playing:
            self.transport.set_position(tick)

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
