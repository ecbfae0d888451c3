"""The files a run folder receives while it trains: run.json, the checkpoints and metrics.jsonl.
Split from trainer.py, which runs the loop: this module decides what is written, in what order,
what is kept when a write fails and what the run then says. Under torchrun only rank 0 writes;
the other ranks keep the same record of what was saved and write nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import torch

from composer.core.files.atomic import append_whole
from composer.core.training import checkpoint as ckpt
from composer.core.training import messages
from composer.core.training.progress import LogEvent, TrainingError
from composer.core.training.run_info import RunInfo


class RunFiles:
    """One run folder as its trainer writes it."""

    def __init__(self, run_dir: Path, info: RunInfo, *, writes: bool) -> None:
        self.run_dir = run_dir
        self.info = info  # the run as run.json holds it: the latest and best checkpoints named
        self.writes = writes  # this process writes the files (rank 0)
        self.saved_step = 0  # of the last checkpoint written (0: none yet)
        self.lines_lost = 0  # of metrics.jsonl, not written (see log)
        self.lost_because = ""  # why the last of them was not

    def start(self) -> None:
        """Write the first run.json: a folder without one takes a new run, so a full disk here
        leaves the folder as it was."""
        if not self.writes:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            ckpt.write_run(self.run_dir, self.info)
        except OSError as exc:
            raise TrainingError(messages.start_failed(self, exc)) from None

    def checkpoint(
        self,
        step: int,
        tensors: dict[str, torch.Tensor],
        info: dict,
        *,
        best: bool,
        best_val_loss: float | None,
    ) -> Path | None:
        """Write the checkpoint of `step` (tensors, then its JSON `info`), then the run.json that
        names it as the latest (and the best, if `best`), then delete what nothing names. The
        JSON file's path; None where this process writes nothing. A failed write (disk full,
        folder gone or read-only) is the TrainingError naming the checkpoint kept."""
        if not self.writes:
            self.saved_step = step
            return None
        try:
            path = ckpt.write_checkpoint(self.run_dir, step, tensors, info)
            name = f"checkpoints/{path.name}"
            run = replace(self.info, latest=name, step=step)
            if best:
                run = replace(run, best=name, best_val_loss=best_val_loss)
            ckpt.write_run(self.run_dir, run)
        except OSError as exc:  # run.json still names the last good checkpoint
            raise TrainingError(messages.write_failed(self, exc)) from None
        self.info, self.saved_step = run, step  # only once run.json names it
        keep = {Path(k).stem for k in (run.latest, run.best) if k}
        ckpt.prune_checkpoints(self.run_dir, keep)
        self.log({"event": LogEvent.CHECKPOINT, "step": step, "path": name})
        return path

    def log(self, record: dict) -> None:
        """Append one line to metrics.jsonl. Readers skip a last line cut short.

        A line that cannot be written (a full disk: not a byte of it is) does not stop the run:
        the log draws the curves, the checkpoints hold the work. Stopping would lose the steps
        since the last checkpoint, or end a finished run with an error, for a disk that may be
        full for a moment; on one that stays full the next checkpoint fails and stops the run,
        with the sentence that names the checkpoint kept. The last message counts lost lines."""
        if not self.writes:
            return
        record = {"time": round(time.time(), 3), **record}
        try:
            append_whole(self.run_dir / "metrics.jsonl", (json.dumps(record) + "\n").encode())
        except OSError as exc:
            self.lines_lost += 1
            self.lost_because = exc.strerror or str(exc)
