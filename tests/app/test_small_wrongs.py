"""Small wrongs a musician hit (issue 28), each held by a test that failed before its fix."""

from __future__ import annotations

import pytest

from composer.app.panels.generation_jobs import _ended_early
from composer.core.midi.piece import Piece, Track, make_notes, make_tempos
from tests.app.test_playback import FakePort
from tests.editing_helpers import little_tune


def piece_of(seconds: float) -> Piece:
    """One note lasting `seconds` at 120 BPM."""
    ticks = int(seconds * 2 * 480)
    notes = make_notes([0], [ticks], [60], [90])
    return Piece(480, [Track(0, False, "", notes)], make_tempos())


def test_a_piece_the_model_ended_early_says_so():
    assert _ended_early([piece_of(30.0), piece_of(29.0)], 30.0) == ""
    said = _ended_early([piece_of(30.0), piece_of(14.2), None], 30.0)
    assert "The model ended variation 2 at 14.2 s (of 30 s asked)" in said


def test_the_library_says_copies_in_words_and_not_when_there_are_none(window, qtbot, tmp_path):
    import shutil

    from tests.conftest import corpus

    folder = tmp_path / "songs"
    folder.mkdir()
    chorale = sorted(corpus("bach_chorales").glob("*.mid"))[0]
    shutil.copy(chorale, folder / "a.mid")
    window.library.open_folder(folder)
    qtbot.waitUntil(lambda: window.library.facts["Files"].text() == "1", timeout=60_000)
    shutil.copy(chorale, folder / "b.mid")
    window.library.open_folder(folder)
    qtbot.waitUntil(
        lambda: window.library.facts["Files"].text() == "2 (1 the same as another, read once)",
        timeout=60_000,
    )


@pytest.mark.parametrize("selected", [False, True])
def test_loop_without_a_selection_says_it_plays_to_the_end(window, qtbot, tmp_path, selected):
    assert window.pieces.open_midi_file(little_tune(tmp_path / "tune.mid"))
    view = window.documents.current_editor().view
    if selected:
        view.set_selection(0, 960)
    window.playback.midi_port = FakePort()
    window.actions_by_name["loop_selection"].setChecked(True)
    said = []
    window.state_label.setText("")
    window.player.play_pause()
    qtbot.waitUntil(lambda: bool(window.state_label.text()), timeout=10_000)
    said.append(window.state_label.text())
    window.player.stop_playback()
    assert ("Loop repeats the bars selected" in said[0]) is not selected


def test_the_loss_chart_fits_a_fine_tune_and_keeps_its_legend_off_the_curves(qtbot):
    from PySide6.QtGui import QColor

    from composer.app.panels.loss_chart import TRAIN_COLOUR, LossChart, y_range

    low, high = y_range([0.95, 0.93, 0.90, 0.89])  # a fine-tune: a small fall
    assert 0.8 < low < 0.89 and 0.95 < high < 1.0  # not an axis from 0 that flattens it
    assert y_range([]) == (0.0, 1.0) and y_range([0.001])[0] == 0.0
    chart = LossChart()
    qtbot.addWidget(chart)
    chart.resize(400, 200)
    chart.clear(100)
    for step in range(0, 101, 10):
        chart.add_train(step, 0.95 - step / 2000)  # a line near the top right, where the
    image = chart.grab().toImage()  # legend used to sit
    legend_row = chart.fontMetrics().height() + 6
    blue = [
        (x, y)
        for x in range(0, 400, 2)
        for y in range(legend_row + 4, 190, 2)
        if QColor(image.pixel(x, y)).blue() > 200 and QColor(image.pixel(x, y)).red() < 120
    ]
    assert blue and min(y for _, y in blue) > legend_row  # the curve drawn below the legend row
    assert max(y for _, y in blue) - min(y for _, y in blue) > 60  # spread over the plot
    assert TRAIN_COLOUR.blue() > 200


def test_the_view_menu_brings_back_every_panel(window, qtbot):
    view = {a.text().replace("&", ""): a for a in window.menus["View"].actions() if a.text()}
    for name, title in (
        ("library", "Library"),
        ("training", "Train"),
        ("tracks", "Tracks"),
        ("generation", "Generate"),
        ("history", "History"),
    ):
        dock = window.docks[name]
        dock.close()
        assert not dock.isVisible()
        view[title].trigger()  # closed, and back from the menu
        assert dock.isVisible(), name


@pytest.mark.slow
def test_the_library_reopens_the_folder_of_last_time(window, qtbot, tmp_path):
    import shutil

    from composer.app.window import MainWindow
    from tests.conftest import corpus

    folder = tmp_path / "songs"
    folder.mkdir()
    for path in sorted(corpus("bach_chorales").glob("*.mid"))[:3]:
        shutil.copy(path, folder / path.name)
    window.library.open_folder(folder)
    qtbot.waitUntil(lambda: window.training.start_button.isEnabled(), timeout=60_000)
    again = MainWindow()  # the next start (same settings)
    qtbot.addWidget(again)
    again.tell = lambda text: None
    try:
        qtbot.waitUntil(lambda: again.training.start_button.isEnabled(), timeout=60_000)
        assert again.library.folder == folder and again.library.facts["Usable"].text() == "3"
    finally:
        again.close_keeping_session()


@pytest.mark.slow
@pytest.mark.parametrize("size", [(1024, 700), (1600, 1000)])
def test_no_panel_control_is_clipped_with_steer_and_advanced_open(window, qtbot, tmp_path, size):
    """At the smallest window Composer supports and a large one, with the Steer box and the
    Advanced settings open: every control of every panel lies inside its panel's visible width,
    and a panel taller than the window scrolls (its whole height is reachable)."""
    from PySide6.QtWidgets import QWidget

    window.resize(*size)
    window.generation.steering.setChecked(True)
    window.training.advanced.setChecked(True)
    for _ in range(5):
        qtbot.wait(20)
    window.grab().save(str(tmp_path / f"panels-{size[0]}.png"))
    for name in ("library", "training", "generation", "tracks"):
        dock = window.docks[name]
        dock.raise_()
        qtbot.wait(20)
        scroll = dock.widget()
        panel, viewport = scroll.widget(), scroll.viewport()
        assert panel.height() >= panel.minimumSizeHint().height() - 1, name  # scrolls, not squashed
        for child in panel.findChildren(QWidget):
            if not child.isVisibleTo(panel) or child.width() == 0:
                continue
            right = child.mapTo(viewport, child.rect().bottomRight()).x()
            assert right <= viewport.width() + 1, (name, type(child).__name__, right)


def test_panel_settings_persist_across_starts_and_reset_to_defaults(window, qtbot):
    from PySide6.QtCore import QSettings

    from composer.app.window import MainWindow

    steer = window.generation.steering
    steer.setChecked(True)
    steer.scale.setCurrentIndex(steer.scale.findText("minor"))
    steer.lowest.setValue(48)
    steer.programs.setText("piano, strings")
    window.training.length.set_unit("steps")
    window.training.length.steps.setValue(1234)
    window.grid_box.setCurrentText("1/8")
    window.close_keeping_session()  # quit: the panels are kept

    QSettings().setValue("panels/edit", '{"grid": {"text": "1/7"}, "strength": "loud"}')
    again = MainWindow()  # the next start
    qtbot.addWidget(again)
    try:
        s = again.generation.steering
        assert s.isChecked() and s.scale.currentText() == "minor" and s.lowest.value() == 48
        assert s.programs.text() == "piano, strings"
        assert again.training.length.steps.value() == 1234 and not again.training.length.in_minutes
        assert again.grid_box.currentText() == "1/16"  # hostile values skipped: the default
        again.actions_by_name["reset_panels"].trigger()
        assert not s.isChecked() and s.lowest.value() == 21 and s.programs.text() == ""
        assert again.training.length.steps.value() == 300
        assert QSettings().value("panels/steer") is None
    finally:
        again.close_keeping_session()


def test_a_continuation_opens_showing_the_whole_piece_as_an_opened_file_does(
    window, qtbot, tmp_path
):
    from tests.app.test_documents import generate

    assert window.pieces.open_midi_file(little_tune(tmp_path / "tune.mid"))  # two bars
    view = window.documents.current_editor().view
    view.set_selection(0, 4 * 480)
    window.generation.primer.setCurrentIndex(2)  # "Continue the selected range"
    generate(window, qtbot, variations=1, seconds=8)
    continued = window.documents.documents[1]
    view = window.documents.editor(continued).view
    m = view.mapping
    left, right = m.visible_ticks(view.viewport().width())
    assert left <= 0 and right >= continued.model.end_tick  # the whole of it, not the primer's
