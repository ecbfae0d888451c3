"""Add a part in the app, driven as a musician would, offscreen, on a real chorale: Ctrl+Shift+R,
choose the instrument by name in the dialog, step through the alternatives with Tab, keep one
with Enter (one undo step, Ctrl+Z gives the piece back exactly); the new part lies in the bars
asked for, every other note stays, and it is exported as a track of its own."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from composer.app.panels.part_dialog import DRUMS
from composer.app.panels.tracks_panel import REWRITE
from composer.app.regeneration import NOT_HEARING_PARTS
from composer.core.midi import read_midi
from composer.core.midi.piece import gm_usual_range, note_name
from composer.core.midi.timeline import Timeline
from tests.app.test_app_fill import (
    FIRST_BAR,
    LAST_BAR,
    drag_on_ruler,
    open_chorale,
    train,
    use_model,
)
from tests.conftest import corpus
from tests.editing_helpers import click_box
from tests.training_helpers import tiny_model

SPB = 12


@pytest.fixture(scope="module")
def hearing_run(tmp_path_factory):
    """A tiny model trained with --context: it hears the parts it plays along with."""
    return train(tmp_path_factory.mktemp("hearing"), tiny_model().hearing_context(SPB))


def choose_instrument(window, qtbot, program: int, note_range=None) -> None:
    dialog = window.regenerating.part_dialog
    assert dialog is not None and dialog.isVisible()
    combo = dialog.instrument
    combo.setCurrentIndex(combo.findData(program, Qt.ItemDataRole.UserRole))
    if program != DRUMS:  # the range offered is the instrument's usual one
        usual = gm_usual_range(program)
        assert (dialog.lowest.value(), dialog.highest.value()) == usual
        assert dialog.lowest.text() == note_name(usual[0])
    if note_range is not None:
        dialog.lowest.setValue(note_range[0])
        dialog.highest.setValue(note_range[1])
    ok = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok)
    assert ok.text() == "Write the part"
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            window.regenerating.regeneration is None
            or window.regenerating.regeneration.state == "choosing"
        ),
        timeout=120_000,
    )
    assert window.regenerating.regeneration is not None, window.told


@pytest.mark.slow
def test_add_a_bass_part_to_some_bars_keep_it_undo_it_and_export_it(
    window, qtbot, hearing_run, tmp_path
):
    use_model(window, hearing_run)
    editor, (start, end) = open_chorale(window)
    view, document, stack = editor.view, editor.document, window.documents.undo_stack
    model = document.model
    original, steps = model.notes.copy(), stack.count()
    assert window.actions_by_name["add_part"].isEnabled()

    drag_on_ruler(qtbot, view, start, end)
    modifiers = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(view, Qt.Key.Key_R, modifiers)
    assert (
        f"bars {FIRST_BAR}–{LAST_BAR}"
        in window.regenerating.part_dialog.findChild(type(window.state_label)).text()
    )
    choose_instrument(window, qtbot, 33, (36, 48))  # C2 to C3
    assert NOT_HEARING_PARTS not in window.state_label.text()
    assert window.regenerating.bar.text.startswith(f"Bars {FIRST_BAR}–{LAST_BAR}: alternative 1")

    shown = []
    for _ in range(4):
        notes = model.notes.copy()
        kept_part = notes[notes["program"] != 33]
        assert np.array_equal(np.sort(kept_part, order=["start", "pitch"]),
                              np.sort(original, order=["start", "pitch"]))  # fmt: skip
        new = notes[notes["program"] == 33]
        assert ((new["start"] >= start) & (new["end"] <= end)).all()
        assert ((new["pitch"] >= 36) & (new["pitch"] <= 48)).all()  # the range asked for
        shown.append(new)
        qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert any(len(new) for new in shown)
    assert len({new.tobytes() for new in shown}) > 1  # the alternatives differ

    qtbot.keyClick(view, Qt.Key.Key_Return)  # keeps alternative 1 (Tab went round)
    assert window.regenerating.regeneration is None and not document.busy
    assert stack.count() == steps + 1
    assert stack.undoText() == f"Add Electric Bass (finger) part in bars {FIRST_BAR}–{LAST_BAR}"
    with_part = model.notes.copy()
    path = tmp_path / "with-bass.mid"
    assert window.exporting.write_piece(0, path) is not None
    back = read_midi(path)
    bass = [t for t in back.tracks if t.program == 33]
    assert len(bass) == 1 and len(bass[0].notes) == len(shown[0])

    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(model.notes, original)  # exactly, row for row
    qtbot.keyClick(view, Qt.Key.Key_Z, modifiers)
    assert np.array_equal(model.notes, with_part)


@pytest.mark.slow
def test_a_part_for_the_whole_piece_and_a_model_that_cannot_hear_says_so(
    window, qtbot, tmp_path_factory
):
    run = train(tmp_path_factory.mktemp("deaf"), tiny_model())  # no --context
    use_model(window, run, seed=4)
    editor, _ = open_chorale(window)
    view, model = editor.view, editor.document.model
    original = model.notes.copy()
    window.regenerating.add_part()  # from the Music menu: no bars selected, so the whole piece
    dialog = window.regenerating.part_dialog
    assert "the whole piece" in dialog.findChild(type(window.state_label)).text()
    choose_instrument(window, qtbot, DRUMS)
    assert NOT_HEARING_PARTS in window.state_label.text()
    qtbot.keyClick(view, Qt.Key.Key_Escape)  # the original back
    assert window.regenerating.regeneration is None
    assert np.array_equal(model.notes, original)
    window.regenerating.add_part()  # the dialog offers the instrument chosen last
    dialog = window.regenerating.part_dialog
    assert dialog.instrument.currentText() == "Drums"
    dialog.reject()
    assert window.regenerating.regeneration is None and window.regenerating.part_dialog is None


@pytest.mark.slow
def test_regenerate_selection_rewrites_the_tracks_ticked_in_the_tracks_panel(
    window, qtbot, hearing_run, tmp_path
):
    """A chorale arranged for violins (soprano, alto) and cellos (tenor, bass): untick Rewrite
    for the soprano and alto in the Tracks panel, drag over bars 3-4 on the ruler, Ctrl+R: only
    the cellos' notes there change; the violins' stay, and the model hears them."""
    from composer.core.midi import write_midi

    chorale = read_midi(sorted(corpus("bach_chorales").glob("*.mid"))[0])
    arranged = [replace(t, program=40 if i < 2 else 42) for i, t in enumerate(chorale.tracks)]
    path = tmp_path / "strings.mid"
    write_midi(replace(chorale, tracks=arranged), path)
    use_model(window, hearing_run)
    assert window.pieces.open_midi_file(path)
    editor = window.documents.current_editor()
    view, model = editor.view, editor.document.model
    timeline = Timeline(model.ticks_per_beat, model.tempos, model.time_signatures)
    start, end = timeline.tick_of(FIRST_BAR), timeline.tick_of(LAST_BAR + 1)
    original = model.notes.copy()
    for row in (0, 1):  # Soprano and Alto: kept
        click_box(qtbot, window.tracks.table, row, REWRITE)
    assert [t.rewrite for t in model.tracks] == [False, False, True, True]
    drag_on_ruler(qtbot, view, start, end)
    qtbot.keyClick(view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: (
            window.regenerating.regeneration is None
            or window.regenerating.regeneration.state == "choosing"
        ),
        timeout=120_000,
    )
    assert window.regenerating.regeneration is not None, window.told
    assert "for Tenor and Bass in bars 3–4" in window.state_label.text()
    violins = np.sort(original[original["program"] == 40], order=["start", "pitch"])
    changed = False
    for _ in range(4):
        now = model.notes
        kept = np.sort(now[now["program"] == 40], order=["start", "pitch"])
        assert np.array_equal(kept, violins)
        changed |= not np.array_equal(now, original)
        qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert changed
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert window.documents.undo_stack.undoText() == "Regenerate Tenor and Bass in bars 3–4"
