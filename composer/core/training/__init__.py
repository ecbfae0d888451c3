"""Training: data windows and batches, the loop (a generator of progress), checkpoints."""

from composer.core.corpus.cache import CacheWriteError
from composer.core.training.checkpoint import CheckpointError
from composer.core.training.config import TrainConfig
from composer.core.training.data import Collection
from composer.core.training.distributed import DeviceError, Ranks
from composer.core.training.progress import TrainControl, TrainingError, TrainProgress
from composer.core.training.runs import new_run, resume_run
from composer.core.training.trainer import Trainer

#: Failures a user can cause and act on (their messages are one sentence naming the file or the
#: setting); anything else is a bug.
USER_ERRORS = (
    TrainingError,
    CheckpointError,
    DeviceError,
    CacheWriteError,
    FileNotFoundError,
    NotADirectoryError,
)

__all__ = [
    "USER_ERRORS",
    "CheckpointError",
    "Collection",
    "DeviceError",
    "Ranks",
    "TrainConfig",
    "TrainControl",
    "TrainProgress",
    "Trainer",
    "TrainingError",
    "new_run",
    "resume_run",
]
