"""Starting the app: the window first, then torch warmed up in the background."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from composer.app.errors import install_excepthook, set_up_logging
from composer.app.workers import Worker, WorkerThreads
from composer.resources import APP_ID, asset


def warm_up_torch(worker: Worker) -> float:
    """Import torch and run one small step, so that the first real use does not hold the
    interpreter lock for a second (a lazy import inside torch) while the user is clicking."""
    started = time.perf_counter()
    import torch

    lstm = torch.nn.LSTM(8, 8, batch_first=True)
    lstm(torch.zeros(1, 2, 8))[0].sum().backward()
    torch.optim.AdamW(lstm.parameters()).step()
    return time.perf_counter() - started


def app_icon() -> QIcon:
    """Composer's icon at every size shipped in assets/icons (the SVG for any other size)."""
    icon = QIcon()
    folder = asset("icons")
    for path in sorted(folder.glob("composer-*.png")) + sorted(folder.glob("composer.svg")):
        icon.addFile(str(path))
    return icon


class ComposerApplication(QApplication):
    """The QApplication, plus macOS's way of opening a document: Finder (a double-click on a
    .mid file, or one dropped on the Dock icon) sends a FileOpen event instead of arguments."""

    file_open_requested = Signal(object)  # the Path to open

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen:
            self.file_open_requested.emit(Path(event.file()))
            return True
        return super().event(event)


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or ComposerApplication(argv or sys.argv[:1])
    app.setApplicationName("Composer")
    app.setOrganizationName("Composer")
    # Lets Wayland compositors and docks match the window to the installed .desktop entry.
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    app.setStyle("Fusion")  # follows the system's dark or light colour scheme
    app.aboutToQuit.connect(release_clipboard)
    return app


def release_clipboard() -> None:
    """Take our copied notes off the clipboard before Qt goes: PySide6 6.11 crashes at exit
    when the clipboard still holds a QMimeData made in Python (seen offscreen, where nothing
    else owns the clipboard). Another program's clipboard content is left alone."""
    from composer.app.editing.clipboard import MIME_TYPE

    clipboard = QApplication.clipboard()
    if clipboard is None:
        return
    data = clipboard.mimeData()
    # Some platforms (offscreen) never report owning the clipboard: our MIME type says it too.
    if clipboard.ownsClipboard() or (data is not None and data.hasFormat(MIME_TYPE)):
        clipboard.clear()


def open_given_files(window, files: list[Path]) -> None:
    """`composer FILE.mid` (or a file manager's "Open with Composer"): show the file in the
    piano roll, or say in one sentence why it cannot be shown."""
    from composer.app.window.pieces import MIDI_SUFFIXES

    for path in files[:1]:
        if not path.exists():
            window.tell(f"{path} does not exist; check the name, or use File → Open MIDI file.")
        elif path.is_dir():
            window.pieces.open_paths([path])  # a folder is read into the library, as when dropped
        elif path.suffix.lower() not in MIDI_SUFFIXES:
            window.tell(f"{path.name} is not a MIDI file; Composer opens .mid and .midi files.")
        else:
            window.pieces.open_midi_file(path)


def _probe_and_close(window) -> None:
    print(f"window shown: {window.windowTitle()}", flush=True)
    window.close_keeping_session()


def run(argv: list[str] | None = None, files: list[Path] | None = None) -> int:
    """Open the main window (showing the first of `files`) and run until it closes."""
    app = create_app(argv)
    set_up_logging()
    install_excepthook()
    from composer.app.window import MainWindow

    window = MainWindow()
    window.show()
    warm = WorkerThreads(app)
    smoke = None
    if files:
        QTimer.singleShot(0, window, lambda: open_given_files(window, files))
    if isinstance(app, ComposerApplication):
        # Emitted on the GUI thread, so the window opens the file directly.
        app.file_open_requested.connect(lambda path: open_given_files(window, [path]))
    if os.environ.get("COMPOSER_SMOKE_TEST"):  # packaging/build.py: show, generate, quit
        from composer.app.smoke import SmokeTest

        smoke = SmokeTest(window)
    elif os.environ.get("COMPOSER_STARTUP_PROBE"):  # benchmarks/gui.py and a test: shown, quit
        QTimer.singleShot(0, window, lambda: _probe_and_close(window))
    else:
        QTimer.singleShot(0, warm, lambda: warm.start(Worker(warm_up_torch)))
    code = app.exec()
    warm.stop_all()
    if smoke is not None and not smoke.passed:
        return 1
    return code
