"""Errors in the app: what the user caused gets one sentence; a bug is logged to a file and a
dialog offers that file. No traceback ever reaches the screen."""

from __future__ import annotations

import logging
import sys
import traceback

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from composer.app import paths

log = logging.getLogger("composer.app")


def set_up_logging() -> None:
    """Log warnings and errors to the user data folder's log file (created when first needed)."""
    path = paths.log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    except OSError:
        return  # a read-only home folder must not stop the app
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("composer")
    for old in [h for h in root.handlers if isinstance(h, logging.FileHandler)]:
        root.removeHandler(old)  # set up again (a test, a second window): one log file
        old.close()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def report_bug(parent: QWidget | None, summary: str) -> None:
    """Tell the user something went wrong that is not their doing, and offer the log file."""
    box = QMessageBox(
        QMessageBox.Icon.Critical, "Composer ran into a problem", summary, parent=parent
    )
    box.setInformativeText(f"The details are in {paths.log_file()}. Your work so far is kept.")
    open_log = box.addButton("Open log file", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.exec()
    if box.clickedButton() is open_log:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(paths.log_file())))


def install_excepthook() -> None:
    """Unexpected exceptions in slots and event handlers: log them, show report_bug, go on."""

    def hook(kind, value, tb):
        log.error("unexpected error\n%s", "".join(traceback.format_exception(kind, value, tb)))
        app = QApplication.instance()
        if app is not None:
            report_bug(app.activeWindow(), f"{kind.__name__}: {value}")
        else:
            sys.__excepthook__(kind, value, tb)

    sys.excepthook = hook
