"""Regression: PySide6 6.12.0 on Python < 3.12 drops a reference to None on every Qt method that
returns nothing; a few thousand calls later the interpreter aborts with `none_dealloc`.
pyproject.toml pins PySide6 below 6.12 there. This makes ~100k such calls in a child process (so an
abort fails this test instead of killing the test run) and checks None's reference count holds."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_100k_void_qt_calls_do_not_leak_references_to_none():
    code = textwrap.dedent(
        """
        import os, sys
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtGui import QImage, QPainter
        from PySide6.QtWidgets import QApplication, QLabel
        app = QApplication([])
        label = QLabel()
        image = QImage(64, 64, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        before = sys.getrefcount(None)
        for i in range(25_000):  # four void calls per round: 100k in all
            label.setText("x")
            label.update()
            painter.drawRect(0, 0, 4, 4)
            painter.drawLine(0, 0, 4, 4)
        painter.end()
        leaked = sys.getrefcount(None) - before
        print("leaked", leaked)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"interpreter died: {result.stderr[-2000:]}"
    leaked = int(result.stdout.split()[-1])
    assert abs(leaked) < 1000, f"{leaked} references to None leaked by 100k void Qt calls"
