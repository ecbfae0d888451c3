"""The window's playback wiring: play/pause, stop, loop, the transport bar following the piano
roll shown, the MIDI output menu and the soundfont. (WAV export is in export.py.)
"""

from __future__ import annotations

import weakref
from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QFileDialog
from shiboken6 import isValid

from composer.app import settings
from composer.app.playback.player import Playback, PlaybackState
from composer.app.playback.transport import TransportBar


class Player(QObject):
    """Makes the window's `playback` and `transport` bar (a toolbar of the window). Given its
    `threads`, `tabs`, Playback `menu`, `actions_by_name` and `pieces` part (the piece shown);
    says things through `window.tell` and `window.show_status`."""

    state = PlaybackState.STOPPED  # as Playback last said
    _playing_view = None  # the piano roll whose music is playing (or was, last)

    def __init__(self, window, *, pieces, actions_by_name, threads, tabs, menu) -> None:
        """menu: the Playback menu, which gets the MIDI output submenu."""
        super().__init__(window)
        self.window = window
        self.pieces, self.actions_by_name = pieces, actions_by_name
        self.playback = Playback(threads, window)
        self.playback.playhead.connect(self._on_playhead)
        self.playback.message.connect(window.show_status)
        self.playback.state.connect(self._on_playback_state)
        self.transport = TransportBar(self.actions_by_name, window)
        window.addToolBar(self.transport)
        self.playback.playhead.connect(self.transport.set_position)
        # The tab bar, not the tab widget: the window blocks the widget's signals while it
        # replaces the tabs, and a new tab's notes arrive after it is shown.
        self._watched = weakref.WeakSet()  # the piano rolls whose changes the transport shows
        tabs.tabBar().currentChanged.connect(self._on_tab_shown)
        self.midi_menu = self._build_midi_menu(menu)
        self.playback.soundfont = settings.read_file(settings.SOUNDFONT)
        if not self.playback.available:
            window.show_status(self.playback.reason)

    def _build_midi_menu(self, playback_menu):
        from composer.core.audio.midi_out import output_ports

        menu = playback_menu.addMenu("MIDI &output")
        group = QActionGroup(self.window)
        internal = QAction("Internal synthesiser", self.window, checkable=True, checked=True)
        internal.triggered.connect(self.use_internal_synth)
        group.addAction(internal)
        menu.addAction(internal)
        names, reason = output_ports()
        for name in names:
            action = QAction(name, self.window, checkable=True)
            action.triggered.connect(lambda checked=False, n=name: self.use_midi_port(n))
            group.addAction(action)
            menu.addAction(action)
        if reason:
            note = menu.addAction(reason)
            note.setEnabled(False)
        return menu

    # --- sounds -------------------------------------------------------------------------------
    def choose_soundfont(self) -> None:
        from composer.core.audio import default_soundfont

        current = str(self.playback.soundfont or default_soundfont())
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Choose a soundfont", current, "SoundFont (*.sf2)"
        )
        if path:
            self.set_soundfont(Path(path))

    def set_soundfont(self, path: Path | None) -> None:
        """Use `path` (a .sf2 file) for playback and WAV export; None for the default."""
        self.playback.soundfont = path
        self.playback.forget_audio()
        settings.write(settings.SOUNDFONT, str(path) if path else "")
        self.window.show_status(f"Soundfont: {path.name if path else 'TimGM6mb (the default)'}")

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
            self.window.tell(f"Could not open the MIDI port {name} ({exc}); choose another output.")
            return
        self.window.show_status(f"Playing through {name}.")

    # --- playing --------------------------------------------------------------------------------
    def play_pause(self) -> None:
        if self.playback.playing or self.state == PlaybackState.PAUSED:
            self.playback.pause()
            return
        found = self.pieces.current()
        if found is None or len(found[0]) == 0:
            self.window.tell("There is nothing to play yet; generate or open some music first.")
            return
        model, view = found
        piece = model.to_piece(audible_only=True)  # mute and solo are heard
        selection = view.selection()
        start = selection[0] if selection else (view.playhead() or 0)
        if not selection and start >= piece.end_tick:
            start = 0  # the playhead is at the end: play from the top again
        end = selection[1] if selection else None
        loop = bool(selection) and self.actions_by_name["loop_selection"].isChecked()
        self._playing_view = view
        self.transport.set_timing(piece.ticks_per_beat, piece.tempos, piece.time_signatures)
        self.playback.play(piece, start, end, loop)

    def _loop_without_selection(self) -> bool:
        view = self.live_playing_view()
        looping = self.actions_by_name["loop_selection"].isChecked()
        return looping and view is not None and view.selection() is None

    def stop_playback(self) -> None:
        self.playback.stop()

    def live_playing_view(self):
        """The playing piano roll, or None once its tab has been closed or replaced."""
        view = self._playing_view
        return view if view is not None and isValid(view) else None

    @Slot(int)
    def _on_playhead(self, tick: int) -> None:
        if view := self.live_playing_view():
            view.set_playhead(tick)

    @Slot(str)
    def _on_playback_state(self, value: str) -> None:
        before, self.state = self.state, (state := PlaybackState(value))
        self.transport.set_playing(state == PlaybackState.PLAYING)
        view = self.live_playing_view()
        if view is not None and state != PlaybackState.PAUSED:
            view.set_follow(state == PlaybackState.PLAYING)  # the playhead in sight while playing
        if state == PlaybackState.PLAYING and self._loop_without_selection():
            self.window.show_status(
                "Playing to the end: Loop repeats the bars selected on the ruler, and none is."
            )
        elif state == PlaybackState.PLAYING:
            self.window.show_status("Playing…")
        elif state == PlaybackState.PAUSED:
            self.window.show_status("Paused.")
        elif before != PlaybackState.STOPPED:
            self.window.show_status("Stopped.")  # at the end, Playback then says so

    # --- the transport bar follows the piano roll shown ---------------------------------------
    @Slot(int)
    def _on_tab_shown(self, index: int) -> None:
        found = self.pieces.current()
        if found is None:
            return
        model, view = found
        if view not in self._watched:
            self._watched.add(view)
            model.changed.connect(self._show_timing)
            view.selection_changed.connect(self._on_selection)
            view.playhead_moved.connect(self._on_playhead_moved)  # a click on the ruler
            model.tracks_changed.connect(self._on_tracks_changed)
        self._show_timing()

    @Slot()
    def _on_tracks_changed(self) -> None:
        """A track muted, soloed or changed while its piece plays: heard at once, from where
        the playhead is (the rendered audio is of the tracks heard when it started)."""
        view, found = self.live_playing_view(), self.pieces.current()
        if self.playback.playing and found is not None and found[1] is view:
            self.playback.stop()
            self.play_pause()

    @Slot()
    def _show_timing(self) -> None:
        """Give the transport the tempo map and metre of the piece shown."""
        if self.playback.playing or (found := self.pieces.current()) is None:
            return  # while playing, the transport keeps the timing of what is heard
        model, view = found
        self.transport.set_timing(model.ticks_per_beat, model.tempos, model.time_signatures)
        self.transport.set_position(view.playhead() or 0)

    @Slot(int, int)
    def _on_selection(self, start: int, end: int) -> None:
        """Not playing, the transport shows where the selection starts (or the playhead)."""
        found = self.pieces.current()
        if found is None or self.playback.playing:
            return
        self.transport.set_position(start if end > start else (found[1].playhead() or 0))

    @Slot(int)
    def _on_playhead_moved(self, tick: int) -> None:
        """The user put the playhead somewhere: the transport says where (unless playing)."""
        if not self.playback.playing:
            self.transport.set_position(tick)
