"""The Steer box's instrument choice with the bundled model (issue 25): the same constraint as
`--programs`, so it must make music too, and an empty variation must be said, not shown as if
it were music."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from composer.app.panels.generation_panel import FILE_PRIMER
from tests.app.test_training_start import _check_box_of
from tests.core.test_constraints import _resting_copy_of_the_bundled_model


def _steer_to(window, qtbot, programs: str) -> None:
    steer = window.generation.steering
    qtbot.mouseClick(steer, Qt.MouseButton.LeftButton, pos=_check_box_of(steer))
    assert steer.isChecked()
    steer.programs.setText(programs)


def _generate(window, qtbot, seconds: int, variations: int) -> None:
    panel = window.generation
    panel.seconds.setValue(seconds)
    panel.variations.setValue(variations)
    panel.random_seed.setChecked(False)
    panel.seed.setValue(1)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running, timeout=120_000)


def test_choosing_the_violin_in_the_steer_box_generates_violin_music(window, qtbot):
    """It wrote tabs of 0 notes: every stream starts as piano, which the choice forbids, and
    the model never chose the violin."""
    assert window.generation.model.currentText() == "Bundled model"
    _steer_to(window, qtbot, "40")
    _generate(window, qtbot, seconds=6, variations=2)
    assert "No notes" not in window.generation.message.text()
    for model, _ in window.pieces.variations[-2:]:
        piece = model.to_piece()
        violin = sum(len(t.notes) for t in piece.tracks if t.program == 40 and not t.is_drum)
        assert violin >= 10 and violin == piece.note_count, [
            (t.program, t.is_drum, len(t.notes)) for t in piece.tracks
        ]


@pytest.mark.slow
def test_a_variation_without_notes_is_said_in_the_panel_and_not_opened(window, qtbot, tmp_path):
    """A model that only rests after its primer leaves a variation empty (from silence the
    grammar has it start within 2 s): the panel's sentence says which, and its tab goes (it
    stayed open, empty, as if it were music). No steering was used, so the sentence does not
    advise loosening it."""
    from tests.conftest import corpus

    resting = _resting_copy_of_the_bundled_model(tmp_path)
    panel = window.generation
    panel.model.insertItem(0, "resting", str(resting))
    panel.model.setCurrentIndex(0)
    panel.primer_file = sorted(corpus("bach_chorales").glob("*.mid"))[0]
    panel.primer.setCurrentIndex(panel.primer.findData(FILE_PRIMER))
    tabs, steps = len(window.pieces.variations), window.documents.undo_stack.count()
    _generate(window, qtbot, seconds=3, variations=2)
    assert panel.message.text().endswith(
        "No notes were written in variations 1, 2, so they were not opened; "
        "try another seed or temperature."
    ), panel.message.text()
    assert len(window.pieces.variations) == tabs  # nothing opened, and no Generate step to undo
    assert window.documents.undo_stack.count() == steps


def test_the_range_boxes_take_note_names_as_they_are_typed(qtbot):
    """Typing C3 into a range box gives C3 (it gave Eb-1: the box checked for digits)."""
    from PySide6.QtCore import Qt

    from composer.app.panels.steering_box import NoteBox

    box = NoteBox()
    qtbot.addWidget(box)
    box.setRange(0, 127)
    box.setValue(60)
    box.show()
    for typed, value in (("C3", 48), ("F#2", 42), ("Bb5", 82), ("40", 40)):
        box.lineEdit().selectAll()
        qtbot.keyClicks(box, typed)
        qtbot.keyClick(box, Qt.Key.Key_Return)
        assert box.value() == value, typed
    box.lineEdit().selectAll()
    qtbot.keyClicks(box, "H")  # not a note: refused as it is typed
    assert box.lineEdit().text() == "E2"  # unchanged
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    assert box.value() == 40
