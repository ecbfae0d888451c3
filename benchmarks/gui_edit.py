"""Editing speed in the piano roll, offscreen, on a 50,000-note piece.

1. Moving 10,000 selected notes one grid step (an undoable command on the note model) and
   undoing it, each followed by a full repaint of the view. Baseline: applying the same change
   the simple way, by replacing the whole piece in the model (`set_notes`), plus the repaint.
2. The frames of a drag in progress, after the press: a mouse move on the real view plus a
   repaint of the roll and the velocity lane, per move (while dragging, the roll blits its
   picture of the other notes and draws the dragged ones; the piece changes at the release).
   Baseline: a full repaint with no edit (what scrolling by one pixel costs). Goal: every frame
   within 16 ms.

    QT_QPA_PLATFORM=offscreen python benchmarks/gui_edit.py [--notes 50000]
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from gui_paint import SIZE, TICKS_PER_BEAT, random_notes  # noqa: E402
from PySide6.QtCore import QEvent, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

MOVES = 40  # mouse moves per measured drag


def _ms(times) -> str:
    return f"median {statistics.median(times):.1f} ms, worst {max(times):.1f} ms"


def _editor(notes: np.ndarray):
    """A window-less editor (document, piano roll, velocity lane) showing `notes`."""
    from PySide6.QtGui import QUndoStack

    from composer.app.documents import Documents

    documents = Documents()
    document = documents.new_document("bench")
    document.model.set_notes(notes, TICKS_PER_BEAT)
    documents.add_documents([document])
    editor = documents.editor(document)
    documents.tabs.resize(*SIZE)
    documents.tabs.show()
    QApplication.processEvents()
    editor.view.mapping.fit_ticks(0, 8 * 4 * TICKS_PER_BEAT, editor.view.viewport().width())
    editor.view.refresh()
    assert isinstance(documents.undo_stack, QUndoStack)
    return documents, editor


def _repaint(editor) -> None:
    editor.view.viewport().repaint()
    editor.lane.repaint()


def move_and_undo(count: int, repeats: int = 10) -> dict[str, list[float]]:
    documents, editor = _editor(random_notes(count))
    model = editor.document.model
    model.select(np.arange(10_000))
    times: dict[str, list[float]] = {"move": [], "undo": [], "replace": []}
    for _ in range(repeats):
        started = time.perf_counter()
        editor.note_editor.nudge(1, 0)
        _repaint(editor)
        times["move"].append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        documents.undo_stack.undo()
        _repaint(editor)
        times["undo"].append((time.perf_counter() - started) * 1000)
        moved = model.notes.copy()
        moved["start"][:10_000] += 120
        moved["end"][:10_000] += 120
        started = time.perf_counter()
        model.set_notes(moved, TICKS_PER_BEAT)  # the baseline: the whole piece replaced
        _repaint(editor)
        times["replace"].append((time.perf_counter() - started) * 1000)
        model.select(np.arange(10_000))
    documents.tabs.close()
    return times


def drag_frames(count: int, selected: int, whole_piece: bool) -> dict[str, list[float]]:
    """Frame times of a drag of `selected` notes (those nearest the start of the view)."""
    documents, editor = _editor(random_notes(count, seed=1))
    view, model = editor.view, editor.document.model
    if whole_piece:
        view.framing.zoom_to_fit()
        QApplication.processEvents()
    m = view.mapping
    order = np.argsort(model.notes["start"], kind="stable")
    model.select(order[:selected])
    grabbed = model.notes[order[0]]
    press = QPointF(m.tick_to_x(int(grabbed["start"])) + 1, m.pitch_to_y(int(grabbed["pitch"])) + 1)
    viewport = view.viewport()

    def send(kind, pos, button=Qt.LeftButton, buttons=Qt.LeftButton):
        event = QMouseEvent(kind, pos, viewport.mapToGlobal(pos), button, buttons, Qt.NoModifier)
        QApplication.sendEvent(viewport, event)

    static = []
    for i in range(MOVES):
        view.mapping.left_tick = view.mapping.left_tick + (1 if i % 2 else -1) / m.pixels_per_tick
        started = time.perf_counter()
        _repaint(editor)
        static.append((time.perf_counter() - started) * 1000)
    send(QEvent.MouseButtonPress, press)
    _repaint(
        editor
    )  # the event loop paints after the press (the picture without the grabbed notes)
    frames = []
    for i in range(1, MOVES + 1):
        pos = press + QPointF(7 * i, 3 * (i % 5))  # right and up and down: new ticks and rows
        started = time.perf_counter()
        send(QEvent.MouseMove, pos, Qt.NoButton)
        _repaint(editor)
        frames.append((time.perf_counter() - started) * 1000)
    send(QEvent.MouseButtonRelease, pos, Qt.LeftButton, Qt.NoButton)
    steps = documents.undo_stack.count()
    documents.tabs.close()
    assert view.render_count > MOVES, "the view did not repaint"
    assert steps == 1, f"a drag should be one undo step, was {steps}"
    return {"drag": frames, "static": static}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        os.environ["COMPOSER_DATA_DIR"] = data
        from composer.app.main import create_app

        create_app()
        report(args.notes)


def report(count: int) -> None:
    times = move_and_undo(count)
    move, undo, replace = (statistics.median(times[k]) for k in ("move", "undo", "replace"))
    print(
        f"move 10,000 of {count:,} selected notes one step + repaint: {_ms(times['move'])}; "
        f"undo it: {_ms(times['undo'])}; baseline (replace the whole piece + repaint) "
        f"{_ms(times['replace'])}; ratio move/baseline {move / replace:.2f}, "
        f"undo/baseline {undo / replace:.2f}"
    )
    for selected, whole in ((10_000, False), (count, False), (10_000, True), (count, True)):
        frames = drag_frames(count, selected, whole)
        within = sum(t <= 16 for t in frames["drag"])
        view = "whole piece in view" if whole else "8 bars in view"
        print(
            f"drag frames, {selected:,} of {count:,} notes selected, {view}: {_ms(frames['drag'])}, "
            f"{within}/{len(frames['drag'])} within 16 ms; baseline repaint without an edit "
            f"{_ms(frames['static'])}; ratio of medians "
            f"{statistics.median(frames['drag']) / statistics.median(frames['static']):.2f}"
        )


if __name__ == "__main__":
    main()
