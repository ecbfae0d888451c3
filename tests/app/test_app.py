"""The desktop app driven as a person would, offscreen, on real chorales: open a folder, train a
few steps, generate, watch notes arrive, export, drop files, close while training."""

from __future__ import annotations

import json
import subprocess
import sys

import pretty_midi
import pytest

from composer.app.workers import Worker, WorkerThreads
from tests.conftest import bundled_model_name, corpus
from tests.training_helpers import copy_chorales, tiny_panel_settings


@pytest.fixture
def chorales(tmp_path):
    return copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 8)


@pytest.mark.slow
def test_open_train_generate_export(window, qtbot, chorales, tmp_path):
    window.library.open_folder(chorales)
    qtbot.waitUntil(lambda: window.training.start_button.isEnabled(), timeout=60_000)
    assert window.library.facts["Usable"].text() == "8"
    assert window.windowTitle() == "Composer — chorales"

    tiny_panel_settings(window.training, steps=10)
    window.learning.start_training()
    qtbot.waitUntil(lambda: not window.training.is_running, timeout=120_000)
    assert window.training.readouts["Step"].text() == "10 / 10"
    assert window.training.chart.validation  # the chart got validation points
    assert "Finished 10 steps" in window.training.message.text()
    run_dir = window.training.run_dir
    assert (run_dir / "run.json").exists() and str(run_dir).startswith(str(tmp_path / "user-data"))
    assert window.generation.model.currentData() == str(run_dir)

    streamed = []
    window.generation.streamed.connect(lambda update: streamed.append(update))  # GUI-thread signal
    window.generation.seconds.setValue(6)
    window.generation.variations.setValue(2)
    window.generating.generate()
    qtbot.waitUntil(lambda: not window.generation.is_running, timeout=60_000)
    assert window.tabs.count() == 2 and window.documents.documents[1].title == "Variation 2"
    assert window.tabs.tabText(1) == "Variation 2 •"  # not exported yet
    assert all(len(model) > 0 for model, _ in window.pieces.variations)
    assert streamed and sum(len(u.notes[0]) for u in streamed) > 0  # notes arrived while writing
    assert "Generated 2 variations" in window.generation.message.text()

    out = window.exporting.export_variation(0, tmp_path / "export" / "first.mid")
    midi = pretty_midi.PrettyMIDI(str(out))
    assert sum(len(i.notes) for i in midi.instruments) == len(window.pieces.variations[0][0])
    assert window.exporting.export_variation(0, out) is None  # never overwritten silently
    assert "already exists" in window.told[-1]
    assert window.tabs.tabText(0) == "first.mid"  # the tab takes the file's name
    written = window.exporting.export_all_to(tmp_path / "export")
    assert [p.name for p in written] == ["first.mid", "variation-2.mid"]  # after the tabs


def test_dropping_a_midi_file_shows_it_and_a_bad_file_says_why(window, tmp_path):
    chorale = sorted(corpus("bach_chorales").glob("*.mid"))[0]
    window.pieces.open_paths([chorale])
    assert window.tabs.tabText(0) == chorale.name
    assert len(window.pieces.variations[0][0]) > 100
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd this is not a MIDI file")
    window.pieces.open_paths([bad])
    assert window.told and "bad.mid" in window.told[-1]


def test_a_folder_without_midi_and_a_missing_model_get_one_sentence(window, qtbot, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    window.library.open_folder(empty)
    qtbot.waitUntil(lambda: window.library.worker is None, timeout=30_000)
    assert "has no usable MIDI file" in window.library.folder_label.text()
    broken = tmp_path / "model.json"
    broken.write_text(
        json.dumps({"format": "composer-checkpoint", "model": {"hidden_size": 10**9}})
    )
    window.generation.model.insertItem(0, "broken", str(broken))
    window.generation.model.setCurrentIndex(0)
    window.generating.generate()
    qtbot.waitUntil(lambda: not window.generation.is_running, timeout=30_000)
    assert "model.json has an unusable model description" in window.generation.message.text()


@pytest.mark.slow
def test_closing_while_training_asks_then_keeps_the_checkpoint(window, qtbot, chorales):
    window.library.open_folder(chorales)
    qtbot.waitUntil(lambda: window.training.start_button.isEnabled(), timeout=60_000)
    tiny_panel_settings(window.training, steps=100_000)
    window.learning.start_training()
    qtbot.waitUntil(
        lambda: window.training.readouts["Step"].text().startswith(("2 ", "3 ", "4 ", "5 ")),
        timeout=60_000,
    )
    questions = []
    window.ask = lambda question: questions.append(question) or False
    window.close()
    assert window.isVisible() and window.training.is_running  # "no" keeps it open and training
    window.ask = lambda question: questions.append(question) or True
    window.close()
    assert not window.isVisible() and not WorkerThreads.any_running()
    assert len(questions) == 2 and "keep its checkpoint" in questions[0]
    run = json.loads((window.training.run_dir / "run.json").read_text())
    assert run["step"] >= 2 and run["latest"]


def test_unexpected_errors_are_logged_and_reported(qtbot, tmp_path):
    from composer.app import paths
    from composer.app.errors import set_up_logging

    set_up_logging()

    def broken_job(worker):
        raise RuntimeError("a bug")

    worker = Worker(broken_job)
    failures = []
    worker.failed.connect(lambda message, unexpected: failures.append((message, unexpected)))
    threads = WorkerThreads()
    threads.start(worker)
    qtbot.waitUntil(lambda: not threads.busy and bool(failures), timeout=10_000)
    assert failures == [("RuntimeError: a bug", True)]
    assert "a bug" in paths.log_file().read_text() and "Traceback" in paths.log_file().read_text()


@pytest.mark.slow
def test_composer_without_arguments_opens_the_window(tmp_path):
    env = {
        "QT_QPA_PLATFORM": "offscreen",
        "COMPOSER_STARTUP_PROBE": "1",
        "COMPOSER_DATA_DIR": str(tmp_path),
    }
    import os

    result = subprocess.run(
        [sys.executable, "-m", "composer"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr
    assert "window shown" in result.stdout


@pytest.mark.slow
def test_resume_a_run_stop_generation_at_once_and_drag_out(window, qtbot, chorales, tmp_path):
    window.library.open_folder(chorales)
    qtbot.waitUntil(lambda: window.training.start_button.isEnabled(), timeout=60_000)
    tiny_panel_settings(window.training, steps=4)
    window.learning.start_training()
    qtbot.waitUntil(lambda: not window.training.is_running, timeout=120_000)
    run_dir = window.training.run_dir

    window.training.steps.setValue(8)  # reopen the run later and train it further
    window.training.resume(run_dir)
    qtbot.waitUntil(lambda: not window.training.is_running, timeout=120_000)
    assert json.loads((run_dir / "run.json").read_text())["step"] == 8
    assert window.training.chart.validation[0][0] == 4  # the history was drawn again
    assert "Finished 8 steps" in window.training.message.text()

    window.generation.seconds.setValue(3600)
    window.generation.variations.setValue(1)
    window.generating.generate()
    qtbot.waitUntil(
        lambda: len(window.pieces.variations) == 1 and len(window.pieces.variations[0][0]) > 0,
        timeout=60_000,
    )
    window.generating.stop_generating()
    qtbot.waitUntil(lambda: not window.generation.is_running, timeout=10_000)
    assert window.generation.message.text().startswith("Stopped 1 variation ")
    assert window.pieces.variations[0][0].end_tick < 3600 * 480  # far from the hour asked for

    dragged = window.drag_button.write_temporary()  # what a drag into a DAW carries
    assert dragged.suffix == ".mid" and dragged.name == "variation-1.mid"
    assert sum(len(i.notes) for i in pretty_midi.PrettyMIDI(str(dragged)).instruments) == len(
        window.pieces.variations[0][0]
    )


def test_window_layout_is_restored(qtbot, window):
    from composer.app.window import MainWindow

    window.resize(701, 503)  # inside the offscreen screen: restoring clamps to it
    window.docks["training"].hide()
    size = (window.size().width(), window.size().height())  # no narrower than the docks allow
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    again.show()
    # The offscreen screen is 800 px wide, so restoring clamps the width; the height comes back.
    assert again.size().height() == size[1] == 503
    assert again.docks["training"].isHidden()
    again.close()


@pytest.mark.slow
def test_evaluate_the_model_shows_the_report_with_histograms(window, qtbot, chorales, tmp_path):
    window.library.open_folder(chorales)
    qtbot.waitUntil(lambda: window.training.start_button.isEnabled(), timeout=60_000)
    tiny_panel_settings(window.training, steps=6)
    window.training.fields["validation_fraction"].setValue(0.3)
    window.learning.start_training()
    qtbot.waitUntil(lambda: not window.training.is_running, timeout=120_000)
    window.learning.evaluate_model()
    qtbot.waitUntil(lambda: window.learning.evaluation is not None, timeout=120_000)
    dialog = window.learning.evaluation
    assert "5-gram (Kneser-Ney)" in dialog.text.toPlainText()
    assert [c.title for c in dialog.charts] == ["Pitch classes", "Time between onsets (beats)"]
    assert len(dialog.charts[0].reference) == 12 and abs(sum(dialog.charts[0].reference) - 1) < 1e-3
    assert dialog.warnings.text()  # a 6-step model: at least the n-gram warning, in words
    assert "lower is better" in dialog.text.toPlainText()  # the units explained in words
    dialog.grab().save(str(tmp_path / "evaluation.png"))
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialogButtonBox

    close = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Close)
    qtbot.mouseClick(close, Qt.MouseButton.LeftButton)  # it has a Close button, and it closes
    assert not dialog.isVisible()


def test_first_launch_generates_with_the_bundled_model(window, qtbot):
    """No data, no training: the window opens ready to generate."""
    assert window.generation.model.currentText() == "Bundled model"
    window.generation.seconds.setValue(8)
    window.generation.variations.setValue(1)
    window.generating.generate()
    qtbot.waitUntil(lambda: not window.generation.is_running, timeout=60_000)
    assert len(window.pieces.variations[0][0]) > 10
    assert bundled_model_name() in window.generation.message.text()


@pytest.mark.slow
def test_a_nan_loss_in_the_app_says_so_and_keeps_the_checkpoint(
    window, qtbot, chorales, monkeypatch
):
    import types

    import torch.nn.functional as real_f

    from composer.core.training import trainer as trainer_module

    calls = []

    def cross_entropy(*args, **kwargs):  # the real loss, until the model "diverges" at step 8
        calls.append(1)
        loss = real_f.cross_entropy(*args, **kwargs)
        return loss * float("nan") if len(calls) >= 8 else loss

    monkeypatch.setattr(trainer_module, "F", types.SimpleNamespace(cross_entropy=cross_entropy))
    window.library.open_folder(chorales)
    qtbot.waitUntil(lambda: window.training.start_button.isEnabled(), timeout=60_000)
    tiny_panel_settings(window.training, steps=50)
    window.learning.start_training()
    qtbot.waitUntil(lambda: not window.training.is_running, timeout=60_000)
    message = window.training.message.text()
    assert "NaN or infinite at step 8" in message and "checkpoint of step 5 is kept" in message
    assert "lower the learning rate under Advanced" in message and "--" not in message
    run = json.loads((window.training.run_dir / "run.json").read_text())
    assert run["latest"].endswith("step-00000005.json")
    assert window.generation.model.currentData() == str(window.training.run_dir)  # still usable
