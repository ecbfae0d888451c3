"""The Tracks panel on a big piece, offscreen: a 64-track, 50,000-note MIDI file opened in the
real window, then clicks on the panel as a musician makes them.

1. Toggling Mute on a track: the click on the box, the panel and the note model updated, and the
   piano roll repainted (its muted notes faded).
2. Making another track the active one: the click on its row, and the roll repainted.
Baseline, in the same run: the roll painted again from scratch (all its notes, as a change of
colours needs), with nothing else changed. Goal: each under 16 ms.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_tracks.py [--tracks 64] [--notes 50000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

TURNS = 20


def big_piece(tracks: int, notes: int):
    """`tracks` tracks of random notes over about 12 minutes at 120 BPM, `notes` in all."""
    from composer.core.midi.piece import Piece, Track, make_notes, make_tempos

    rng = np.random.default_rng(0)
    each = notes // tracks
    made = []
    for index in range(tracks):
        start = np.sort(rng.integers(0, 480 * 4 * 360, each))
        length = rng.choice([120, 240, 480, 960], each)
        pitch = rng.integers(36, 96, each)
        velocity = rng.integers(40, 120, each)
        drum = index == tracks - 1
        made.append(
            Track(
                0 if drum else index % 128,
                drum,
                f"Part {index + 1}",
                make_notes(start, start + length, pitch, velocity),
            )
        )
    return Piece(480, made, make_tempos())


def box_point(table, row: int, column: int):
    """Where a person clicks a cell's check box."""
    from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem

    option = QStyleOptionViewItem()
    option.rect = table.visualItemRect(table.item(row, column))
    option.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    style = QApplication.style()
    return style.subElementRect(
        QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, table
    ).center()


def timed(app, view, action) -> float:
    """ms for `action()` and the events it posts, then a repaint of the roll."""
    started = time.perf_counter()
    action()
    app.processEvents()
    view.viewport().repaint()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=64)
    parser.add_argument("--notes", type=int, default=50_000)
    args = parser.parse_args()
    report(args.tracks, args.notes)


def report(tracks: int, notes: int) -> None:
    """Print the figures for a piece of `tracks` tracks and `notes` notes."""
    args = argparse.Namespace(tracks=tracks, notes=notes)
    before = os.environ.get("COMPOSER_DATA_DIR")
    try:
        with tempfile.TemporaryDirectory() as data:
            os.environ["COMPOSER_DATA_DIR"] = data  # a session of its own
            _measure(args, data)
    finally:
        if before is not None:
            os.environ["COMPOSER_DATA_DIR"] = before


def _measure(args, data: str) -> None:
    """Open the piece in a real window and time the clicks (see the module doc)."""
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, data)
    from composer.app.main import create_app
    from composer.app.panels.tracks_panel import MUTE, NAME
    from composer.app.window import MainWindow
    from composer.core.midi import write_midi

    app = create_app()
    window = MainWindow()
    window.resize(1600, 1000)
    window.show()
    path = write_midi(big_piece(args.tracks, args.notes), Path(data) / "big.mid")
    assert window.pieces.open_midi_file(path)
    app.processEvents()
    view, table = window.documents.current_editor().view, window.tracks.table
    view.framing.zoom_to_fit()
    view.viewport().repaint()
    left = Qt.MouseButton.LeftButton
    idle = [timed(app, view, view.redraw) for _ in range(TURNS)]
    mute = []
    for turn in range(TURNS):
        row = turn % 8  # rows on screen
        point = box_point(table, row, MUTE)
        mute.append(
            timed(app, view, lambda at=point: QTest.mouseClick(table.viewport(), left, pos=at))
        )
    active = []
    for turn in range(TURNS):
        point = table.visualItemRect(table.item(turn % 8, NAME)).center()
        active.append(
            timed(app, view, lambda at=point: QTest.mouseClick(table.viewport(), left, pos=at))
        )
    muted = sum(t.muted for t in window.documents.current().model.tracks)
    assert window.documents.current().active_track == (TURNS - 1) % 8
    notes = len(window.documents.current().model)

    def said(times) -> str:
        median = statistics.median(times)
        return f"median {median:.1f} ms, worst {max(times):.1f} ms"

    base = statistics.median(idle)
    print(f"{args.tracks} tracks, {notes:,} notes ({muted} muted at the end), {TURNS} clicks each:")
    print(f"  the roll painted again, nothing else (baseline): {said(idle)}")
    print(f"  toggle Mute: {said(mute)}, ratio {statistics.median(mute) / base:.2f} (goal < 16 ms)")
    print(
        f"  choose the active track: {said(active)}, ratio {statistics.median(active) / base:.2f} "
        "(goal < 16 ms)"
    )
    window.close_keeping_session()


if __name__ == "__main__":
    main()
