"""The piano roll widget: shows a NoteModel, zooms and scrolls, selects a time range.

The keyboard, ruler, grid and notes are rendered into one cached image, rebuilt only when what
they show changes (zoom, scroll, size, palette, notes in view); any other repaint (the selection
band, the part under a moving playhead) is a blit of that image. The playhead is a separate,
mouse-transparent child widget, so moving it repaints two thin strips, never the notes.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QRect, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from composer.app.pianoroll import draw_notes, render
from composer.app.pianoroll.edit_input import NoteEditInput
from composer.app.pianoroll.framing import PAGE_MARGIN, Framing
from composer.app.pianoroll.interaction import RollInput
from composer.app.pianoroll.mapping import HIGHEST_PITCH, RollMapping
from composer.app.pianoroll.overlay import PlayheadOverlay
from composer.app.piece.notes import NoteModel

KEY_ZOOM = 1.25  # horizontal zoom factor of one press of + or -


class PianoRollView(QAbstractScrollArea):
    """Displays the notes of a NoteModel; with an editor (`set_editor`) its gestures edit them
    (see edit_input.py), the edits themselves being made on the model by the editor.

    Mouse: Ctrl+wheel zooms time around the pointer, Ctrl+Shift+wheel or Alt+wheel zooms pitch,
    the wheel scrolls pitch and Shift+wheel time; dragging on the ruler selects a time range
    (snapped to the grid; hold Shift not to snap), clicking it moves the playhead there.
    Keys: + and - zoom time. Signals: `selection_changed(start_tick, end_tick)`, (0, 0) when
    the range is cleared; `playhead_moved(tick)` when the user puts the playhead somewhere;
    `view_changed()` after zoom or scroll moved.
    """

    selection_changed = Signal(int, int)
    playhead_moved = Signal(int)
    view_changed = Signal()

    def __init__(self, model: NoteModel, parent: QWidget | None = None):
        super().__init__(parent)
        self.editor = None  # a NoteEditor (set_editor), or None for a read-only roll
        # The mouse and keys: note editing first, then zoom, scroll and the ruler, then Qt (first,
        # as Qt sends events while the view is being built).
        self.note_input = NoteEditInput(self)
        self.roll_input = RollInput(self)
        self._model = model
        self._mapping = RollMapping(model.ticks_per_beat)
        self._colors: render.RollColors | None = None
        self._cache: QImage | None = None
        self._cache_key: tuple | None = None
        self._content_version = 0  # bumped when notes in view change
        #: How many times the notes image was rebuilt (a repaint that only blits does not count).
        self.render_count = 0
        self._selection: tuple[int, int] | None = None
        self._playhead: int | None = None
        self._follow = False
        self._syncing = False  # set while the scroll bars are moved to match the mapping
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        # Every pixel is painted from the cache, so Qt need not clear the background first.
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._overlay = PlayheadOverlay(self.viewport(), self._paint_playhead)
        #: What part of the piece is shown: the opening view, zoom to fit, following.
        self.framing = Framing(self._mapping, model, self.viewport(), self._laid_out, self.refresh)
        self.horizontalScrollBar().valueChanged.connect(self._on_horizontal_scroll)
        self.verticalScrollBar().valueChanged.connect(self._on_vertical_scroll)
        model.changed.connect(self._on_model_changed)
        model.notes_added.connect(self._on_notes_added)
        model.edited.connect(self._on_notes_edited)
        model.selection_changed.connect(self._on_notes_edited)
        model.tracks_changed.connect(self._on_notes_edited)  # colours, muted tracks faded
        self._painted_state: tuple | None = None  # the mapping last painted (for view_changed)
        # While notes are dragged: where they would land (ROLL_DTYPE); the cached picture then
        # leaves the selected notes out and these are drawn over it, so a drag costs a blit
        # and the dragged notes, not a picture of the whole view per mouse move.
        self._preview: np.ndarray | None = None
        self._on_model_changed()

    # --- public API ---------------------------------------------------------------------------

    @property
    def model(self) -> NoteModel:
        return self._model

    @property
    def mapping(self) -> RollMapping:
        """The zoom and scroll state; call `refresh()` after changing it directly."""
        return self._mapping

    @property
    def overlay(self) -> QWidget:
        """The child widget that draws the playhead."""
        return self._overlay

    def sizeHint(self) -> QSize:
        return QSize(900, 480)

    def selection(self) -> tuple[int, int] | None:
        """The selected (start_tick, end_tick), start < end, or None."""
        return self._selection

    def set_selection(self, start: int, end: int) -> None:
        """Select ticks [start, end) (in either order); an empty range clears the selection."""
        start, end = sorted((max(int(start), 0), max(int(end), 0)))
        self._set_selection((start, end) if end > start else None)

    def clear_selection(self) -> None:
        self._set_selection(None)

    def playhead(self) -> int | None:
        return self._playhead

    def set_playhead(self, tick: int | None) -> None:
        """Move the playhead line to `tick` (None hides it). Only the overlay repaints, unless
        following is on and the tick is out of view, which scrolls."""
        old_x = self._playhead_x()
        self._playhead = None if tick is None else int(tick)
        if self._follow and tick is not None and not self.framing.in_view(tick):
            self.framing.ensure_visible(tick, PAGE_MARGIN)
            return
        new_x = self._playhead_x()
        if new_x == old_x:
            return
        for x in (old_x, new_x):
            if x is not None:  # the line, and the triangle above it in the ruler
                self._overlay.update(QRect(math.floor(x) - 7, 0, 16, self._overlay.height()))

    def follow(self) -> bool:
        return self._follow

    def set_follow(self, on: bool) -> None:
        """While on, the view scrolls to keep streamed notes and the playhead in sight, and a
        piece replacing the notes (the stream's final version) leaves zoom and scroll alone."""
        self._follow = bool(on)

    def zoom_in(self) -> None:
        """Zoom time in by one step around the playhead (when in view) or the middle."""
        self._mapping.zoom_x(KEY_ZOOM, self._zoom_anchor())
        self.refresh()

    def zoom_out(self) -> None:
        self._mapping.zoom_x(1 / KEY_ZOOM, self._zoom_anchor())
        self.refresh()

    def refresh(self) -> None:
        """Bring scroll bars and picture up to date after a change of the mapping."""
        self._sync_scroll_bars()
        self.viewport().update()

    def redraw(self) -> None:
        """Drop the cached image and paint everything again (benchmarks; a changed palette)."""
        self._cache_key = None
        self.viewport().update()

    # --- model --------------------------------------------------------------------------------

    def _on_model_changed(self) -> None:
        m = self._mapping
        m.ticks_per_beat = self._model.ticks_per_beat
        signatures = self._model.time_signatures
        if len(signatures):
            m.set_meter(int(signatures["numerator"][0]), int(signatures["denominator"][0]))
        self._content_version += 1
        if self._selection is not None:
            self.clear_selection()  # its ticks belonged to the previous notes
        if self._follow and self.framing.pending is None:
            # Following a stream, a new piece is its final version: keep the view where it is.
            self.refresh()
            return
        self.framing.home()

    def _on_notes_added(self, first: int, count: int) -> None:
        new = self._model.notes[first : first + count]
        if self._follow and count:
            self.framing.ensure_visible(int(new["end"].max()))
        t0, t1 = self._mapping.visible_ticks(self.viewport().width())
        low, high = self._mapping.visible_pitches(self.viewport().height())
        pitch = new["pitch"]
        if self._follow and count and not ((pitch >= low) & (pitch <= high)).any():
            # Streamed notes all above or below the view: centre it on them.
            self._mapping.top_pitch = float(np.median(pitch)) + (high - low) / 2
            self.refresh()
            low, high = self._mapping.visible_pitches(self.viewport().height())
        in_time = (new["start"] < t1) & (new["end"] >= t0)
        if (
            in_time & (pitch >= low) & (pitch <= high)
        ).any():  # notes arriving off screen only lengthen the scroll bar
            self._content_version += 1
            self.viewport().update()
        self._sync_scroll_bars()

    def _on_notes_edited(self) -> None:
        self._content_version += 1
        self.viewport().update()
        self._sync_scroll_bars()

    # --- painting -----------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        viewport = self.viewport()
        width, height = viewport.width(), viewport.height()
        ratio = viewport.devicePixelRatioF()
        key = (self._mapping.state(), self._content_version, width, height, ratio)
        if self._cache is None or key != self._cache_key:
            self._cache = self._render(width, height, ratio)
            self._cache_key = key
        painter = QPainter(viewport)
        painter.drawImage(0, 0, self._cache)
        if self._selection is not None:
            render.paint_selection(
                painter, self._mapping, *self._selection, width, height, self.colors()
            )
        if (band := self.note_input.band_rect()) is not None:
            render.paint_band(painter, band, self.colors())
        if self._preview is not None:
            self._paint_preview(painter, width, height)
        painter.end()
        if key[0] != self._painted_state:
            self._painted_state = key[0]
            self.view_changed.emit()  # the velocity lane follows the zoom and scroll

    def _render(self, width: int, height: int, ratio: float) -> QImage:
        """Keyboard, ruler, grid and the notes in view, drawn into a new image."""
        image = QImage(
            max(round(width * ratio), 1),
            max(round(height * ratio), 1),
            QImage.Format.Format_ARGB32_Premultiplied,
        )
        image.setDevicePixelRatio(ratio)
        m, colors = self._mapping, self.colors()
        painter = QPainter(image)
        render.paint_background(painter, m, width, height, colors)
        render.paint_grid(painter, m, width, height, colors)
        t0, t1 = m.visible_ticks(width)
        notes, selected = self._model.visible_with_selection(t0, t1, *m.visible_pitches(height))
        if self._preview is not None:  # the dragged (selected) notes are drawn over it
            notes, selected = notes[~selected], selected[~selected]
        draw_notes.paint_notes(
            painter,
            m,
            notes,
            width,
            height,
            colors,
            selected if selected.any() else None,
            self._model.tracks,
        )
        # Keyboard and ruler go on top, covering notes that poke under them.
        render.paint_keyboard(painter, m, height, colors)
        render.paint_ruler(painter, m, width, colors)
        painter.end()
        self.render_count += 1
        return image

    def set_editor(self, editor) -> None:
        """Make the roll edit its notes through `editor` (a NoteEditor)."""
        self.editor = editor
        self.viewport().setMouseTracking(True)  # for note names on hover

    # --- the mouse and keys, handed to the input parts in turn ---------------------------------
    def mousePressEvent(self, event) -> None:
        if not (self.note_input.press(event) or self.roll_input.press(event)):
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if not (self.note_input.move(event) or self.roll_input.move(event)):
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if not (self.note_input.release(event) or self.roll_input.release(event)):
            super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        if not self.note_input.double_click(event):
            super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event) -> None:
        self.roll_input.wheel(event)

    def keyPressEvent(self, event) -> None:
        if not (self.note_input.key(event) or self.roll_input.key(event)):
            super().keyPressEvent(event)

    def viewportEvent(self, event) -> bool:
        return self.note_input.tooltip(event) or super().viewportEvent(event)

    def set_drag_preview(self, rows: np.ndarray | None) -> None:
        if (rows is None) != (self._preview is None):
            self._content_version += 1  # the picture with or without the selected notes
        self._preview = rows
        self.viewport().update()

    def _paint_preview(self, painter: QPainter, width: int, height: int) -> None:
        m, rows = self._mapping, self._preview
        t0, t1 = m.visible_ticks(width)
        low, high = m.visible_pitches(height)
        ends = np.maximum(rows["end"], rows["start"] + 1)
        shown = rows[
            (rows["start"] < t1) & (ends > t0) & (rows["pitch"] >= low) & (rows["pitch"] <= high)
        ]
        painter.setClipRect(m.keyboard_width, m.ruler_height, width, height)
        draw_notes.paint_notes(
            painter, m, shown, width, height, self.colors(), np.ones(len(shown), bool)
        )

    def colors(self) -> render.RollColors:
        """The colours for the current palette (rebuilt when the palette changes)."""
        if self._colors is None:
            self._colors = render.RollColors.from_palette(self.palette())
        return self._colors

    def changeEvent(self, event) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange):
            self._colors = None  # a theme switch: new colours
            self.redraw()
        super().changeEvent(event)

    # --- geometry and scroll bars -------------------------------------------------------------

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._mapping.view_height = self.viewport().height()
        self._mapping.top_pitch = self._mapping.top_pitch  # re-clamp for the new height
        self._overlay.setGeometry(self.viewport().rect())
        self.framing.resized()
        self._sync_scroll_bars()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        pass  # the scroll bars' valueChanged handlers move the mapping and repaint

    def _sync_scroll_bars(self) -> None:
        """Set ranges and positions of both scroll bars from the mapping and the notes."""
        viewport = self.viewport()
        ranges = self._mapping.scroll_bars(
            viewport.width(), viewport.height(), self._model.end_tick
        )
        self._syncing = True  # these moves come from the mapping: not back into it
        try:
            for bar, (maximum, page, step, value) in zip(
                (self.horizontalScrollBar(), self.verticalScrollBar()), ranges
            ):
                bar.setRange(0, maximum)
                bar.setPageStep(page)
                bar.setSingleStep(step)
                bar.setValue(value)
        finally:
            self._syncing = False

    def _on_horizontal_scroll(self, value: int) -> None:
        if not self._syncing:
            self._mapping.left_tick = value
            self.viewport().update()

    def _on_vertical_scroll(self, value: int) -> None:
        if not self._syncing:
            self._mapping.top_pitch = HIGHEST_PITCH - value / self._mapping.key_height
            self.viewport().update()

    def _laid_out(self) -> bool:
        """Whether the viewport has its real geometry (Qt sizes it on the first resize event,
        which a hidden widget only gets when shown or rendered)."""
        viewport = self.viewport()
        return not self.testAttribute(Qt.WidgetAttribute.WA_PendingResizeEvent) and (
            viewport.width() - self._mapping.keyboard_width >= 50 and viewport.height() > 60
        )

    def _playhead_x(self) -> float | None:
        """Pixel column of the playhead, or None when it is hidden or out of view."""
        if self._playhead is None:
            return None
        x = math.floor(self._mapping.tick_to_x(self._playhead))
        return x if self._mapping.keyboard_width <= x <= self.viewport().width() else None

    def _paint_playhead(self, painter: QPainter) -> None:
        x = self._playhead_x()
        if x is not None:
            render.paint_playhead(
                painter, self._mapping, x, self.viewport().height(), self.colors()
            )

    def _zoom_anchor(self) -> float:
        x = self._playhead_x()
        if x is not None:
            return x
        return (self._mapping.keyboard_width + self.viewport().width()) / 2

    def _set_selection(self, selection: tuple[int, int] | None) -> None:
        if selection == self._selection:
            return
        self._selection = selection
        self.viewport().update()  # the band is drawn over the cached image: a cheap repaint
        self.selection_changed.emit(*(selection or (0, 0)))
