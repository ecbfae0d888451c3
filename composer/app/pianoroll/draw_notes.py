"""Painting the notes: rectangles coloured by instrument family and velocity, drums as diamonds.

Two paths, chosen by how crowded the view is. Up to DENSE_NOTES notes in view: one
`drawRects` per colour, outlined when the notes are tall enough to show a rim. Beyond that (zoomed
far out, many notes per pixel) the notes are rasterised with NumPy into an image at pitch-row
resolution and drawn with one `drawImage`: the cost then follows the view's area, not the number
of notes. Positions are widget pixels, times ticks.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from composer.app.pianoroll.mapping import RollMapping
from composer.app.pianoroll.render import (
    DRUM_GROUP,
    MUTED_GROUP,
    SELECTED_GROUP,
    VELOCITY_BOUNDS,
    RollColors,
    draw_rects,
    rect_array,
    row_edges,
)
from composer.app.piece.tracks import audible

#: Above this many notes in view, draw the raster way.
DENSE_NOTES = 2000
#: Outlines cost a stroke per note: only while notes are this tall and no more than this many.
OUTLINE_MIN_KEY_HEIGHT, OUTLINE_MAX_NOTES = 7.0, DENSE_NOTES
#: Notes narrower than this many pixels are drawn without a rim (they would be all rim).
MIN_OUTLINED_WIDTH_PX = 5.0
#: Drums are diamonds while rows are at least this tall; below, they are plain rects.
DIAMOND_MIN_KEY_HEIGHT = 5.0


def note_groups(notes: np.ndarray, selected: np.ndarray | None = None, tracks=None) -> np.ndarray:
    """Colour index per note: its track's colour * 4 + velocity bucket (its family's without
    `tracks`, the TrackInfo list), drums DRUM_GROUP * 4 + bucket, notes of tracks not heard
    MUTED_GROUP * 4 + bucket, selected notes (a boolean per note) SELECTED_GROUP * 4 + bucket."""
    if tracks:
        colours = np.array([t.colour for t in tracks], np.int64)
        track = np.clip(notes["track"], 0, len(tracks) - 1)
        family = np.where(notes["drum"], DRUM_GROUP, colours[track])
        family = np.where(audible(tracks)[track], family, MUTED_GROUP)
    else:
        family = np.where(notes["drum"], DRUM_GROUP, np.clip(notes["program"], 0, 127) // 8)
    if selected is not None:
        family = np.where(selected, SELECTED_GROUP, family)
    bucket = np.searchsorted(np.array(VELOCITY_BOUNDS), notes["velocity"], side="right")
    return family.astype(np.int64) * 4 + bucket


def paint_notes(
    p: QPainter,
    m: RollMapping,
    notes: np.ndarray,
    width: int,
    height: int,
    c: RollColors,
    selected: np.ndarray | None = None,
    tracks=None,
) -> None:
    """Draw `notes` (those overlapping the view: NoteModel.visible) onto the notes area;
    `selected` (a boolean per note) marks the ones drawn in the selection colour; `tracks`
    (TrackInfo list) gives the colours and which tracks are heard."""
    if len(notes) == 0:
        return
    left = m.keyboard_width
    start = notes["start"].astype(np.float64)
    x0 = np.floor(m.tick_to_x(start))
    x1 = np.floor(m.tick_to_x(np.maximum(notes["end"], notes["start"] + 1).astype(np.float64)))
    x1 = np.maximum(x1, x0 + 1)  # at least one pixel, however far out we zoom
    x1 -= (x1 - x0 >= 4).astype(np.float64)  # a 1-pixel gap between repeated notes
    # Clip to just outside the area, so a deep zoom never sends giant coordinates to Qt.
    x0, x1 = np.clip(x0, left - 1, width + 1), np.clip(x1, left - 1, width + 1)
    groups = note_groups(notes, selected, tracks)
    diamonds = notes["drum"] & (m.key_height >= DIAMOND_MIN_KEY_HEIGHT)
    flat = np.flatnonzero(~diamonds)
    dense = len(notes) > DENSE_NOTES
    p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    spans = x0[flat], x1[flat], notes["pitch"][flat], groups[flat]
    if len(flat) and not (dense and _raster(p, m, *spans, width, height, c)):
        outlined = m.key_height >= OUTLINE_MIN_KEY_HEIGHT and len(notes) <= OUTLINE_MAX_NOTES
        _rects(p, m, *spans, c, outlined)
    hits = np.flatnonzero(diamonds)
    if len(hits):
        _diamonds(p, m, x0[hits], notes["pitch"][hits], groups[hits], c, thin=dense)


def _rects(p, m: RollMapping, x0, x1, pitch, groups, c: RollColors, outlined: bool) -> None:
    """One drawRects per colour."""
    y0, y1 = row_edges(m, pitch)
    height = (y1 - y0 - (1.0 if m.key_height >= 5 else 0.0)).clip(1)  # a gap between rows
    rects = rect_array(x0, y0, x1 - x0, height)
    if outlined:
        # Qt strokes a rect's edge centred on it: half a pixel in keeps the rim inside.
        rects += (0.5, 0.5, -1.0, -1.0)
    # A note a few pixels wide would be all rim: only wider ones get one.
    rimmed = (x1 - x0 >= MIN_OUTLINED_WIDTH_PX) if outlined else np.zeros(len(x0), bool)
    order = np.lexsort((rimmed, groups))
    bounds = np.flatnonzero(np.diff(groups[order]) | np.diff(rimmed[order])) + 1
    for part in np.split(order, bounds):
        family, bucket = divmod(int(groups[part[0]]), 4)
        if rimmed[part[0]]:
            p.setPen(c.outline[family][bucket])
            part_rects = rects[part]
        else:
            p.setPen(Qt.PenStyle.NoPen)
            # Without a rim, undo the half-pixel inset that keeps a rim inside the note.
            part_rects = rects[part] - ((0.5, 0.5, -1.0, -1.0) if outlined else 0.0)
        p.setBrush(c.notes[family][bucket])
        draw_rects(p, part_rects)


def _raster(p, m: RollMapping, x0, x1, pitch, groups, width: int, height: int, c) -> bool:
    """Rasterise the notes with NumPy and draw them as one image. False (nothing drawn) when
    the notes cover too many pixels for that to pay (long notes, zoomed in)."""
    low, high = m.visible_pitches(height)
    rows = high - low + 1
    keep = (pitch >= low) & (pitch <= high)
    x0, x1, pitch, groups = x0[keep], x1[keep], pitch[keep], groups[keep]
    x0, x1 = x0.astype(np.int64), np.minimum(x1, width).astype(np.int64)
    widths = np.maximum(x1 - x0, 0)
    total = int(widths.sum())
    if total > 4 * rows * width:
        return False
    # One label per (row, pixel column): the colour index of the note drawn there (the last
    # one written wins, like the last one painted), or the transparent entry.
    transparent = len(c.note_argb) - 1
    label = np.full((rows + 1, width), transparent, np.int16)  # the extra row stays empty
    # Every pixel of every span: each span's start repeated over its width, plus 0, 1, 2...
    first = np.cumsum(widths) - widths
    columns = np.repeat(x0 - first, widths) + np.arange(total)
    label[np.repeat(high - pitch.astype(np.int64), widths), columns] = np.repeat(groups, widths)
    colors = c.note_argb[label]  # (rows + 1, width) 0xAARRGGBB
    # Which row each pixel line of the notes area shows, the same edges as the rects path.
    top, bottom = row_edges(m, np.arange(high, low - 1, -1))
    gap = 1.0 if m.key_height >= 5 else 0.0
    y = np.arange(m.ruler_height, height)
    row = np.searchsorted(top, y, side="right") - 1
    inside = (row >= 0) & (y < bottom[row.clip(0)] - gap)
    image_rows = np.ascontiguousarray(np.take(colors, np.where(inside, row, rows), axis=0))
    image = QImage(
        image_rows.data, width, len(y), width * 4, QImage.Format.Format_ARGB32_Premultiplied
    )
    p.drawImage(QPointF(0, m.ruler_height), image)  # Qt copies while image_rows is alive
    return True


def _diamonds(p, m: RollMapping, x0, pitch, groups, c: RollColors, thin: bool) -> None:
    """Drum hits as diamonds at their start: a drum note's length means nothing, its onset does.

    Drawn as squares in a coordinate system turned by 45 degrees: still one drawRects per colour.
    """
    y0, y1 = row_edges(m, pitch)
    if thin:
        # Crowded: one hit per half diamond width per row; the rest would overlap it anyway.
        cell = np.floor(x0 / max(m.key_height / 2, 1)).astype(np.int64)
        row = (y0 - y0.min()).astype(np.int64)
        keep = np.unique(row * (int(cell.max()) + 1) + cell, return_index=True)[1]
        x0, y0, y1, groups = x0[keep], y0[keep], y1[keep], groups[keep]
    size = np.minimum(y1 - y0, 16.0)  # corner to corner, pixels
    cx, cy = x0 + size / 2, (y0 + y1) / 2
    half = size / np.sqrt(2) / 2
    # Turning the painter by 45 degrees maps (u, v) to ((u - v) / r2, (u + v) / r2); invert it.
    u, v = (cx + cy) / np.sqrt(2), (cy - cx) / np.sqrt(2)
    squares = rect_array(u - half, v - half, 2 * half, 2 * half)
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.rotate(45)
    for group in np.unique(groups).tolist():
        family, bucket = divmod(group, 4)
        p.setPen(c.outline[family][bucket])
        p.setBrush(QColor(c.notes[family][bucket]))
        draw_rects(p, squares[groups == group])
    p.restore()
