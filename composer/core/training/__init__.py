"""Training: data windows and batches, the loop (a generator of progress), checkpoints.

The names below are loaded on first use (PEP 562), so that importing the torch-free
`composer.core.training.config` (the training defaults, read by the command line and the app)
does not load torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from composer.core.training.checkpoint import CheckpointError
    from composer.core.training.config import TrainConfig
    from composer.core.training.data import Collection
    from composer.core.training.distributed import DeviceError, Ranks
    from composer.core.training.progress import (
        NanLoss,
        OutOfMemory,
        RunExists,
        TrainControl,
        TrainEvent,
        TrainingError,
        TrainProgress,
    )
    from composer.core.training.runs import new_run, resume_run
    from composer.core.training.trainer import Trainer

# Each public name and the module that defines it.
_HOMES = {
    "CheckpointError": "checkpoint",
    "TrainConfig": "config",
    "Collection": "data",
    "DeviceError": "distributed",
    "Ranks": "distributed",
    "NanLoss": "progress",
    "OutOfMemory": "progress",
    "RunExists": "progress",
    "TrainControl": "progress",
    "TrainEvent": "progress",
    "TrainingError": "progress",
    "TrainProgress": "progress",
    "new_run": "runs",
    "resume_run": "runs",
    "Trainer": "trainer",
}

__all__ = [
    "USER_ERRORS",
    "CheckpointError",
    "Collection",
    "DeviceError",
    "NanLoss",
    "OutOfMemory",
    "Ranks",
    "RunExists",
    "TrainConfig",
    "TrainControl",
    "TrainEvent",
    "TrainProgress",
    "Trainer",
    "TrainingError",
    "new_run",
    "resume_run",
]


def _user_errors() -> tuple[type[BaseException], ...]:
    """Failures a user can cause and act on (their messages are one sentence naming the file or
    the setting); anything else is a bug."""
    from composer.core.corpus.cache import CacheWriteError
    from composer.core.errors import SettingsError
    from composer.core.training.checkpoint import CheckpointError
    from composer.core.training.distributed import DeviceError
    from composer.core.training.progress import TrainingError

    return (
        TrainingError,
        CheckpointError,
        DeviceError,
        CacheWriteError,
        SettingsError,
        FileNotFoundError,
        NotADirectoryError,
    )


def __getattr__(name: str):
    if name == "USER_ERRORS":
        value = _user_errors()
    elif name in _HOMES:
        value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
