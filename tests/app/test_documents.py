"""Nothing lost: generations and files open beside what is there, Ctrl+Z takes a generation's
tabs away, closing or quitting asks about pieces not exported, and the open pieces come back
after the app is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.editing_helpers import TPB, little_tune


def generate(window, qtbot, variations: int = 2, seconds: float = 4) -> None:
    window.generation.seconds.setValue(seconds)
    window.generation.variations.setValue(variations)
    window.generation.random_seed.setChecked(False)
    window.generating.generate()
    qtbot.waitUntil(lambda: not window.generation.is_running, timeout=60_000)


def titles(window) -> list[str]:
    return [d.title for d in window.documents.documents]


def test_a_generation_opens_beside_the_pieces_and_undo_takes_it_away(window, qtbot, tmp_path):
    window.pieces.open_midi_file(little_tune(tmp_path / "tune.mid"))
    generate(window, qtbot)
    assert titles(window) == ["tune.mid", "Variation 1", "Variation 2"]
    assert window.tabs.currentIndex() == 1
    generate(window, qtbot, variations=1)
    assert titles(window) == ["tune.mid", "Variation 1", "Variation 2", "Variation 3"]
    stack = window.documents.undo_stack
    assert stack.undoText() == "Generate 1 variation"
    window.actions_by_name["undo"].trigger()
    window.actions_by_name["undo"].trigger()
    assert titles(window) == ["tune.mid"]
    window.actions_by_name["redo"].trigger()
    assert titles(window) == ["tune.mid", "Variation 1", "Variation 2"]
    assert all(len(d.model) for d in window.documents.documents)
    assert window.documents.documents[1].metadata["seed"] == window.generation.seed.value()


def test_the_first_variation_shows_all_its_pitches(window, qtbot):
    generate(window, qtbot, variations=2, seconds=8)
    for model, view in window.pieces.variations[:1]:
        low, high = view.mapping.visible_pitches(view.viewport().height())
        pitches = model.notes["pitch"]
        assert low <= pitches.min() and pitches.max() <= high


def test_continuing_a_selection_keeps_the_source_and_its_tempo(window, qtbot, tmp_path):
    window.pieces.open_midi_file(little_tune(tmp_path / "tune.mid"))  # 90 BPM
    source = window.documents.documents[0]
    view = window.documents.editor(source).view
    view.set_selection(4 * TPB, 8 * TPB)  # the second bar
    primer = window.pieces.selected_piece()
    assert primer.tempos["us_per_beat"].tolist() == [666_667]  # not the default 120 BPM
    assert min(int(t.notes["start"].min()) for t in primer.tracks) == 0
    window.generation.primer.setCurrentIndex(2)  # "Continue the selected range"
    generate(window, qtbot, variations=1, seconds=4)
    assert titles(window) == ["tune.mid", "Variation 1"]
    assert len(source.model) == 14 and not source.modified  # the source is untouched
    continued = window.documents.documents[1].model
    assert continued.tempos[0].tolist() == (0, 666_667)  # 90 BPM, not its token's 90.94
    kept = {tuple(n) for n in continued.notes[["start", "end", "pitch", "velocity"]].tolist()}
    selected = {tuple(n) for t in primer.tracks for n in t.notes.tolist()}
    assert selected <= kept  # the selected bars come back tick for tick, off the grid too


def test_closing_a_changed_piece_asks_and_undo_reopens_it(window, qtbot, tmp_path):
    window.pieces.open_midi_file(little_tune(tmp_path / "tune.mid"))
    document = window.documents.documents[0]
    window.documents.editor(document).note_editor.model.select_all()
    window.actions_by_name["transpose_up"].trigger()
    assert document.modified and window.tabs.tabText(0) == "tune.mid •"
    window.choose_save = lambda title: "cancel"
    assert not window.documents.close_tab(0)
    assert titles(window) == ["tune.mid"]
    window.choose_save = lambda title: "discard"
    assert window.documents.close_tab(0)
    assert titles(window) == [] and window.tabs.tabText(0) == "Welcome"
    window.actions_by_name["undo"].trigger()  # closed by mistake: it comes back
    assert titles(window) == ["tune.mid"] and window.documents.documents[0].modified
    # "Save" exports where the piece was exported before, then closes.
    assert window.exporting.export_variation(0, tmp_path / "mine.mid")
    window.actions_by_name["transpose_up"].trigger()
    window.choose_save = lambda title: "save"
    assert window.documents.close_tab(0)
    from composer.core.midi import read_midi

    saved = read_midi(tmp_path / "mine.mid")
    assert max(int(t.notes["pitch"].max()) for t in saved.tracks) == 72 + 2


def test_quitting_with_pieces_not_saved_asks_once_for_them_all(window, qtbot, tmp_path):
    generate(window, qtbot, variations=2)
    asked = []
    window.choose_save_all = lambda titles: asked.append(titles) or "cancel"
    window.close()
    assert window.isVisible() and asked == [["Variation 1", "Variation 2"]]  # nothing closed
    window.choose_save_all = lambda titles: asked.append(titles) or "discard"
    window.close()
    assert not window.isVisible() and len(asked) == 2  # one question each time


KILLED_APP = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from PySide6.QtCore import QTimer
    from composer.app.main import create_app
    from composer.app.window import MainWindow

    app = create_app()
    window = MainWindow()
    window.show()
    window.pieces.open_midi_file(Path(sys.argv[1]))
    document = window.documents.documents[0]
    document.model.select_all()
    window.actions_by_name["octave_up"].trigger()
    window.documents.editor(document).view.mapping.key_height = 20
    window.documents.editor(document).view.refresh()
    panel = window.tracks
    panel.rename_track(1, "Walking bass")
    panel.set_box(0, "muted", True)
    panel.add_track(40, False)

    def saved():
        print("autosaved", flush=True)

    window.session.timer.timeout.connect(lambda: QTimer.singleShot(0, saved))
    app.exec()
    """
)


@pytest.mark.slow
def test_a_killed_session_is_restored_on_the_next_start(tmp_path, qtbot):
    tune = little_tune(tmp_path / "tune.mid")
    env = dict(os.environ, COMPOSER_DATA_DIR=str(tmp_path / "data"), QT_QPA_PLATFORM="offscreen")
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_APP, str(tune)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert process.stdout.readline().strip() == "autosaved"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    os.environ["COMPOSER_DATA_DIR"] = str(tmp_path / "data")  # the fixture's monkeypatch restores
    from composer.app.main import create_app
    from composer.app.window import MainWindow

    create_app()
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    try:
        assert titles(window) == ["tune.mid"]
        document = window.documents.documents[0]
        assert document.modified and document.source == Path(tune).resolve()
        assert int(document.model.notes["pitch"].max()) == 72 + 12  # the edit survived
        assert window.documents.editor(document).view.mapping.key_height == 20
        tracks = document.model.tracks  # renamed, muted and added: all came back
        assert [(t.name, t.instrument, t.muted) for t in tracks] == [
            ("Piano", "Acoustic Grand Piano", True),
            ("Walking bass", "Electric Bass (finger)", False),
            ("Violin", "Violin", False),
        ]
        assert document.model.track_counts().tolist() == [12, 2, 0]
    finally:
        window.close_keeping_session()


def test_every_tab_has_one_close_button_and_the_welcome_page_none(window, tmp_path):
    from PySide6.QtWidgets import QAbstractButton

    bar = window.tabs.tabBar()

    def buttons() -> int:
        return sum(isinstance(c, QAbstractButton) and c.isVisible() for c in bar.children())

    assert window.tabs.tabText(0) == "Welcome" and buttons() == 0
    window.pieces.open_midi_file(little_tune(tmp_path / "a.mid"))
    window.pieces.open_midi_file(little_tune(tmp_path / "b.mid"))
    assert window.tabs.count() == 2 and buttons() == 2
