"""Running long work off the GUI thread: a worker object moved to a QThread.

A job is a plain function `job(worker)` that calls `worker.report(item)` for progress, checks
`worker.stop_requested`, and returns its result; the core stays free of Qt. Progress reaches the
GUI as a queued signal, at most 30 times a second: items in between are merged (`merge`, default:
keep the newest) unless `urgent(item)` says one must go out at once. Connect the signals to slots
of GUI objects: a lambda would run in the worker's thread.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from composer.core.errors import SettingsError

log = logging.getLogger("composer.app")


class UserError(Exception):
    """A failure the user can act on; its message is shown as is (one sentence)."""


class Worker(QObject):
    progress = Signal(object)
    succeeded = Signal(object)  # the job's result
    failed = Signal(str, bool)  # message, and whether it was unexpected (logged with traceback)
    done = Signal()  # after succeeded or failed: the thread can go

    def __init__(
        self,
        job: Callable[[Worker], Any],
        *,
        merge: Callable[[Any, Any], Any] | None = None,
        urgent: Callable[[Any], bool] | None = None,
        user_errors: tuple[type[BaseException], ...] = (),
        max_rate: float = 30.0,
    ):
        super().__init__()
        self.job, self.merge, self.urgent = job, merge, urgent
        self.user_errors = (UserError, SettingsError, *user_errors)  # a choice, not a bug
        self.interval = 1.0 / max_rate
        self.stop_requested = False
        self._pending: Any = None
        self._has_pending = False
        self._last_emit = 0.0

    def report(self, item: Any) -> None:
        """Called by the job (in the worker thread) for each piece of progress."""
        if self.urgent and self.urgent(item):
            self.flush()  # what came before goes out first, in order
            self._pending, self._has_pending = item, True
            self.flush()
            return
        if self._has_pending and self.merge is not None:
            item = self.merge(self._pending, item)
        self._pending, self._has_pending = item, True
        if time.monotonic() - self._last_emit >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self._has_pending:
            item, self._pending, self._has_pending = self._pending, None, False
            self._last_emit = time.monotonic()
            self.progress.emit(item)

    def stop(self) -> None:
        """Ask the job to end (thread-safe: a plain flag the job reads)."""
        self.stop_requested = True

    @Slot()
    def run(self) -> None:
        try:
            result = self.job(self)
        except self.user_errors as exc:
            self.flush()
            self.failed.emit(_sentence(exc), False)
        except Exception as exc:  # noqa: BLE001 - anything else is a bug: log it, tell the user
            self.flush()
            log.exception("unexpected error in a background job")
            self.failed.emit(f"{type(exc).__name__}: {exc}", True)
        else:
            self.flush()
            self.succeeded.emit(result)
        self.done.emit()


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if text.endswith((".", "!", "?")) else text + "."


class WorkerThreads(QObject):
    """Starts workers on their own QThreads and keeps them until they finish."""

    _all: weakref.WeakSet[WorkerThreads] = weakref.WeakSet()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._running: dict[Worker, QThread] = {}
        WorkerThreads._all.add(self)

    @classmethod
    def any_running(cls) -> bool:
        """Whether any worker thread of any WorkerThreads is still running (tests check this)."""
        return any(threads.busy for threads in list(cls._all))

    def start(self, worker: Worker) -> Worker:
        thread = QThread()
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: quit() is thread-safe, and a queued call would wait for the GUI thread, which
        # may itself be waiting for this thread (stop_all when the window closes).
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._forget)
        self._running[worker] = thread
        thread.start()
        return worker

    @Slot()
    def _forget(self) -> None:
        for worker, thread in list(self._running.items()):
            if thread.isFinished():
                # The worker's thread has ended, so nothing runs in it any more: dropping the last
                # reference deletes it here. (deleteLater would never run: its thread has no loop.)
                del self._running[worker]
                thread.deleteLater()

    @property
    def busy(self) -> bool:
        return any(t.isRunning() for t in self._running.values())

    def stop_all(self, timeout_ms: int = 60_000) -> None:
        """Ask every worker to stop and wait for their threads (used when the window closes)."""
        for worker, thread in list(self._running.items()):
            worker.stop()
            thread.wait(timeout_ms)
        self._forget()
