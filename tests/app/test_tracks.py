"""Tracks (issue 27): the Tracks panel beside the roll, driven as a musician does on the real
widgets: rename, add, delete, duplicate, another instrument, notes moved between tracks, the
active track, mute and solo; every edit one undo step that gives back the original bytes, the
tracks written to the exported MIDI, heard (or not) when playing, and kept by the session."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLineEdit

from composer.app.panels.tracks_panel import INSTRUMENT, MUTE, NAME, SOLO
from composer.app.pianoroll.render import MUTED_GROUP
from composer.app.piece.tracks import TrackInfo, tracks_from_json, tracks_to_json
from composer.core.midi import read_midi
from composer.core.midi.piece import Piece, Track, make_notes, make_tempos
from tests.app.test_playback import FakePort
from tests.conftest import corpus
from tests.editing_helpers import click_box, little_tune, note_point


@pytest.fixture
def tune(window, tmp_path):
    """The window showing a two-track file (Piano, Bass), the Tracks panel beside the roll."""
    assert window.pieces.open_midi_file(little_tune(tmp_path / "tune.mid"))
    editor = window.documents.current_editor()
    editor.resize(1400, 700)
    return editor


def cell_point(table, row: int, column: int) -> QPoint:
    return table.visualItemRect(table.item(row, column)).center()


def menu_action(menu, *path: str):
    """The action at `path` (submenu titles, then the action's text) in a QMenu."""
    for title in path[:-1]:
        menu = next(a.menu() for a in menu.actions() if a.menu() and a.text() == title)
    return next(a for a in menu.actions() if a.text() == path[-1])


def rename(qtbot, panel, row: int, name: str) -> None:
    """Double-click the track's name, type the new one, press Enter."""
    table = panel.table
    at = cell_point(table, row, NAME)
    # A person's double click is a press, a release and a second press: QTest's mouseDClick
    # sends only the last, which the view ignores without the first.
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=at)
    editor = table.viewport().findChild(QLineEdit) or table.findChild(QLineEdit)
    assert editor is not None and table.state() == table.State.EditingState
    editor.selectAll()
    qtbot.keyClicks(editor, name)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.document.model.tracks[row].name == name)


def test_the_panel_lists_the_tracks_of_a_file_and_the_roll_colours_them(window, tune):
    table = window.tracks.table
    assert table.rowCount() == 2
    assert [table.item(r, NAME).text() for r in range(2)] == ["Piano", "Bass"]
    assert [table.item(r, 2).text() for r in range(2)] == ["12", "2"]  # notes per track
    colours = [t.colour for t in tune.document.model.tracks]
    assert len(set(colours)) == 2  # each track its colour


def test_track_edits_are_undo_steps_written_to_midi_and_undone_to_the_same_bytes(
    window, tune, qtbot, tmp_path
):
    panel, table, document = window.tracks, window.tracks.table, tune.document
    model, stack = document.model, window.documents.undo_stack
    original_notes, original_tracks = model.notes.copy(), model.tracks
    steps = stack.count()

    rename(qtbot, panel, 0, "Lead")
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell_point(table, 1, NAME))
    assert document.active_track == 1
    qtbot.mouseClick(
        table.viewport(), Qt.MouseButton.LeftButton, pos=cell_point(table, 1, INSTRUMENT)
    )
    menu_action(panel._menu, "Bass", "Fretless Bass").trigger()  # the menu the click opened
    menu_action(panel.add_button.menu(), "Strings", "Cello").trigger()
    assert document.active_track == 2 and model.tracks[2].instrument == "Cello"
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell_point(table, 0, NAME))
    qtbot.mouseClick(panel.duplicate_button, Qt.MouseButton.LeftButton)
    assert [t.name for t in model.tracks] == ["Lead", "Lead copy", "Bass", "Cello"]
    # Move the bass's second note to the cello, through the row's context menu.
    bass = np.flatnonzero(model.notes["track"] == 2)
    model.select(bass[1:])
    table.customContextMenuRequested.emit(cell_point(table, 3, NAME))
    menu_action(panel._menu, "Move selected notes here").trigger()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell_point(table, 1, NAME))
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert [t.name for t in model.tracks] == ["Lead", "Bass", "Cello"]
    assert [t.instrument for t in model.tracks] == [
        "Acoustic Grand Piano", "Fretless Bass", "Cello",
    ]  # fmt: skip
    assert model.track_counts().tolist() == [12, 1, 1]
    assert stack.count() - steps == 6  # rename, instrument, add, duplicate, move, delete

    # Exported and read back: names, instruments and notes, tick for tick.
    path = tmp_path / "tracks.mid"
    assert window.exporting.export_variation(0, path) == path
    back = read_midi(path)
    assert [(t.name, t.program) for t in back.tracks] == [
        ("Lead", 0), ("Bass", 35), ("Cello", 42),
    ]  # fmt: skip
    piece = model.to_piece()
    for mine, theirs in zip(piece.tracks, back.tracks):
        assert mine.notes.tobytes() == theirs.notes.tobytes()

    for _ in range(6):
        stack.undo()
    assert model.notes.tobytes() == original_notes.tobytes()
    assert model.tracks == original_tracks
    assert document.modified  # it differs from what was exported


@pytest.mark.slow
def test_mute_and_solo_are_heard_when_playing_and_muted_notes_are_faded(window, tune, qtbot):
    table, model = window.tracks.table, tune.document.model
    port = FakePort()
    window.playback.midi_port = port
    click_box(qtbot, table, 1, MUTE)  # the bass
    assert [t.muted for t in model.tracks] == [False, True]
    assert not tune.document.modified  # how it sounds, not what it is
    window.player.play_pause()
    qtbot.waitUntil(lambda: window.player.state == "stopped" and bool(port.sent), timeout=10_000)
    pitches = {m.note for m in port.sent if m.type == "note_on" and m.velocity}
    assert pitches and not pitches & {36, 43}  # no bass note was played
    # The bass's notes are drawn faded.
    view = tune.view
    view.resize(1000, 600)
    view.mapping.fit_ticks(0, 8 * 480, view.viewport().width())
    view.framing.fit_pitch_range()
    view.refresh()
    image = view.viewport().grab().toImage()
    faded = view.colors().notes[MUTED_GROUP][3].rgb()
    assert image.pixel(note_point(view, 0, 36)) == faded
    assert image.pixel(note_point(view, 0, 60)) != faded

    click_box(qtbot, table, 1, MUTE)
    click_box(qtbot, table, 1, SOLO)  # only the bass now
    port.sent.clear()
    tune.view.set_playhead(0)
    window.player.play_pause()
    qtbot.waitUntil(lambda: window.player.state == "stopped" and bool(port.sent), timeout=10_000)
    pitches = {m.note for m in port.sent if m.type == "note_on" and m.velocity}
    assert pitches == {36, 43}


def test_drawing_pasting_and_select_all_act_on_the_active_track(window, tune, qtbot):
    table, document, model = window.tracks.table, tune.document, tune.document.model
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell_point(table, 1, NAME))
    assert document.active_track == 1
    window.actions_by_name["select_all_notes"].trigger()
    assert model.notes["track"][model.selected_indices()].tolist() == [1, 1]
    tune.note_editor.draw(3000, 50)
    drawn = model.notes[-1]
    assert (drawn["track"], drawn["program"]) == (1, 33)
    window.actions_by_name["select_all_notes"].trigger()  # the bass's three notes now
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell_point(table, 0, NAME))
    assert tune.note_editor.copy()  # still selected: another track is active, not selected
    assert tune.note_editor.paste(4000)
    pasted = model.notes[model.selected_indices()]
    assert len(pasted) == 3 and (pasted["track"] == 0).all() and (pasted["program"] == 0).all()


def test_a_generation_streams_into_tracks_by_instrument(qtbot):
    from composer.app.piece.notes import NoteModel

    model = NoteModel()
    model.append([(0, 480, 60, 90, 0, False), (0, 480, 36, 90, 33, False)])
    model.append([(480, 960, 38, 100, 0, True), (480, 960, 62, 90, 0, False)])
    assert [t.instrument for t in model.tracks] == [
        "Acoustic Grand Piano", "Electric Bass (finger)", "Drums",
    ]  # fmt: skip
    assert model.notes["track"].tolist() == [0, 1, 2, 0]


def test_tracks_from_a_damaged_or_hostile_session_fall_back_to_instruments(qtbot):
    from composer.app.piece.notes import ROLL_DTYPE, NoteModel

    good = [TrackInfo("Lead", 0, False, 0, muted=True), TrackInfo("Kit", 0, True, 14)]
    assert tracks_from_json(tracks_to_json(good)) == good
    for hostile in (
        [{"name": "x", "program": 300, "drum": False, "colour": 0}],
        [{"name": 5}],
        "tracks",
        [[1, 2]],
        [{"name": "x", "program": True, "drum": False, "colour": 0}],
    ):
        assert tracks_from_json(hostile) == []
    notes = np.zeros(3, ROLL_DTYPE)
    notes["program"], notes["track"] = [0, 0, 40], [0, 7, 1]  # track 7 is not there
    model = NoteModel()
    model.set_notes(notes, 480, tracks=good[:1] + [TrackInfo("Strings", 40, False, 5)])
    assert model.notes["track"].tolist() == [0, 0, 1]
    older = np.zeros(2, [(n, ROLL_DTYPE[n]) for n in ROLL_DTYPE.names if n != "track"])
    older["program"] = [0, 40]
    model.set_notes(older, 480)  # a session saved before tracks
    assert [t.instrument for t in model.tracks] == ["Acoustic Grand Piano", "Violin"]


def test_a_chorale_keeps_its_voices_as_tracks_through_export(window, qtbot, tmp_path):
    path = sorted(corpus("bach_chorales").glob("*.mid"))[0]
    original = read_midi(path)
    assert window.pieces.open_midi_file(path)
    table = window.tracks.table
    names = [table.item(r, NAME).text() for r in range(table.rowCount())]
    assert names == [t.name for t in original.tracks]  # four voices, one instrument
    out = tmp_path / "out.mid"
    assert window.exporting.export_variation(0, out) == out
    back = read_midi(out)
    assert [t.name for t in back.tracks] == names
    for mine, theirs in zip(original.tracks, back.tracks):
        assert mine.notes.tobytes() == theirs.notes.tobytes()


def test_an_empty_piece_gets_a_piano_track_when_a_note_is_drawn(window, tune, qtbot):
    panel, model = window.tracks, tune.document.model
    for _ in range(2):
        qtbot.mouseClick(
            panel.table.viewport(), Qt.MouseButton.LeftButton, pos=cell_point(panel.table, 0, NAME)
        )
        qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert model.tracks == () and len(model) == 0
    tune.note_editor.draw(0, 60)
    assert [t.instrument for t in model.tracks] == ["Acoustic Grand Piano"] and len(model) == 1
    window.documents.undo_stack.undo()
    assert model.tracks == () and len(model) == 0


def test_piece_export_keeps_track_names_given_to_tracks_of_one_instrument(qtbot):
    from composer.app.piece.notes import NoteModel

    notes = make_notes([0, 480], [480, 960], [60, 64], [80, 80])
    piece = Piece(
        480,
        [Track(0, False, "Right hand", notes), Track(0, False, "Left hand", notes.copy())],
        make_tempos(),
    )
    model = NoteModel()
    model.set_piece(piece)
    out = model.to_piece()
    assert [t.name for t in out.tracks] == ["Right hand", "Left hand"]
    assert all(len(t.notes) == 2 for t in out.tracks)


def test_the_velocity_lane_and_quantize_act_on_the_active_track(window, tune, qtbot):
    table, model, view, lane = window.tracks.table, tune.document.model, tune.view, tune.lane
    view.resize(1000, 600)
    view.mapping.fit_ticks(0, 8 * 480, view.viewport().width())
    view.refresh()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell_point(table, 1, NAME))
    before = model.notes.copy()
    left, right = QPoint(view.mapping.keyboard_width + 2, 8), QPoint(lane.width() - 2, 8)
    qtbot.mousePress(lane, Qt.MouseButton.LeftButton, pos=left)
    qtbot.mouseMove(lane, right)
    qtbot.mouseRelease(lane, Qt.MouseButton.LeftButton, pos=right)
    bass = model.notes["track"] == 1
    assert (model.notes["velocity"][bass] > before["velocity"][bass]).all()  # dragged loud
    assert np.array_equal(model.notes[~bass], before[~bass])  # the piano's notes untouched
    tune.note_editor.quantize()  # nothing selected: the active track's notes
    moved = model.notes["start"] != before["start"]
    assert not moved[~bass].any()  # the piano's off-grid notes stay off the grid


def test_move_selection_to_track_from_the_edit_menu(window, tune, qtbot):
    model = tune.document.model
    piano = np.flatnonzero(model.notes["track"] == 0)[:4]
    model.select(piano)
    window.actions_by_name["move_to_track"].trigger()
    menu = window.editing.track_menu
    assert [a.text() for a in menu.actions()] == [
        "Piano (Acoustic Grand Piano)", "Bass (Electric Bass (finger))",
    ]  # fmt: skip
    menu.actions()[1].trigger()
    assert (model.notes["track"][piano] == 1).all() and (model.notes["program"][piano] == 33).all()
    assert window.documents.undo_stack.undoText() == "Move notes to Bass"
    assert model.track_counts().tolist() == [8, 6]


def test_tracks_are_not_edited_while_the_piece_is_being_written(window, tune, qtbot):
    panel, document = window.tracks, tune.document
    document.busy = True  # as while a generation streams in, or alternatives are auditioned
    panel.rename_track(0, "Lead")
    panel.add_track(40, False)
    assert [t.name for t in document.model.tracks] == ["Piano", "Bass"]
    assert panel.table.item(0, NAME).text() == "Piano"
    assert "Wait for the piece to be written" in window.state_label.text()
    document.busy = False
