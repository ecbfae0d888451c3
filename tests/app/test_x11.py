"""The app on a real X11 display (Xvfb, Qt's xcb plugin): what the offscreen platform cannot
show. There, a line edit takes Emacs keys for itself (Ctrl+E: to the end of the line), which
swallowed Export MIDI while a text field had the focus (issue 28)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.project.test_desktop_files import tool

CTRL_E_IN_A_TEXT_FIELD = textwrap.dedent(
    """
    import os, sys
    from PySide6.QtCore import QSettings, QTimer, Qt
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[1])
    from PySide6.QtTest import QTest
    from composer.app.main import create_app
    from composer.app.window import MainWindow

    app = create_app()
    window = MainWindow()
    told = []
    window.tell = told.append
    window.show()
    window.generation.steering.setChecked(True)
    field = window.generation.steering.programs

    def press():
        window.activateWindow()
        field.setFocus()
        app.processEvents()
        QTest.keyClick(field, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        app.processEvents()
        print("platform:", app.platformName())
        print("focus:", field.hasFocus())
        print("told:", told)
        window.close_keeping_session()
        app.quit()

    QTimer.singleShot(1500, press)
    app.exec()
    """
)


@pytest.mark.slow
def test_ctrl_e_exports_even_while_a_text_field_has_the_focus(tmp_path):
    xvfb = tool("xvfb-run", "xvfb xauth")
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", COMPOSER_DATA_DIR=str(tmp_path / "data"))
    done = subprocess.run(
        [xvfb, "-a", sys.executable, "-c", CTRL_E_IN_A_TEXT_FIELD, str(tmp_path / "settings")],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert "platform: xcb" in done.stdout, done.stdout + done.stderr
    assert "focus: True" in done.stdout
    assert "nothing to export yet" in done.stdout  # Export MIDI ran, and said there was none
