"""The Train panel's *Start from* choice: suggested by the collection's size, chosen by the
musician, and carried to the trainer (offscreen Qt, a tiny model)."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from composer.app.panels.training_start import BASE_MODEL_BELOW_FILES, StartChoice
from tests.conftest import corpus
from tests.training_helpers import copy_chorales, tiny_trained_run


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    return tiny_trained_run(tmp_path_factory.mktemp("start"), files=6, steps=4)


def test_the_suggestion_follows_the_collection_until_the_musician_chooses(qtbot):
    choice = StartChoice()
    qtbot.addWidget(choice)
    choice.suggest(40)
    assert choice.kind == "base" and choice.currentText() == "The base model (recommended)"
    assert choice.source().name == "model.json" and choice.source().is_file()
    choice.suggest(BASE_MODEL_BELOW_FILES)
    assert choice.kind == "empty" and choice.currentText() == "An empty model (recommended)"
    assert choice.source() is None
    choice.setFocus()
    qtbot.keyClick(choice, Qt.Key.Key_Up)  # the musician picks the base model by hand
    assert choice.kind == "base"
    choice.suggest(5000)  # a bigger folder later does not overrule the musician
    assert choice.kind == "base" and choice.itemText(1) == "An empty model (recommended)"


def test_cancelling_another_run_keeps_the_choice_before(qtbot, monkeypatch):
    choice = StartChoice()
    qtbot.addWidget(choice)
    choice.suggest(10)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: "")
    choice.setFocus()
    qtbot.keyClick(choice, Qt.Key.Key_End)  # "Another run…", then Cancel in the folder dialog
    assert choice.kind == "base" and choice.run_dir is None


@pytest.mark.slow
def test_starting_from_another_run_reaches_the_trainer(window, qtbot, tiny_run, tmp_path,
                                                        monkeypatch):  # fmt: skip
    base_dir, base_run = tiny_run
    chorales = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 6)
    window.library.open_folder(chorales)
    panel = window.training
    qtbot.waitUntil(lambda: panel.start_button.isEnabled(), timeout=60_000)
    assert panel.start_from.kind == "base"  # six files: the base model is suggested
    assert not panel.preset.isEnabled() and panel.length.in_minutes

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(base_dir))
    panel.start_from.setFocus()
    qtbot.keyClick(panel.start_from, Qt.Key.Key_End)  # "Another run…", then choose the folder
    assert panel.start_from.kind == "run" and panel.start_from.currentText() == "Run run"
    assert panel.fields["learning_rate"].value() == 0.0005  # fine-tuning settings
    panel.length.set_unit("steps")
    panel.steps.setValue(2)
    panel.fields["eval_every"].setValue(2)
    panel.device.setCurrentIndex(panel.device.findData("cpu"))
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running, timeout=120_000)
    assert "Finished 2 steps" in panel.message.text(), panel.message.text()
    run = json.loads((panel.run_dir / "run.json").read_text())
    assert run["from"]["model"].startswith(str(base_dir.resolve()))
    assert run["model"] == base_run["model"]  # the tiny model's size, not a preset's
    assert run["training"]["learning_rate"] == 0.0005 and run["training"]["patience"] == 8


def test_a_run_being_trained_is_shown_as_busy_in_the_model_list(window, tiny_run, tmp_path):
    import shutil

    from composer.app import paths
    from composer.core.training import resume_run
    from tests.training_helpers import collection_of

    base_dir, _ = tiny_run
    run_dir = paths.runs_dir() / "busy"
    shutil.copytree(base_dir, run_dir, ignore=shutil.ignore_patterns(".lock"))
    chorales = copy_chorales(corpus("bach_chorales"), tmp_path / "chorales", 6)
    run = json.loads((run_dir / "run.json").read_text())
    run["folder"] = str(chorales)
    (run_dir / "run.json").write_text(json.dumps(run))
    generation = window.generation
    generation.refresh_models()
    label = generation.model.itemText(generation.model.findData(str(run_dir)))
    assert label.startswith("busy (") and "training now" not in label
    trainer = resume_run(run_dir, collection_of(chorales, tmp_path / "cache"), steps=8)
    generation.refresh_models()  # a training holds the folder (here, or in another process)
    assert generation.model.itemText(generation.model.findData(str(run_dir))).endswith(
        " — training now"
    )
    trainer.close()
    generation.refresh_models()
    assert generation.model.itemText(generation.model.findData(str(run_dir))) == label


def test_the_steer_box_reaches_the_sampler_and_is_kept_with_the_piece(window, qtbot):
    from composer.core.generation.steering_text import parse_key

    panel = window.generation
    assert panel.model.currentText() == "Bundled model"
    steer = panel.steering
    qtbot.mouseClick(steer, Qt.MouseButton.LeftButton, pos=_check_box_of(steer))
    assert steer.isChecked()
    steer.tonic.setCurrentText("D")
    steer.scale.setCurrentIndex(steer.scale.findData("minor"))
    steer.grid.setCurrentIndex(steer.grid.findData("1/8"))
    steer.programs.setText("0")
    steer.drums.setChecked(False)
    panel.seconds.setValue(8)
    panel.variations.setValue(1)
    panel.random_seed.setChecked(False)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running, timeout=60_000)
    model, _ = window.pieces.variations[-1]
    piece = model.to_piece()
    d_minor = parse_key("D minor").pitch_classes
    eighth = piece.ticks_per_beat // 2
    notes = [n for t in piece.tracks for n in t.notes]
    assert len(notes) > 5
    assert all(int(n["pitch"]) % 12 in d_minor and int(n["start"]) % eighth == 0 for n in notes)
    assert all(t.program == 0 and not t.is_drum for t in piece.tracks)
    document = window.documents.documents[-1]
    assert document.metadata["steering"]["key"] == "D minor"
    assert document.metadata["steering"]["grid"] == "1/8"


def _check_box_of(box):
    """The centre of a checkable group box's check box, where the style draws it."""
    from PySide6.QtWidgets import QStyle, QStyleOptionGroupBox

    option = QStyleOptionGroupBox()
    box.initStyleOption(option)
    return (
        box.style()
        .subControlRect(
            QStyle.ComplexControl.CC_GroupBox, option, QStyle.SubControl.SC_GroupBoxCheckBox, box
        )
        .center()
    )


def test_the_steer_box_can_take_the_key_of_the_primer(window, qtbot):
    from composer.app.panels.generation_panel import FILE_PRIMER
    from composer.core.midi import read_midi

    panel = window.generation
    steer = panel.steering
    steer.setChecked(True)
    steer.scale.setCurrentIndex(steer.scale.findData("detect"))
    steer.primer_density.setChecked(True)
    steer.instrument_ranges.setText("0=G3-G5")
    panel.primer.setCurrentIndex(panel.primer.findData("none"))
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert "Choose a primer to take its key or density from" in panel.message.text()
    primer = sorted(corpus("nottingham").glob("*.mid"))[0]  # ashover1 or 01-reel-in-g: G major
    panel.primer_file = primer
    panel.primer.setCurrentIndex(panel.primer.findData(FILE_PRIMER))
    panel.seconds.setValue(6)
    panel.variations.setValue(1)
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.is_running, timeout=60_000)
    piece = window.pieces.variations[-1][0].to_piece()
    original = read_midi(primer)
    last = max(int(t.notes["end"].max()) for t in original.tracks if len(t.notes))
    primer_end = last / original.ticks_per_beat * piece.ticks_per_beat  # in the piece's ticks
    g_major = {7, 9, 11, 0, 2, 4, 6}
    new = [n for t in piece.tracks for n in t.notes if int(n["start"]) >= primer_end - 1]
    assert new and all(int(n["pitch"]) % 12 in g_major for n in new)
    piano = [n for t in piece.tracks if t.program == 0 and not t.is_drum for n in t.notes]
    assert all(55 <= int(n["pitch"]) <= 79 for n in piano if int(n["start"]) >= primer_end - 1)
    steering = window.documents.documents[-1].metadata["steering"]
    assert steering["key"] == steering["density"] == "the primer's"
    assert steering["ranges"] == [[0, 55, 79]]
    steer.instrument_ranges.setText("violin=G3-E7")
    qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    assert "Per instrument: write a General MIDI number" in panel.message.text()
