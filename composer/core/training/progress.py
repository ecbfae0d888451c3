"""What the training loop reports, and how another thread asks it to pause or stop."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from enum import Enum


class TrainingError(Exception):
    """Training cannot go on; the message says why and what to do. Checkpoints already written stay.

    The message names no command-line option and no control of the app: the subclasses below
    carry the data of the common failures, and `problem` (the sentence without its fix), so that
    the CLI and the app can say the fix in their own words (composer/cli/train.py,
    composer/app/panels/training_jobs.py)."""

    @property
    def problem(self) -> str:
        """What went wrong, without what to do about it (the whole message here)."""
        return str(self)


class OutOfMemory(TrainingError):
    """The device ran out of memory for this batch size and model size."""

    def __init__(self, device: str, batch_size: int, layers: int, hidden_size: int):
        self.device, self.batch_size = device, batch_size
        self.layers, self.hidden_size = layers, hidden_size
        super().__init__(
            f"{self.problem}; try a smaller batch size ({self.smaller_batch_size}) or a smaller model"
        )

    @property
    def problem(self) -> str:
        return (
            f"The {self.device.upper()} ran out of memory with batch size {self.batch_size} and a "
            f"{self.layers} x {self.hidden_size} model"
        )

    @property
    def smaller_batch_size(self) -> int:
        return max(1, self.batch_size // 2)

    def __reduce__(self):
        return type(self), (self.device, self.batch_size, self.layers, self.hidden_size)


class NanLoss(TrainingError):
    """The loss (or the gradient) became NaN or infinite at `step`; `saved_step` is the step of
    the checkpoint kept (0: none was written yet)."""

    def __init__(self, step: int, learning_rate: float, saved_step: int):
        self.step, self.learning_rate, self.saved_step = step, learning_rate, saved_step
        super().__init__(f"{self.problem}; try a lower learning rate (now {learning_rate:g})")

    @property
    def problem(self) -> str:
        kept = (
            f"the checkpoint of step {self.saved_step} is kept"
            if self.saved_step
            else "no checkpoint was written yet"
        )
        return (
            f"The loss became NaN or infinite at step {self.step}, so training stopped and {kept}"
        )

    def __reduce__(self):
        return type(self), (self.step, self.learning_rate, self.saved_step)


class RunExists(TrainingError):
    """A new run was asked for in `run_dir`, which already holds one."""

    def __init__(self, run_dir):
        self.run_dir = run_dir
        super().__init__(f"{self.problem}; resume it, or choose another folder for the new run")

    @property
    def problem(self) -> str:
        return f"{self.run_dir} already holds a training run"

    def __reduce__(self):
        return type(self), (self.run_dir,)


class TrainEvent(str, Enum):
    """What a TrainProgress reports. Values are plain words (a str Enum), so a log or a test that
    compares with "validation" keeps working."""

    STARTED = "started"  # the loop is about to take its first step (of this process)
    STEP = "step"  # one optimizer step; train_loss is the mean of the last `log_every`
    VALIDATION = "validation"  # val_loss was just measured
    CHECKPOINT = "checkpoint"  # `checkpoint` was just written
    PAUSED = "paused"
    RESUMED = "resumed"
    STOPPED = "stopped"  # asked to stop; the last checkpoint can be resumed
    FINISHED = "finished"  # the steps, epochs or minutes ran out, or early stopping ended it


class EndReason(str, Enum):
    """Why a run ended by itself (metrics.jsonl's "why"); a stop request has none."""

    STEPS = "steps"  # the steps (or epochs) asked for are done
    TIME = "time"  # the time budget (`minutes`) is used up
    PATIENCE = "patience"  # early stopping: no new best for `patience` validations


class LogEvent(str, Enum):
    """The `event` of one line of a run's metrics.jsonl (a file format: the words stay)."""

    START = "start"
    RESUME = "resume"
    TRAIN = "train"  # every `log_every` steps: the mean training loss, learning rate and pace
    VALIDATION = "validation"
    CHECKPOINT = "checkpoint"
    FINISH = "finish"
    STOP = "stop"


@dataclass(frozen=True)
class TrainProgress:
    """One report from the loop; `event` says what happened."""

    event: TrainEvent
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
