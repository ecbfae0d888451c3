"""The main window: library, training and generation panels around the piano roll."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QTabWidget,
)

from composer.app import settings
from composer.app.actions import make_actions
from composer.app.drag import MidiDragButton
from composer.app.generation_panel import GenerationPanel
from composer.app.library_panel import LibraryPanel
from composer.app.pianoroll import NoteModel, PianoRollView
from composer.app.training_panel import TrainingPanel
from composer.app.window_playback import PlaybackControls
from composer.app.workers import Worker, WorkerThreads

MIDI_SUFFIXES = (".mid", ".midi", ".kar", ".rmi")
WELCOME = (
    "<h2>Composer</h2><p>Open or drop a folder of your MIDI files, train a model on it, "
    "and generate new music here.</p><p>Or pick a model in <b>Generate</b> and press "
    "<b>Ctrl+G</b>.</p>"
)


class MainWindow(PlaybackControls, QMainWindow):
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

        self.variations: list[tuple[NoteModel, PianoRollView]] = []
        self.item_name = ""  # what is open: a folder or a file, for the title
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.currentChanged.connect(self._update_title)
        self.welcome = QLabel(WELCOME)
        self.welcome.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.welcome.setWordWrap(True)
        self.tabs.addTab(self.welcome, "Welcome")
        self.setCentralWidget(self.tabs)

        self.actions_by_name = make_actions(self)
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

        self.set_up_playback()
        self.setAcceptDrops(True)
        self.resize(1400, 860)
        docks = [self.docks["library"], self.docks["generation"]]
        self.resizeDocks(docks, [380, 380], Qt.Orientation.Horizontal)  # first start; then as left
        self.restoreGeometry(settings.read(settings.GEOMETRY))
        self.restoreState(settings.read(settings.WINDOW_STATE))
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
        name = self.item_name
        if self.variations and self.tabs.currentIndex() >= 0 and len(self.variations) > 1:
            name = (
                f"{name} — {self.tabs.tabText(self.tabs.currentIndex())}"
                if name
                else self.tabs.tabText(self.tabs.currentIndex())
            )
        self.setWindowTitle(f"Composer — {name}" if name else "Composer")

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

    # --- the piano roll -------------------------------------------------------------------------
    def current(self) -> tuple[NoteModel, PianoRollView] | None:
        index = self.tabs.currentIndex()
        return self.variations[index] if 0 <= index < len(self.variations) else None

    def show_pieces(self, pieces, titles: list[str]) -> None:
        """Replace the tabs with one piano roll per piece."""
        self._set_tabs(len(pieces), titles)
        for (model, view), piece in zip(self.variations, pieces):
            if piece is not None:
                model.set_piece(piece)
            view.zoom_to_fit()

    def _set_tabs(self, count: int, titles: list[str]) -> None:
        self.tabs.blockSignals(True)
        while self.tabs.count():
            widget = self.tabs.widget(0)
            self.tabs.removeTab(0)
            if widget is not self.welcome:
                widget.deleteLater()
        self.variations = []
        for title in titles[:count]:
            model = NoteModel()
            view = PianoRollView(model)
            self.variations.append((model, view))
            self.tabs.addTab(view, title)
        self.tabs.blockSignals(False)
        self._update_title()

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
        self.show_pieces([piece], [path.name])
        self.item_name = path.name
        self._update_title()
        self.show_status(
            f"Opened {path.name}: {piece.note_count:,} notes, {piece.duration_seconds:.1f} s"
        )
        return True

    def selected_piece(self):
        """The notes in the piano roll's selected time range, moved to start at 0 (or None)."""
        from composer.core.midi.piece import Piece, Track, make_notes

        found = self.current()
        if found is None or found[1].selection() is None:
            return None
        model, view = found
        start, end = view.selection()
        notes = model.notes
        inside = notes[(notes["start"] >= start) & (notes["start"] < end)]
        tracks = []
        for program, drum in sorted(
            {(int(p), bool(d)) for p, d in zip(inside["program"], inside["drum"])}
        ):
            mine = inside[(inside["program"] == program) & (inside["drum"] == drum)]
            tracks.append(
                Track(
                    program,
                    drum,
                    "",
                    make_notes(
                        mine["start"] - start,
                        np.minimum(mine["end"], end) - start,
                        mine["pitch"],
                        mine["velocity"],
                    ),
                )
            )
        return Piece(model.ticks_per_beat, tracks)

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
        self.generation.stop()

    @Slot(int, object)
    def _on_generation_started(self, count: int, primer) -> None:
        self._set_tabs(count, [f"Variation {i + 1}" for i in range(count)])
        for model, view in self.variations:
            if primer is not None:
                model.set_piece(primer)
            view.set_follow(True)

    @Slot(object)
    def _on_streamed(self, update) -> None:
        for (model, _), notes in zip(self.variations, update.notes):
            if notes:
                model.append(notes)

    @Slot(object, str)
    def _on_generated(self, pieces, description: str) -> None:
        for (model, view), piece in zip(self.variations, pieces):
            model.set_piece(piece)  # the exact result: notes still sounding at the end are closed
            view.set_follow(False)

    # --- export and drag-and-drop ---------------------------------------------------------------
    def export_variation(self, index: int, path: Path, *, overwrite: bool = False) -> Path | None:
        from composer.core.midi import write_midi

        model = self.variations[index][0]
        try:
            written = write_midi(model.to_piece(), path, overwrite=overwrite)
        except FileExistsError as exc:
            self.tell(str(exc))
            return None
        except OSError as exc:
            self.tell(f"Could not write {path} ({exc.strerror or exc}); choose another folder.")
            return None
        self.show_status(f"Exported {written}")
        return written

    def ask_save_path(self, title: str, suffix: str, file_filter: str) -> Path | None:
        """A file to save the variation shown in (the dialog asks before replacing one), or None
        after saying why when there is nothing to save."""
        found = self.current()
        if found is None or len(found[0]) == 0:
            self.tell("There is nothing to export yet; generate or open some music first.")
            return None
        name = f"{self.tabs.tabText(self.tabs.currentIndex()).replace(' ', '-').lower()}{suffix}"
        start = str(Path(settings.read(settings.LAST_FOLDER) or Path.home()) / name)
        path, _ = QFileDialog.getSaveFileName(self, title, start, file_filter)
        return Path(path) if path else None

    def export_current(self) -> None:
        if path := self.ask_save_path("Export MIDI", ".mid", "MIDI files (*.mid)"):
            self.export_variation(self.tabs.currentIndex(), path, overwrite=True)

    def export_all(self) -> None:
        if not any(len(model) for model, _ in self.variations):
            self.tell("There is nothing to export yet; generate some music first.")
            return
        folder = QFileDialog.getExistingDirectory(
            self, "Export all variations into", str(Path.home())
        )
        if folder:
            self.export_all_to(Path(folder))

    def export_all_to(self, folder: Path, stem: str = "variation") -> list[Path]:
        targets = [folder / f"{stem}-{i + 1}.mid" for i in range(len(self.variations))]
        existing = [t for t in targets if t.exists()]
        if existing and not self.ask(
            f"{len(existing)} of these files already exist in {folder}, such as {existing[0].name}. Replace them?"
        ):
            return []
        return [
            p for i, t in enumerate(targets) if (p := self.export_variation(i, t, overwrite=True))
        ]

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

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.training.is_running:
            if not self.ask("Training is running. Stop it, keep its checkpoint, and quit?"):
                event.ignore()
                return
            self.show_status("Stopping training and saving a checkpoint…")
            self.training.stop()
        self.generation.stop()
        self.library.cancel()
        self.playback.stop()
        self.threads.stop_all()
        settings.write(settings.GEOMETRY, self.saveGeometry())
        settings.write(settings.WINDOW_STATE, self.saveState())
        event.accept()


def _is_openable(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in MIDI_SUFFIXES
