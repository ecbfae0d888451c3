"""Regenerate selection in the app, driven as a musician would, offscreen, on a real chorale:
drag across bars on the ruler, Ctrl+R, step through the alternatives, keep one with Enter (one
undo step: Ctrl+Z gives the original back exactly, Ctrl+Shift+Z the alternative again), or put
the original back with Esc; a model not trained to fill in says so."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from composer.app.regeneration import NOT_BOTH_SIDES
from composer.core.midi.timeline import Timeline
from composer.core.model import ModelConfig
from composer.core.tokens import TokenizerConfig, Vocabulary
from tests.conftest import corpus
from tests.training_helpers import collection_of, copy_chorales, tiny_model, tiny_training

FIRST_BAR, LAST_BAR = 3, 4


def train(root, model, tokenizer=None, **changes):
    """A tiny model trained for a few steps on eight chorales: its run folder."""
    from composer.core.training import new_run

    folder = copy_chorales(corpus("bach_chorales"), root / "chorales", 8)
    collection = collection_of(folder, root / "cache", tokenizer)
    trainer = new_run(root / "run", collection, model, tiny_training(steps=30, **changes))
    for _ in trainer.run():
        pass
    return root / "run"


@pytest.fixture(scope="module")
def filling_run(tmp_path_factory):
    """Trained the way new runs are: with fill-in examples."""
    return train(tmp_path_factory.mktemp("filling"), tiny_model())


@pytest.fixture(scope="module")
def left_only_run(tmp_path_factory):
    """A model as made before fill-in training: its vocabulary has no fill-in marks."""
    tokenizer = TokenizerConfig(infill=False)
    model = ModelConfig(len(Vocabulary(tokenizer)), hidden_size=32, layers=2, embedding_size=16)
    return train(tmp_path_factory.mktemp("left"), model, tokenizer, fill_in=0.0)


def use_model(window, run_dir, seed=3):
    panel = window.generation
    panel.model.insertItem(0, "tiny", str(run_dir))
    panel.model.setCurrentIndex(0)
    panel.random_seed.setChecked(False)
    panel.seed.setValue(seed)
    panel.top_p.setValue(1.0)  # a barely trained model: keep every time shift in reach


def open_chorale(window):
    path = sorted(corpus("bach_chorales").glob("*.mid"))[0]
    assert window.pieces.open_midi_file(path)
    editor = window.documents.current_editor()
    model = editor.document.model
    timeline = Timeline(model.ticks_per_beat, model.tempos, model.time_signatures)
    span = timeline.tick_of(FIRST_BAR), timeline.tick_of(LAST_BAR + 1)
    return editor, span


def drag_on_ruler(qtbot, view, start, end):
    """Press inside the first bar, drag to inside the last, release: on the ruler itself."""
    m, viewport = view.mapping, view.viewport()
    inside = (end - start) // 8
    a = QPoint(round(m.tick_to_x(start + inside)), m.ruler_height // 2)
    b = QPoint(round(m.tick_to_x(end - inside)), m.ruler_height // 2)
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(viewport, b)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=b)


def regenerate(window, qtbot, view):
    qtbot.keyClick(view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.regenerating.regeneration is not None
    qtbot.waitUntil(
        lambda: (
            window.regenerating.regeneration is None
            or window.regenerating.regeneration.state == "choosing"
        ),
        timeout=120_000,
    )
    assert window.regenerating.regeneration is not None, window.told
    return window.regenerating.regeneration


def bar_text(window) -> str:
    return window.regenerating.bar.text


def outside(notes, start, end):
    return notes[(notes["start"] < start) | (notes["start"] >= end)]


@pytest.mark.slow
def test_regenerate_bars_step_through_keep_one_undo_and_redo(window, qtbot, filling_run):
    use_model(window, filling_run)
    editor, (start, end) = open_chorale(window)
    view, document, stack = editor.view, editor.document, window.documents.undo_stack
    model = document.model
    regenerate_action = window.actions_by_name["regenerate_selection"]
    assert not regenerate_action.isEnabled()  # nothing selected yet
    original, steps = model.notes.copy(), stack.count()

    drag_on_ruler(qtbot, view, start, end)
    assert view.selection() is not None and start < view.selection()[1] < end
    assert regenerate_action.isEnabled()
    regeneration = regenerate(window, qtbot, view)
    assert view.selection() == (start, end)  # widened to whole bars, and shaded
    assert regeneration.both_sides and NOT_BOTH_SIDES not in window.state_label.text()
    assert "4 alternatives for bars 3–4" in window.state_label.text()
    assert bar_text(window).startswith("Bars 3–4: alternative 1 of 4 — Enter keeps it")
    assert not regenerate_action.isEnabled() and document.busy

    shown = []
    for key, modifier, number in (
        (Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier, 2),
        (Qt.Key.Key_Right, Qt.KeyboardModifier.NoModifier, 3),
        (Qt.Key.Key_Right, Qt.KeyboardModifier.NoModifier, 4),
        (Qt.Key.Key_Tab, Qt.KeyboardModifier.NoModifier, 1),  # round the end
        (Qt.Key.Key_Left, Qt.KeyboardModifier.NoModifier, 4),
        (Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier, 3),
    ):
        qtbot.keyClick(view, key, modifier)
        assert f"alternative {number} of 4" in bar_text(window)
        notes = model.notes.copy()
        assert np.array_equal(outside(notes, start, end), outside(original, start, end))
        inside = notes[(notes["start"] >= start) & (notes["start"] < end)]
        assert (inside["end"] <= end).all()  # the new notes lie inside the bars
        shown.append(notes)
    assert len({a.tobytes() for a in shown}) > 1  # the alternatives differ
    assert any(len(notes) != len(outside(notes, start, end)) for notes in shown)  # not silence
    assert stack.count() == steps  # nothing on the undo stack while choosing

    qtbot.keyClick(view, Qt.Key.Key_Return)
    kept = shown[-1]
    assert window.regenerating.regeneration is None and not document.busy
    assert np.array_equal(model.notes, kept)
    assert stack.count() == steps + 1 and stack.undoText() == "Regenerate bars 3–4"
    assert document.modified and window.tabs.tabText(0).endswith("•")
    assert "Kept alternative 3 of 4" in window.state_label.text()
    assert regenerate_action.isEnabled()  # the bars are still selected: again, if you like

    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(model.notes, original)  # exactly, row for row
    assert not document.modified
    modifiers = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(view, Qt.Key.Key_Z, modifiers)
    assert np.array_equal(model.notes, kept)


@pytest.mark.slow
def test_esc_puts_the_original_back_and_nothing_can_change_meanwhile(window, qtbot, filling_run):
    use_model(window, filling_run, seed=11)
    editor, (start, end) = open_chorale(window)
    view, document, stack = editor.view, editor.document, window.documents.undo_stack
    model = document.model
    window.editing.select_all_notes()
    window.editing.transpose_up()  # an earlier step, which Ctrl+Z must not undo while choosing
    before, selected, steps = model.notes.copy(), model.selected_indices(), stack.count()

    drag_on_ruler(qtbot, view, start, end)
    regenerate(window, qtbot, view)
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert not np.array_equal(model.notes, before)
    window.session.save_now()  # the autosave keeps what the musician had
    assert np.array_equal(window.session._saved(document).notes, before)
    window.editing.delete_notes()
    assert "Keep an alternative (Enter) or restore the original (Esc)" in window.state_label.text()
    assert not window.documents.close_tab(0)

    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert window.regenerating.regeneration is None and not document.busy
    assert np.array_equal(model.notes, before)  # exactly, row for row
    assert np.array_equal(model.selected_indices(), selected)
    assert stack.count() == steps and window.tabs.tabText(0).endswith("•")
    assert "The original bars 3–4 are back" in window.state_label.text()

    # Ctrl+Z while choosing restores too, and undoes nothing else.
    regenerate(window, qtbot, view)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.regenerating.regeneration is None
    assert np.array_equal(model.notes, before) and stack.count() == steps


@pytest.mark.slow
def test_esc_while_writing_stops_and_offers_only_finished_alternatives(window, qtbot, filling_run):
    use_model(window, filling_run)
    editor, (start, end) = open_chorale(window)
    view, model = editor.view, editor.document.model
    original = model.notes.copy()
    drag_on_ruler(qtbot, view, start, end)
    qtbot.keyClick(view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.regenerating.regeneration.state == "writing"
    assert window.regenerating.bar.text.startswith("Writing 4 alternatives for bars 3–4")
    qtbot.keyClick(view, Qt.Key.Key_Escape)  # at once: most likely before any is finished
    qtbot.waitUntil(
        lambda: (
            window.regenerating.regeneration is None
            or window.regenerating.regeneration.state == "choosing"
        ),
        timeout=60_000,
    )
    if window.regenerating.regeneration is None:
        assert "Stopped before any alternative was finished" in window.state_label.text()
    else:  # the tiny model was quicker than the key: what it finished is offered
        assert "alternative 1 of" in bar_text(window)
        qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert window.regenerating.regeneration is None and np.array_equal(model.notes, original)
    assert window.generation.worker is None  # Esc stopped the bars, not a generation


@pytest.mark.slow
def test_a_model_not_trained_to_fill_in_says_so(window, qtbot, left_only_run):
    use_model(window, left_only_run)
    editor, (start, end) = open_chorale(window)
    original = editor.document.model.notes.copy()
    drag_on_ruler(qtbot, editor.view, start, end)
    regeneration = regenerate(window, qtbot, editor.view)
    assert not regeneration.both_sides
    assert NOT_BOTH_SIDES in window.state_label.text()
    notes = editor.document.model.notes
    assert np.array_equal(outside(notes, start, end), outside(original, start, end))
    qtbot.keyClick(editor.view, Qt.Key.Key_Escape)
    assert np.array_equal(editor.document.model.notes, original)


def test_alternatives_without_notes_are_said(window, qtbot, tmp_path):
    """A model that only rests leaves the bars empty: the bar above the roll marks such an
    alternative and the status names them (it said nothing, as if empty bars were music)."""
    from tests.core.test_constraints import _resting_copy_of_the_bundled_model

    use_model(window, _resting_copy_of_the_bundled_model(tmp_path))
    editor, (start, end) = open_chorale(window)
    drag_on_ruler(qtbot, editor.view, start, end)
    regeneration = regenerate(window, qtbot, editor.view)
    count = len(regeneration.alternatives)
    assert regeneration.empty == frozenset(range(count))
    assert bar_text(window).startswith(
        f"Bars {FIRST_BAR}–{LAST_BAR}: alternative 1 of {count} (no notes)"
    )
    said = window.state_label.text()
    assert (
        f"No notes were written in alternatives {', '.join(map(str, range(1, count + 1)))}" in said
    )
    assert "so they leave bars" in said and "try another seed or temperature" in said
    qtbot.keyClick(editor.view, Qt.Key.Key_Escape)
