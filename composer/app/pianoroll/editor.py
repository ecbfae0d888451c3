"""One tab of the window: a piece's piano roll and its velocity lane (the window's Tracks panel
shows the tracks of the piece in front, and is its colour legend)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from composer.app.editing.operations import EditSettings, NoteEditor
from composer.app.pianoroll.velocity_lane import VelocityLane
from composer.app.pianoroll.view import PianoRollView


class PieceEditor(QWidget):
    """Shows and edits one PieceDocument."""

    def __init__(self, document, settings: EditSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.note_editor = NoteEditor(document, settings)
        self.view = PianoRollView(document.model)
        self.view.set_editor(self.note_editor)
        self.lane = VelocityLane(self.view, document)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.view)
        splitter.addWidget(self.lane)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([600, 90])
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(splitter, 1)
