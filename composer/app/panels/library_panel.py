"""The library: open or drop a folder, read it in the background, show what it holds."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
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

log = logging.getLogger("composer.app")
FAILURE_ROWS = 6  # the failed-files list is at least this many rows tall


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
        self._quiet = False  # reading the folder of last time: no status bar sentences

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

        self.failures = FailureList()

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

    def reopen_last_folder(self) -> bool:
        """At start: read again the folder read last time (from the cache: quick), quietly (the
        status bar keeps what the session says). False when there is none, or it is gone."""
        last = settings.read(settings.LAST_FOLDER)
        if not last or not Path(last).is_dir():
            return False
        self.open_folder(Path(last), quiet=True)
        return True

    def open_folder(self, folder: Path, quiet: bool = False) -> None:
        """Read `folder` in the background (cancelling a read already running); `quiet`: the
        panel shows the progress, the status bar does not."""
        if self.worker is not None:
            self.worker.stop()
        self._quiet = quiet
        self.folder = Path(folder)
        settings.write(settings.LAST_FOLDER, str(self.folder))
        self.folder_label.setText(f"Reading {self.folder}…")
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setEnabled(True)
        if not quiet:
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
        if not self._quiet:
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
        notices = "".join(f" {notice[0].upper()}{notice[1:]}." for notice in report.notices)
        if report.ok == 0:
            self.folder_label.setText(
                f"{report.folder} has no usable MIDI file ({report.files} found); "
                f"choose a folder with .mid files that contain notes.{notices}"
            )
            self.status.emit("No usable MIDI files.")
            return
        self.collection = collection
        self.folder_label.setText(str(report.folder))
        if not self._quiet:
            self.status.emit(f"Read {report.ok:,} usable files from {report.folder}.{notices}")
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
        copies = report.duplicates
        self.facts["Files"].setText(
            f"{report.files:,}"
            + (f" ({copies:,} the same as another, read once)" if copies else "")
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
            from composer.core.midi.piece import note_name

            low, high = report.pitch_range
            self.facts["Pitch range"].setText(f"{note_name(low)} – {note_name(high)}")
        self.failures.show_failures(report.failed)
        for failure in report.failed:
            log.info("could not use %s: %s (%s)", failure.path, failure.reason, failure.detail)


class FailureList(QTreeWidget):
    """The files that could not be used and why: several rows tall, rows selectable, and Ctrl+C
    (or Copy in the context menu) copies the selected rows as "file: reason" lines."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setHeaderLabels(["File that could not be used", "Why"])
        self.setRootIsDecorated(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.copy_action = QAction("Copy", self)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.copy_action.triggered.connect(self.copy_selected)
        self.addAction(self.copy_action)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.setVisible(False)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """Room for the header and FAILURE_ROWS rows, in whatever font the list is drawn."""
        row = (
            self.sizeHintForRow(0) if self.topLevelItemCount() else self.fontMetrics().height() + 4
        )
        height = self.header().sizeHint().height() + FAILURE_ROWS * row + 2 * self.frameWidth()
        return QSize(super().minimumSizeHint().width(), height)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return super().sizeHint().expandedTo(self.minimumSizeHint())

    def show_failures(self, failures) -> None:
        self.clear()
        for failure in failures:
            item = QTreeWidgetItem([Path(failure.path).name, failure.reason])
            item.setData(0, Qt.ItemDataRole.UserRole, failure.path)
            item.setToolTip(0, failure.path)
            item.setToolTip(1, failure.reason)
            self.addTopLevelItem(item)
        self.setVisible(bool(failures))
        self.updateGeometry()  # the rows' height is known now

    def event(self, event) -> bool:
        """Ctrl+C here copies these rows, even where the window has its own Copy (of notes)."""
        if event.type() == QEvent.Type.ShortcutOverride and event.matches(
            QKeySequence.StandardKey.Copy
        ):
            event.accept()  # the key then comes to keyPressEvent, not to a window shortcut
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_selected()
            event.accept()
        else:
            super().keyPressEvent(event)

    @Slot()
    def copy_selected(self) -> None:
        """The selected rows (all rows when none is selected) as "file: reason" lines."""
        items = self.selectedItems() or [
            self.topLevelItem(i) for i in range(self.topLevelItemCount())
        ]
        items.sort(key=self.indexOfTopLevelItem)
        lines = [f"{item.data(0, Qt.ItemDataRole.UserRole)}: {item.text(1)}" for item in items]
        QGuiApplication.clipboard().setText("\n".join(lines) + "\n" if lines else "")


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
