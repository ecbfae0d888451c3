"""The main window: library, training and generation panels around the piano roll."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
)

from composer.app import settings
from composer.app.actions import make_actions
from composer.app.documents import Documents
from composer.app.drag import MidiDragButton
from composer.app.edit_actions import EditActions
from composer.app.generation_panel import GenerationPanel
from composer.app.library_panel import LibraryPanel
from composer.app.session import SessionKeeper
from composer.app.training_panel import TrainingPanel
from composer.app.window_export import ExportActions
from composer.app.window_playback import PlaybackControls
from composer.app.window_regenerate import RegenerateActions
from composer.app.workers import Worker, WorkerThreads

MIDI_SUFFIXES = (".mid", ".midi", ".kar", ".rmi")


class MainWindow(EditActions, ExportActions, PlaybackControls, RegenerateActions, QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("composer-main-window")
        self.threads = WorkerThreads(self)
        self.library = LibraryPanel(self.threads)
        self.training = TrainingPanel(self.threads)
        self.generation = GenerationPanel(self.threads)
        self.generation.selection_primer = self.selected_piece
        self.docks = {}
        for name, title, panel, area in (
            ("library", "Library", self.library, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("generation", "Generate", self.generation, Qt.DockWidgetArea.RightDockWidgetArea),
            ("training", "Train", self.training, Qt.DockWidgetArea.LeftDockWidgetArea),
        ):
            scroll = QScrollArea()
            scroll.setWidget(panel)
            scroll.setWidgetResizable(True)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            scroll.setMinimumWidth(panel.minimumSizeHint().width() + 24)  # never clip a field
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{name}-dock")
            dock.setWidget(scroll)
            self.addDockWidget(area, dock)
            self.docks[name] = dock

        self.item_name = ""  # what is open: a folder or a file, for the title
        self.documents = Documents(self)
        self.documents.ask_save = self.ask_save
        self.documents.current_changed.connect(self._update_title)
        self.documents.message.connect(self.show_status)
        self.tabs = self.documents.tabs
        self.setCentralWidget(self.tabs)

        self.actions_by_name = make_actions(self)
        self.set_up_editing()
        self.drag_button = MidiDragButton(self)
        self.toolbar.addWidget(self.drag_button)
        self.state_label = QLabel("Ready")
        self.statusBar().addPermanentWidget(self.state_label, 1)

        for panel in (self.library, self.training, self.generation):
            panel.status.connect(self.show_status)
        self.library.collection_ready.connect(self._on_collection)
        self.training.run_finished.connect(self._on_run_finished)
        self.generation.started.connect(self._on_generation_started)
        self.generation.streamed.connect(self._on_streamed)
        self.generation.finished.connect(self._on_generated)
        self.generation.failed.connect(self._on_generation_failed)

        self.set_up_playback()
        self.set_up_regenerating()
        self.setAcceptDrops(True)
        self.resize(1400, 860)
        docks = [self.docks["library"], self.docks["generation"]]
        self.resizeDocks(docks, [380, 380], Qt.Orientation.Horizontal)  # first start; then as left
        self.restoreGeometry(settings.read(settings.GEOMETRY))
        self.restoreState(settings.read(settings.WINDOW_STATE))
        self.session = SessionKeeper(self.documents, self)
        self.session.message.connect(self.show_status)
        self.session.restore()
        self._update_title()

    # --- status and questions -------------------------------------------------------------------
    @Slot(str)
    def show_status(self, text: str) -> None:
        self.state_label.setText(text)

    def ask(self, question: str) -> bool:
        """A yes/no question (tests replace this method)."""
        answer = QMessageBox.question(self, "Composer", question)
        return answer == QMessageBox.StandardButton.Yes

    def tell(self, text: str) -> None:
        """One sentence the user needs to read (tests replace this method)."""
        self.show_status(text)
        QMessageBox.information(self, "Composer", text)

    def _update_title(self, *_) -> None:
        document = self.documents.current()
        parts = [p for p in (self.item_name, document.title if document else "") if p]
        self.setWindowTitle(" — ".join(["Composer", *dict.fromkeys(parts)]))

    # --- library and training -------------------------------------------------------------------
    def open_folder(self) -> None:
        self.docks["library"].raise_()
        self.library.choose_folder()

    @Slot(object, object)
    def _on_collection(self, collection, report) -> None:
        self.training.set_collection(collection)
        self.item_name = Path(report.folder).name
        self._update_title()

    def start_training(self) -> None:
        self.docks["training"].raise_()
        self.training.start()

    def evaluate_model(self) -> None:
        """Evaluate the model chosen in Generate (a run: on its validation files; otherwise on the
        library's folder) in the background, then show the report."""
        from composer.app.evaluation_dialog import evaluate_job
        from composer.app.generation_panel import BUNDLED, OPEN_FILE

        choice = self.generation.model.currentData()
        if choice in (None, OPEN_FILE):
            self.tell("Choose a model in Generate first: train one, or open a model file.")
            return
        model = None if choice == BUNDLED else Path(choice)
        is_run = model is not None and (model / "run.json").exists()
        folder = None if is_run else self.library.folder
        if not is_run and folder is None:
            self.tell("Open a folder of MIDI files first: the model is evaluated on it.")
            return
        worker = Worker(lambda w: evaluate_job(w, model, folder), urgent=lambda item: True)
        worker.progress.connect(self.show_status)
        worker.succeeded.connect(self._show_evaluation)
        worker.failed.connect(self._on_evaluation_failed)
        self.show_status("Evaluating the model…")
        self.threads.start(worker)

    @Slot(object)
    def _show_evaluation(self, outcome) -> None:
        from composer.app.evaluation_dialog import EvaluationDialog

        result, text = outcome
        self.evaluation = EvaluationDialog(result, text, self)
        self.evaluation.show()
        self.show_status(
            "Evaluation done." + (" " + result["warnings"][0] if result["warnings"] else "")
        )

    @Slot(str, bool)
    def _on_evaluation_failed(self, message: str, unexpected: bool) -> None:
        self.tell(message)

    @Slot(str)
    def _on_run_finished(self, run_dir: str) -> None:
        self.generation.refresh_models(select=run_dir)

    # --- the pieces -----------------------------------------------------------------------------
    @property
    def variations(self) -> list[tuple]:
        """(NoteModel, PianoRollView) of every open piece, in tab order."""
        return [(d.model, self.documents.editor(d).view) for d in self.documents.documents]

    def current(self) -> tuple | None:
        """(NoteModel, PianoRollView) of the piece shown, or None."""
        editor = self.documents.current_editor()
        return (editor.document.model, editor.view) if editor else None

    def show_pieces(self, pieces, titles: list[str], text: str = "Open") -> list:
        """Open each piece as a new tab beside those already open (one undo step)."""
        documents = [
            self.documents.new_document(self.documents.titled(title), piece)
            for piece, title in zip(pieces, titles)
        ]
        self.documents.open(documents, text)
        for document in documents:
            self.documents.editor(document).view.zoom_to_fit()
        return documents

    def open_midi(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a MIDI file",
            settings.read(settings.LAST_FOLDER),
            "MIDI files (*.mid *.midi *.kar *.rmi)",
        )
        if path:
            self.open_midi_file(Path(path))

    def open_midi_file(self, path: Path) -> bool:
        from composer.core.midi import read_midi
        from composer.core.midi.reader import MidiReadError

        try:
            piece = read_midi(path)
        except MidiReadError as exc:
            self.tell(str(exc))
            return False
        (document,) = self.show_pieces([piece], [path.name], f"Open {path.name}")
        document.source = Path(path).resolve()
        self.item_name = path.name
        self._update_title()
        self.show_status(
            f"Opened {path.name}: {piece.note_count:,} notes, {piece.duration_seconds:.1f} s"
        )
        return True

    def selected_piece(self):
        """The notes in the piano roll's selected time range, moved to start at 0, with the
        tempo and time signatures in force there (or None)."""
        from composer.core.midi.excerpt import excerpt

        found = self.current()
        if found is None or found[1].selection() is None:
            return None
        model, view = found
        return excerpt(model.to_piece(), *view.selection())

    def zoom_in(self) -> None:
        if found := self.current():
            found[1].zoom_in()

    def zoom_out(self) -> None:
        if found := self.current():
            found[1].zoom_out()

    def zoom_to_fit(self) -> None:
        if found := self.current():
            found[1].zoom_to_fit()

    # --- generation -----------------------------------------------------------------------------
    def generate(self) -> None:
        self.docks["generation"].raise_()
        self.generation.generate()

    def stop_generating(self) -> None:
        if not self.stop_regenerating():  # Esc stops new bars being written first
            self.generation.stop()

    @Slot(int, object)
    def _on_generation_started(self, count: int, primer) -> None:
        """New tabs beside the open ones; the notes stream into them."""
        self._generating = [
            self.documents.new_document(self.documents.titled(f"Variation {i + 1}"), modified=True)
            for i in range(count)
        ]
        for document in self._generating:
            document.busy = True
            if primer is not None:
                document.model.set_piece(primer)
        self.documents.add_documents(self._generating)
        for document in self._generating:
            self.documents.editor(document).view.set_follow(True)

    _generating: list = []

    @Slot(object)
    def _on_streamed(self, update) -> None:
        for document, notes in zip(self._generating, update.notes):
            if notes:
                document.model.append(notes)

    @Slot(object, str)
    def _on_generated(self, pieces, description: str) -> None:
        documents, self._generating = self._generating, []
        for document, piece in zip(documents, pieces):
            document.model.set_piece(piece)  # the exact result: notes still sounding are closed
            document.metadata = self.generation_metadata(description)
            document.busy = False
            view = self.documents.editor(document).view
            view.set_follow(False)
            view.fit_pitch_range()  # streaming kept the first notes' pitches in view, not all
        if documents:
            count = len(documents)
            text = f"Generate {count} variation{'s' if count > 1 else ''}"
            self.documents.open(documents, text, already_shown=True)

    def generation_metadata(self, description: str) -> dict:
        """How the pieces just generated were made, kept with each (and in the session)."""
        panel = self.generation
        return {
            "made": description,
            "model": panel.model.currentText(),
            "temperature": panel.temperature.value() / 100,
            "top_k": panel.top_k.value(),
            "top_p": panel.top_p.value(),
            "seconds": panel.seconds.value(),
            "seed": panel.seed.value(),
            "primer": panel.primer.currentText(),
            "steering": panel.steering.describe(),
        }

    @Slot(str)
    def _on_generation_failed(self, message: str) -> None:
        """Keep whatever streamed in before the failure, as pieces of their own."""
        documents, self._generating = self._generating, []
        for document in documents:
            document.busy = False
            self.documents.editor(document).view.set_follow(False)
        if documents:
            self.documents.open(documents, "Generate (stopped)", already_shown=True)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if any(_is_openable(Path(url.toLocalFile())) for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        self.open_paths([Path(url.toLocalFile()) for url in event.mimeData().urls()])
        event.acceptProposedAction()

    def open_paths(self, paths: list[Path]) -> None:
        """A dropped folder is read into the library; dropped MIDI files open in the piano roll."""
        folders = [p for p in paths if p.is_dir()]
        files = [p for p in paths if p.is_file() and p.suffix.lower() in MIDI_SUFFIXES]
        if folders:
            self.library.open_folder(folders[0])
        for path in files[:1]:
            self.open_midi_file(path)

    # --- the rest -------------------------------------------------------------------------------
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
        self.end_regenerating()  # the original bars back before anything is saved
        discarded = []
        if not self._keep_session_on_quit:
            for document in self.documents.modified():
                answer = self.ask_save(document)
                if answer == "cancel":
                    event.ignore()
                    return
                if answer == "discard":
                    discarded.append(document)
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
        event.accept()


def _is_openable(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in MIDI_SUFFIXES
