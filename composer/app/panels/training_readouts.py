"""The Train panel's readouts (step, epoch, loss, validation, speed, ETA, device), and what a run
folder remembers of them, so that a reopened run shows where it stood before it goes on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from composer.app.tooltips import READOUTS
from composer.core.training.progress import LogEvent, TrainEvent

NAMES = ("Step", "Epoch", "Loss", "Validation", "Tokens/s", "ETA", "Device")
EMPTY = "–"


class RunFolderError(Exception):
    """A folder that is not a readable training run; the message says so in one sentence."""


@dataclass
class RunState:
    """How far a run got, from its run.json and metrics.jsonl."""

    step: int  # steps done (its latest checkpoint)
    target: int | None  # the steps it trains towards: its own target
    best_val_loss: float | None = None
    train: list[tuple[int, float]] = field(default_factory=list)  # (step, loss) as logged
    validation: list[tuple[int, float]] = field(default_factory=list)
    epoch: int | None = None
    tokens_per_s: float | None = None
    minutes: float | None = None  # its time budget, when it trains for minutes
    collection: str = ""  # the folder it learns from, by name
    started_from: str = ""  # the model it was fine-tuned from ("" from empty)
    preset: str = ""  # its model's size

    def describe(self) -> str:
        """Its settings in words: "Bach chorales, from the base model, 300 steps"."""
        budget = (
            f"{self.minutes:g} minutes of training"
            if self.minutes
            else f"{self.target:,} steps"
            if self.target
            else "its epochs"
        )
        source = f"from {self.started_from}" if self.started_from else "from empty"
        size = f", {self.preset}" if self.preset else ""
        return f"{self.collection or 'its collection'}, {source}{size}, {budget}"


def read_run_state(run_dir: Path) -> RunState:
    """The state of the run in `run_dir`; RunFolderError when it is not a readable run."""
    from composer.core.training import CheckpointError
    from composer.core.training.run_info import read_run_info

    if not (Path(run_dir) / "run.json").is_file():
        raise RunFolderError(
            f"{run_dir} is not a training run (it has no run.json); choose a run folder"
        )
    try:
        run = read_run_info(run_dir)
    except CheckpointError as exc:  # one sentence naming the run.json and what is wrong
        raise RunFolderError(str(exc)) from None
    own_target = run.training.get("steps")
    state = RunState(run.step, own_target, run.best_val_loss)
    state.minutes = run.training.get("minutes")
    state.collection = Path(run.folder).name
    state.started_from = run.started_from.name if run.started_from else ""
    layers, hidden = run.model.get("layers"), run.model.get("hidden_size")
    state.preset = f"{layers} x {hidden} LSTM" if layers and hidden else ""
    for record in _metrics(Path(run_dir)):
        event = record.get("event")
        if event == LogEvent.TRAIN and "loss" in record:
            state.train.append((record["step"], record["loss"]))
            state.epoch = record.get("epoch", state.epoch)
            state.tokens_per_s = record.get("tokens_per_s", state.tokens_per_s)
        elif event == LogEvent.VALIDATION and "loss" in record:
            state.validation.append((record["step"], record["loss"]))
        elif event in (LogEvent.START, LogEvent.RESUME) and own_target is None:
            state.target = record.get("total_steps", state.target)  # a run measured in epochs
    return state


def _metrics(run_dir: Path) -> list[dict]:
    """The records of metrics.jsonl (none when it is missing; a line cut short is skipped)."""
    try:
        lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    except OSError:
        return []
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a last line cut short by a crash
        if isinstance(record, dict) and isinstance(record.get("step"), int):
            records.append(record)
    return records


def validation_text(loss: float | None, best: float | None) -> str:
    if loss is None:
        return EMPTY
    return f"{loss:.3f}" + (f" (best {best:.3f})" if best else "")


class Readouts(QWidget):
    """Name and value labels in two columns; `readouts["Loss"]` is the value label."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.labels: dict[str, QLabel] = {}
        for i, name in enumerate(NAMES):
            title, value = QLabel(name), QLabel(EMPTY)
            for label in (title, value):
                label.setToolTip(READOUTS[name])
            self.labels[name] = value
            grid.addWidget(title, i // 2, (i % 2) * 2)
            grid.addWidget(value, i // 2, (i % 2) * 2 + 1)

    def __getitem__(self, name: str) -> QLabel:
        return self.labels[name]

    def clear(self) -> None:
        for label in self.labels.values():
            label.setText(EMPTY)

    def blank(self, name: str) -> None:
        """One readout back to "–" (the ETA once a run has stopped)."""
        self[name].setText(EMPTY)

    def show_progress(self, p) -> None:
        """What one TrainProgress says (values it does not carry stay as they are)."""
        # A time budget's step count is an estimate until the time is up: not "108 / 1".
        total = f" / {p.total_steps:,}" if p.total_steps >= p.step else ""
        self["Step"].setText(f"{p.step:,}{total}")
        self["Epoch"].setText(str(p.epoch))
        self["Device"].setText(p.device)
        if p.train_loss is not None:
            self["Loss"].setText(f"{p.train_loss:.3f}")
        if p.val_loss is not None:
            self["Validation"].setText(validation_text(p.val_loss, p.best_val_loss))
        if p.event == TrainEvent.STEP:
            self["Tokens/s"].setText(f"{p.tokens_per_s:,.0f}")
            eta = int(p.eta_s or 0)
            self["ETA"].setText(f"{eta // 60}:{eta % 60:02d}")

    def show_state(self, state: RunState) -> None:
        """Where a reopened run stood: its step, last losses, speed (nothing is running yet)."""
        self.clear()
        total = f" / {state.target:,}" if state.target else ""
        self["Step"].setText(f"{state.step:,}{total}")
        if state.epoch is not None:
            self["Epoch"].setText(str(state.epoch))
        if state.train:
            self["Loss"].setText(f"{state.train[-1][1]:.3f}")
        if state.validation:
            self["Validation"].setText(
                validation_text(state.validation[-1][1], state.best_val_loss)
            )
        if state.tokens_per_s:
            self["Tokens/s"].setText(f"{state.tokens_per_s:,.0f}")
