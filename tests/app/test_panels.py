"""The three side panels as a musician meets them: what the Library says about broken files, what
the Train panel shows while it trains, pauses and resumes, which model the Generate panel names,
and a tooltip on every control. Real widgets offscreen, real chorales, real (tiny) runs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QGroupBox,
    QScrollBar,
)

from composer.cli import main
from tests.conftest import corpus
from tests.midi_files import simple_tune
from tests.training_helpers import (
    collection_of,
    copy_chorales,
    tiny_model,
    tiny_panel_settings,
    tiny_training,
)

READOUTS = ("Step", "Epoch", "Loss", "Validation", "Tokens/s", "ETA", "Device")


@pytest.fixture
def window(window):
    """The main window, answering yes when closing it asks to stop training: pytest-qt closes it
    before the shared fixture's teardown, and a test that fails while training must not hang."""
    window.ask = lambda question: True
    return window


@pytest.fixture
def chorales(tmp_path):
    return copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 8)


def _run_stopped_at(run_dir: Path, chorales: Path, cache: Path, target: int, stop_at: int):
    """A tiny run aiming at `target` steps (validated every 4), stopped after `stop_at` steps."""
    from composer.core.training import TrainControl, new_run

    control = TrainControl()
    trainer = new_run(
        run_dir,
        collection_of(chorales, cache),
        tiny_model(),
        tiny_training(steps=target, eval_every=4, log_every=1),
        control=control,
    )
    for progress in trainer.run():
        if progress.event == "step" and progress.step == stop_at:
            control.stop()
    return json.loads((run_dir / "run.json").read_text())


def _start_long_run(window, qtbot, chorales) -> None:
    """Train (far more steps than a test waits for) until the first steps are shown."""
    window.library.open_folder(chorales)
    qtbot.waitUntil(lambda: window.training.start_button.isEnabled(), timeout=60_000)
    tiny_panel_settings(window.training, steps=100_000, eval_every=10_000)
    window.learning.start_training()
    qtbot.waitUntil(lambda: window.training.readouts["Loss"].text() != "–", timeout=60_000)


def _stop(window, qtbot) -> None:
    window.training.stop()
    qtbot.waitUntil(lambda: not window.training.is_running, timeout=60_000)


# --- Library: why a file could not be used --------------------------------------------------------
@pytest.fixture
def broken_folder(tmp_path):
    """One good tune and three files each broken in a way users have met."""
    folder = tmp_path / "broken"
    folder.mkdir()
    good = simple_tune(folder / "good.mid").read_bytes()
    (folder / "header.mid").write_bytes(good[:8] + b"\x00\x07" + good[10:])  # format 7
    loud = good.replace(bytes([0x90, 60, 80]), bytes([0x90, 60, 200]), 1)
    (folder / "loud.mid").write_bytes(loud)  # a velocity of 200
    (folder / "cut.mid").write_bytes(good[: len(good) // 2])
    return folder


def test_library_says_in_words_what_is_wrong_with_each_file(window, qtbot, broken_folder):
    window.library.open_folder(broken_folder)
    qtbot.waitUntil(lambda: window.library.worker is None, timeout=60_000)
    failures = window.library.failures
    reasons = {
        failures.topLevelItem(i).text(0): failures.topLevelItem(i).text(1)
        for i in range(failures.topLevelItemCount())
    }
    assert reasons["header.mid"].startswith("is not a valid MIDI file: its header is damaged")
    assert reasons["loud.mid"].startswith("has a note with velocity 200, above MIDI's 127")
    assert reasons["cut.mid"].startswith("is damaged or truncated: it ends in the middle")
    for reason in reasons.values():
        assert "!" not in reason and "MiniMidi" not in reason and "velocity=" not in reason
        assert reason.endswith(("remove it", "again")) and reason.count(". ") == 0


def test_library_names_a_folder_it_could_not_read(window, qtbot, tmp_path, monkeypatch):
    """Issue 25: an unreadable folder read as "no usable MIDI file (0 found)". These tests run
    as root, whom chmod does not stop, so the system's refusal is made where os.walk meets it
    (os.scandir; test_ingest.py has the real refusal through the command line)."""
    import os

    folder = tmp_path / "music"
    (folder / "locked").mkdir(parents=True)
    simple_tune(folder / "good.mid")
    simple_tune(folder / "locked" / "hidden.mid")
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    window.library.open_folder(folder)
    qtbot.waitUntil(lambda: window.library.worker is None, timeout=60_000)
    assert (
        f"Could not read the folder {folder / 'locked'} (Permission denied), so the MIDI files "
        "in it are left out." in window.state_label.text()
    )
    window.library.open_folder(folder / "locked")
    qtbot.waitUntil(lambda: window.library.worker is None, timeout=60_000)
    assert window.library.folder_label.text() == (
        f"could not read the folder {folder / 'locked'} (Permission denied); choose a folder "
        "you may open, or allow reading it."
    )


def test_failed_files_list_is_several_rows_tall_and_copies_file_and_reason(
    window, qtbot, broken_folder
):
    large = window.library.font()
    large.setPointSize(28)  # a musician who reads with large letters
    window.library.setFont(large)
    window.library.open_folder(broken_folder)
    qtbot.waitUntil(lambda: window.library.worker is None, timeout=60_000)
    failures = window.library.failures
    assert failures.isVisible() and failures.topLevelItemCount() == 3
    qtbot.waitUntil(lambda: failures.viewport().height() >= 6 * failures.sizeHintForRow(0))

    failures.setFocus()
    failures.topLevelItem(0).setSelected(True)
    failures.topLevelItem(2).setSelected(True)
    qtbot.keyClick(failures, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    lines = QGuiApplication.clipboard().text().splitlines()
    first, third = failures.topLevelItem(0), failures.topLevelItem(2)
    assert lines == [
        f"{broken_folder / first.text(0)}: {first.text(1)}",
        f"{broken_folder / third.text(0)}: {third.text(1)}",
    ]

    QGuiApplication.clipboard().clear()
    failures.clearSelection()
    failures.topLevelItem(1).setSelected(True)
    (copy,) = [a for a in failures.actions() if a.text() == "Copy"]  # the context menu's item
    assert failures.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
    copy.trigger()
    second = failures.topLevelItem(1)
    assert QGuiApplication.clipboard().text() == (
        f"{broken_folder / second.text(0)}: {second.text(1)}\n"
    )


def test_ingest_json_keeps_the_parsers_own_words_as_detail(broken_folder, tmp_path, capsys):
    assert main(["ingest", str(broken_folder), "--json", "--jobs", "0",
                 "--cache-dir", str(tmp_path / "c")]) == 0  # fmt: skip
    failed = {Path(f["path"]).name: f for f in json.loads(capsys.readouterr().out)["failed"]}
    assert failed["loud.mid"]["reason"].startswith("has a note with velocity 200")
    assert "velocity=200" in failed["loud.mid"]["detail"]
    assert "midi format (7)" in failed["header.mid"]["detail"]
    assert "chunk length" in failed["cut.mid"]["detail"]


def test_failures_cached_by_an_older_composer_are_read_again_in_words(broken_folder, tmp_path):
    from composer.core.corpus import TokenCache, ingest
    from composer.core.tokens import TokenizerConfig

    cache = TokenCache(tmp_path / "c", TokenizerConfig())
    cache.ensure()
    sha = hashlib.sha256((broken_folder / "loud.mid").read_bytes()).hexdigest()
    old = "is damaged or truncated (get velocity=200); export it again or remove it"
    cache.put(sha, {"ok": False, "reason": old})  # as the cache remembered it before
    cache.flush()
    report = ingest(broken_folder, tmp_path / "c", jobs=0)
    (loud,) = [f for f in report.failed if f.path.endswith("loud.mid")]
    assert loud.reason.startswith("has a note with velocity 200") and "velocity=200" in loud.detail


def test_an_unknown_parser_error_still_gets_a_sentence_with_the_fix():
    from composer.core.midi.reader import explain_parser_error

    sentence = explain_parser_error("Something nobody has seen before!")
    assert sentence == "is damaged and cannot be read as MIDI; export it again or remove it"


# --- Train: resuming keeps the run's own target ------------------------------------------------
@pytest.mark.slow
def test_resuming_a_run_keeps_its_own_step_target_and_shows_it(window, qtbot, chorales, tmp_path):
    run_dir = tmp_path / "run"
    _run_stopped_at(run_dir, chorales, tmp_path / "cache", target=8, stop_at=4)
    panel = window.training
    panel.steps.setValue(300)  # whatever the box says when the app is opened again
    panel.resume(run_dir)
    assert panel.steps.value() == 8  # the run's own target, shown
    qtbot.waitUntil(lambda: not panel.is_running, timeout=120_000)
    assert "Finished 8 steps" in panel.message.text()
    assert json.loads((run_dir / "run.json").read_text())["step"] == 8


@pytest.mark.slow
def test_a_finished_run_shows_where_it_stood_and_trains_further_when_asked(
    window, qtbot, chorales, tmp_path
):
    run_dir = tmp_path / "run"
    _run_stopped_at(run_dir, chorales, tmp_path / "cache", target=4, stop_at=4)
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    loss = [r["loss"] for r in metrics if r["event"] == "train"][-1]
    validation = [r["loss"] for r in metrics if r["event"] == "validation"][-1]
    panel = window.training
    panel.resume(run_dir)
    assert not panel.is_running and panel.steps.value() == 4
    assert "has trained all its 4 steps; raise Steps" in panel.message.text()
    readouts = panel.readouts
    assert readouts["Step"].text() == "4 / 4" and readouts["Epoch"].text() != "–"
    assert readouts["Loss"].text() == f"{loss:.3f}"
    assert readouts["Validation"].text() == f"{validation:.3f} (best {validation:.3f})"
    assert panel.chart.validation == [(4, validation)] and len(panel.chart.train) == 4

    panel.steps.setValue(6)  # the musician asks for more
    panel.resume(run_dir)
    qtbot.waitUntil(lambda: not panel.is_running, timeout=120_000)
    assert "Finished 6 steps" in panel.message.text()
    assert json.loads((run_dir / "run.json").read_text())["step"] == 6


def test_continuing_a_folder_that_is_no_run_or_a_damaged_one_says_which(window, tmp_path):
    panel = window.training
    panel.resume(tmp_path)
    assert panel.message.text() == (
        f"{tmp_path} is not a training run (it has no run.json); choose a run folder."
    )
    (tmp_path / "run.json").write_text('{"format": "composer-run", "version": 1, "step": 3}')
    panel.resume(tmp_path)  # RunInfo's check: the file, and what is wrong with it
    text = panel.message.text()
    assert str(tmp_path / "run.json") in text and "is damaged ('model' is missing" in text
    (tmp_path / "run.json").write_bytes(b"\x00" * 64)
    panel.resume(tmp_path)
    assert "run.json is not a readable training run" in panel.message.text()
    assert not panel.is_running


# --- Train: the message and readouts follow what training does ----------------------------------
@pytest.mark.slow
def test_pressing_resume_after_pause_clears_paused(window, qtbot, chorales):
    _start_long_run(window, qtbot, chorales)
    panel = window.training
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.message.text().startswith("Paused"), timeout=30_000)
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Paused" not in panel.message.text(), timeout=30_000)
    assert panel.message.text().startswith("Training:") and panel.pause_button.text() == "Pause"
    _stop(window, qtbot)


@pytest.mark.slow
def test_reading_a_folder_while_training_keeps_the_training_message(window, qtbot, chorales):
    _start_long_run(window, qtbot, chorales)
    panel = window.training
    training = panel.message.text()
    assert training.startswith("Training:")
    window.library.open_folder(chorales)  # read again (or another folder) while it trains
    qtbot.waitUntil(lambda: window.library.worker is None, timeout=60_000)
    assert panel.message.text() == training and "Ready to train" not in training
    _stop(window, qtbot)


@pytest.mark.slow
def test_a_new_run_starts_with_empty_readouts_and_chart(window, qtbot, chorales):
    window.library.open_folder(chorales)
    qtbot.waitUntil(lambda: window.training.start_button.isEnabled(), timeout=60_000)
    panel = window.training
    tiny_panel_settings(panel, steps=4, eval_every=2)
    window.learning.start_training()
    qtbot.waitUntil(lambda: not panel.is_running, timeout=120_000)
    assert panel.readouts["Validation"].text() != "–" and panel.chart.validation

    tiny_panel_settings(panel, steps=100_000, eval_every=10_000)
    window.learning.start_training()
    assert [panel.readouts[name].text() for name in READOUTS] == ["–"] * len(READOUTS)
    assert panel.chart.train == [] and panel.chart.validation == []
    qtbot.waitUntil(lambda: panel.readouts["Loss"].text() != "–", timeout=60_000)
    assert panel.readouts["Validation"].text() == "–"  # no validation in this run yet
    _stop(window, qtbot)


def test_resuming_fills_the_readouts_from_the_runs_history(window, qtbot, chorales, tmp_path):
    run_dir = tmp_path / "run"
    _run_stopped_at(run_dir, chorales, tmp_path / "cache", target=40, stop_at=6)
    panel = window.training
    panel.resume(run_dir)
    assert panel.is_running
    assert panel.readouts["Step"].text() == "6 / 40"  # before the first new step arrives
    assert panel.readouts["Loss"].text() != "–" and panel.readouts["Tokens/s"].text() != "–"
    assert panel.readouts["Validation"].text().startswith(f"{panel.chart.validation[-1][1]:.3f}")
    _stop(window, qtbot)


# --- Generate: the model list names the checkpoint used -----------------------------------------
def test_model_list_names_the_checkpoint_that_generating_uses(window, qtbot, chorales, tmp_path):
    from composer.app import paths

    run_dir = paths.runs_dir() / "myrun"
    run = _run_stopped_at(run_dir, chorales, tmp_path / "cache", target=100, stop_at=6)
    assert run["step"] == 6 and "step-00000004" in run["best"]  # validated at 4, stopped at 6
    generation = window.generation
    generation.refresh_models()
    index = generation.model.findData(str(run_dir))
    assert generation.model.itemText(index) == "myrun (best, step 4)"

    generation.model.setCurrentIndex(index)
    generation.seconds.setValue(2)
    generation.variations.setValue(1)
    window.generating.generate()
    qtbot.waitUntil(lambda: not generation.is_running, timeout=60_000)
    assert "with myrun (step 4)" in generation.message.text()  # the same checkpoint


def test_the_style_row_offers_the_chosen_models_styles(window, qtbot, chorales, tmp_path):
    import shutil

    from composer.app import paths
    from composer.core.training import new_run

    music = tmp_path / "music"
    for i, path in enumerate(sorted(chorales.glob("*.mid"))):
        (music / ("early" if i < 4 else "late")).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, music / ("early" if i < 4 else "late") / path.name)
    styled = paths.runs_dir() / "styled"
    trainer = new_run(styled, collection_of(music, tmp_path / "cache"), tiny_model(),
                      tiny_training(steps=2, eval_every=2, styles="folders"))  # fmt: skip
    for _ in trainer.run():
        pass
    plain = paths.runs_dir() / "plain"
    _run_stopped_at(plain, chorales, tmp_path / "cache", target=2, stop_at=2)
    generation = window.generation
    generation.refresh_models()
    form = generation.form
    generation.model.setCurrentIndex(generation.model.findData(str(plain)))
    assert not form.isRowVisible(generation.style)  # a model without styles: no row
    generation.model.setCurrentIndex(generation.model.findData(str(styled)))
    assert form.isRowVisible(generation.style)
    names = [generation.style.itemText(i) for i in range(generation.style.count())]
    assert names == ["Any: the model chooses", "Early", "Late"]
    generation.style.setFocus()
    qtbot.keyClick(generation.style, Qt.Key.Key_End)  # as a person picks from the list
    assert generation.style.currentText() == "Late"
    assert generation.sampling_settings().style == "late"
    generation.seconds.setValue(2)
    generation.variations.setValue(1)
    window.generating.generate()
    qtbot.waitUntil(lambda: not generation.is_running, timeout=60_000)
    assert "with styled (step 2), style late, seed" in generation.message.text()
    generation.refresh_models(select=str(styled))  # the same model listed again: still Late
    assert generation.style.currentText() == "Late"

    # A run fine-tuned from it plays in its own collection's style unless told otherwise.
    from composer.core.training.start_from import read_start

    start = read_start(styled)
    mine = copy_chorales(corpus("bach_chorales"), tmp_path / "mine", 3)
    tuned = paths.runs_dir() / "tuned"
    trainer = new_run(tuned, collection_of(mine, tmp_path / "cache"), start.model,
                      tiny_training(steps=2, eval_every=2), start_from=start)  # fmt: skip
    for _ in trainer.run():
        pass
    generation.refresh_models(select=str(tuned))
    assert generation.style.currentText() == "Mine (the model's own)"
    assert generation.sampling_settings().style is None  # the model's own default
    names = [generation.style.itemText(i) for i in range(generation.style.count())]
    assert names == ["Mine (the model's own)", "Any: the model chooses", "Early", "Late"]


# --- Tooltips -------------------------------------------------------------------------------------
def test_every_control_of_train_and_generate_explains_itself(window):
    for panel in (window.training, window.generation):
        for kind in (QAbstractSpinBox, QComboBox, QAbstractSlider, QAbstractButton, QGroupBox):
            for widget in panel.findChildren(kind):
                if isinstance(widget, QScrollBar):  # part of a list, not a control
                    continue
                name = getattr(widget, "text", getattr(widget, "title", lambda: ""))()
                assert widget.toolTip().strip(), f"{type(widget).__name__} {name!r} has no tooltip"
    readouts = window.training.readouts
    assert all(readouts[name].toolTip() for name in READOUTS)
    loss, validation = readouts["Loss"].toolTip(), readouts["Validation"].toolTip()
    assert "nats per token" in loss.lower() and "ln(V)" in loss and "1.5–2.5" in loss
    assert "validation rising while loss falls means over-fitting" in validation
    temperature = window.generation.temperature.toolTip()
    assert "safe and repetitive" in temperature and "adventurous and erratic" in temperature
    assert "make up P of the probability: lower = safer" in window.generation.top_p.toolTip()


@pytest.mark.slow
def test_a_run_that_hears_the_bar_and_the_other_parts_is_asked_for_with_one_tick(
    window, qtbot, chorales
):
    window.library.open_folder(chorales)
    panel = window.training
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=60_000)
    tiny_panel_settings(panel, steps=3, eval_every=3)
    assert not panel.context.isChecked() and panel.context.toolTip()
    qtbot.mouseClick(panel.context, Qt.MouseButton.LeftButton)
    assert panel.context.isChecked()
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running, timeout=120_000)
    model = json.loads((panel.run_dir / "run.json").read_text())["model"]
    assert model["context_steps"] == 12 and model["lookback_bars"] == 2
    assert model["given_ahead_steps"] == 12  # it hears the other parts when it fills
    from composer.app import settings

    assert settings.read(settings.CONTEXT)  # offered ticked next time
