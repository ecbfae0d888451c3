"""Mouse, wheel and keys of the piano roll, kept apart from its painting.

A mixin for PianoRollView (it uses the view's mapping, viewport, zoom and selection methods).
Positions are viewport pixels; ticks are MIDI ticks.
"""

from __future__ import annotations

from PySide6.QtCore import Qt

WHEEL_ZOOM = 1.2  # zoom factor of one wheel notch (120 eighths of a degree)
WHEEL_ROWS = 3  # semitone rows scrolled by one wheel notch


class RollInput:
    """Ctrl+wheel zooms time around the pointer, Ctrl+Shift+wheel or Alt+wheel zooms pitch, the
    wheel scrolls pitch and Shift+wheel time; + and - zoom time; dragging on the ruler selects a
    time range, snapped to the grid unless Shift is held, and a click there clears it and puts
    the playhead there."""

    _drag_anchor: int | None = None  # tick where a drag on the ruler began
    _dragged = False

    def wheelEvent(self, event) -> None:
        m, pos, mods = self._mapping, event.position(), event.modifiers()
        angle = event.angleDelta()
        # Some platforms turn Alt+wheel (and Shift+wheel) into a horizontal wheel: take either.
        notches = (angle.y() or angle.x()) / 120
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        alt = bool(mods & Qt.KeyboardModifier.AltModifier)
        if (ctrl and shift) or alt:
            m.zoom_y(WHEEL_ZOOM**notches, max(pos.y(), m.ruler_height))
        elif ctrl:
            m.zoom_x(WHEEL_ZOOM**notches, max(pos.x(), m.keyboard_width))
        elif shift:
            m.scroll_by(dx=-notches * self.viewport().width() / 8)
        else:  # wheel scrolls pitch; a touchpad's sideways swipe scrolls time
            m.scroll_by(
                dx=-angle.x() / 120 * self.viewport().width() / 8,
                dy=-angle.y() / 120 * WHEEL_ROWS * m.key_height,
            )
        event.accept()
        self.refresh()

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_in()
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event) -> None:
        m, pos = self._mapping, event.position()
        on_ruler = pos.y() < m.ruler_height and pos.x() >= m.keyboard_width
        if event.button() == Qt.MouseButton.LeftButton and on_ruler:
            self._drag_anchor = self._tick_at(pos.x(), event.modifiers())
            self._dragged = False
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._drag_anchor is None:
            return super().mouseMoveEvent(event)
        tick = self._tick_at(event.position().x(), event.modifiers())
        self._dragged = True
        self.set_selection(self._drag_anchor, tick)
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if self._drag_anchor is None:
            return super().mouseReleaseEvent(event)
        if not self._dragged:  # a click on the ruler: the playhead goes there
            self.clear_selection()
            tick = self._tick_at(event.position().x(), event.modifiers())
            self.set_playhead(tick)
            self.playhead_moved.emit(tick)
        self._drag_anchor = None
        event.accept()

    def _tick_at(self, x: float, modifiers) -> int:
        """Tick under widget x, snapped to the nearest grid line unless Shift is held."""
        tick = self._mapping.x_to_tick(max(x, self._mapping.keyboard_width))
        if modifiers & Qt.KeyboardModifier.ShiftModifier:
            return max(round(tick), 0)
        return self._mapping.snap_tick(tick)
