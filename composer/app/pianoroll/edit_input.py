"""Editing gestures on the notes area of the piano roll, kept apart from painting and zooming.

A part of PianoRollView (`view.note_input`), given the view, whose public calls it makes; the
view hands it every mouse and key event first, and each handler returns whether it took it
(what it leaves goes to the roll's navigation, interaction.py). Gestures become calls on the
view's `editor` (a NoteEditor: every change is an undo step on the document); with no editor the
roll is read-only and these handlers take nothing. Positions are viewport pixels, times ticks.

Select tool: click a note to select it (Shift or Ctrl+click adds or removes it), drag it to move
the selection (snapped to the grid; Alt bypasses snapping), drag its right end to change lengths,
drag on empty space for a rubber band, double-click empty space to draw a note. Draw tool: click
to draw a note and drag to set its length. Right-click deletes the note under the pointer.
Keys: arrows move the selection by a grid step or a semitone, Shift+Up/Down by an octave,
Shift+Left/Right by a bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtWidgets import QToolTip

from composer.app.editing import note_math
from composer.app.editing.gesture import new_gesture

EDGE_PX = 5.0  # the right end of a note, for resizing, is this many pixels wide
MIN_RESIZE_NOTE_PX = 12.0  # narrower notes are only moved (their whole body is the handle)


class DragKind(str, Enum):
    """What a mouse drag on the piano roll does."""

    MOVE = "move"  # the note under the press, with the rest of the selection
    RESIZE = "resize"  # a note's end, grabbed at its right edge
    BAND = "band"  # a rubber band on empty space, selecting notes


@dataclass
class Drag:
    kind: DragKind
    press: QPointF
    indices: np.ndarray  # the notes being moved or resized
    origin: np.ndarray  # their rows when the drag began
    grabbed: np.ndarray | None  # the row under the pointer at the press (moves snap it)
    gesture: int
    base_selection: np.ndarray  # band: what stays selected besides the band's notes
    last: tuple = ()
    macro: bool = False  # the drag ends an undo macro (drawing a note, then its length)


class NoteEditInput:
    def __init__(self, view) -> None:
        self._view = view
        self._edit_drag: Drag | None = None

    @property
    def editor(self):
        """The view's NoteEditor, or None for a read-only roll."""
        return self._view.editor

    @property
    def _mapping(self):
        return self._view.mapping

    @property
    def _model(self):
        return self._view.model

    def band_rect(self) -> QRectF | None:
        """The rubber band being dragged, in viewport pixels, or None."""
        drag = self._edit_drag
        if drag is None or drag.kind != DragKind.BAND or not drag.last:
            return None
        return QRectF(drag.press, drag.last[0]).normalized()

    # --- mouse ----------------------------------------------------------------------------------
    def _in_notes_area(self, pos: QPointF) -> bool:
        m = self._mapping
        return pos.x() >= m.keyboard_width and pos.y() >= m.ruler_height

    def _editable(self) -> bool:
        return self.editor is not None and not self.editor.document.busy

    def press(self, event) -> bool:
        if self._edit_drag is not None and self._edit_drag.macro:  # its release never came
            self._edit_drag = None
            self.editor.document.undo_stack.endMacro()
        pos = event.position()
        if not (self._editable() and self._in_notes_area(pos)):
            return False
        self._view.setFocus(Qt.FocusReason.MouseFocusReason)
        model, m = self._model, self._mapping
        tick, pitch = m.x_to_tick(pos.x()), m.pitch_at(pos.y())
        index = model.note_at(tick, pitch)
        mods = event.modifiers()
        additive = bool(
            mods & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier)
        )
        event.accept()
        if event.button() == Qt.MouseButton.RightButton:
            if index is not None:
                model.select([index])
                self.editor.delete()
            return True
        if event.button() != Qt.MouseButton.LeftButton:
            return True
        if index is None:
            if self.editor.settings.tool == "draw":
                self._draw_at(pos, mods)
            else:
                base = model.selected_indices() if additive else np.empty(0, np.int64)
                if not additive:
                    model.clear_selection()
                self._edit_drag = Drag(DragKind.BAND, pos, base, model.notes[base], None, 0, base)
            return True
        if additive:
            model.select([index], toggle=True)
            if not model.selected_mask()[index]:
                return True  # taken out of the selection: nothing to drag
        elif not model.selected_mask()[index]:
            model.select([index])
        self._start_drag(pos, index)
        return True

    def _start_drag(self, pos: QPointF, index: int) -> None:
        model, m = self._model, self._mapping
        indices = model.selected_indices()
        note = model.notes[index]
        end_x = m.tick_to_x(max(int(note["end"]), int(note["start"]) + 1))
        wide = end_x - m.tick_to_x(int(note["start"])) >= MIN_RESIZE_NOTE_PX
        kind = (
            DragKind.RESIZE if wide and end_x - EDGE_PX <= pos.x() <= end_x + 1 else DragKind.MOVE
        )
        self._edit_drag = Drag(
            kind, pos, indices, model.notes[indices].copy(), note.copy(), new_gesture(), indices
        )
        # The picture without the grabbed notes is made now, not on the first move.
        self._view.set_drag_preview(self._edit_drag.origin)

    def _draw_at(self, pos: QPointF, mods, *, then_length: bool = True) -> None:
        """Draw a note at the grid cell under `pos`; with `then_length`, a drag that follows
        sets its length, and the two are one undo step."""
        m, model = self._mapping, self._model
        tick = max(m.x_to_tick(pos.x()), 0.0)
        if self._snapping(mods):
            step = self.editor.step()
            tick = int(tick // step * step)  # the cell the pointer is in, not the nearest line
        if not then_length:
            self.editor.draw(int(tick), m.pitch_at(pos.y()))
            return
        self.editor.document.undo_stack.beginMacro("Draw a note")
        self.editor.draw(int(tick), m.pitch_at(pos.y()))
        index = int(model.selected_indices()[-1])
        note = model.notes[index].copy()
        self._edit_drag = Drag(
            DragKind.RESIZE, pos, np.array([index]), model.notes[[index]].copy(), note, new_gesture(),
            np.array([index]), macro=True,
        )  # fmt: skip

    def move(self, event) -> bool:
        drag = self._edit_drag
        if drag is None:
            return False
        event.accept()
        pos, mods = event.position(), event.modifiers()
        m = self._mapping
        if drag.kind == DragKind.BAND:
            drag.last = (pos,)
            self._select_band(drag)
            self._view.viewport().update()
            return True
        raw = round(m.x_to_tick(pos.x()) - m.x_to_tick(drag.press.x()))
        grabbed = drag.grabbed
        if drag.kind == DragKind.MOVE:
            dt = self._snapped_delta(int(grabbed["start"]), raw, mods)
            dp = m.pitch_at(pos.y()) - m.pitch_at(drag.press.y())
            last = (dt, dp)
        else:
            last = (self._snapped_delta(int(grabbed["end"]), raw, mods),)
        if last != drag.last:
            drag.last = last
            self._view.set_drag_preview(self._dragged_rows(drag))
        return True

    def _dragged_rows(self, drag: Drag) -> np.ndarray:
        if drag.kind == DragKind.MOVE:
            return note_math.moved(drag.origin, *drag.last)
        return self.editor.resized_rows(drag.origin, *drag.last)

    def release(self, event) -> bool:
        drag = self._edit_drag
        if drag is None:
            return False
        self._edit_drag = None
        event.accept()
        # The notes follow the pointer as a picture while dragging; the piece changes once, at
        # the release, as one undo step.
        self._view.set_drag_preview(None)
        if drag.kind == DragKind.MOVE and drag.last:
            self.editor.move(drag.indices, drag.origin, *drag.last)
        elif drag.kind == DragKind.RESIZE and drag.last:
            self.editor.resize(drag.indices, drag.origin, *drag.last, drag.gesture)
        if drag.macro:
            self.editor.document.undo_stack.endMacro()
        self._view.viewport().update()
        return True

    def double_click(self, event) -> bool:
        pos = event.position()
        if (
            self._editable()
            and self._in_notes_area(pos)
            and event.button() == Qt.MouseButton.LeftButton
            and self._model.note_at(
                self._mapping.x_to_tick(pos.x()), self._mapping.pitch_at(pos.y())
            )
            is None
        ):
            self._draw_at(pos, event.modifiers(), then_length=False)
            event.accept()
            return True
        return False

    def _snapping(self, mods) -> bool:
        return self.editor.settings.snap and not mods & Qt.KeyboardModifier.AltModifier

    def _snapped_delta(self, anchor: int, raw: int, mods) -> int:
        """How far to move a tick `anchor` dragged `raw` ticks: onto the nearest grid line when
        snapping (the grabbed note lands on the grid; the others keep their distance to it)."""
        if not self._snapping(mods):
            return raw
        return int(note_math.snap(anchor + raw, self.editor.step())) - anchor

    def _select_band(self, drag: Drag) -> None:
        m, rect = self._mapping, self.band_rect()
        t0, t1 = m.x_to_tick(rect.left()), m.x_to_tick(rect.right())
        high, low = m.pitch_at(rect.top()), m.pitch_at(rect.bottom())
        inside = self._model.visible_indices(t0, t1, low, high)
        self._model.select(np.union1d(drag.base_selection, inside))

    # --- keys -----------------------------------------------------------------------------------
    def key(self, event) -> bool:
        key, shift = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        arrows = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, 1),
                  Qt.Key.Key_Down: (0, -1)}  # fmt: skip
        if key in arrows and self._editable() and len(self._model.selected_indices()):
            steps, semitones = arrows[key]
            if shift and steps:  # a bar
                steps *= max(round(self._mapping.bar_ticks / self.editor.step()), 1)
            self.editor.nudge(steps, semitones * (12 if shift else 1))
            event.accept()
            return True
        return False

    # --- note names on hover --------------------------------------------------------------------
    def tooltip(self, event) -> bool:
        """Show the note or key under the pointer for a tooltip event; False for any other."""
        if event.type() != QEvent.Type.ToolTip:
            return False
        text = self.describe_at(
            event.position() if hasattr(event, "position") else QPointF(event.pos())
        )
        if text:
            QToolTip.showText(event.globalPos(), text, self._view.viewport())
        else:
            QToolTip.hideText()
        return True

    def describe_at(self, pos: QPointF) -> str:
        """What is under a viewport position, in words: the key's name on the keyboard, the
        note's name, instrument, velocity and place on the notes (empty elsewhere)."""
        from composer.core.midi.piece import gm_program_name
        from composer.core.midi.piece import note_name as pitch_name

        m = self._mapping
        if pos.y() < m.ruler_height:
            return ""
        pitch = m.pitch_at(pos.y())
        if pos.x() < m.keyboard_width:
            return pitch_name(pitch)
        index = self._model.note_at(m.x_to_tick(pos.x()), pitch)
        if index is None:
            return pitch_name(pitch)
        note = self._model.notes[index]
        bar, beat = divmod(float(note["start"]) / m.beat_ticks, m.beats_per_bar)
        instrument = "Drums" if note["drum"] else gm_program_name(int(note["program"]))
        return (
            f"{pitch_name(int(note['pitch']))} · {instrument} · velocity {int(note['velocity'])}"
            f" · bar {int(bar) + 1}, beat {beat + 1:.4g}"
        )
