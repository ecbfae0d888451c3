"""The window's Regenerate selection (Ctrl+R): new music for the bars selected on the ruler,
written with the Generate panel's model and settings, then heard in place one alternative at a
time: Tab or Right shows the next, Shift+Tab or Left the previous, Enter keeps it (one undo step),
Esc restores the original. The rest of the window waits for that choice only where it must: the
piece cannot be edited, closed or exported meanwhile, and Ctrl+Z restores the original first.

Mixed into MainWindow (needs `documents`, `generation`, `threads`, `actions_by_name`, `docks`,
`playback`, `play_pause`, `show_status`, `tell`). Plain methods, no Qt slot decorators: decorated
slots in a mixin crashed PySide6 here (see edit_actions.py).
"""

from __future__ import annotations

import weakref
from dataclasses import replace
from pathlib import Path

from composer.app.alternatives_bar import CHOOSING, AlternativesBar
from composer.app.editing.alternatives import whole_bars
from composer.app.regeneration import ALTERNATIVES, FillRequest, Regeneration


class RegenerateActions:
    regeneration: Regeneration | None = None  # the one under way (one at a time)
    _regeneration_editor = None  # the PieceEditor it works in
    _regeneration_bar: AlternativesBar | None = None

    def set_up_regenerating(self) -> None:
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
        choosing = running is not None and running.state == "choosing"
        editor = self.documents.current_editor()
        actions["regenerate_selection"].setEnabled(
            running is None
            and editor is not None
            and not editor.document.busy
            and editor.view.selection() is not None
        )
        for name in CHOOSING:
            actions[name].setEnabled(choosing)
        actions["stop_generating"].setEnabled(not choosing)  # Esc restores then
        if "history" in self.docks:  # a step chosen there would address rows moved meanwhile
            self.docks["history"].widget().setEnabled(running is None)

    # --- starting -----------------------------------------------------------------------------
    def regenerate_selection(self) -> None:
        from composer.app.generation_panel import BUNDLED, OPEN_FILE

        editor = self.documents.current_editor()
        if self.regeneration is not None:
            self.show_status(self.regeneration.busy_sentence())
            return
        if editor is None or editor.document.busy:
            self.show_status("Open a piece, and wait for it to be generated, first.")
            return
        if editor.view.selection() is None:
            self.show_status("First drag across the bars to regenerate, on the ruler.")
            return
        panel = self.generation
        choice = panel.model.currentData()
        if choice in (None, OPEN_FILE):
            self.tell("Choose a model in Generate first: train one, or open a model file.")
            return
        try:
            constraints = panel.steering.constraints()
        except ValueError as exc:
            self.tell(str(exc))
            return
        piece = editor.document.model.to_piece()
        start, end, first, last = whole_bars(piece, *editor.view.selection())
        editor.view.set_selection(start, end)  # shade exactly the bars that will change
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
        )
        regeneration = Regeneration(editor.document, request, self.threads, self)
        bar = AlternativesBar(self.actions_by_name)
        editor.layout().insertWidget(0, bar)
        regeneration.text_changed.connect(bar.set_text)
        regeneration.state_changed.connect(self._on_regeneration_state)
        regeneration.shown.connect(self._on_alternative_shown)
        regeneration.status.connect(self.show_status)
        regeneration.failed.connect(self.tell)
        self.regeneration, self._regeneration_editor = regeneration, editor
        self._regeneration_bar = bar
        regeneration.start()
        self.update_regenerate_actions()
        editor.view.setFocus()

    # --- choosing -------------------------------------------------------------------------------
    def _choosing(self) -> Regeneration | None:
        """The regeneration whose alternatives are shown (its tab brought to the front)."""
        running = self.regeneration
        if running is None or running.state != "choosing":
            return None
        self.tabs.setCurrentWidget(self._regeneration_editor)
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
        if self.regeneration is None or self.regeneration.state != "writing":
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
        self.show_status(self.regeneration.busy_sentence())
        return True

    # --- following it ---------------------------------------------------------------------------
    def _on_regeneration_state(self) -> None:
        running, bar = self.regeneration, self._regeneration_bar
        if running is None:
            return
        if running.state == "choosing":
            bar.set_choosing(True)
            self._regeneration_editor.view.ensure_visible(running.request.start)
        elif running.state == "ended":
            bar.hide()
            bar.deleteLater()
            running.deleteLater()  # after the sentences it still has to say
            self.regeneration = self._regeneration_editor = self._regeneration_bar = None
        self.update_regenerate_actions()

    def _on_alternative_shown(self, index: int) -> None:
        """Playing this piece, the music starts again with the alternative now shown."""
        editor = self._regeneration_editor
        if editor is None or not self.playback.playing:
            return
        if self._live_playing_view() is editor.view and self.documents.current_editor() is editor:
            self.playback.stop()
            self.play_pause()
