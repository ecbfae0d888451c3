"""COMPOSER_SMOKE_TEST=1: the app checks itself the way a person would, then quits.

It shows the window, chooses the bundled model in the generation panel, presses Generate for a
few seconds of music, and waits for the notes to reach the piano roll. It prints `window shown`,
then `smoke ok: …` or `smoke failed: <reason>`; `composer` exits 0 or 1 accordingly. The
PyInstaller build script runs this on the built bundle under Xvfb (packaging/build.py).
"""

from __future__ import annotations

import sys
import traceback

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from composer.app.panels.generation_panel import BUNDLED

TIME_LIMIT_MS = 180_000  # a cold start of torch from a bundle on a slow disk, with margin
SECONDS_OF_MUSIC = 4.0


class SmokeTest(QObject):
    """Drives `window` once the event loop runs; `passed` is None until it has finished."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.passed: bool | None = None
        # Nobody is there to close a dialog: sentences and bugs are printed instead, and a bug
        # fails the check at once rather than waiting behind a modal box.
        window.tell = lambda text: print(f"smoke: the app said: {text}", flush=True)
        sys.excepthook = self._bug
        panel = window.generation
        panel.finished.connect(self._generated)
        panel.failed.connect(self._fail)
        QTimer.singleShot(0, self, self._start)
        QTimer.singleShot(TIME_LIMIT_MS, self, lambda: self._fail("no music after 180 s"))

    def _start(self) -> None:
        print("window shown", flush=True)
        panel = self.window.generation
        index = panel.model.findData(BUNDLED)
        if index < 0:
            self._fail("the bundled model is not in the model list (are the assets missing?)")
            return
        panel.model.setCurrentIndex(index)
        panel.seconds.setValue(SECONDS_OF_MUSIC)
        panel.variations.setValue(1)
        panel.random_seed.setChecked(False)
        panel.seed.setValue(1)
        panel.generate_button.click()

    def _generated(self, pieces, description: str) -> None:
        found = self.window.pieces.current()
        shown = len(found[0]) if found is not None else 0
        if shown == 0 or pieces[0] is None or pieces[0].note_count == 0:
            self._fail(f"generation finished but the piano roll shows no notes ({description})")
            return
        self.passed = True
        print(
            f"smoke ok: {shown} notes, {pieces[0].duration_seconds:.1f} s shown in the piano roll"
            f" ({description})",
            flush=True,
        )
        self.window.close_keeping_session()

    def _bug(self, kind, value, tb) -> None:
        traceback.print_exception(kind, value, tb)
        self._fail(f"{kind.__name__}: {value}")

    def _fail(self, reason: str) -> None:
        if self.passed is not None:
            return
        self.passed = False
        print(f"smoke failed: {reason}", flush=True)
        self.window.close_keeping_session()  # stops generation, as closing always does
        QApplication.exit(1)  # ends every event loop, a stray modal dialog's too
