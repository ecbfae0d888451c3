"""Editing in the piano roll, driven as a person would: mouse and keys on the real view
(offscreen), checked on the note model and in the exported MIDI; and undo that takes a whole
sequence of edits back to the original bytes."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from composer.app.editing import note_math
from tests.editing_helpers import TPB, end_point, little_tune, note_point, row


@pytest.fixture
def tune(window, tmp_path):
    """The window showing a small real MIDI file, its piano roll zoomed to 2 bars."""
    path = little_tune(tmp_path / "tune.mid")
    assert window.pieces.open_midi_file(path)
    editor = window.documents.current_editor()
    editor.view.resize(1000, 600)
    editor.view.mapping.fit_ticks(0, 8 * TPB, editor.view.viewport().width())
    editor.view.framing.fit_pitch_range()
    return editor


def press_drag(qtbot, widget, start: QPoint, end: QPoint, modifiers=Qt.NoModifier, steps=4):
    """A left-button drag from `start` to `end` through a few intermediate moves, the keys in
    `modifiers` held throughout (QTest's own mouseMove carries no modifiers)."""
    qtbot.mousePress(widget, Qt.LeftButton, modifiers, start)
    for i in range(1, steps + 1):
        pos = QPointF(start + (end - start) * i / steps)
        move = QMouseEvent(
            QEvent.MouseMove, pos, widget.mapToGlobal(pos), Qt.NoButton, Qt.LeftButton, modifiers
        )
        QApplication.sendEvent(widget, move)
    qtbot.mouseRelease(widget, Qt.LeftButton, modifiers, end)


def test_click_shift_click_rubber_band_and_select_all(window, tune, qtbot):
    view, model = tune.view, tune.document.model
    viewport = view.viewport()
    qtbot.mouseClick(viewport, Qt.LeftButton, Qt.NoModifier, note_point(view, 240, 62))
    assert model.notes[model.selected_indices()]["start"].tolist() == [240]
    qtbot.mouseClick(viewport, Qt.LeftButton, Qt.ShiftModifier, note_point(view, 720, 65))
    assert sorted(model.notes[model.selected_indices()]["start"].tolist()) == [240, 720]
    qtbot.mouseClick(viewport, Qt.LeftButton, Qt.ControlModifier, note_point(view, 240, 62))
    assert model.notes[model.selected_indices()]["start"].tolist() == [720]
    # A rubber band over the first beat's two melody notes (empty space to empty space).
    m = view.mapping
    top_left = QPoint(round(m.tick_to_x(-0) + 2), round(m.pitch_to_y(63)))
    bottom_right = QPoint(round(m.tick_to_x(470)), round(m.pitch_to_y(59)))
    press_drag(qtbot, viewport, top_left, bottom_right)
    picked = model.notes[model.selected_indices()]
    assert sorted(zip(picked["start"].tolist(), picked["pitch"].tolist())) == [(0, 60), (240, 62)]
    window.actions_by_name["select_all_notes"].trigger()
    assert len(model.selected_indices()) == len(model)
    qtbot.mouseClick(viewport, Qt.LeftButton, Qt.NoModifier, QPoint(m.keyboard_width + 3, 400))
    assert len(model.selected_indices()) == 0  # a click on empty space clears the selection


def test_dragging_moves_on_the_grid_and_alt_moves_freely(window, tune, qtbot):
    view, model = tune.view, tune.document.model
    m = view.mapping
    start = note_point(view, 490, 64, into=20)  # the note 10 ticks late
    # Right by a bit more than a sixteenth and up two rows: lands on the grid line nearest.
    target = start + QPoint(round(130 * m.pixels_per_tick), -round(2 * m.key_height))
    press_drag(qtbot, view.viewport(), start, target)
    moved = row(model, 600, 66)  # 490 + 130 = 620 -> nearest sixteenth (120 ticks) is 600
    assert moved["end"] - moved["start"] == 200 and moved["velocity"] == 90
    press_drag(qtbot, view.viewport(), note_point(view, 600, 66, into=20),
               note_point(view, 600, 66, into=20) + QPoint(round(35 * m.pixels_per_tick), 0),
               Qt.AltModifier)  # fmt: skip
    freely = model.notes[model.selected_indices()][0]
    assert freely["pitch"] == 66 and freely["start"] % 120 != 0  # off the grid: Alt bypassed it
    assert abs(int(freely["start"]) - 635) <= 2


def test_dragging_a_notes_end_changes_its_length(window, tune, qtbot):
    view, model = tune.view, tune.document.model
    m = view.mapping
    bass_end = end_point(view, 1900, 36)
    press_drag(
        qtbot, view.viewport(), bass_end, bass_end + QPoint(round(400 * m.pixels_per_tick), 0)
    )
    assert row(model, 0, 36)["end"] == 2280  # 1900 + 400 -> nearest sixteenth line 2280


def test_double_click_and_the_pencil_draw_notes(window, tune, qtbot):
    view, model = tune.view, tune.document.model
    m = view.mapping
    window.documents.settings.update(velocity=55)
    count = len(model)
    spot = QPoint(round(m.tick_to_x(2 * TPB + 130)), round(m.pitch_to_y(50) + m.key_height / 2))
    qtbot.mouseDClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, spot)
    assert len(model) == count + 1
    drawn = row(model, 1080, 50)  # the sixteenth cell the pointer was in: 1090 -> 1080
    assert drawn["end"] - drawn["start"] == 120 and drawn["velocity"] == 55
    assert drawn["program"] == 0  # the piece's most used instrument (the piano)
    window.actions_by_name["draw_tool"].trigger()
    assert window.documents.settings.tool == "draw"
    start = QPoint(round(m.tick_to_x(4 * TPB + 10)), round(m.pitch_to_y(48) + m.key_height / 2))
    press_drag(qtbot, view.viewport(), start, start + QPoint(round(TPB * m.pixels_per_tick), 0))
    long_one = row(model, 1920, 48)
    assert long_one["end"] - long_one["start"] == 600  # drawn, then dragged a beat longer
    assert window.documents.undo_stack.undoText() == "Draw a note"  # both: one step
    window.actions_by_name["undo"].trigger()
    assert len(model) == count + 1  # the pencil's note is gone, the double-clicked one stays
    window.actions_by_name["redo"].trigger()
    assert row(model, 1920, 48)["end"] == 2520
    window.actions_by_name["draw_tool"].trigger()
    assert window.documents.settings.tool == "select"


def test_keys_move_by_grid_steps_semitones_and_octaves(window, tune, qtbot):
    view, model = tune.view, tune.document.model
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, note_point(view, 960, 67))
    for key, modifier in ((Qt.Key_Right, Qt.NoModifier), (Qt.Key_Up, Qt.NoModifier),
                          (Qt.Key_Up, Qt.ShiftModifier)):  # fmt: skip
        qtbot.keyClick(view, key, modifier)
    assert row(model, 1080, 80)["velocity"] == 70  # a sixteenth later, 1 + 12 semitones up
    window.grid_box.setCurrentText("1/8 triplet")
    qtbot.keyClick(view, Qt.Key_Left)
    assert row(model, 1080 - 160, 80)["end"] == 1080 - 160 + 200
    qtbot.keyClick(view, Qt.Key_Down, Qt.ShiftModifier)
    qtbot.keyClick(view, Qt.Key_Right, Qt.ShiftModifier)  # a whole bar
    assert row(model, 920 + 4 * TPB, 68)["velocity"] == 70


def test_delete_duplicate_copy_cut_paste(window, tune, qtbot):
    view, model = tune.view, tune.document.model
    actions = window.actions_by_name
    count = len(model)
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, note_point(view, 0, 60))
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, Qt.ShiftModifier, note_point(view, 240, 62))
    actions["duplicate_notes"].trigger()  # the two eighths again, right after them
    assert len(model) == count + 2
    assert row(model, 480, 60)["end"] == 680 and row(model, 720, 62)["velocity"] == 80
    actions["copy_notes"].trigger()
    view.set_playhead(7 * TPB + 30)  # pasted at the playhead, on the grid
    actions["paste_notes"].trigger()
    assert row(model, 7 * TPB, 60)["end"] == 7 * TPB + 200 and len(model) == count + 4
    actions["cut_notes"].trigger()
    assert len(model) == count + 2
    view.set_playhead(0)
    actions["paste_notes"].trigger()
    assert len(model) == count + 4
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, note_point(view, 1920, 43))
    qtbot.keyClick(view, Qt.Key_Delete)
    assert len(model) == count + 3
    assert not ((model.notes["start"] == 1920) & (model.notes["pitch"] == 43)).any()


def test_quantize_moves_towards_the_grid_by_the_strength(window, tune, qtbot):
    model = tune.document.model
    window.strength_box.setValue(50)
    window.grid_box.setCurrentText("1/8")
    window.actions_by_name["quantize_notes"].trigger()  # no selection: every note
    assert row(model, 485, 64)["end"] == 685  # 490 is 10 late: half of it corrected
    assert row(model, 1205, 65)["velocity"] == 80
    window.strength_box.setValue(100)
    window.actions_by_name["quantize_notes"].trigger()
    assert np.all(model.notes["start"] % 240 == 0)


def test_the_velocity_lane_sets_velocities_by_dragging(window, tune, qtbot):
    view, model, lane = tune.view, tune.document.model, tune.lane
    m = view.mapping
    y = round(lane.velocity_to_y(30))
    start, end = QPoint(round(m.tick_to_x(0)) - 2, y), QPoint(round(m.tick_to_x(730)), y)
    press_drag(qtbot, lane, start, end, steps=8)
    notes = model.notes
    early = notes[notes["start"] <= 720]
    assert np.all(np.abs(early["velocity"].astype(int) - 30) <= 2)
    assert row(model, 960, 67)["velocity"] == 70  # not under the drag: untouched
    assert window.documents.undo_stack.count() == 2  # opening the file, then one drag
    window.documents.settings.update(velocity=1)
    tune.note_editor.set_velocities([0], 99)
    assert window.documents.settings.velocity == 99  # the last velocity set is the next note's


def test_undo_returns_every_byte_and_redo_every_edit(window, tune, qtbot, tmp_path):
    view, model, document = tune.view, tune.document.model, tune.document
    stack = window.documents.undo_stack
    original = model.notes.copy()
    assert window.exporting.export_variation(0, tmp_path / "before.mid")
    assert not document.modified
    first = stack.index()
    # A sequence of every kind of edit.
    qtbot.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, note_point(view, 240, 62))
    press_drag(qtbot, view.viewport(), note_point(view, 240, 62, 20),
               note_point(view, 240, 62, 20) + QPoint(60, -30))  # fmt: skip
    qtbot.keyClick(view, Qt.Key_Up, Qt.ShiftModifier)
    window.actions_by_name["duplicate_notes"].trigger()
    window.actions_by_name["select_all_notes"].trigger()
    window.actions_by_name["quantize_notes"].trigger()
    qtbot.keyClick(view, Qt.Key_Delete)
    qtbot.mouseDClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, QPoint(400, 300))
    press_drag(qtbot, tune.lane, QPoint(60, 10), QPoint(900, 40))
    assert document.modified and stack.index() - first >= 7
    edited = model.notes.copy()
    assert window.exporting.export_variation(0, tmp_path / "after.mid")
    while stack.index() > first:
        window.actions_by_name["undo"].trigger()
    assert model.notes.tobytes() == original.tobytes()
    assert document.modified  # no longer what was exported last (after.mid)
    assert window.exporting.write_piece(0, tmp_path / "undone.mid")
    assert (tmp_path / "undone.mid").read_bytes() == (tmp_path / "before.mid").read_bytes()
    while stack.canRedo():
        window.actions_by_name["redo"].trigger()
    assert model.notes.tobytes() == edited.tobytes()
    assert not document.modified  # exactly what after.mid holds again
    assert window.exporting.write_piece(0, tmp_path / "redone.mid")
    assert (tmp_path / "redone.mid").read_bytes() == (tmp_path / "after.mid").read_bytes()


def test_ten_thousand_selected_notes_move_and_undo_as_one_step(window, qtbot):
    from composer.core.midi.piece import Piece, Track, make_notes

    rng = np.random.default_rng(4)
    starts = np.sort(rng.integers(0, 400 * TPB, 10_000))
    piece = Piece(
        TPB,
        [
            Track(
                0,
                False,
                "",
                make_notes(starts, starts + 100, rng.integers(30, 90, 10_000), [80] * 10_000),
            )
        ],
    )
    (document,) = window.pieces.show_pieces([piece], ["many"])
    editor = window.documents.editor(document)
    before = document.model.notes.copy()
    window.actions_by_name["select_all_notes"].trigger()
    qtbot.keyClick(editor.view, Qt.Key_Right)
    qtbot.keyClick(editor.view, Qt.Key_Up)
    notes = document.model.notes
    assert np.array_equal(notes["start"], before["start"] + 120)
    assert np.array_equal(notes["pitch"], before["pitch"] + 1)
    window.actions_by_name["undo"].trigger()
    window.actions_by_name["undo"].trigger()
    assert document.model.notes.tobytes() == before.tobytes()


def test_grid_choices_and_note_math():
    assert note_math.grid_ticks(480, note_math.GRIDS["1/16"]) == 120
    assert note_math.grid_ticks(480, note_math.GRIDS["1/8 triplet"]) == 160
    assert note_math.grid_ticks(96, note_math.GRIDS["1/32"]) == 12
    rows = np.zeros(2, dtype=[("start", "<i8"), ("end", "<i8"), ("pitch", "<i2")])
    rows["start"], rows["end"], rows["pitch"] = [10, 500], [20, 600], [2, 120]
    assert note_math.clamp_move(rows, -50, 20) == (-10, 7)  # the group stays inside the piece
    moved = note_math.moved(rows, -50, -10)
    assert moved["start"].tolist() == [0, 490] and moved["pitch"].tolist() == [0, 118]


def test_note_names_on_hover_the_tracks_panel_and_the_shortcuts_list(window, tune, qtbot):
    from composer.app.edit_actions import ShortcutsDialog

    view = tune.view
    note = QPointF(note_point(view, 960, 67))
    assert (
        view.note_input.describe_at(note)
        == "G4 · Acoustic Grand Piano · velocity 70 · bar 1, beat 3"
    )
    key = QPointF(10, view.mapping.pitch_to_y(61) + 3)
    assert view.note_input.describe_at(key) == "C#4"
    table = window.tracks.table  # the Tracks panel is the colour legend now
    instruments = [table.item(r, 1).text() for r in range(table.rowCount())]
    assert instruments == ["▾ Acoustic Grand Piano", "▾ Electric Bass (finger)"]
    dialog = ShortcutsDialog(window.actions_by_name, window)
    rows = {
        dialog.table.item(r, 1).text(): dialog.table.item(r, 0).text()
        for r in range(dialog.table.rowCount())
    }
    assert "Ctrl+Z" in rows["Undo"] and "Ctrl+Y" in rows["Redo"]
    assert rows["Duplicate"] == "Ctrl+D" and rows["Quantize to the grid"] == "Q"
    assert (
        rows["Move the selected notes (snapped to the grid; hold Alt not to snap)"] == "Drag a note"
    )


COPY_THEN_QUIT = """
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from composer.app.main import create_app
from composer.app.window import MainWindow

app = create_app()
window = MainWindow()
window.show()  # closing the last shown window ends app.exec()
window.pieces.open_midi_file(Path(sys.argv[1]))
window.actions_by_name["select_all_notes"].trigger()
window.actions_by_name["copy_notes"].trigger()
QTimer.singleShot(0, window.close_keeping_session)
app.exec()
print("quit cleanly", flush=True)
"""


@pytest.mark.slow
def test_quitting_after_copying_notes_exits_cleanly(tmp_path):
    """PySide6 crashed at exit while the clipboard held notes copied from Python."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", COMPOSER_DATA_DIR=str(tmp_path / "d"))
    tune_file = little_tune(tmp_path / "tune.mid")
    done = subprocess.run(
        [sys.executable, "-c", COPY_THEN_QUIT, str(tune_file)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and "quit cleanly" in done.stdout, done.stderr[-2000:]


def test_quantizing_onto_one_onset_leaves_one_note_not_two_note_ons(window, tune, qtbot):
    """Two eighths of one pitch a 32nd apart, quantized to quarters, land on one onset: the
    longer stays (the exported file had two note-ons there); one undo gives both back."""
    model = tune.document.model
    rows = model.notes.copy()
    rows = rows[:2].copy()
    rows["start"], rows["end"], rows["pitch"] = [0, 60], [240, 480], 70
    rows["track"], rows["program"] = 0, 0
    tune.note_editor.add(rows, "Draw two notes")
    before = model.notes.copy()
    window.editing.grid_box.setCurrentText("1/4")
    model.select(np.arange(len(model) - 2, len(model)))
    window.actions_by_name["quantize_notes"].trigger()
    at = model.notes[(model.notes["pitch"] == 70)]
    assert len(at) == 1 and at["start"][0] == 0 and at["end"][0] - at["start"][0] == 420
    window.actions_by_name["undo"].trigger()
    assert model.notes.tobytes() == before.tobytes()
