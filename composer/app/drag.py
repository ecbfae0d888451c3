"""Dragging a variation out of the app as a .mid file, into a DAW or a file manager."""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QApplication, QToolButton


class MidiDragButton(QToolButton):
    """Drag this onto a file manager or a DAW to drop the variation shown as a .mid file."""

    def __init__(self, window):
        super().__init__()
        self.window_ = window
        self.setText("Drag MIDI")
        self.setToolTip("Drag the variation shown into your DAW or a folder")
        self._pressed_at: QPoint | None = None

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._pressed_at = event.position().toPoint()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._pressed_at is None:
            return
        if (
            event.position().toPoint() - self._pressed_at
        ).manhattanLength() < QApplication.startDragDistance():
            return
        self._pressed_at = None
        path = self.write_temporary()
        if path is None:
            return
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.CopyAction)

    def write_temporary(self) -> Path | None:
        """The variation shown, written to a fresh temporary folder under a readable name."""
        window = self.window_
        found = window.pieces.current()
        if found is None or len(found[0]) == 0:
            window.show_status("Nothing to drag yet; generate some music first.")
            return None
        name = window.documents.current().title.replace(" ", "-").lower()
        folder = Path(tempfile.mkdtemp(prefix="composer-drag-"))
        # A copy for the DAW, not an export: the piece stays "not exported" in the window.
        return window.exporting.write_piece(window.tabs.currentIndex(), folder / f"{name}.mid")
