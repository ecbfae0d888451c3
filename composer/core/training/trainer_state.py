"""What a run changes as it trains, typed: `TrainingState`. The trainer (trainer.py) runs its loop
over it, a checkpoint keeps it and puts it back (`snapshot`, `restore`: everything needed to
continue exactly), and the run's sentences (messages.py) read it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from composer import __version__
from composer.core.model import MusicLSTM
from composer.core.training import checkpoint as ckpt
from composer.core.training.progress import TrainingError
from composer.core.training.run_info import RunInfo
from composer.core.training.schedule import Schedule

#: (h, c) of the lanes one process trains, each (layers, lanes, hidden) float32.
Carried = tuple[torch.Tensor, torch.Tensor]


@dataclass
class TrainingState:
    """The weights, the optimizer's moments, the LSTM state every lane carries into its next
    window, the schedule (time spent, validations without a new best) and where the run stands."""

    model: MusicLSTM
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    schedule: Schedule
    carried: Carried
    step: int = 0  # optimizer steps taken
    tokens_seen: int = 0  # targets learnt from, all ranks together
    best_val_loss: float | None = None  # nats per token
    last_val_loss: float | None = None
    val_step: int = -1  # the step the last validation ran at
    improved: bool = False  # that validation beat the best so far (the next checkpoint is best)

    @property
    def device(self) -> torch.device:
        return self.model.head.weight.device

    def snapshot(
        self, run: RunInfo, steps_per_epoch: float, world_size: int, carried: Carried, rng
    ) -> tuple[dict, dict]:
        """(tensors, info) of a checkpoint now. carried: every rank's lanes' (h, c), each
        (layers, all lanes, hidden); rng: every rank's CPU random state, (ranks, state)."""
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        optimizer_tensors, optimizer_json = ckpt.optimizer_to_files(self.optimizer)
        tensors.update(optimizer_tensors)
        tensors.update({"train.h": carried[0], "train.c": carried[1], "rng.cpu": rng})
        if self.device.type == "cuda":
            tensors["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        info = {
            "composer": __version__,
            "torch": torch.__version__,
            "run_id": run.id,
            "model": run.model,
            "tokenizer": run.tokenizer,
            "vocabulary": run.vocabulary,
            "training": run.training,
            "epoch": round(self.step / steps_per_epoch, 4),
            "tokens_seen": self.tokens_seen,
            "val_loss": self.last_val_loss if self.val_step == self.step else None,
            "best_val_loss": self.best_val_loss,
            "elapsed_s": round(self.schedule.elapsed_s, 3),
            "stale_validations": self.schedule.stale,
            "world_size": world_size,
            "optimizer": optimizer_json,
            "grad_scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
        }
        return tensors, info

    def restore(
        self, run_dir: Path, latest: str, info: dict, lanes: int, mine: slice, rank: int, ranks: int
    ) -> None:
        """Put the run in `run_dir` back where its checkpoint `latest` (its JSON read: `info`)
        left it. lanes: all ranks' lanes together; mine: this rank's; rank of ranks processes."""
        path = run_dir / latest
        tensors = ckpt.read_tensors(path, info)
        model_state = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
        try:
            self.model.load_state_dict(model_state)
        except RuntimeError:  # torch's text lists every mismatched tensor: one sentence instead
            raise TrainingError(
                f"{path} holds weights of another size than the model this run trains; put the "
                "run's own checkpoint back, or start a new run"
            ) from None
        ckpt.optimizer_from_files(self.optimizer, tensors, info["optimizer"], path)
        if info.get("grad_scaler") and self.scaler.is_enabled():
            self.scaler.load_state_dict(info["grad_scaler"])
        self.step = int(info["step"])
        self.tokens_seen = int(info["tokens_seen"])
        self.last_val_loss = info.get("val_loss")
        self.schedule.elapsed_s = float(info.get("elapsed_s") or 0.0)
        self.schedule.stale = int(info.get("stale_validations") or 0)
        if tensors["train.h"].shape[1] != lanes:
            raise TrainingError(
                f"{run_dir} was trained with {tensors['train.h'].shape[1]} lanes in all "
                f"(batch size x processes) and now has {lanes}; resume with the same batch size "
                "and number of processes"
            )
        device = self.device
        self.carried = (
            tensors["train.h"][:, mine].to(device),
            tensors["train.c"][:, mine].to(device),
        )
        if tensors["rng.cpu"].shape[0] == ranks:
            torch.set_rng_state(tensors["rng.cpu"][rank].cpu())
        if "rng.cuda" in tensors and device.type == "cuda" and ranks == 1:
            torch.cuda.set_rng_state(tensors["rng.cuda"], device)
