"""The window's Regenerate selection (Ctrl+R) and Add a part (Ctrl+Shift+R, a new track that plays
along, in an instrument chosen by name): new music for the bars selected on the ruler,
written with the Generate panel's model and settings, then heard in place one alternative at a
time: Tab or Right shows the next, Shift+Tab or Left the previous, Enter keeps it (one undo step),
Esc restores the original. The rest of the window waits for that choice only where it must: the
piece cannot be edited, closed or exported meanwhile, and Ctrl+Z restores the original first.
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Qt

from composer.app.alternatives_bar import CHOOSING, AlternativesBar
from composer.app.editing.alternatives import bars_text, whole_bars
from composer.app.panels.part_dialog import DEFAULT_PROGRAM, DRUMS
from composer.app.regeneration import ALTERNATIVES, FillRequest, Regeneration, RegenerationState
from composer.core.errors import SettingsError


class Regenerating(QObject):
    """Given the window's `documents`, `tabs`, `generation` panel, `threads`, `actions_by_name`,
    `docks` and `player` part (to hear the alternative shown); says things through
    `window.tell` and `window.show_status`."""

    regeneration: Regeneration | None = None  # the one under way (one at a time)
    editor = None  # the PieceEditor it works in
    bar: AlternativesBar | None = None  # the bar above that editor, with the choosing actions
    part_dialog = None  # the Add a part dialog while it is open
    _last_part = (DEFAULT_PROGRAM, False)  # the instrument chosen last: offered next time

    def __init__(
        self, window, *, documents, tabs, generation, threads, actions_by_name, docks, player
    ) -> None:
        super().__init__(window)
        self.window = window
        self.documents, self.tabs, self.generation = documents, tabs, generation
        self.threads, self.actions_by_name, self.docks = threads, actions_by_name, docks
        self.player = player
        self._selection_watched = weakref.WeakSet()  # the piano rolls whose ranges we follow
        self.documents.changed.connect(self._watch_selection)  # tabs, edits, busy pieces done
        self._watch_selection()

    def _watch_selection(self) -> None:
        editor = self.documents.current_editor()
        if editor is not None and editor.view not in self._selection_watched:
            self._selection_watched.add(editor.view)
            editor.view.selection_changed.connect(self.update_regenerate_actions)
        self.update_regenerate_actions()

    def update_regenerate_actions(self, *_) -> None:
        """Regenerate selection with a range selected on a piece that can change; the choosing
        actions while alternatives are shown; Esc stops generating the rest of the time."""
        actions, running = self.actions_by_name, self.regeneration
        choosing = running is not None and running.state == RegenerationState.CHOOSING
        editor = self.documents.current_editor()
        free = running is None and editor is not None and not editor.document.busy
        actions["regenerate_selection"].setEnabled(free and editor.view.selection() is not None)
        actions["add_part"].setEnabled(free)
        for name in CHOOSING:
            actions[name].setEnabled(choosing)
        actions["stop_generating"].setEnabled(not choosing)  # Esc restores then
        if "history" in self.docks:  # a step chosen there would address rows moved meanwhile
            self.docks["history"].widget().setEnabled(running is None)

    # --- starting -----------------------------------------------------------------------------
    def regenerate_selection(self) -> None:
        editor = self._ready(needs_selection=True)
        if editor is not None:
            self._start(editor, None)

    def add_part(self) -> None:
        """Ask for the new part's instrument; its alternatives are written once chosen, for the
        bars selected on the ruler or, with none selected, the whole piece."""
        editor = self._ready(needs_selection=False)
        if editor is None:
            return
        from composer.app.panels.part_dialog import PartDialog

        piece = editor.document.model.to_piece()
        selection = editor.view.selection()
        where = "the whole piece"
        if selection is not None:
            *_, first, last = whole_bars(piece, *selection)
            where = bars_text(first, last)
        program, drums = self._last_part
        dialog = PartDialog(where, self.window, DRUMS if drums else program)
        dialog.chosen.connect(
            lambda program, drums, low, high: self._part_chosen(editor, program, drums, low, high)
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self._part_dialog_closed)
        self.part_dialog = dialog
        dialog.open()

    def _part_dialog_closed(self, *_) -> None:
        self.part_dialog = None  # deleted on close: no dangling wrapper

    def _part_chosen(self, editor, program: int, drums: bool, low: int, high: int) -> None:
        self._last_part = (program, drums)
        if self._ready(needs_selection=False) is editor:  # still the piece asked about
            self.window.activateWindow()  # Tab, Enter and Esc go to the alternatives again
            self._start(editor, (program, drums), None if drums else (low, high))

    def _ready(self, needs_selection: bool):
        """The piece to work on, or None after saying why not."""
        editor = self.documents.current_editor()
        if self.regeneration is not None:
            self.window.show_status(self.regeneration.busy_sentence())
            return None
        if editor is None or editor.document.busy:
            self.window.show_status("Open a piece, and wait for it to be generated, first.")
            return None
        if needs_selection and editor.view.selection() is None:
            self.window.show_status("First drag across the bars to regenerate, on the ruler.")
            return None
        if not needs_selection and not editor.document.model.notes.size:
            self.window.show_status("The piece has no notes yet for a part to play along with.")
            return None
        return editor

    def _start(self, editor, part: tuple[int, bool] | None, part_range=None) -> None:
        """Write the alternatives: of the bars selected (part None), or of a new part (within
        part_range, (lowest, highest) MIDI notes, when given)."""
        from composer.app.panels.generation_panel import BUNDLED, OPEN_FILE

        panel = self.generation
        choice = panel.model.currentData()
        if choice in (None, OPEN_FILE):
            self.window.tell("Choose a model in Generate first: train one, or open a model file.")
            return
        try:
            constraints = panel.steering.constraints()
        except SettingsError as exc:
            self.window.tell(str(exc))
            return
        if part is not None and part_range is not None:  # the dialog's range for the new part
            ranges = tuple(r for r in constraints.ranges if r[0] != part[0])
            constraints = replace(constraints, ranges=(*ranges, (part[0], *part_range)))
        piece = editor.document.model.to_piece()
        selection = editor.view.selection()
        if selection is None:  # a part for the whole piece
            selection = (0, max(piece.end_tick, 1))
        start, end, first, last = whole_bars(piece, *selection)
        editor.view.set_selection(start, end)  # shade exactly the bars that will change
        tracks = None if part is not None else _rewritten_tracks(editor.document.model)
        if tracks == ():
            self.window.show_status(
                "Tick the tracks to rewrite in the Tracks panel first: none is ticked."
            )
            return
        steer = panel.steering
        request = FillRequest(
            model_path=None if choice == BUNDLED else Path(choice),
            piece=piece,
            start=start,
            end=end,
            first=first,
            last=last,
            sampling=replace(panel.sampling_settings(), variations=ALTERNATIVES),
            constraints=constraints,
            detect=(steer.wants_primer_key, steer.wants_primer_density),
            part=part,
            tracks=tracks,
        )
        regeneration = Regeneration(editor.document, request, self.threads, self.window)
        bar = AlternativesBar(self.actions_by_name)
        editor.layout().insertWidget(0, bar)
        regeneration.text_changed.connect(bar.set_text)
        regeneration.state_changed.connect(self._on_regeneration_state)
        regeneration.shown.connect(self._on_alternative_shown)
        regeneration.status.connect(self.window.show_status)
        regeneration.failed.connect(self.window.tell)
        self.regeneration, self.editor = regeneration, editor
        self.bar = bar
        regeneration.start()
        self.update_regenerate_actions()
        editor.view.setFocus()

    # --- choosing -------------------------------------------------------------------------------
    def _choosing(self) -> Regeneration | None:
        """The regeneration whose alternatives are shown (its tab brought to the front)."""
        running = self.regeneration
        if running is None or running.state != RegenerationState.CHOOSING:
            return None
        self.tabs.setCurrentWidget(self.editor)
        return running

    def next_alternative(self) -> None:
        if running := self._choosing():
            running.step(1)

    def previous_alternative(self) -> None:
        if running := self._choosing():
            running.step(-1)

    def keep_alternative(self) -> None:
        if running := self._choosing():
            running.keep()

    def restore_original(self) -> None:
        if running := self._choosing():
            running.restore()

    def stop_regenerating(self) -> bool:
        """Esc while alternatives are written: stop (those finished are offered). False when
        none is being written."""
        if self.regeneration is None or self.regeneration.state != RegenerationState.WRITING:
            return False
        self.regeneration.stop()
        return True

    def end_regenerating(self) -> None:
        """Put the original back, whatever the state (the window closes)."""
        if self.regeneration is not None:
            self.regeneration.restore()

    def regeneration_takes_undo(self) -> bool:
        """Ctrl+Z while regenerating restores the original bars (and undoes nothing else)."""
        if self.regeneration is None:
            return False
        self.regeneration.restore()
        return True

    def regeneration_takes_redo(self) -> bool:
        if self.regeneration is None:
            return False
        self.window.show_status(self.regeneration.busy_sentence())
        return True

    # --- following it ---------------------------------------------------------------------------
    def _on_regeneration_state(self) -> None:
        running, bar = self.regeneration, self.bar
        if running is None:
            return
        if running.state == RegenerationState.CHOOSING:
            bar.set_choosing(True)
            self.editor.view.framing.ensure_visible(running.request.start)
        elif running.state == RegenerationState.ENDED:
            bar.hide()
            bar.deleteLater()
            running.deleteLater()  # after the sentences it still has to say
            self.regeneration = self.editor = self.bar = None
        self.update_regenerate_actions()

    def _on_alternative_shown(self, index: int) -> None:
        """Playing this piece, the music starts again with the alternative now shown."""
        editor = self.editor
        if editor is None or not self.player.playback.playing:
            return
        if (
            self.player.live_playing_view() is editor.view
            and self.documents.current_editor() is editor
        ):
            self.player.playback.stop()
            self.player.play_pause()


def _rewritten_tracks(model) -> tuple[int, ...] | None:
    """The tracks Regenerate selection rewrites: those ticked in the Tracks panel (the others
    stay and are heard); None when every track is."""
    tracks = tuple(i for i, t in enumerate(model.tracks) if t.rewrite)
    return None if len(tracks) == len(model.tracks) else tracks
