"""Saving pieces (issue 28): Save, Save As and Save all write a MIDI file that keeps how the
piece was made, the tab takes its name, reopening it brings everything back; Save As never
starts in the folder the model learns from; quitting asks once for all the pieces not saved."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mido
import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from composer.core.midi import read_midi, write_midi
from composer.core.midi.metadata import MAX_BYTES, PREFIX, read_metadata
from tests.app.test_documents import generate
from tests.conftest import corpus
from tests.editing_helpers import little_tune


@pytest.fixture
def save_dialog(monkeypatch):
    """The Save As dialog, answered with the paths in `answers` (it records where it started)."""
    answers, started = [], []

    def dialog(parent, title, start, file_filter):
        started.append(Path(start))
        return (str(answers.pop(0)), file_filter) if answers else ("", file_filter)

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    return answers, started


def test_save_then_reopen_brings_back_the_piece_its_name_and_how_it_was_made(
    window, qtbot, tmp_path, save_dialog
):
    answers, _ = save_dialog
    generate(window, qtbot, variations=1)
    document = window.documents.documents[0]
    made, notes = document.metadata, document.model.to_piece()
    assert made["seed"] == window.generation.seed.value() and document.modified
    answers.append(tmp_path / "first tune.mid")
    window.actions_by_name["save"].trigger()  # never saved: Save asks where
    assert document.title == "first tune.mid" and window.tabs.tabText(0) == "first tune.mid"
    assert not document.modified
    document.model.select_all()
    window.actions_by_name["transpose_up"].trigger()
    assert document.modified
    window.actions_by_name["save"].trigger()  # saved before: no question, same file
    assert not answers and not document.modified
    saved = document.model.to_piece()

    window.close()  # quit (nothing unsaved: no question), start again, open the file
    assert not window.isVisible()
    from composer.app.window import MainWindow

    again = MainWindow()
    qtbot.addWidget(again)
    for _ in list(again.documents.documents):  # the pieces the session brought back
        again.documents.close_tab(0)
    assert again.pieces.open_midi_file(tmp_path / "first tune.mid")
    reopened = again.documents.current()
    assert reopened.title == "first tune.mid" and not reopened.modified
    assert json.dumps(reopened.metadata, sort_keys=True) == json.dumps(made, sort_keys=True)
    back = reopened.model.to_piece()
    for mine, theirs in zip(saved.tracks, back.tracks):
        assert mine.name == theirs.name and mine.notes.tobytes() == theirs.notes.tobytes()
    assert len(saved.tracks) == len(notes.tracks)
    assert reopened.export_path == (tmp_path / "first tune.mid").resolve()  # Ctrl+S goes back
    again.close_keeping_session()


@pytest.mark.slow
def test_save_as_starts_where_pieces_were_saved_never_in_the_library_folder(
    window, qtbot, tmp_path, save_dialog
):
    answers, started = save_dialog
    library = tmp_path / "collection"
    library.mkdir()
    for path in sorted(corpus("bach_chorales").glob("*.mid"))[:3]:
        shutil.copy(path, library / path.name)
    window.library.open_folder(library)
    qtbot.waitUntil(lambda: window.training.start_button.isEnabled(), timeout=60_000)
    assert window.pieces.open_midi_file(library / sorted(p.name for p in library.iterdir())[0])
    window.actions_by_name["save_as"].trigger()  # cancelled: nothing written
    assert not started[0].parent.resolve().is_relative_to(library.resolve())
    out = tmp_path / "pieces"
    out.mkdir()
    answers.append(out / "mine.mid")
    window.actions_by_name["save_as"].trigger()
    assert (out / "mine.mid").exists() and window.documents.documents[0].title == "mine.mid"
    window.actions_by_name["save_as"].trigger()
    assert started[-1].parent == out.resolve()  # remembered


def test_save_all_saves_every_piece_with_changes_and_quitting_can_too(
    window, qtbot, tmp_path, save_dialog
):
    answers, _ = save_dialog
    generate(window, qtbot, variations=2)
    answers.extend([tmp_path / "one.mid", tmp_path / "two.mid"])
    window.actions_by_name["save_all"].trigger()
    assert [d.title for d in window.documents.documents] == ["one.mid", "two.mid"]
    assert not window.documents.modified()
    assert "Saved 2 of 2" in window.state_label.text()

    generate(window, qtbot, variations=2)
    answers.extend([tmp_path / "three.mid", tmp_path / "four.mid"])
    window.choose_save_all = lambda titles: "save"
    window.close()
    assert not window.isVisible()
    assert (tmp_path / "three.mid").exists() and (tmp_path / "four.mid").exists()


def test_export_all_names_the_files_after_the_tabs(window, qtbot, tmp_path):
    window.pieces.open_midi_file(little_tune(tmp_path / "tune.mid"))
    generate(window, qtbot, variations=1)
    written = window.exporting.export_all_to(tmp_path / "out")
    assert [p.name for p in written] == ["tune.mid", "variation-1.mid"]
    assert "Exported 2 of 2 pieces" in window.state_label.text()


def test_hostile_metadata_is_left_out_and_a_piece_still_opens(window, tmp_path):
    path = little_tune(tmp_path / "tune.mid")
    assert read_metadata(path.read_bytes()) == {}
    for text in (
        PREFIX.decode() + "{not json",
        PREFIX.decode() + "[1, 2]",
        PREFIX.decode() + json.dumps({"x": "y" * (2 * MAX_BYTES)}),
        "something else entirely",
    ):
        midi = mido.MidiFile(path)
        midi.tracks[0].insert(0, mido.MetaMessage("text", text=text))
        midi.save(tmp_path / "odd.mid")
        assert read_metadata((tmp_path / "odd.mid").read_bytes()) == {}
        assert window.pieces.open_midi_file(tmp_path / "odd.mid")
    # A cut file: the length runs past the end.
    data = (tmp_path / "odd.mid").read_bytes()
    assert read_metadata(data[: data.find(b"\xff\x01") + 3]) == {}
    piece = read_midi(path)
    write_midi(piece, tmp_path / "made.mid", metadata={"seed": 3, "notes": np.int64(5)})
    assert read_metadata((tmp_path / "made.mid").read_bytes()) == {}  # not JSON-safe: left out
