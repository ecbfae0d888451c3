"""Starting a training run in a folder, or resuming one from its latest checkpoint."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import replace
from pathlib import Path

from composer import __version__
from composer.core.model import ModelConfig
from composer.core.tokens.config import TokenizerConfig
from composer.core.tokens.vocab import Vocabulary
from composer.core.training import checkpoint as ckpt
from composer.core.training.config import TrainConfig
from composer.core.training.data import Collection, split_by_file
from composer.core.training.distributed import Ranks
from composer.core.training.progress import RunExists, TrainControl, TrainingError
from composer.core.training.run_info import RunInfo, StartedFrom, read_run_info
from composer.core.training.start_from import StartFrom, reading
from composer.core.training.styles import styled_model
from composer.core.training.trainer import Trainer


def new_run(
    run_dir: str | Path,
    collection: Collection,
    model_config: ModelConfig,
    config: TrainConfig,
    *,
    control: TrainControl | None = None,
    ranks: Ranks | None = None,
    start_from: StartFrom | None = None,
) -> Trainer:
    """Start a run in an empty (or new) folder, splitting the collection's files by `split_seed`;
    from the weights of `start_from` (read_start) when given, else from an empty model.
    The folder is locked for the trainer's life (see lock_run_folder)."""
    run_dir = Path(run_dir)
    if (run_dir / "run.json").exists():  # said before anything is checked; again under the lock
        raise _holds_a_run(run_dir)
    vocab = Vocabulary(collection.tokenizer)
    if start_from is not None:
        own_size = model_config == start_from.model
        start_from = reading(start_from, vocab)
        model_config = start_from.model if own_size else model_config
        if model_config != start_from.model:
            raise TrainingError(
                f"a run started from {start_from.path} trains a model of its size; leave the "
                "model settings (size, layers, units, dropout) to it"
            )
    if model_config.vocab_size != len(vocab):
        raise TrainingError(
            f"the model reads {model_config.vocab_size} token ids, the tokenizer makes {len(vocab)}"
        )
    # The styles the files bring, and a fine-tuned run's own (training/styles.py).
    model_config, styles = styled_model(
        model_config, config.styles, collection.folder, collection.files
    )
    steps = collection.tokenizer.steps_per_beat
    if model_config.context_steps not in (0, steps):
        raise TrainingError(
            f"the model counts {model_config.context_steps} steps a beat, the tokenizer makes "
            f"{steps}; give the model the tokenizer's (or no context inputs)"
        )
    train, validation = split_by_file(
        list(collection.files), config.validation_fraction, config.split_seed
    )
    if not train:
        raise TrainingError("there are no usable MIDI files to train on; add .mid files with notes")
    lock = lock_run_folder(run_dir, ranks)  # nothing is written before the checks above
    if (run_dir / "run.json").exists():  # another process made it since the first look
        lock.release()
        raise _holds_a_run(run_dir)
    run = RunInfo(
        id=uuid.uuid4().hex,  # each checkpoint records it: one from another run is refused
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        composer=__version__,
        folder=str(Path(collection.folder).resolve()),  # resumed from anywhere
        started_from=StartedFrom(**start_from.record()) if start_from is not None else None,
        model=model_config.to_dict(),
        tokenizer=json.loads(collection.tokenizer.to_json()),
        vocabulary=vocab.to_json_dict()["tokens"],
        training=config.to_dict(),
        train=tuple((s, collection.files[s]) for s in train),
        validation=tuple((s, collection.files[s]) for s in validation),
        styles=styles,
    )
    try:
        weights = start_from.weights if start_from is not None else None
        return Trainer(
            run_dir, run, collection, None, control, ranks, lock=lock, start_weights=weights
        )
    except BaseException:
        lock.release()
        raise


def _holds_a_run(run_dir: Path) -> RunExists:
    return RunExists(run_dir)


def lock_run_folder(run_dir: Path, ranks: Ranks | None):
    """An exclusive lock on `run_dir` (created if needed), so that two trainings never write one
    folder: the second gets one sentence naming the process that holds it. Under torchrun only
    rank 0 writes, so only rank 0 locks; None for the others."""
    from composer.core.files.filelock import FolderLock, LockedError

    if ranks is not None and not ranks.is_main:
        return _NoLock()
    try:
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        return FolderLock(run_dir).acquire()
    except LockedError as exc:
        who = f"process {exc.owner_pid}" if exc.owner_pid else "another process"
        raise TrainingError(
            f"{run_dir} is being trained by {who} right now; wait for it to finish or stop it, "
            "or choose another output folder"
        ) from None
    except OSError as exc:
        raise TrainingError(
            f"Could not use {run_dir} as a run folder ({exc.strerror or exc}); choose a folder "
            "you can write to"
        ) from None


def being_trained(run_dir: Path) -> bool:
    """Whether a training (in this process or another) holds `run_dir` right now. A probe of the
    folder lock; a folder that was never trained has no lock file and is left untouched."""
    from composer.core.files.filelock import LOCK_FILE_NAME, FolderLock, LockedError

    if not (Path(run_dir) / LOCK_FILE_NAME).is_file():
        return False
    probe = FolderLock(run_dir, create=False)
    try:
        probe.acquire()
    except LockedError:
        return True
    except OSError:
        return False
    probe.release()
    return False


class _NoLock:
    def release(self) -> None:
        pass


def settings_that_differ(run: RunInfo, model: dict, training: dict) -> list[str]:
    """The names of the given model and training settings whose values are not the run's own;
    those are what a resume must refuse, equal values are harmless."""
    return [name for name, value in model.items() if run.model.get(name) != value] + [
        name for name, value in training.items() if run.training.get(name) != value
    ]


def resume_run(
    run_dir: str | Path,
    collection: Collection,
    *,
    steps: int | None = None,
    epochs: int | None = None,
    minutes: float | None = None,
    device: str | None = None,
    control: TrainControl | None = None,
    ranks: Ranks | None = None,
) -> Trainer:
    """Continue a run from its latest checkpoint, at the same step, optimizer state and data order.

    Only the length of training (steps, epochs or minutes, counted from the run's start) and the
    device may change; the vocabulary must be the one the run
    was trained with.
    """
    run_dir = Path(run_dir)
    if not (run_dir / "run.json").is_file():
        raise TrainingError(f"{run_dir} holds no training run (no run.json); check the folder")
    lock = lock_run_folder(run_dir, ranks)
    try:
        return _resume(run_dir, collection, steps, epochs, minutes, device, control, ranks, lock)
    except BaseException:
        lock.release()
        raise


def _resume(run_dir, collection, steps, epochs, minutes, device, control, ranks, lock) -> Trainer:
    try:
        run = read_run_info(run_dir)
    except ckpt.CheckpointError as exc:
        raise TrainingError(str(exc)) from None
    saved = TokenizerConfig.from_json(run.tokenizer)
    if (
        collection.tokenizer != saved
        or Vocabulary(saved).to_json_dict()["tokens"] != run.vocabulary
    ):
        raise TrainingError(
            f"{run_dir} was trained with a different vocabulary ({len(run.vocabulary)} tokens) "
            f"than the one given now ({len(Vocabulary(collection.tokenizer))} tokens); it cannot be "
            "resumed with it: start a new run instead"
        )
    missing = [p for s, p in run.data_files if s not in collection.files]
    if missing:
        raise TrainingError(
            f"{len(missing)} file(s) this run trained on are gone or changed (first: {missing[0]}); "
            "put them back, or start a new run on the folder as it is now"
        )
    config = TrainConfig.from_dict(run.training)
    if steps is not None or epochs is not None or minutes is not None:
        config = replace(config, steps=steps, epochs=epochs or config.epochs, minutes=minutes)
    if device is not None:
        config = replace(config, device=device)
    run = replace(run, training=config.to_dict())
    latest = None
    if run.latest:
        try:
            latest = ckpt.read_checkpoint(run_dir / run.latest)
        except ckpt.CheckpointError as exc:
            raise TrainingError(str(exc)) from None
        if run.id and latest.get("run_id") != run.id:
            raise TrainingError(
                f"{run_dir / run.latest} belongs to another training run, not to {run_dir}; "
                "put the run's own checkpoint back, or start a new run"
            )
    return Trainer(run_dir, run, collection, latest, control, ranks, lock=lock)
