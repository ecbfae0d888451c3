"""The app starts whatever it reads back (issue 25): an autosaved session or a settings file
holding what the app never writes opens the real window, says what was set aside or replaced in
one sentence naming the file, and keeps every piece file. Also: pieces two windows left in two
slots open together, and a resolution MIDI cannot hold is refused with a sentence on export."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from composer.app.piece.notes import ROLL_DTYPE
from composer.core.midi.piece import TIME_SIGNATURE_DTYPE, make_tempos
from composer.core.session import SESSION_FILE, SET_ASIDE, SavedPiece, SessionStore


def sessions() -> Path:
    return Path(os.environ["COMPOSER_DATA_DIR"]) / "sessions"  # set by conftest for each test


def app_piece(title: str, notes: np.ndarray | None = None, **fields) -> SavedPiece:
    """A piece as the app autosaves it (ROLL_DTYPE notes: a bar of quarter notes)."""
    if notes is None:
        notes = np.zeros(4, ROLL_DTYPE)
        notes["start"] = np.arange(4) * 480
        notes["end"], notes["pitch"], notes["velocity"] = notes["start"] + 400, 60, 90
    signatures = np.array([(0, 4, 4)], dtype=TIME_SIGNATURE_DTYPE)
    return SavedPiece(title, notes, 480, make_tempos(), signatures, **fields)


def save_slot(*pieces: SavedPiece) -> Path:
    session = SessionStore(sessions()).open()
    session.save(list(pieces), 0)
    session.close(keep=True)
    return session.folder


def change_entry(folder: Path, index: int, **fields) -> None:
    path = folder / SESSION_FILE
    document = json.loads(path.read_text())
    document["pieces"][index].update(fields)
    path.write_text(json.dumps(document))


def start_window(qtbot):
    """The real main window, built as the app builds it at start."""
    from composer.app.main import create_app
    from composer.app.window import MainWindow

    create_app()
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    return window


def titles(window) -> list[str]:
    return [d.title for d in window.documents.documents]


def with_note(**columns) -> np.ndarray:
    notes = app_piece("x").notes
    for name, value in columns.items():
        notes[name][1] = value
    return notes


HOSTILE_FILES = {
    "other field names": lambda: app_piece("bad", np.zeros(3, [("a", "<i8"), ("b", "<f8")])),
    "pitch 32767": lambda: app_piece("bad", with_note(pitch=32767)),
    "velocity 32767": lambda: app_piece("bad", with_note(velocity=32767)),
    "program 32767": lambda: app_piece("bad", with_note(program=32767)),
}


@pytest.mark.parametrize("kind", list(HOSTILE_FILES))
def test_a_piece_file_the_app_never_writes_is_set_aside_and_the_app_starts(qtbot, kind):
    folder = save_slot(app_piece("good"), HOSTILE_FILES[kind]())  # checksums that match
    name = json.loads((folder / SESSION_FILE).read_text())["pieces"][1]["file"]
    window = start_window(qtbot)
    try:
        assert window.isVisible() and titles(window) == ["good"]
        said = window.state_label.text()
        assert "“bad”" in said and str(folder / name) in said and str(folder / SET_ASIDE) in said
    finally:
        window.close_keeping_session()
    assert (folder / SET_ASIDE / name).exists()  # kept, after the save at closing too


def test_a_view_value_no_float_holds_leaves_the_piece_with_its_default_view(qtbot):
    folder = save_slot(app_piece("zoomed", view={"key_height": 20}))
    change_entry(folder, 0, view={"key_height": 20, "left_tick": 10**400, "top_pitch": 1e308})
    window = start_window(qtbot)
    try:
        assert titles(window) == ["zoomed"]
        view = window.documents.editor(window.documents.documents[0]).view
        assert view.mapping.key_height == 20
        assert window.state_label.text() == "Reopened 1 piece from last time."
        assert window.start_notice is None  # nothing to tell: no window in the way
    finally:
        window.close_keeping_session()


def test_a_resolution_midi_cannot_hold_is_set_aside_with_a_sentence(qtbot):
    folder = save_slot(app_piece("good"), app_piece("fine"))
    change_entry(folder, 1, ticks_per_beat=40_000)
    window = start_window(qtbot)
    try:
        assert titles(window) == ["good"]
        said = window.state_label.text()
        assert "“fine”" in said and "32767 ticks per beat" in said and str(folder) in said
        # The status bar cuts a line this long: the sentence is shown whole, and at once.
        notice = window.start_notice
        assert notice.isVisible() and not notice.isModal()
        assert "“fine”" in notice.informativeText() and str(folder) in notice.informativeText()
    finally:
        window.close_keeping_session()


def test_pieces_two_windows_left_open_together_and_the_status_says_so(qtbot):
    store = SessionStore(sessions())
    first, second = store.open(), store.open()  # two windows ran at once
    first.save([app_piece("mine")], 0)
    second.save([app_piece("from the other window")], 0)
    first.close(keep=True)
    second.close(keep=True)
    window = start_window(qtbot)
    try:
        assert titles(window) == ["mine", "from the other window"]
        said = window.state_label.text()
        assert "Reopened 2 pieces" in said and "another window" in said
        assert str(second.folder) in said
    finally:
        window.close_keeping_session()
    again = start_window(qtbot)  # and from now on they are one window's pieces
    try:
        assert titles(again) == ["mine", "from the other window"]
        assert "another window" not in again.state_label.text()
    finally:
        again.close_keeping_session()


def test_unusable_settings_fall_back_to_their_defaults_and_the_status_says_so(qtbot):
    from composer.app import settings

    ini = Path(os.environ["COMPOSER_DATA_DIR"]) / "settings.ini"
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_text(
        "[generation]\ntemperature=nan\nseed=99999999999999999999\ntop_k=lots\nseconds=1e9\n"
        f"top_p=0.5\n[playback]\nsoundfont={'x' * 5000}\n"  # too long a name for any system
    )
    window = start_window(qtbot)
    try:
        panel = window.generation
        assert panel.temperature.value() == round(settings.TEMPERATURE.default * 100)
        assert panel.seed.value() == settings.SEED.default
        assert panel.top_k.value() == settings.TOP_K.default
        assert panel.seconds.value() == settings.SECONDS.default
        assert panel.top_p.value() == 0.5  # a usable value is used
        said = window.state_label.text()
        for key in ("temperature", "seed", "top_k", "seconds"):
            assert f"generation/{key}=" in said
        assert "playback/soundfont=xxx" in said and window.playback.soundfont is None
        assert str(ini) in said and "top_p" not in said
        told = window.start_notice.informativeText().split("\n\n")
        assert len(told) == 5 and all(str(ini) in sentence for sentence in told)
    finally:
        window.close_keeping_session()


def test_a_setting_of_the_wrong_kind_falls_back_with_words_a_musician_reads(qtbot):
    """A hand-edited line with a comma is a list to QSettings: it was "not a QByteArray", or
    taken as the text "['a', 'b']"."""
    from composer.app import settings

    ini = Path(os.environ["COMPOSER_DATA_DIR"]) / "settings.ini"
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_text("[window]\ngeometry=a, b\n[training]\npreset=small, large\n")
    settings.take_fallbacks()
    assert settings.read(settings.GEOMETRY) == settings.GEOMETRY.default
    assert settings.read(settings.PRESET) == "small"
    said = " ".join(settings.take_fallbacks())
    assert "window/geometry=['a', 'b']" in said and "is not a window layout Composer saved" in said
    assert "the window's own layout is used instead" in said
    assert "training/preset=['small', 'large']" in said and "is not text" in said
    assert "QByteArray" not in said and "str" not in said, said


def test_exporting_a_resolution_midi_cannot_hold_says_so(window, tmp_path):
    from composer.core.errors import SettingsError
    from composer.core.midi import Piece, write_midi

    with pytest.raises(SettingsError, match="32767 ticks per beat") as refused:
        write_midi(Piece(40_000), tmp_path / "refused.mid")
    assert str(tmp_path / "refused.mid") in str(refused.value)
    assert not (tmp_path / "refused.mid").exists()

    document = window.documents.new_document("wide")
    document.model.set_notes(app_piece("x").notes, 40_000)  # no event loop runs till it is 480
    window.documents.add_documents([document])
    assert window.exporting.export_variation(0, tmp_path / "wide.mid") is None
    assert "32767 ticks per beat" in window.told[-1] and not (tmp_path / "wide.mid").exists()
    document.model.set_notes(app_piece("x").notes, 480)  # what a session can hold


@pytest.mark.parametrize(("numerator", "denominator"), [(300, 4), (3, 3)])
def test_exporting_a_time_signature_midi_cannot_hold_says_so(
    window, tmp_path, numerator, denominator
):
    """mido refused 300/4 with a ValueError from inside the writer (a bug dialog); 3/3 was
    left out of the file without a word."""
    from composer.core.errors import SettingsError
    from composer.core.midi import Piece, write_midi

    metre = np.array([(0, 4, 4), (1920, numerator, denominator)], TIME_SIGNATURE_DTYPE)
    words = f"a time signature of {numerator}/{denominator}"
    with pytest.raises(SettingsError, match=words) as refused:
        write_midi(Piece(480, time_signatures=metre), tmp_path / "refused.mid")
    assert str(tmp_path / "refused.mid") in str(refused.value)
    assert not (tmp_path / "refused.mid").exists()

    document = window.documents.new_document("odd")
    document.model.set_notes(app_piece("x").notes, 480, time_signatures=metre)
    window.documents.add_documents([document])
    assert window.exporting.export_variation(0, tmp_path / "odd.mid") is None
    assert words in window.told[-1] and not (tmp_path / "odd.mid").exists()


def test_every_setting_default_is_within_its_limits_and_the_panel_offers_them(window):
    from composer.app import settings

    keys = [k for k in vars(settings).values() if isinstance(k, settings.Key)]
    assert [k.name for k in keys if not k.fits(k.default)] == []
    panel = window.generation
    boxes = {
        settings.SEED: panel.seed,
        settings.TOP_K: panel.top_k,
        settings.TOP_P: panel.top_p,
        settings.SECONDS: panel.seconds,
        settings.VARIATIONS: panel.variations,
    }
    for key, box in boxes.items():
        assert (box.minimum(), box.maximum()) == (key.low, key.high), key.name
