"""Shared fixtures. Qt runs offscreen so that a plain `pytest` never aborts for want of a display."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
# Set to test as a fresh clone would, with ../shared beside the checkout or not.
WITHOUT_SHARED = bool(os.environ.get("COMPOSER_TESTS_WITHOUT_SHARED"))
# Music made by scripts/make_test_data.py (tests/data/README.md): what each corpus falls back to.
DATA = Path(__file__).resolve().parent / "data"
STAND_INS = {
    "bach_chorales": "chorales",
    "nottingham": "folk",
    "pop909": "songs",
    "library_testdata": "quirks",
}
STAND_IN_FILES = {  # files of library_testdata that tests name, and their stand-ins in quirks/
    "pretty_midi/example.mid": "band.mid",  # long, many channels, drums, 420 tempo changes
    "note_seq/note_seq/testdata/example_complex.mid": "band.mid",
    "note_seq/note_seq/testdata/example_is_drum.mid": "drums.mid",  # a drum hit per track
    "magenta/magenta_models_melody_rnn_primer.mid": "primer.mid",  # tracks that play nothing
}


#: The folders of tests/, one per layer; each test carries its folder's marker.
LAYERS = ("core", "app", "cli", "project")


def pytest_collection_modifyitems(config, items):
    for item in items:
        layer = item.path.parent.name
        if layer in LAYERS:
            item.add_marker(getattr(pytest.mark, layer))


def shared_corpus(name: str) -> Path | None:
    """The folder of ../shared/corpora, or None when it is absent or ignored."""
    folder = CORPORA / name
    return folder if folder.is_dir() and not WITHOUT_SHARED else None


def bundled_model_name() -> str:
    """The name the bundled model's model.json gives it (what messages call it)."""
    import json

    model_json = Path(__file__).resolve().parents[1] / "assets" / "model" / "model.json"
    return json.loads(model_json.read_text())["provenance"]["name"]


def corpus(name: str, stand_in: bool = True) -> Path:
    """A folder of ../shared/corpora; when it is absent, its stand-in in tests/data (so that a
    fresh clone runs the test on generated music). A test that checks figures of the real
    collection passes `stand_in=False` and is skipped with the reason instead."""
    folder = shared_corpus(name)
    if folder is not None:
        return folder
    if stand_in and name in STAND_INS:
        return DATA / STAND_INS[name]
    why = "COMPOSER_TESTS_WITHOUT_SHARED is set" if WITHOUT_SHARED else "not beside the checkout"
    pytest.skip(f"needs the real collection {CORPORA / name} ({why})")


def corpus_file(name: str, relative: str) -> Path:
    """A file of a corpus by its path inside it, or the file that stands in for it."""
    folder = corpus(name)
    return folder / (STAND_IN_FILES[relative] if folder.is_relative_to(DATA) else relative)


@pytest.fixture(autouse=True, scope="session")
def _clipboard_released_at_exit():
    """Tests copy notes but never run the event loop, so the app's aboutToQuit never fires:
    release the clipboard as it would (PySide6 crashes at exit otherwise; see main.py)."""
    yield
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is not None:
        from composer.app.main import release_clipboard

        release_clipboard()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    """No test writes to the user's real cache folder."""
    monkeypatch.setenv("COMPOSER_CACHE_DIR", str(tmp_path / "user-cache"))
    monkeypatch.setenv("COMPOSER_DATA_DIR", str(tmp_path / "user-data"))


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """A main window with its own settings file; fails the test if it leaves a thread running."""
    import threading

    from PySide6.QtCore import QSettings

    from composer.app.workers import WorkerThreads

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings")
    )
    from composer.app.main import create_app
    from composer.app.window import MainWindow

    create_app()
    python_threads = threading.active_count()
    main = MainWindow()
    qtbot.addWidget(main)
    told: list[str] = []
    main.tell = told.append  # no modal dialogs in tests; the sentence is kept to check
    # pytest-qt may close the window before this fixture's teardown: a question asked then
    # (stop the training?) must not wait for a click that never comes. Tests that check a
    # question replace `ask` themselves.
    main.ask = lambda question: True
    main.told = told
    asked: list[str] = []
    main.choose_save = lambda title: asked.append(title) or "discard"  # tests may replace it
    main.choose_save_all = lambda titles: asked.extend(titles) or "discard"
    main.asked_to_save = asked
    # The same music on every run: a test that generates fails for a reason, not for a seed
    # drawn at random (the panel's default) that happened to write a sparse piece.
    main.generation.random_seed.setChecked(False)
    main.show()
    yield main
    main.ask = lambda question: True
    main.choose_save = lambda title: "discard"
    main.choose_save_all = lambda titles: "discard"
    main.close()
    qtbot.waitUntil(lambda: not WorkerThreads.any_running(), timeout=60_000)
    assert not WorkerThreads.any_running(), "a test left a worker thread running"
    assert threading.active_count() <= python_threads + 1  # ingest's pool manager may linger
