"""The main window: library, training, tracks and generation panels around the piano roll.

The window builds the layout (docks: docks.py; tabs, menus, toolbars, status bar) and composes
the parts that do the work (beside it in app/window/), each holding the collaborators it needs:

    pieces        pieces.py       the open pieces: the one shown, opening files, zoom
    learning      learning.py     library → training → Generate's models; evaluation
    player        playback.py     play/pause, stop, the transport bar, MIDI output, soundfont
    exporting     export.py       Save, Save as, Save all; MIDI and WAV export
    generating    generation.py   Generate: new tabs, the notes streaming into them
    regenerating  regenerate.py   Regenerate selection and choosing among alternatives
    editing       edit_actions.py       the Edit menu: undo/redo, note edits, edit toolbar, History

Each menu item calls the method of its name on the part that has it (actions.py); the thin
methods below keep the window's own API for scripts and tests.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
)

from composer.app import settings
from composer.app.actions import TextFieldShortcuts, connect_actions, make_actions
from composer.app.document import SaveAnswer
from composer.app.documents import Documents
from composer.app.drag import MidiDragButton
from composer.app.edit_actions import EditActions
from composer.app.panels.generation_panel import GenerationPanel
from composer.app.panels.library_panel import LibraryPanel
from composer.app.panels.tracks_panel import TracksPanel
from composer.app.panels.training_panel import TrainingPanel
from composer.app.session import SessionKeeper
from composer.app.window.docks import add_dock, list_panels_in_view_menu, panel_states
from composer.app.window.export import Exporting
from composer.app.window.generation import Generating
from composer.app.window.learning import Learning
from composer.app.window.pieces import Pieces, is_openable
from composer.app.window.playback import Player
from composer.app.window.regenerate import Regenerating
from composer.app.workers import WorkerThreads


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("composer-main-window")
        self.threads = WorkerThreads(self)
        self.library = LibraryPanel(self.threads)
        self.training = TrainingPanel(self.threads)
        self.generation = GenerationPanel(self.threads)
        self.docks = {}
        for name, title, panel, area in (
            ("library", "Library", self.library, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("generation", "Generate", self.generation, Qt.DockWidgetArea.RightDockWidgetArea),
            ("training", "Train", self.training, Qt.DockWidgetArea.LeftDockWidgetArea),
        ):
            self.docks[name] = add_dock(self, name, title, panel, area)

        self.item_name = ""  # what is open: a folder or a file, for the title
        self.documents = Documents(self)
        self.documents.current_changed.connect(self._update_title)
        self.documents.message.connect(self.show_status)
        self.tabs = self.documents.tabs
        self.setCentralWidget(self.tabs)
        # The tracks of the piece in front, beside the roll: a tab beside Train, brought to the
        # front when a piece is first shown (Train is one click away).
        self.tracks = TracksPanel()
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        self.docks["tracks"] = add_dock(self, "tracks", "Tracks", self.tracks, left)
        self.tabifyDockWidget(self.docks["training"], self.docks["tracks"])
        self.docks["training"].raise_()
        self.documents.current_changed.connect(self._show_tracks)
        self.tracks.busy_refused.connect(
            lambda: self.show_status(
                "Wait for the piece to be written, or stop it, to edit its tracks."
            )
        )

        self.actions_by_name = make_actions(self)
        self.editing = EditActions(self)
        self.grid_box, self.snap_box = self.editing.grid_box, self.editing.snap_box
        self.strength_box, self.edit_toolbar = self.editing.strength_box, self.editing.edit_toolbar
        list_panels_in_view_menu(self)
        self.drag_button = MidiDragButton(self)
        self.toolbar.addWidget(self.drag_button)
        self.state_label = QLabel("Ready")
        self.statusBar().addPermanentWidget(self.state_label, 1)
        for panel in (self.library, self.training, self.generation):
            panel.status.connect(self.show_status)

        # The window's parts, each given what it works with (no part reads another off the
        # window), so a part that needs one not yet made cannot be written.
        documents, threads, docks, tabs = self.documents, self.threads, self.docks, self.tabs
        self.pieces = Pieces(self, documents=documents, library=self.library)
        self.generation.selection_primer = self.pieces.selected_piece
        self.learning = Learning(
            self,
            library=self.library,
            training=self.training,
            generation=self.generation,
            docks=docks,
            threads=threads,
        )
        self.player = Player(
            self,
            pieces=self.pieces,
            actions_by_name=self.actions_by_name,
            threads=threads,
            tabs=tabs,
            menu=self.menus["Playback"],
        )
        self.playback, self.transport = self.player.playback, self.player.transport
        self.midi_menu = self.player.midi_menu
        self.exporting = Exporting(
            self,
            documents=documents,
            tabs=tabs,
            threads=threads,
            pieces=self.pieces,
            playback=self.playback,
            library=self.library,
        )
        self.documents.ask_save = self.exporting.ask_save
        self.regenerating = Regenerating(
            self,
            documents=documents,
            tabs=tabs,
            generation=self.generation,
            threads=threads,
            actions_by_name=self.actions_by_name,
            docks=docks,
            player=self.player,
        )
        self.generating = Generating(
            self,
            generation=self.generation,
            documents=documents,
            docks=docks,
            regenerating=self.regenerating,
        )
        parts = (self.pieces, self.learning, self.generating, self.player, self.exporting)
        connect_actions(self.actions_by_name, (*parts, self.regenerating, self.editing, self))

        self._text_field_keys = TextFieldShortcuts(self, ("export_current",))
        self.setAcceptDrops(True)
        self.resize(1400, 860)
        docks = [self.docks["library"], self.docks["generation"]]
        self.resizeDocks(docks, [380, 380], Qt.Orientation.Horizontal)  # first start; then as left
        self.restoreGeometry(settings.read(settings.GEOMETRY))
        self.restoreState(settings.read(settings.WINDOW_STATE))
        self.session = SessionKeeper(self.documents, self)
        self.session.message.connect(self.show_status)
        self.session.restore()
        self.panel_states = panel_states(self)
        for state in self.panel_states:
            state.restore()
        self.library.reopen_last_folder()  # the collection of last time, ready to train on
        unusable = settings.take_fallbacks()
        if unusable:  # said after what the session said
            said = self.state_label.text()
            self.show_status(" ".join(([said] if said != "Ready" else []) + unusable))
        self.start_notice: QMessageBox | None = None
        if problems := self.session.warnings() + unusable:
            self.start_notice = self._tell_start_problems(problems)
        self._update_title()

    def reset_panels(self) -> None:
        """View → Reset panels to defaults."""
        for state in self.panel_states:
            state.reset()
        self.show_status("The panels are as on a first start again.")

    def _show_tracks(self) -> None:
        document = self.documents.current()
        if document is not None and self.tracks.document is None:
            self.docks["tracks"].raise_()  # a piece is open now: its tracks to the front
        self.tracks.set_document(document)

    # --- status, title and questions (tests replace ask, tell and choose_save) ------------------
    @Slot(str)
    def show_status(self, text: str) -> None:
        self.state_label.setText(text)
        self.state_label.setToolTip(text)  # the status bar cuts a long line: the whole of it

    def _tell_start_problems(self, sentences: list[str]) -> QMessageBox:
        """What could not be used at start (pieces set aside, settings replaced), each sentence
        whole, where the status bar would cut them off; not modal: the window works at once."""
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Composer",
            "Some of what Composer read back at start could not be used. Nothing was deleted.",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setInformativeText("\n\n".join(sentences))
        box.setModal(False)
        box.show()
        return box

    def ask(self, question: str) -> bool:
        """A yes/no question."""
        answer = QMessageBox.question(self, "Composer", question)
        return answer == QMessageBox.StandardButton.Yes

    def tell(self, text: str) -> None:
        """One sentence the user needs to read."""
        self.show_status(text)
        QMessageBox.information(self, "Composer", text)

    def choose_save(self, title: str) -> str:
        """Ask the user about a piece not saved: a SaveAnswer."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self,
            "Composer",
            f"{title} has changes that were not saved. Save it as a MIDI file?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        said = {buttons.Save: SaveAnswer.SAVE, buttons.Discard: SaveAnswer.DISCARD}
        return said.get(answer, SaveAnswer.CANCEL)

    def choose_save_all(self, titles: list[str]) -> str:
        """Ask once about several pieces not saved (quitting): SAVE (all), DISCARD (all) or
        CANCEL."""
        box = QMessageBox(self)
        box.setWindowTitle("Composer")
        box.setIcon(QMessageBox.Icon.Question)
        listed = "".join(f"\n• {title}" for title in titles[:12])
        more = f"\n…and {len(titles) - 12} more" if len(titles) > 12 else ""
        box.setText(f"{len(titles)} pieces have changes that were not saved:{listed}{more}")
        save = box.addButton("Save all…", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard all", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(save)
        box.exec()
        clicked = box.clickedButton()
        if clicked is save:
            return SaveAnswer.SAVE
        return SaveAnswer.DISCARD if clicked is discard else SaveAnswer.CANCEL

    def ask_save(self, document) -> str:
        return self.exporting.ask_save(document)

    def set_item_name(self, name: str) -> None:
        """What is open (a folder or a file), for the title."""
        self.item_name = name
        self._update_title()

    def _update_title(self, *_) -> None:
        document = self.documents.current()
        parts = [p for p in (self.item_name, document.title if document else "") if p]
        self.setWindowTitle(" — ".join(["Composer", *dict.fromkeys(parts)]))

    # --- dropping files, and the window's own menu items ----------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if any(is_openable(Path(url.toLocalFile())) for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        self.pieces.open_paths([Path(url.toLocalFile()) for url in event.mimeData().urls()])
        event.acceptProposedAction()

    def about(self) -> None:
        from composer.app.about_dialog import AboutDialog

        AboutDialog(self).exec()

    def quit(self) -> None:
        self.close()

    _keep_session_on_quit = False

    def close_keeping_session(self) -> None:
        """Close without asking about pieces not exported: they stay in the autosaved session
        and open again next time (the start-up probe and the smoke test)."""
        self._keep_session_on_quit = True
        self.close()

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.training.is_running and not self.ask(
            "Training is running. Stop it, keep its checkpoint, and quit?"
        ):
            event.ignore()
            return
        self.regenerating.end_regenerating()  # the original bars back before anything is saved
        discarded = []
        modified = [] if self._keep_session_on_quit else self.documents.modified()
        if len(modified) > 1:  # one question for them all
            answer, discarded = self.exporting.ask_save_many(modified)
            if answer == SaveAnswer.CANCEL:
                event.ignore()
                return
        elif modified:
            answer = self.exporting.ask_save(modified[0])
            if answer == SaveAnswer.CANCEL:
                event.ignore()
                return
            if answer == SaveAnswer.DISCARD:
                discarded.append(modified[0])
        if self.training.is_running:
            self.show_status("Stopping training and saving a checkpoint…")
            self.training.stop()
        self.session.finish(discarded)
        self.generation.stop()
        self.library.cancel()
        self.playback.stop()
        self.threads.stop_all()
        settings.write(settings.GEOMETRY, self.saveGeometry())
        settings.write(settings.WINDOW_STATE, self.saveState())
        for state in self.panel_states:
            state.save()
        event.accept()
