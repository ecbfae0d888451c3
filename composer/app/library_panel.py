"""The library: open or drop a folder, read it in the background, show what it holds."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from composer.app import paths, settings
from composer.app.workers import UserError, Worker, WorkerThreads


class LibraryPanel(QWidget):
    """Emits `collection_ready(collection, report)` when a folder has been read."""

    collection_ready = Signal(object, object)
    status = Signal(str)

    def __init__(self, threads: WorkerThreads, parent: QWidget | None = None):
        super().__init__(parent)
        self.threads = threads
        self.worker: Worker | None = None
        self.folder: Path | None = None
        self.collection = None
        self.report = None

        self.open_button = QPushButton("Open folder…")
        self.open_button.clicked.connect(self.choose_folder)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.cancel_button)
        self.folder_label = QLabel("Open or drop a folder of MIDI files to learn from.")
        self.folder_label.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)

        self.facts: dict[str, QLabel] = {}
        form = QFormLayout()
        for name in ("Files", "Usable", "Hours", "Notes", "Instruments", "Pitch range"):
            label = QLabel("–")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
            self.facts[name] = label
            form.addRow(name, label)

        self.failures = QTreeWidget()
        self.failures.setHeaderLabels(["File that could not be used", "Why"])
        self.failures.setRootIsDecorated(False)
        self.failures.setVisible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.folder_label)
        layout.addWidget(self.progress)
        layout.addLayout(form)
        layout.addWidget(self.failures, 1)
        layout.addStretch(0)

    @Slot()
    def choose_folder(self) -> None:
        start = settings.read(settings.LAST_FOLDER) or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of MIDI files", start)
        if folder:
            self.open_folder(Path(folder))

    def open_folder(self, folder: Path) -> None:
        """Read `folder` in the background (cancelling a read already running)."""
        if self.worker is not None:
            self.worker.stop()
        self.folder = Path(folder)
        settings.write(settings.LAST_FOLDER, str(self.folder))
        self.folder_label.setText(f"Reading {self.folder}…")
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.status.emit(f"Reading MIDI files in {self.folder}…")
        folder_now = self.folder
        self.worker = Worker(lambda worker: _ingest(worker, folder_now))
        self.worker.progress.connect(self._on_progress)
        self.worker.succeeded.connect(self._on_done)
        self.worker.failed.connect(self._on_failed)
        self.threads.start(self.worker)

    @Slot()
    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.status.emit("Cancelling…")

    @Slot(object)
    def _on_progress(self, progress) -> None:
        self.progress.setRange(0, progress.total)
        self.progress.setValue(progress.done)
        self.status.emit(f"Reading MIDI files: {progress.done:,} of {progress.total:,}")

    @Slot(object)
    def _on_done(self, result) -> None:
        report, collection = result
        self.worker = None
        self.progress.setVisible(False)
        self.cancel_button.setEnabled(False)
        self.report = report
        self.show_report(report)
        if report.cancelled:
            self.folder_label.setText(
                f"{report.folder}: cancelled; what was read is kept in the cache."
            )
            self.status.emit("Reading cancelled.")
            return
        if report.ok == 0:
            self.folder_label.setText(
                f"{report.folder} has no usable MIDI file ({report.files} found); "
                "choose a folder with .mid files that contain notes."
            )
            self.status.emit("No usable MIDI files.")
            return
        self.collection = collection
        self.folder_label.setText(str(report.folder))
        self.status.emit(f"Read {report.ok:,} usable files from {report.folder}.")
        self.collection_ready.emit(collection, report)

    @Slot(str, bool)
    def _on_failed(self, message: str, unexpected: bool) -> None:
        self.worker = None
        self.progress.setVisible(False)
        self.cancel_button.setEnabled(False)
        self.folder_label.setText(message)
        self.status.emit(message)

    def show_report(self, report) -> None:
        hours = report.seconds_of_music / 3600
        self.facts["Files"].setText(
            f"{report.files:,} ({report.duplicates:,} duplicates counted once)"
        )
        self.facts["Usable"].setText(f"{report.ok:,}")
        self.facts["Hours"].setText(f"{hours:.1f}")
        self.facts["Notes"].setText(f"{report.notes:,}")
        names = [f"{name} ({count})" for name, count in list(report.instruments.items())[:6]]
        more = len(report.instruments) - len(names)
        self.facts["Instruments"].setText(
            ", ".join(names) + (f" and {more} more" if more > 0 else "")
        )
        if report.pitch_range:
            from composer.cli.progress import note_name

            low, high = report.pitch_range
            self.facts["Pitch range"].setText(f"{note_name(low)} – {note_name(high)}")
        self.failures.clear()
        for failure in report.failed:
            item = QTreeWidgetItem([Path(failure.path).name, failure.reason])
            item.setToolTip(0, failure.path)
            item.setToolTip(1, failure.reason)
            self.failures.addTopLevelItem(item)
        self.failures.setVisible(bool(report.failed))


def _ingest(worker: Worker, folder: Path):
    """The background job: ingest through the shared cache; returns (report, collection)."""
    from composer.core.corpus import TokenCache, ingest
    from composer.core.tokens import TokenizerConfig
    from composer.core.training import Collection

    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder; choose the folder that holds your MIDI files")
    config = TokenizerConfig()
    cache_root = paths.cache_dir()
    from composer.core.corpus import CacheWriteError

    try:
        report = ingest(
            folder,
            cache_root,
            config,
            on_progress=worker.report,
            should_stop=lambda: worker.stop_requested,
        )
    except CacheWriteError as exc:
        raise UserError(str(exc)) from None
    return report, Collection.from_ingest(report, TokenCache(cache_root, config))
