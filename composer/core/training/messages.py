"""What the trainer says: the opening line, the device, and the sentences that end a run. Each
reads what it names: the run's TrainingState, its settings, its run.json (RunInfo)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import torch

from composer.core.model import ModelConfig
from composer.core.training.config import MAX_STEPS, TrainConfig
from composer.core.training.distributed import Ranks
from composer.core.training.progress import EndReason, NanLoss, OutOfMemory
from composer.core.training.run_info import RunInfo

if TYPE_CHECKING:
    from composer.core.training.trainer_io import RunFiles
    from composer.core.training.trainer_state import TrainingState


def count_label(n: int) -> str:
    """A weight count as people read it: '1.3 M', or '51,424' below 100,000."""
    return f"{n / 1e6:.1f} M" if n >= 100_000 else f"{n:,}"


def device_label(device: torch.device, ranks: Ranks, threads: bool = True) -> str:
    """'CPU, 2 threads', 'NVIDIA H100 x4', 'Apple GPU (MPS)'; without `threads`, 'the CPU':
    the thread count may change once the run has started (the thread tuner), so only what is
    read live (the Device readout) gives it."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return f"{name} x{ranks.world_size}" if ranks.distributed else name
    if device.type == "mps":
        return "Apple GPU (MPS)"
    count = torch.get_num_threads()
    label = f"CPU, {count} thread{'s' if count > 1 else ''}" if threads else "the CPU"
    return f"{label} x{ranks.world_size} processes" if ranks.distributed else label


def describe(
    state: TrainingState,
    run: RunInfo,
    config: TrainConfig,
    model: ModelConfig,
    pieces: tuple[int, int],
    device: str,
    resumed: bool,
) -> str:
    """The opening line. pieces: (read in training: files and fill-in passages, validating)."""
    what = f"Resuming at step {state.step}" if resumed else "Training"
    if run.started_from and not resumed:
        what = f"Fine-tuning {run.started_from.name}"
    files = len(run.train)
    spans = pieces[0] - files  # fill-in examples, read beside the files
    on = f"{files} files" + (
        f" plus {spans:,} passages cut from them to practise rewriting bars" if spans else ""
    )
    return (
        f"{what}: {model.layers} x {model.hidden_size} LSTM "
        f"({count_label(model.parameter_count)} weights) on {on}, "
        f"validating on {pieces[1]}, {length(config, state.schedule.steps_cap)}, on {device}"
    )


def length(config: TrainConfig, steps_cap: int | None) -> str:
    """'2,000 steps', '5 minutes', '5 minutes (at most 2,000 steps)'."""
    if config.minutes is None:
        return f"{steps_cap:,} steps"
    budget = f"{config.minutes:g} minute{'' if config.minutes == 1 else 's'}"
    return budget if config.steps is None else f"{budget} (at most {steps_cap:,} steps)"


def ended(
    state: TrainingState, run: RunInfo, config: TrainConfig, total_steps: int, why: EndReason | None
) -> str:
    """The last line of a run: why it ended, or that it was stopped and can resume."""
    step = state.step
    if why is None:
        return f"Stopped at step {step} of {total_steps}; the checkpoint is saved."
    if why == EndReason.PATIENCE:
        best = run.best or ""
        best_step = best.rsplit("-", 1)[-1].removesuffix(".json").lstrip("0") or "0"
        return (
            f"Stopped early at step {step}: the validation loss has not improved for "
            f"{config.patience} validations; the best checkpoint (step {best_step}, "
            f"{state.best_val_loss:.3f} nats per token) is kept."
        )
    if why == EndReason.TIME:
        return f"Finished {step} steps in the {config.minutes:g} minutes given."
    if config.steps is None and step >= MAX_STEPS:  # before its minutes or epochs
        given = (
            f"the {config.minutes:g} minutes given were up"
            if config.minutes
            else f"the {config.epochs:,} epochs given were done"
        )
        return (
            f"Finished {step:,} steps, the most one run trains, before {given}; to train "
            "on, start a new run from this one's checkpoint."
        )
    return f"Finished {step} steps."


def nan_loss(state: TrainingState, config: TrainConfig, saved_step: int) -> NanLoss:
    return NanLoss(state.step + 1, config.learning_rate, saved_step)


@contextmanager
def out_of_memory_said(
    device: torch.device, config: TrainConfig, model: ModelConfig
) -> Iterator[None]:
    """Turn the device running out of memory inside the block into the OutOfMemory sentence.
    CUDA raises torch.OutOfMemoryError; the CPU allocator a plain RuntimeError ("can't allocate
    memory", "not enough memory" on Windows), which reached the user as a traceback."""
    try:
        yield
    except RuntimeError as exc:  # torch.OutOfMemoryError is one too
        text = str(exc)
        cpu = any(words in text for words in ("can't allocate memory", "not enough memory"))
        if not (isinstance(exc, torch.OutOfMemoryError) or cpu):
            raise
        raise OutOfMemory(device.type, config.batch_size, model.layers, model.hidden_size) from None


def write_failed(files: RunFiles, exc: OSError) -> str:
    """Writing a checkpoint (or run.json naming it) into the run folder failed mid-run."""
    saved = files.saved_step
    where = f"Could not write a checkpoint into {files.run_dir} ({exc.strerror or exc})"
    if not saved:  # run.json names no checkpoint: resuming starts the run again from step 0
        return (
            f"{where}, so training stopped before its first checkpoint and nothing was kept; "
            "free some space and resume the run (it starts from the beginning), or start again "
            "in another output folder"
        )
    return (
        f"{where}, so training stopped and the checkpoint of step {saved} is kept; free some "
        "space or choose another output folder, then resume"
    )


def lines_lost(files: RunFiles) -> str:
    """'' or a sentence to add to the last one: lines of metrics.jsonl that were not written."""
    if not files.lines_lost:
        return ""
    lines = f"{files.lines_lost} line{'s' if files.lines_lost > 1 else ''}"
    return (
        f" {lines} of {files.run_dir / 'metrics.jsonl'} could not be written "
        f"({files.lost_because}), so its loss curve has gaps."
    )


def start_failed(files: RunFiles, exc: OSError) -> str:
    """The first run.json could not be written: there is no run to resume, the folder takes a
    new one."""
    return (
        f"Could not start a run in {files.run_dir} ({exc.strerror or exc}), so nothing was "
        "trained; free some space or choose another output folder, then start again"
    )
