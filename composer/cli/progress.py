"""Drawing progress on a terminal."""

from __future__ import annotations

import sys


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most every 1% of progress."""

    def __init__(self, label: str, width: int = 30):
        self.label, self.width, self.last = label, width, -1

    def update(self, progress) -> None:
        fraction = progress.done / progress.total if progress.total else 1.0
        percent = int(fraction * 100)
        if percent == self.last:
            return
        self.last = percent
        filled = int(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        sys.stderr.write(f"\r{self.label} [{bar}] {progress.done}/{progress.total}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.last >= 0:
            sys.stderr.write("\n")
