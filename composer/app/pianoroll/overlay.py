"""The playhead layer: a transparent child widget over the piano roll that draws one line.

Keeping the line out of the roll's own painting means moving it repaints two thin strips of this
widget; Qt composes them over the roll, which answers with a blit of its cached image.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget


class PlayheadOverlay(QWidget):
    """Covers its parent; mouse events pass through it; `paint(painter)` draws the content."""

    def __init__(self, parent: QWidget, paint: Callable[[QPainter], None]):
        super().__init__(parent)
        self._paint = paint
        self.paint_count = 0  # repaints so far (tests check that the playhead uses this layer)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)

    def paintEvent(self, event) -> None:
        self.paint_count += 1
        painter = QPainter(self)
        self._paint(painter)
        painter.end()
