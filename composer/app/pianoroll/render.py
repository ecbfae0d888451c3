"""Painting the piano roll: colours from the application palette, and one function per layer.

Every layer turns NumPy arrays of pixel coordinates into one `QPainter.drawRects` call per colour.
The rectangles go to Qt straight from a float64 array laid out like QRectF (x, y, w, h), so
50,000 notes cost no Python objects at all. Positions are widget pixels, times ticks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette, QPolygonF

from composer.app.pianoroll.mapping import RollMapping
from composer.core.midi.piece import note_name

#: Note colours by General MIDI family (program // 8): piano, chromatic percussion, organ,
#: guitar, bass, strings, ensemble, brass, reed, pipe, synth lead, synth pad, synth effects,
#: ethnic, percussive, sound effects. Mid-lightness hues read on dark and light backgrounds.
FAMILY_COLORS = (
    "#4f9dde", "#36bfb3", "#9b7be0", "#f0983a", "#e2574c", "#5dbb63", "#a7c94a", "#e8c23a",
    "#e0679a", "#4fc3e8", "#d35fd6", "#8c9ee8", "#6fd3a6", "#c98b5a", "#e57f6a", "#9aa5b1",
)  # fmt: skip
#: Velocity buckets (upper bounds, exclusive) and how far each is blended towards white: softer
#: notes are lighter.
VELOCITY_BOUNDS = (40, 72, 100)
VELOCITY_LIGHTEN = (0.55, 0.36, 0.17, 0.0)
DRUM_GROUP = len(FAMILY_COLORS)  # colour group of drums (after the 16 families)
SELECTED_GROUP = DRUM_GROUP + 1  # selected notes, whatever their instrument
MUTED_GROUP = SELECTED_GROUP + 1  # notes of tracks that mute or solo silence: faded
MAJOR_GAP_PX = 40.0  # bar lines closer than this are drawn faint, but for every 2nd, 4th...
BLACK_KEYS = np.array([0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0], dtype=bool)  # C, C#, D ... B


def mix(a: QColor, b: QColor, amount: float) -> QColor:
    """`a` moved `amount` (0-1) of the way towards `b`."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * amount,
        a.greenF() + (b.greenF() - a.greenF()) * amount,
        a.blueF() + (b.blueF() - a.blueF()) * amount,
        a.alphaF() + (b.alphaF() - a.alphaF()) * amount,
    )


@dataclass
class RollColors:
    """Every colour the roll uses, derived from a QPalette so dark and light themes both work."""

    dark: bool
    background: QColor
    black_row: QColor
    octave_line: QColor
    bar_line: QColor
    beat_line: QColor
    sub_line: QColor
    ruler: QColor
    ruler_text: QColor
    ruler_tick: QColor
    white_key: QColor
    black_key: QColor
    key_border: QColor
    key_label: QColor
    selection: QColor
    selection_edge: QColor
    playhead: QColor
    # [group][velocity bucket]; DRUM_GROUP drums, then SELECTED_GROUP, then MUTED_GROUP
    notes: list[list[QColor]]
    outline: list[list[QColor]]
    #: The note colours as 0xAARRGGBB, index group * 4 + bucket, then one transparent entry.
    note_argb: np.ndarray

    @classmethod
    def from_palette(cls, palette: QPalette) -> RollColors:
        base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
        window = palette.color(QPalette.ColorRole.Window)
        window_text = palette.color(QPalette.ColorRole.WindowText)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        dark = base.lightnessF() < 0.5
        white, black = QColor("white"), QColor("black")
        selection, edge = QColor(highlight), QColor(highlight)
        selection.setAlphaF(0.18)
        edge.setAlphaF(0.85)
        notes, outline = [], []
        # Selected notes are the text colour tinted with the highlight: the strongest contrast
        # with the background and the colour of no instrument (the highlight alone is the
        # same blue as a piano).
        selected_color = mix(text, highlight, 0.35).name()
        for hex_color in (*FAMILY_COLORS, None, selected_color):
            # Drums are neutral (the text colour) and drawn as diamonds, so they never pass for
            # a melodic instrument.
            drum_color = mix(text, base, 0.15 if dark else 0.3)
            color = drum_color if hex_color is None else QColor(hex_color)
            target = base if hex_color is None else white
            # On white, pale notes vanish sooner: lighten less there.
            scale = 1.0 if dark else 0.7
            if hex_color == selected_color:
                scale *= 0.4  # soft selected notes must not fade to a "disabled" grey
            shades = [mix(color, target, amount * scale) for amount in VELOCITY_LIGHTEN]
            notes.append(shades)
            # A darker rim separates touching notes; on a dark background a slightly darker
            # rim still reads, on a light one it must be stronger.
            outline.append([mix(c, black, 0.35 if dark else 0.45) for c in shades])
        # Muted notes: still there to edit, but clearly not heard; one faint shade for all.
        faded = mix(text, base, 0.8)
        notes.append([faded] * len(VELOCITY_LIGHTEN))
        outline.append([mix(text, base, 0.6)] * len(VELOCITY_LIGHTEN))
        return cls(
            dark=dark,
            background=base,
            black_row=mix(base, black, 0.22) if dark else mix(base, text, 0.055),
            octave_line=mix(base, text, 0.16 if dark else 0.14),
            bar_line=mix(base, text, 0.34 if dark else 0.32),
            beat_line=mix(base, text, 0.15 if dark else 0.14),
            sub_line=mix(base, text, 0.075 if dark else 0.07),
            ruler=window,
            ruler_text=window_text,
            ruler_tick=mix(window, window_text, 0.45),
            white_key=QColor("#e6e6e6" if dark else "#fbfbfb"),
            black_key=QColor("#1c1c1c" if dark else "#2b2b2b"),
            key_border=QColor("#8a8a8a" if dark else "#b4b4b4"),
            key_label=QColor("#555555" if dark else "#6a6a6a"),
            selection=selection,
            selection_edge=edge,
            playhead=QColor("#ff5147"),
            notes=notes,
            outline=outline,
            note_argb=np.array([q.rgba() for shades in notes for q in shades] + [0], np.uint32),
        )


def rect_array(x, y, w, h) -> np.ndarray:
    """(n, 4) float64 rectangles from columns; scalars are repeated to the arrays' length."""
    return np.stack(np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (x, y, w, h))), 1)


def draw_rects(painter: QPainter, rects: np.ndarray) -> None:
    """Draw (n, 4) rectangles (x, y, w, h in pixels) with one QPainter.drawRects call.

    A C-contiguous float64 (n, 4) array has QRectF's memory layout (four qreals), so Qt reads it
    in place through the pointer-and-count overload: no QRectF per rectangle.
    """
    if len(rects) == 0:
        return
    rects = np.ascontiguousarray(rects, dtype=np.float64)
    first = shiboken6.wrapInstance(rects.ctypes.data, QRectF)  # not owned: numpy frees it
    painter.drawRects(first, len(rects))


def row_edges(mapping: RollMapping, pitches) -> tuple[np.ndarray, np.ndarray]:
    """Integer top and bottom pixel rows of pitch rows: rounding both edges the same way keeps
    notes, shaded rows and keys aligned at any fractional scroll."""
    top = np.round(mapping.pitch_to_y(np.asarray(pitches, dtype=np.float64)))
    bottom = np.round(mapping.pitch_to_y(np.asarray(pitches, dtype=np.float64) - 1))
    return top, bottom


def paint_background(p: QPainter, m: RollMapping, width: int, height: int, c: RollColors) -> None:
    """Notes area: the base colour, black-key rows shaded and a line between each B and C."""
    left, top = m.keyboard_width, m.ruler_height
    p.fillRect(QRectF(left, top, width - left, height - top), c.background)
    low, high = m.visible_pitches(height)
    pitches = np.arange(low, high + 1)
    y0, y1 = row_edges(m, pitches)
    black = BLACK_KEYS[pitches % 12]
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c.black_row)
    draw_rects(p, rect_array(left, y0[black], width - left, (y1 - y0)[black]))
    p.setBrush(c.octave_line)
    draw_rects(p, rect_array(left, y1[pitches % 12 == 0] - 1, width - left, 1))


def paint_grid(p: QPainter, m: RollMapping, width: int, height: int, c: RollColors) -> None:
    """Bar, beat and subdivision lines: 1-pixel rectangles, faintest first."""
    grid = m.grid_lines(*m.visible_ticks(width))
    top, bars = m.ruler_height, grid.bars
    # Bar lines closer than MAJOR_GAP_PX fade to the beat colour but for every n-th, so a
    # zoomed-out grid still reads as phrases rather than as a wall of lines.
    major = m.bar_step(MAJOR_GAP_PX)
    if major > grid.bar_step:
        index = np.round(bars / m.bar_ticks).astype(np.int64)
        minor, bars = bars[index % major != 0], bars[index % major == 0]
    else:
        minor = bars[:0]
    beats = np.concatenate([grid.beats, minor])
    p.setPen(Qt.PenStyle.NoPen)
    layers = ((grid.subdivisions, c.sub_line), (beats, c.beat_line), (bars, c.bar_line))
    for ticks, color in layers:
        x = np.floor(m.tick_to_x(ticks))
        p.setBrush(color)
        draw_rects(p, rect_array(x[x >= m.keyboard_width], top, 1, height - top))


def paint_keyboard(p: QPainter, m: RollMapping, height: int, c: RollColors) -> None:
    """The keyboard strip: white keys with borders where real keys meet, shorter black keys,
    and a name on every C (C4 = middle C = 60)."""
    width, top = m.keyboard_width, m.ruler_height
    p.fillRect(QRectF(0, top, width, height - top), c.white_key)
    low, high = m.visible_pitches(height)
    pitches = np.arange(max(low - 1, 0), min(high + 1, 127) + 1)
    y0, y1 = row_edges(m, pitches)
    black = BLACK_KEYS[pitches % 12]
    # White keys meet mid-row of each black key, and at the bottom edge of each C and F row
    # (where B meets C and E meets F, with no black key between).
    name = pitches % 12
    edge = np.concatenate([((y0 + y1) / 2)[black], y1[(name == 0) | (name == 5)]])
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c.key_border)
    draw_rects(p, rect_array(0, np.floor(edge), width, 1))
    black_width = round(width * 0.58)
    p.setBrush(c.black_key)
    draw_rects(p, rect_array(0, y0[black], black_width, (y1 - y0)[black]))
    p.fillRect(QRectF(width - 1, top, 1, height - top), c.key_border)
    font = QFont(p.font())
    font.setPixelSize(int(np.clip(m.key_height * 0.85, 8, 11)))
    p.setFont(font)
    p.setPen(c.key_label)
    label_box = width - black_width - 4
    for pitch, top_y, bottom_y in zip(pitches, y0, y1):
        if pitch % 12 == 0:
            box = QRectF(black_width, (top_y + bottom_y) / 2 - 8, label_box, 16)
            align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            p.drawText(box, int(align), note_name(int(pitch)))


def paint_ruler(p: QPainter, m: RollMapping, width: int, c: RollColors) -> None:
    """The ruler: bar numbers (thinned out when bars are narrow), ticks for bars and beats."""
    height, left = m.ruler_height, m.keyboard_width
    p.fillRect(QRectF(0, 0, width, height), c.ruler)
    p.fillRect(QRectF(0, height - 1, width, 1), c.ruler_tick)
    t0, t1 = m.visible_ticks(width)
    grid = m.grid_lines(t0, t1)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c.ruler_tick)
    beats = np.floor(m.tick_to_x(grid.beats))
    beats = beats[beats >= left]
    draw_rects(p, rect_array(beats, height - 5, 1, 4))
    font = QFont(p.font())
    font.setPixelSize(11)
    p.setFont(font)
    label_step = m.bar_step(p.fontMetrics().horizontalAdvance("8888") + 8)
    first = int(np.ceil(t0 / (m.bar_ticks * label_step) - 1e-9)) * label_step
    bar = first
    while bar * m.bar_ticks <= t1:
        x = float(np.floor(m.tick_to_x(bar * m.bar_ticks)))
        label = str(bar + 1)
        if x >= left and x + 4 + p.fontMetrics().horizontalAdvance(label) <= width:
            p.fillRect(QRectF(x, 4, 1, height - 4), c.ruler_tick)
            p.setPen(c.ruler_text)
            p.drawText(QPointF(x + 4, height - 8), label)
        bar += label_step
    p.fillRect(QRectF(0, 0, left, height), c.ruler)  # the corner above the keyboard
    p.fillRect(QRectF(left - 1, 0, 1, height), c.ruler_tick)


def paint_selection(
    p: QPainter, m: RollMapping, start: int, end: int, width: int, height: int, c: RollColors
) -> None:
    """The selected time range: a translucent band over notes and ruler, edges marked."""
    x0 = max(float(m.tick_to_x(start)), m.keyboard_width)
    x1 = min(float(m.tick_to_x(end)), width)
    if x1 <= x0:
        return
    p.fillRect(QRectF(x0, 0, x1 - x0, height), c.selection)
    p.fillRect(QRectF(x0, 0, x1 - x0, m.ruler_height), c.selection)  # stronger in the ruler
    for tick in (start, end):
        x = float(np.floor(m.tick_to_x(tick)))
        if m.keyboard_width <= x <= width:
            p.fillRect(QRectF(x, 0, 1, height), c.selection_edge)


def paint_band(p: QPainter, rect: QRectF, c: RollColors) -> None:
    """The rubber band of a selection being dragged over the notes."""
    p.setPen(c.selection_edge)
    p.setBrush(c.selection)
    p.drawRect(rect)


def paint_playhead(p: QPainter, m: RollMapping, x: float, height: int, c: RollColors) -> None:
    """The playhead: a line over the notes and a small downward triangle in the ruler."""
    p.fillRect(QRectF(x, m.ruler_height - 6, 1.5, height), c.playhead)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(c.playhead)
    bottom = m.ruler_height - 2
    p.drawPolygon(
        QPolygonF(
            [QPointF(x - 5, bottom - 9), QPointF(x + 6.5, bottom - 9), QPointF(x + 0.75, bottom)]
        )
    )
