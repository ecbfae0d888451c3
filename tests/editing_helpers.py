"""Helpers for the editing tests: a small real MIDI file, and where its notes are on screen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, Qt

from composer.core.midi import write_midi
from composer.core.midi.piece import Piece, Track, make_notes, make_tempos

TPB = 480


def little_tune(path: Path) -> Path:
    """A two-instrument, two-bar MIDI file at 90 BPM: a piano melody of eighths, off the grid
    here and there, and a bass line."""
    starts = [0, 240, 490, 720, 960, 1210, 1440, 1680, 1920, 2400, 2880, 3360]
    pitches = [60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72]
    melody = make_notes(starts, [s + 200 for s in starts], pitches, [70, 80, 90, 100] * 3)
    bass = make_notes([0, 1920], [1900, 3800], [36, 43], [96, 96])
    piece = Piece(
        TPB, [Track(0, False, "Piano", melody), Track(33, False, "Bass", bass)],
        make_tempos([(0, 666_667)]),
    )  # fmt: skip
    write_midi(piece, path)
    return path


def note_point(view, start: int, pitch: int, into: int = 4) -> QPoint:
    """The viewport pixel `into` pixels inside the note starting at `start` on row `pitch`."""
    m = view.mapping
    x = m.tick_to_x(start) + into
    y = m.pitch_to_y(pitch) + m.key_height / 2
    return QPoint(round(x), round(y))


def end_point(view, end: int, pitch: int) -> QPoint:
    """The pixel just inside the right end of a note ending at `end`."""
    m = view.mapping
    return QPoint(round(m.tick_to_x(end)) - 2, round(m.pitch_to_y(pitch) + m.key_height / 2))


def row(model, start: int, pitch: int):
    """The note of `model` starting at `start` on `pitch` (exactly one must)."""
    notes = model.notes
    found = notes[(notes["start"] == start) & (notes["pitch"] == pitch)]
    assert len(found) == 1, f"{len(found)} notes at {start}, {pitch}"
    return found[0]


def click_box(qtbot, table, row: int, column: int) -> None:
    """Click the check box of a table cell (the Tracks panel's Mute, Solo, Rewrite), where a
    person clicks: on the box at the left of the cell."""
    from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem

    rect = table.visualItemRect(table.item(row, column))
    option = QStyleOptionViewItem()
    option.rect = rect
    option.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    box = QApplication.style().subElementRect(
        QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, table
    )
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=box.center())
