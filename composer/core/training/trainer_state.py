"""What a checkpoint holds of a Trainer, and putting it back: split from trainer.py, which runs
the loop. Everything needed to continue exactly: weights, AdamW moments, the (h, c) carried by
every lane, every rank's random state, the step, the tokens seen, the time spent training."""

from __future__ import annotations

import torch

from composer import __version__
from composer.core.training import checkpoint as ckpt
from composer.core.training.progress import TrainingError


def snapshot(trainer, h: torch.Tensor, c: torch.Tensor, rng: torch.Tensor) -> tuple[dict, dict]:
    """(tensors, info) of a checkpoint at the trainer's step; h and c are all lanes' carried
    states, shape (layers, lanes, hidden); rng is every rank's CPU random state."""
    tensors = {f"model.{k}": v for k, v in trainer.model.state_dict().items()}
    optimizer_tensors, optimizer_json = ckpt.optimizer_to_files(trainer.optimizer)
    tensors.update(optimizer_tensors)
    tensors.update({"train.h": h, "train.c": c, "rng.cpu": rng})
    if trainer.device.type == "cuda":
        tensors["rng.cuda"] = torch.cuda.get_rng_state(trainer.device)
    info = {
        "composer": __version__,
        "torch": torch.__version__,
        "run_id": trainer.info.id,
        "model": trainer.info.model,
        "tokenizer": trainer.info.tokenizer,
        "vocabulary": trainer.info.vocabulary,
        "training": trainer.info.training,
        "epoch": round(trainer.step / trainer.stream.steps_per_epoch, 4),
        "tokens_seen": trainer.tokens_seen,
        "val_loss": trainer.last_val_loss if trainer.val_step == trainer.step else None,
        "best_val_loss": trainer.best_val_loss,
        "elapsed_s": round(trainer.schedule.elapsed_s, 3),
        "stale_validations": trainer.schedule.stale,
        "world_size": trainer.ranks.world_size,
        "optimizer": optimizer_json,
        "grad_scaler": trainer.scaler.state_dict() if trainer.scaler.is_enabled() else None,
    }
    return tensors, info


def restore(trainer, info: dict) -> None:
    """Put a run back where its latest checkpoint left it: weights, optimizer moments, step,
    time spent, the carried LSTM state of every lane and the random state."""
    tensors = ckpt.read_tensors(trainer.run_dir / trainer.info.latest, info)
    model_state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    try:
        trainer.model.load_state_dict(model_state)
    except RuntimeError:  # torch's text lists every mismatched tensor: one sentence instead
        raise TrainingError(
            f"{trainer.run_dir / trainer.info.latest} holds weights of another size than the "
            "model this run trains; put the run's own checkpoint back, or start a new run"
        ) from None
    path = trainer.run_dir / trainer.info.latest
    ckpt.optimizer_from_files(trainer.optimizer, tensors, info["optimizer"], path)
    if info.get("grad_scaler") and trainer.scaler.is_enabled():
        trainer.scaler.load_state_dict(info["grad_scaler"])
    trainer.step = int(info["step"])
    trainer.tokens_seen = int(info["tokens_seen"])
    trainer.last_val_loss = info.get("val_loss")
    trainer.schedule.elapsed_s = float(info.get("elapsed_s") or 0.0)
    trainer.schedule.stale = int(info.get("stale_validations") or 0)
    mine = trainer.my_lanes
    if tensors["train.h"].shape[1] == trainer.lanes:  # same lanes: carry on exactly
        trainer.state = (
            tensors["train.h"][:, mine].to(trainer.device),
            tensors["train.c"][:, mine].to(trainer.device),
        )
    else:
        raise TrainingError(
            f"{trainer.run_dir} was trained with {tensors['train.h'].shape[1]} lanes in all "
            f"(batch size x processes) and now has {trainer.lanes}; resume with the same batch size "
            "and number of processes"
        )
    if tensors["rng.cpu"].shape[0] == trainer.ranks.world_size:
        torch.set_rng_state(tensors["rng.cpu"][trainer.ranks.rank].cpu())
    if "rng.cuda" in tensors and trainer.device.type == "cuda" and trainer.ranks.world_size == 1:
        torch.cuda.set_rng_state(tensors["rng.cuda"], trainer.device)
