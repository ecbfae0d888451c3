"""What the trainer says: the opening line, the device, and the sentences that end a run."""

from __future__ import annotations

import torch

from composer.core.training.distributed import Ranks


def count_label(n: int) -> str:
    """A weight count as people read it: '1.3 M', or '51,424' below 100,000."""
    return f"{n / 1e6:.1f} M" if n >= 100_000 else f"{n:,}"


def device_label(device: torch.device, ranks: Ranks) -> str:
    """'CPU, 2 threads', 'NVIDIA H100 x4', 'Apple GPU (MPS)'."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return f"{name} x{ranks.world_size}" if ranks.distributed else name
    if device.type == "mps":
        return "Apple GPU (MPS)"
    threads = torch.get_num_threads()
    label = f"CPU, {threads} thread{'s' if threads > 1 else ''}"
    return f"{label} x{ranks.world_size} processes" if ranks.distributed else label


def describe(trainer, resumed: bool) -> str:
    what = f"Resuming at step {trainer.step}" if resumed else "Training"
    start = trainer.info.get("from")
    if start and not resumed:
        what = f"Fine-tuning {start['name']}"
    model = trainer.model_config
    return (
        f"{what}: {model.layers} x {model.hidden_size} LSTM "
        f"({count_label(model.parameter_count)} weights) on {len(trainer.train_set)} files, "
        f"validating on {len(trainer.val_set)}, {trainer.total_steps} steps, on {trainer.device_label}"
    )


def nan_loss(trainer) -> str:
    saved = trainer._saved_step
    kept = f"the checkpoint of step {saved} is kept" if saved else "no checkpoint was written yet"
    return (
        f"The loss became NaN or infinite at step {trainer.step + 1}, so training stopped and "
        f"{kept}; try a lower learning rate (now {trainer.config.learning_rate:g})"
    )


def out_of_memory(trainer) -> str:
    batch, model = trainer.config.batch_size, trainer.model_config
    return (
        f"The {trainer.device.type.upper()} ran out of memory with batch size {batch} and a "
        f"{model.layers} x {model.hidden_size} model; try --batch-size {max(1, batch // 2)} or a "
        "smaller --preset"
    )


def write_failed(trainer, exc: OSError) -> str:
    saved = trainer._saved_step
    kept = f"the checkpoint of step {saved} is kept" if saved else "no checkpoint was written yet"
    return (
        f"Could not write a checkpoint into {trainer.run_dir} ({exc.strerror or exc}), so training "
        f"stopped and {kept}; free some space or choose another output folder, then resume"
    )
