"""What the training loop reports, and how another thread asks it to pause or stop."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


class TrainingError(Exception):
    """Training cannot go on; the message says why and what to do. Checkpoints already written stay."""


@dataclass(frozen=True)
class TrainProgress:
    """One report from the loop. `event` is one of: started, step, validation, checkpoint, paused,
    resumed, stopped, finished."""

    event: str
    step: int  # optimizer steps done
    total_steps: int
    epoch: int  # passes over the training files started (1-based)
    train_loss: float | None = None  # mean nats per token over recent steps
    val_loss: float | None = None  # mean nats per token on the validation files
    best_val_loss: float | None = None
    tokens_per_s: float = 0.0  # predicted tokens per second, all processes together
    eta_s: float | None = None  # seconds until the last step, at the recent pace
    learning_rate: float = 0.0
    device: str = "cpu"
    message: str = ""
    checkpoint: str | None = None  # path of the checkpoint JSON just written


class TrainControl:
    """Thread-safe requests to a running loop (from a GUI thread or a signal handler)."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def pause_requested(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self, timeout: float = 0.1) -> None:
        self._running.wait(timeout)


class Pace:
    """Tokens per second and seconds per step, smoothed over recent steps."""

    def __init__(self) -> None:
        self.tokens_per_s = 0.0
        self.seconds_per_step = 0.0
        self.restart()

    def restart(self) -> None:
        self._last = time.perf_counter()

    def tick(self, tokens: int) -> None:
        now = time.perf_counter()
        elapsed, self._last = now - self._last, now
        weight = 0.1 if self.seconds_per_step else 1.0
        self.seconds_per_step += weight * (elapsed - self.seconds_per_step)
        self.tokens_per_s += weight * (tokens / max(elapsed, 1e-9) - self.tokens_per_s)
