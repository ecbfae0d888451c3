"""The training loop: a generator of progress that honours pause and stop within one step.

    trainer = new_run(run_dir, collection, model_config, TrainConfig(steps=300))
    for progress in trainer.run():      # or: resume_run(run_dir, collection).run()
        print(progress.step, progress.train_loss)

It knows nothing of terminals or Qt: the CLI draws a progress bar from the events, the app turns
them into signals. Under torchrun every rank runs the same loop on its share of the lanes; rank 0
alone writes files. Resuming restores weights, optimizer moments, the LSTM state carried by every
lane and the RNG, so a resumed run reaches the same weights as an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from composer.core.model import ModelConfig, MusicLSTM
from composer.core.tokens.config import TokenizerConfig
from composer.core.tokens.given import GIVEN_WIDTH
from composer.core.tokens.vocab import PAD, Vocabulary
from composer.core.training import messages
from composer.core.training.config import MAX_STEPS, TrainConfig
from composer.core.training.data import (
    Augmentation,
    Batcher,
    Collection,
    EpochAugmentations,
)
from composer.core.training.distributed import Ranks, autocast_dtype, cpu_cores, select_device
from composer.core.training.lanes import WindowStream
from composer.core.training.progress import (
    EndReason,
    LogEvent,
    Pace,
    TrainControl,
    TrainEvent,
    TrainProgress,
)
from composer.core.training.reading import read_pieces
from composer.core.training.run_info import RunInfo
from composer.core.training.schedule import Schedule
from composer.core.training.start_from import load_weights
from composer.core.training.threads import ThreadTuner
from composer.core.training.trainer_io import RunFiles
from composer.core.training.trainer_state import TrainingState
from composer.core.training.validation import Validation


class Trainer:
    """One run's loop. Build it with new_run or resume_run; iterate run() to train."""

    def __init__(
        self,
        run_dir,
        run: RunInfo,
        collection: Collection,
        latest: dict | None,
        control,
        ranks,
        lock=None,
        start_weights=None,
    ):
        self.run_dir = Path(run_dir)
        self._lock = lock  # the run folder's FolderLock, released when run() ends
        self.control = control or TrainControl()
        self.ranks = ranks or Ranks.from_environment()
        self.files = RunFiles(self.run_dir, run, writes=self.ranks.is_main)
        self.config = TrainConfig.from_dict(run.training)
        self.model_config = ModelConfig.from_dict(run.model)
        self.tokenizer = TokenizerConfig.from_json(run.tokenizer)
        self.vocab = Vocabulary(self.tokenizer)
        self._latest = latest
        self.device = select_device(self.config.device, self.ranks.local_rank)
        self.ranks.init(self.device)
        self.tuner = None
        if self.device.type == "cpu":  # share the cores among the processes on this machine
            cores = max(1, cpu_cores() // self.ranks.local_world_size)
            if self.ranks.distributed:
                torch.set_num_threads(cores)
            else:  # one process: choose the thread count by measuring (threads.py says why)
                self.tuner = ThreadTuner(cores)

        c, r = self.config, self.ranks
        self.train_set, self.val_set, self.style_dropout = read_pieces(
            run, collection, c, self.model_config, self.vocab
        )
        self.lanes = c.batch_size * r.world_size  # all ranks together
        self.my_lanes = slice(r.rank * c.batch_size, (r.rank + 1) * c.batch_size)
        self.batcher = Batcher(self.train_set, c.window)
        self.stream = WindowStream(self.train_set.lengths, self.lanes, c.window, c.seed)
        augmentation = Augmentation(c.transpose, c.tempo_stretch)
        self.augmentations = EpochAugmentations(augmentation, self.train_set, c.seed)
        cap = c.steps or (None if c.minutes else math.ceil(c.epochs * self.stream.steps_per_epoch))
        # No run passes MAX_STEPS, whatever its budget (many epochs, or minutes alone): a later
        # step is one that checkpoint.py's readers refuse, so it could not be resumed or exported.
        cap = MAX_STEPS if cap is None else min(cap, MAX_STEPS)
        self.schedule = Schedule(c, cap)
        self.total_steps = self.schedule.total_steps(0, 0.0)
        self.validation = Validation(
            self.val_set, c.window, self.lanes, c.validation_tokens(r.world_size), self.ranks
        )

        torch.manual_seed(c.seed)  # the same initial weights on every rank
        self.model = MusicLSTM(self.model_config)
        if latest is None and run.started_from:  # fine-tuning: a new run starts from weights
            load_weights(self.model, run.started_from.to_json(), start_weights)
        self.model = self.model.to(self.device)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(),
            lr=c.learning_rate,
            betas=(0.9, 0.99),
            weight_decay=c.weight_decay,
        )
        self.amp_dtype = autocast_dtype(self.device, c.precision)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.net = self.model
        if r.distributed:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = DistributedDataParallel(self.model, device_ids=ids)
        torch.manual_seed(c.seed * 1_000_003 + r.rank + 1)  # dropout differs between ranks

        self.training = TrainingState(
            self.model,
            self.optimizer,
            self.scaler,
            self.schedule,
            carried=self.model.initial_state(c.batch_size, self.device),
            best_val_loss=run.best_val_loss,
        )
        if latest is not None:
            args = (self.lanes, self.my_lanes, r.rank, r.world_size)
            self.training.restore(self.run_dir, run.latest, latest, *args)
            self.files.saved_step = self.step

    # --- the loop ---------------------------------------------------------------------------------
    def run(self) -> Iterator[TrainProgress]:
        """Train until total_steps, a stop request or an error (TrainingError). Yields progress.
        The run folder stays locked until this generator ends (or is closed)."""
        try:
            yield from self._run()
        finally:
            self.close()

    def close(self) -> None:
        """Let go of the run folder (run() does this when it ends); for a trainer never run."""
        if self._lock is not None:
            self._lock.release()

    def _run(self) -> Iterator[TrainProgress]:
        c = self.config
        resumed = self.step > 0
        if not resumed:
            self.files.start()
        self.files.log(
            {
                "event": LogEvent.RESUME if resumed else LogEvent.START,
                "world_size": self.ranks.world_size,
                "device": str(self.device),
                "total_steps": self.total_steps,
            }
        )
        yield self._progress(TrainEvent.STARTED, message=self._describe(resumed))

        pace = Pace()
        losses: list[float] = []
        stop = False
        ended: EndReason | None = None  # why the run ends by itself (None: stopped)
        clock = time.perf_counter()  # training time is counted from here (pauses are not)
        while not stop and ended is None:
            if self.schedule.out_of_steps(self.step):
                ended = EndReason.STEPS
                break
            if self.control.pause_requested and not self.ranks.distributed:
                yield self._progress(
                    TrainEvent.PAUSED, message="Paused; the run is kept in memory."
                )
                while self.control.pause_requested and not self.control.stop_requested:
                    self.control.wait_while_paused()
                pace.restart()
                clock = time.perf_counter()
                yield self._progress(TrainEvent.RESUMED)
            if self.control.stop_requested and not self.ranks.distributed:
                break
            pieces, offsets, targets, epochs = self.stream.row(self.step)
            mine = self.my_lanes
            batch = self.batcher.batch(
                pieces[mine], offsets[mine], *self.augmentations.lanes(pieces[mine], epochs[mine])
            )
            if self.style_dropout is not None:
                batch = replace(batch, style=self.style_dropout.lanes(pieces[mine], epochs[mine]))
            count = int(targets.sum())  # all ranks' targets this step
            lr = self.schedule.learning_rate(self.step)
            started, cpu = time.perf_counter(), time.process_time()
            loss, stop, out_of_time = self._train_step(batch, count, lr)
            now = time.perf_counter()
            if self.tuner is not None:
                self.tuner.step_done(count, now - started, time.process_time() - cpu)
            self.schedule.elapsed_s += now - clock
            clock = now
            self.training.step += 1
            self.training.tokens_seen += count
            losses.append(loss)
            pace.tick(count)
            self.total_steps = self.schedule.total_steps(self.step, pace.seconds_per_step)
            if out_of_time:
                ended = EndReason.TIME
            if self.step % c.log_every == 0:
                self.files.log(
                    {
                        "event": LogEvent.TRAIN,
                        "step": self.step,
                        "epoch": self.epoch,
                        "loss": round(float(np.mean(losses[-c.log_every :])), 5),
                        "lr": lr,
                        "tokens_per_s": round(pace.tokens_per_s, 1),
                    }
                )
            yield self._progress(
                TrainEvent.STEP,
                train_loss=float(np.mean(losses[-c.log_every :])),
                learning_rate=lr,
                pace=pace,
            )
            last = ended is not None or self.schedule.out_of_steps(self.step)
            if self.step % c.eval_every == 0 or last:
                yield self._validate(pace)
                # No validation files: never stale.
                counted = self.training.last_val_loss is not None
                if counted and self.schedule.validated(self.training.improved) and ended is None:
                    ended = EndReason.PATIENCE
                yield self._checkpoint(pace)
                self.schedule.elapsed_s += time.perf_counter() - clock
                clock = time.perf_counter()
                pace.restart()  # the pace shown is training's own
        ended = ended or (EndReason.STEPS if self.schedule.out_of_steps(self.step) else None)

        if self.step > self.saved_step:  # stopped between checkpoints: keep what was done
            yield self._checkpoint(pace)
        self.total_steps = self.step if ended else self.total_steps
        self.files.log(
            {
                "event": LogEvent.FINISH if ended else LogEvent.STOP,
                "step": self.step,
                "why": ended,
            }
        )
        text = messages.ended(self.training, self.info, c, self.total_steps, ended)
        text += messages.lines_lost(self.files)
        yield self._progress(
            TrainEvent.FINISHED if ended else TrainEvent.STOPPED, message=text, pace=pace
        )

    def _train_step(self, batch, count: int, lr: float) -> tuple[float, bool, bool]:
        """One optimizer step on one batch. Returns (mean loss per token, stop requested on any
        rank, time budget used up on any rank): every rank decides alike, or DDP would hang."""
        inputs = torch.from_numpy(batch.inputs).to(self.device, non_blocking=True)
        targets = torch.from_numpy(batch.targets).to(self.device, non_blocking=True)
        context = None
        if batch.context is not None:
            context = torch.from_numpy(batch.context).to(self.device, non_blocking=True)
        given = batch.given
        if given is None and self.ranks.distributed and self.model_config.hears_given:
            # DDP waits for a gradient of every weight on every rank: read zero rows.
            given = np.zeros((*batch.inputs.shape, GIVEN_WIDTH), np.float32)
        if given is not None:
            given = torch.from_numpy(given).to(self.device, non_blocking=True)
        style = None if batch.style is None else torch.from_numpy(batch.style).to(self.device)
        keep = torch.from_numpy(~batch.fresh).to(self.device).float()[None, :, None]
        state = (self.training.carried[0] * keep, self.training.carried[1] * keep)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        with self._memory_said():
            with self._autocast():
                logits, (h, c) = self.net(inputs, state, context=context, given=given, style=style)
            loss_sum = F.cross_entropy(
                logits.float().flatten(0, 1), targets.flatten(), ignore_index=PAD, reduction="sum"
            )
            # One collective per step: stop requests, a non-finite loss anywhere, the loss itself.
            flags = torch.stack(
                [
                    torch.tensor(float(self.control.stop_requested), device=self.device),
                    torch.tensor(float(self.schedule.out_of_time()), device=self.device),
                    (~torch.isfinite(loss_sum.detach())).float(),
                    torch.nan_to_num(loss_sum.detach(), nan=0.0, posinf=0.0, neginf=0.0),
                ]
            )
            stop_votes, time_votes, bad, total = self.ranks.sum(flags).tolist()
            if bad:
                raise messages.nan_loss(self.training, self.config, self.saved_step)
            # Scaled so that DDP's gradient average is the mean over all ranks' tokens.
            loss = loss_sum * (self.ranks.world_size / max(count, 1))
            self.optimizer.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            if not torch.isfinite(norm) and not self.scaler.is_enabled():
                raise messages.nan_loss(self.training, self.config, self.saved_step)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        self.training.carried = (h.detach().float(), c.detach().float())
        return total / max(count, 1), bool(stop_votes), bool(time_votes)

    def _autocast(self):
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    # --- validation -------------------------------------------------------------------------------
    def validation_loss(self) -> float | None:
        """Mean nats per token over the validation files (the same windows every time)."""
        return self.validation.loss(self.model, self._autocast)

    def _validate(self, pace) -> TrainProgress:
        t = self.training
        with self._memory_said():
            t.last_val_loss = self.validation_loss()
        improved = t.last_val_loss is not None and (
            t.best_val_loss is None or t.last_val_loss < t.best_val_loss
        )
        if improved:
            t.best_val_loss = t.last_val_loss
        if t.last_val_loss is not None:
            self.files.log(
                {
                    "event": LogEvent.VALIDATION,
                    "step": t.step,
                    "loss": round(t.last_val_loss, 5),
                    "best": improved,
                }
            )
        t.improved, t.val_step = improved, t.step
        return self._progress(TrainEvent.VALIDATION, pace=pace)

    # --- checkpoints ------------------------------------------------------------------------------
    def _checkpoint(self, pace) -> TrainProgress:
        """Write the latest checkpoint (and make it the best if validation improved); every rank
        takes part because the carried states and RNG of all lanes are gathered to rank 0."""
        h = self.ranks.gather_lanes(self.training.carried[0], dim=1)
        c = self.ranks.gather_lanes(self.training.carried[1], dim=1)
        rng = self.ranks.gather_lanes(torch.get_rng_state().to(self.device)[None], dim=0)
        tensors, info = ({}, {})
        if self.files.writes:
            args = (self.info, self.stream.steps_per_epoch, self.ranks.world_size)
            tensors, info = self.training.snapshot(*args, (h, c), rng)
        path = self.files.checkpoint(
            self.step,
            tensors,
            info,
            # Without validation files, the best is the latest.
            best=self.training.improved or not len(self.val_set),
            best_val_loss=self.training.best_val_loss,
        )
        self.training.improved = False
        self.ranks.barrier()
        return self._progress(
            TrainEvent.CHECKPOINT, checkpoint=str(path) if path else None, pace=pace
        )

    # --- helpers ----------------------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        """The pass over the training files that the last step was in (1-based)."""
        return 1 + int(max(self.step - 1, 0) / self.stream.steps_per_epoch)

    def _progress(self, event: TrainEvent, *, pace=None, **fields) -> TrainProgress:
        rate = pace.tokens_per_s if pace else 0.0
        eta = (
            pace.seconds_per_step * (self.total_steps - self.step)
            if pace and pace.seconds_per_step
            else None
        )
        return TrainProgress(
            event=event,
            step=self.step,
            total_steps=self.total_steps,
            epoch=self.epoch,
            val_loss=self.training.last_val_loss,
            best_val_loss=self.training.best_val_loss,
            tokens_per_s=rate,
            eta_s=eta,
            device=self.device_label,
            **fields,
        )

    def _describe(self, resumed: bool) -> str:
        device = messages.device_label(self.device, self.ranks, threads=False)
        pieces = (len(self.train_set), len(self.val_set))
        args = (self.info, self.config, self.model_config, pieces, device, resumed)
        return messages.describe(self.training, *args)

    def _memory_said(self):
        """The device running out of memory inside the block is the OutOfMemory sentence."""
        return messages.out_of_memory_said(self.device, self.config, self.model_config)

    # The run's counters as the command line, the app and the benchmarks read them.
    @property
    def step(self) -> int:
        return self.training.step

    @property
    def tokens_seen(self) -> int:
        return self.training.tokens_seen

    @property
    def best_val_loss(self) -> float | None:
        return self.training.best_val_loss

    @property
    def device_label(self) -> str:
        return messages.device_label(self.device, self.ranks)

    @property
    def info(self) -> RunInfo:
        """The run as its run.json holds it (the latest and best checkpoints named)."""
        return self.files.info

    @property
    def saved_step(self) -> int:
        """The step of the last checkpoint written (0: none yet)."""
        return self.files.saved_step
