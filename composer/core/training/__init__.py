"""Training: data windows and batches, the loop (a generator of progress), checkpoints."""

from composer.core.training.checkpoint import CheckpointError
from composer.core.training.config import TrainConfig
from composer.core.training.data import Collection
from composer.core.training.distributed import DeviceError, Ranks
from composer.core.training.progress import TrainControl, TrainingError, TrainProgress
from composer.core.training.runs import new_run, resume_run
from composer.core.training.trainer import Trainer

__all__ = [
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
