"""The velocity lane under the piano roll: one stem per note at its start, as tall as it is loud.

It shares the roll's horizontal zoom and scroll (it reads the roll's mapping and repaints when
the roll's view changes). Dragging across it sets the velocity of the notes under the pointer to
the height of the pointer, like drawing a line over the stems; when notes are selected only
those change. With a track active (the Tracks panel), the lane shows and changes only its notes.
A whole drag is one undo step. Positions are pixels of this widget, times ticks.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget

from composer.app.editing.gesture import new_gesture
from composer.app.pianoroll.render import draw_rects, mix, rect_array

HIT_PX = 4.0  # a stem is hit within this many pixels of the pointer
DENSE_STEMS = 1500  # above this many notes in view, one stem per pixel column
TOP_PAD, BOTTOM_PAD = 6, 4  # pixels kept free above velocity 127 and below 0


class VelocityLane(QWidget):
    def __init__(self, view, document=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = view
        self.document = document  # its active track, when one is, is the one shown
        self._gesture: int | None = None
        self._last_x: float | None = None
        self.setMinimumHeight(48)
        self.setToolTip(
            "Velocity: how hard each note is played. Drag across the stems to set it; "
            "with notes selected, only those change. With a track active in the Tracks panel, "
            "only its notes are shown and changed."
        )
        view.view_changed.connect(self.update)
        view.model.changed.connect(self.update)
        view.model.edited.connect(self.update)
        view.model.notes_added.connect(self.update)
        view.model.selection_changed.connect(self.update)
        if document is not None:
            document.active_track_changed.connect(self.update)

    def sizeHint(self) -> QSize:
        return QSize(900, 90)

    # --- geometry -------------------------------------------------------------------------------
    def velocity_to_y(self, velocity):
        usable = max(self.height() - TOP_PAD - BOTTOM_PAD, 1)
        return self.height() - BOTTOM_PAD - np.asarray(velocity, np.float64) / 127 * usable

    def y_to_velocity(self, y: float) -> int:
        usable = max(self.height() - TOP_PAD - BOTTOM_PAD, 1)
        return int(np.clip(round((self.height() - BOTTOM_PAD - y) / usable * 127), 1, 127))

    def _shown(self) -> tuple[np.ndarray, np.ndarray]:
        """(start tick, velocity, selected) of the notes that start within the roll's visible
        time range: three arrays."""
        m = self.view.mapping
        t0, t1 = m.visible_ticks(self.view.viewport().width())
        rows, selected = self.view.model.visible_with_selection(t0, t1)
        inside = (rows["start"] >= t0) & (rows["start"] <= t1)
        if (track := self._track()) is not None:
            inside &= rows["track"] == track
        return rows["start"][inside], rows["velocity"][inside], selected[inside]

    def _track(self) -> int | None:
        return None if self.document is None else self.document.active_track

    # --- painting -------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        colors = self.view.colors()
        m = self.view.mapping
        p = QPainter(self)
        width, height = self.width(), self.height()
        p.fillRect(QRectF(0, 0, width, height), colors.background)
        p.fillRect(QRectF(0, 0, m.keyboard_width, height), colors.ruler)
        p.setPen(colors.ruler_text)
        p.drawText(
            QRectF(4, 0, m.keyboard_width - 6, height),
            int(Qt.AlignmentFlag.AlignVCenter),
            "Velocity",
        )
        for level in (32, 64, 96, 127):
            y = float(np.floor(self.velocity_to_y(level)))
            p.fillRect(QRectF(m.keyboard_width, y, width - m.keyboard_width, 1), colors.beat_line)
        starts, velocity, selected = self._shown()
        if len(starts):
            x = np.floor(m.tick_to_x(starts.astype(np.float64)))
            p.setPen(Qt.PenStyle.NoPen)
            faded = mix(colors.notes[0][1], colors.background, 0.55)
            plain = faded if selected.any() else colors.notes[0][1]
            dense = len(starts) > DENSE_STEMS
            for mask, brush in ((~selected, plain), (selected, colors.selection_edge)):
                if mask.any():
                    p.setBrush(brush)
                    self._stems(p, x[mask], velocity[mask], dense)
        p.fillRect(QRectF(m.keyboard_width - 1, 0, 1, height), colors.ruler_tick)
        p.end()

    def _stems(self, p: QPainter, x: np.ndarray, velocity: np.ndarray, dense: bool) -> None:
        """Stems at pixel columns `x`; when dense, one stem per column, as tall as the loudest
        note there (drawing thousands of overlapping stems would cost far more and show the
        same)."""
        if dense:
            columns = x.astype(np.int64)
            loudest = np.zeros(int(columns.max()) + 1, np.int64)
            order = np.argsort(velocity, kind="stable")  # the loudest is written last and stays
            loudest[columns[order]] = velocity[order]
            x = np.flatnonzero(loudest).astype(np.float64)
            velocity = loudest[loudest > 0]
        y = np.floor(self.velocity_to_y(velocity))
        bottom = self.height() - BOTTOM_PAD
        draw_rects(p, rect_array(x, y, 1 if dense else 2, bottom - y))
        if not dense:
            draw_rects(p, rect_array(x - 2, y - 1, 6, 3))  # a cap on the stem

    # --- editing --------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        editor = self.view.editor
        if editor is None or editor.document.busy or event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        self._gesture = new_gesture()
        self._last_x = None
        self._set_at(event.position().x(), event.position().y())
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if self._gesture is None:
            return super().mouseMoveEvent(event)
        self._set_at(event.position().x(), event.position().y())
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        self._gesture = None
        event.accept()

    def _set_at(self, x: float, y: float) -> None:
        """Set the velocity of the stems between the last pointer x and this one (so a fast
        drag misses none) to the pointer's height."""
        m, model = self.view.mapping, self.view.model
        t0, t1 = m.visible_ticks(self.view.viewport().width())
        index = model.visible_indices(t0, t1)
        if (track := self._track()) is not None:
            index = index[model.notes["track"][index] == track]
        if model.selected_mask()[index].any():
            index = index[model.selected_mask()[index]]
        low, high = sorted((x, self._last_x if self._last_x is not None else x))
        self._last_x = x
        stem_x = m.tick_to_x(model.notes["start"][index].astype(np.float64))
        hit = index[(stem_x >= low - HIT_PX) & (stem_x <= high + HIT_PX)]
        if len(hit):  # the pushes of one drag merge into one undo step
            self.view.editor.set_velocities(hit, self.y_to_velocity(y), self._gesture)
