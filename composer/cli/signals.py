"""Ending long work cleanly on Ctrl+C or SIGTERM (what `kill` and service managers send)."""

from __future__ import annotations

import signal


class StopOnSignal:
    """While active, SIGINT and SIGTERM set `requested` instead of ending the process, so that the
    work in progress (ingest) stops between files, keeps what it finished and shuts its worker
    processes down; a second signal ends the process at once. Call the object as a
    `should_stop` callback."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: dict = {}

    def __enter__(self) -> StopOnSignal:
        for number in (signal.SIGINT, signal.SIGTERM):
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def __call__(self) -> bool:
        return self.requested

    def _handle(self, number, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
