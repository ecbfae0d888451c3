"""Mouse, wheel and keys of the piano roll, kept apart from its painting.

A part of PianoRollView (`view.roll_input`), given the view, whose public calls it makes (its
mapping, viewport, zoom, selection and playhead); the view hands it the events the note editing
did not take. Each handler returns whether it took the event. Positions are viewport pixels;
ticks are MIDI ticks.
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

    def __init__(self, view) -> None:
        self._view = view
        self._drag_anchor: int | None = None  # tick where a drag on the ruler began
        self._dragged = False

    def wheel(self, event) -> None:
        m, pos, mods = self._view.mapping, event.position(), event.modifiers()
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
            m.scroll_by(dx=-notches * self._view.viewport().width() / 8)
        else:  # wheel scrolls pitch; a touchpad's sideways swipe scrolls time
            m.scroll_by(
                dx=-angle.x() / 120 * self._view.viewport().width() / 8,
                dy=-angle.y() / 120 * WHEEL_ROWS * m.key_height,
            )
        event.accept()
        self._view.refresh()

    def key(self, event) -> bool:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self._view.zoom_in()
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self._view.zoom_out()
        else:
            return False
        return True

    def press(self, event) -> bool:
        m, pos = self._view.mapping, event.position()
        on_ruler = pos.y() < m.ruler_height and pos.x() >= m.keyboard_width
        if event.button() != Qt.MouseButton.LeftButton or not on_ruler:
            return False
        self._drag_anchor = self._tick_at(pos.x(), event.modifiers())
        self._dragged = False
        event.accept()
        return True

    def move(self, event) -> bool:
        if self._drag_anchor is None:
            return False
        tick = self._tick_at(event.position().x(), event.modifiers())
        self._dragged = True
        self._view.set_selection(self._drag_anchor, tick)
        event.accept()
        return True

    def release(self, event) -> bool:
        if self._drag_anchor is None:
            return False
        view = self._view
        if not self._dragged:  # a click on the ruler: the playhead goes there
            view.clear_selection()
            tick = self._tick_at(event.position().x(), event.modifiers())
            view.set_playhead(tick)
            view.playhead_moved.emit(tick)
        self._drag_anchor = None
        event.accept()
        return True

    def _tick_at(self, x: float, modifiers) -> int:
        """Tick under widget x, snapped to the nearest grid line unless Shift is held."""
        m = self._view.mapping
        tick = m.x_to_tick(max(x, m.keyboard_width))
        if modifiers & Qt.KeyboardModifier.ShiftModifier:
            return max(round(tick), 0)
        return m.snap_tick(tick)
