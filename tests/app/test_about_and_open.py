"""Version, licences and opening files from outside: `composer --version`, `composer about`,
Help → About, `composer FILE.mid` (what a file manager runs), and the packaged app's self-check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from composer import __version__
from composer.cli import build_parser, files_to_open, main
from tests.conftest import bundled_model_name, corpus


def _composer(*args: str, env: dict | None = None, cwd: Path | None = None):
    return subprocess.run(
        [sys.executable, "-m", "composer", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})},
    )


def _python(script: str, *args: str, env: dict):
    """`script` in a new interpreter, offscreen; what it printed and its exit status."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env},
    )


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"composer {__version__}"


def test_about_lists_the_licences_of_bundled_data_and_components(capsys):
    import torch

    assert main(["about"]) == 0
    text = capsys.readouterr().out
    assert f"Composer {__version__}" in text and "MIT licence" in text
    assert bundled_model_name() in text and "GPL-3.0" in text  # the model's weights
    assert "TimGM6mb" in text and "GPL-2.0" in text  # the playback soundfont
    assert f"PyTorch                  {torch.__version__}" in text
    assert "LGPL-3.0-only" in text  # PySide6, read from its installed metadata
    assert "PSF-2.0" in text  # Python itself, which the desktop bundle carries
    for line in text.splitlines():
        if line.strip().startswith("Licence text:"):
            assert Path(line.split(":", 1)[1].strip()).is_file()


def test_help_about_opens_a_dialog_with_version_and_licences(window, qtbot):
    import PySide6
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from composer.app.about_dialog import AboutDialog

    seen = {}

    def read_and_close():
        dialog = QApplication.activeModalWidget()
        seen["dialog"] = dialog
        seen["text"] = dialog.details.toPlainText()
        seen["html"] = dialog.details.toHtml()
        dialog.reject()

    QTimer.singleShot(200, read_and_close)
    window.actions_by_name["about"].trigger()  # Help → About Composer; returns once closed
    assert isinstance(seen["dialog"], AboutDialog)
    text = seen["text"]
    assert bundled_model_name() in text and "GPL-3.0" in text and "TimGM6mb" in text
    assert PySide6.__version__ in text
    links = [part.split('"')[0] for part in seen["html"].split('href="')[1:]]
    assert len(links) == 2
    assert all(Path(link.removeprefix("file://")).is_file() for link in links)


def test_which_arguments_are_files_to_open(tmp_path):
    commands = build_parser().command_names
    assert files_to_open([], commands) is None
    assert files_to_open(["generate", "--out", "x.mid"], commands) is None
    assert files_to_open(["--version"], commands) is None
    assert files_to_open(["typo"], commands) is None  # argparse says "invalid choice"
    assert files_to_open(["missing.mid"], commands) == [Path("missing.mid")]  # the app says why
    folder = tmp_path / "tunes"
    folder.mkdir()
    assert files_to_open([str(folder)], commands) == [folder]


def test_composer_hands_no_command_and_files_to_the_app(monkeypatch, tmp_path, capsys):
    """composer.launch opens the app; composer.cli alone (which never imports it) says to."""
    from composer import launch

    opened = []
    monkeypatch.setattr(launch, "open_app", lambda files: opened.append(files) or 0)
    assert launch.main([]) == 0 and launch.main([str(tmp_path / "a.mid")]) == 0
    assert opened == [None, [tmp_path / "a.mid"]]
    assert main([]) == 2 and "give a COMMAND" in capsys.readouterr().err


def test_open_given_files_shows_a_midi_file_or_says_why_not(window, tmp_path):
    from composer.app.main import open_given_files

    chorale = next(iter(sorted(corpus("bach_chorales").rglob("*.mid"))))
    open_given_files(window, [chorale])
    model, _view = window.pieces.current()
    assert len(model) > 0 and chorale.name in window.windowTitle()

    open_given_files(window, [tmp_path / "nowhere.mid"])
    assert (
        window.told[-1].startswith(str(tmp_path / "nowhere.mid"))
        and "does not exist" in window.told[-1]
    )
    text = tmp_path / "notes.txt"
    text.write_text("not music")
    open_given_files(window, [text])
    assert window.told[-1] == "notes.txt is not a MIDI file; Composer opens .mid and .midi files."


@pytest.mark.slow
def test_composer_file_mid_opens_the_window_showing_it(tmp_path):
    chorale = next(iter(sorted(corpus("bach_chorales").rglob("*.mid"))))
    result = _composer(
        str(chorale), env={"COMPOSER_STARTUP_PROBE": "1", "COMPOSER_DATA_DIR": str(tmp_path)}
    )
    assert result.returncode == 0, result.stderr
    assert f"window shown: Composer — {chorale.name}" in result.stdout


@pytest.mark.slow
def test_smoke_test_generates_with_the_bundled_model_through_the_window(tmp_path):
    """What packaging/build.py runs on the built bundle, here on the source tree."""
    result = _composer(env={"COMPOSER_SMOKE_TEST": "1", "COMPOSER_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "window shown" in result.stdout
    assert "smoke ok:" in result.stdout and bundled_model_name() in result.stdout


@pytest.mark.slow
def test_smoke_test_fails_fast_on_a_bug_instead_of_waiting_behind_a_dialog(tmp_path):
    """A broken bundle must end the check with status 1, not hang on an error dialog."""
    script = (
        "import sys\n"
        "from composer.app.panels import generation_panel\n"
        "def broken(self): raise RuntimeError('a library failed to load')\n"
        "generation_panel.GenerationPanel.generate = broken\n"
        "from composer.app.main import run\n"
        "sys.exit(run())\n"
    )
    result = _python(script, env={"COMPOSER_SMOKE_TEST": "1", "COMPOSER_DATA_DIR": str(tmp_path)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "smoke failed: RuntimeError: a library failed to load" in result.stdout
    assert "Traceback" in result.stderr


@pytest.mark.slow
def test_a_macos_file_open_event_shows_the_file(tmp_path):
    """Finder opens documents with a FileOpen event, not arguments (packaging's Composer.app)."""
    chorale = next(iter(sorted(corpus("bach_chorales").rglob("*.mid"))))
    script = (
        "import sys\n"
        "from PySide6.QtCore import QTimer\n"
        "from PySide6.QtGui import QFileOpenEvent\n"
        "from composer.app.main import create_app, run\n"
        "app = create_app()\n"
        "QTimer.singleShot(0, lambda: app.sendEvent(app, QFileOpenEvent(sys.argv[1])))\n"
        "sys.exit(run())\n"
    )
    result = _python(
        script,
        str(chorale),
        env={"COMPOSER_STARTUP_PROBE": "1", "COMPOSER_DATA_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert f"window shown: Composer — {chorale.name}" in result.stdout
