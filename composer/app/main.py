"""Starting the app: the window first, then torch warmed up in the background."""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from composer.app.errors import install_excepthook, set_up_logging
from composer.app.workers import Worker, WorkerThreads


def warm_up_torch(worker: Worker) -> float:
    """Import torch and run one small step, so that the first real use does not hold the
    interpreter lock for a second (a lazy import inside torch) while the user is clicking."""
    started = time.perf_counter()
    import torch

    lstm = torch.nn.LSTM(8, 8, batch_first=True)
    lstm(torch.zeros(1, 2, 8))[0].sum().backward()
    torch.optim.AdamW(lstm.parameters()).step()
    return time.perf_counter() - started


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("Composer")
    app.setOrganizationName("Composer")
    app.setStyle("Fusion")  # follows the system's dark or light colour scheme
    return app


def run(argv: list[str] | None = None) -> int:
    """Open the main window and run until it closes."""
    app = create_app(argv)
    set_up_logging()
    install_excepthook()
    from composer.app.window import MainWindow

    window = MainWindow()
    window.show()
    warm = WorkerThreads(app)
    if os.environ.get("COMPOSER_STARTUP_PROBE"):  # benchmarks/gui.py and a test: shown, then quit
        QTimer.singleShot(0, window, lambda: (print("window shown", flush=True), window.close()))
    else:
        QTimer.singleShot(0, warm, lambda: warm.start(Worker(warm_up_torch)))
    code = app.exec()
    warm.stop_all()
    return code
