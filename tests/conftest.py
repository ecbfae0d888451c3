"""Shared fixtures. Qt runs offscreen so that a plain `pytest` never aborts for want of a display."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


def bundled_model_name() -> str:
    """The name the bundled model's model.json gives it (what messages call it)."""
    import json

    model_json = Path(__file__).resolve().parents[1] / "assets" / "model" / "model.json"
    return json.loads(model_json.read_text())["provenance"]["name"]


def corpus(name: str) -> Path:
    """A folder of ../shared/corpora; the test is skipped with the reason when it is absent."""
    folder = CORPORA / name
    if not folder.is_dir():
        pytest.skip(f"shared corpus {folder} is not present beside the checkout")
    return folder


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
    main.asked_to_save = asked
    main.show()
    yield main
    main.ask = lambda question: True
    main.choose_save = lambda title: "discard"
    main.close()
    qtbot.waitUntil(lambda: not WorkerThreads.any_running(), timeout=60_000)
    assert not WorkerThreads.any_running(), "a test left a worker thread running"
    assert threading.active_count() <= python_threads + 1  # ingest's pool manager may linger
