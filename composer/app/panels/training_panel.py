"""Training: choose where to start (the base model, an empty model of a chosen size, another run)
and for how long (under Advanced, every setting), start, pause, stop, watch.

The loop runs in a worker thread; its progress arrives as signals, at most 30 a second, with every
validation and checkpoint delivered. A run lives in the user data folder and can be reopened and
resumed later.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from composer.app import paths, settings
from composer.app.panels.loss_chart import LossChart
from composer.app.panels.training_jobs import new_job, new_run_dir, resume_job
from composer.app.panels.training_readouts import Readouts, RunFolderError, RunState, read_run_state
from composer.app.panels.training_start import EMPTY, StartChoice, TrainLength
from composer.app.tooltips import TRAINING
from composer.app.workers import Worker, WorkerThreads
from composer.core.errors import SettingsError
from composer.core.model.config import PRESET_HELP, PRESETS
from composer.core.training.config import (  # defaults and limits
    DEVICES,
    MAX_BATCH_SIZE,
    TrainConfig,
)
from composer.core.training.progress import TrainEvent

# Advanced settings: (field, label, minimum, maximum, step or decimals, default or None for the
# preset's value). Integers get a QSpinBox, floats a QDoubleSpinBox. The training defaults come
# from TrainConfig, their one home; patience shows None (never) as 0.
_ADVANCED = [
    ("layers", "LSTM layers", 1, 16, 1, None),
    ("hidden_size", "Units per layer", 8, 8192, 64, None),
    ("embedding_size", "Token vector width", 8, 8192, 64, None),
    ("dropout", "Dropout", 0.0, 0.9, 2, None),
    ("batch_size", "Batch size", 1, MAX_BATCH_SIZE, 1, TrainConfig.batch_size),
    ("window", "Window (tokens)", 8, 4096, 16, TrainConfig.window),
    ("learning_rate", "Learning rate", 0.00001, 0.1, 5, TrainConfig.learning_rate),
    ("validation_fraction", "Validation fraction", 0.0, 0.5, 2, TrainConfig.validation_fraction),
    ("eval_every", "Validate every (steps)", 1, 100_000, 10, TrainConfig.eval_every),
    ("transpose", "Transpose ± (semitones)", 0, 12, 1, TrainConfig.transpose),
    ("tempo_stretch", "Tempo stretch ±", 0.0, 0.3, 2, TrainConfig.tempo_stretch),
    ("seed", "Seed", 0, settings.SEED_BOX_MAX, 1, TrainConfig.seed),
    ("patience", "Stop early after (validations, 0: never)", 0, 1000, 1, TrainConfig.patience or 0),
]
# What the fine-tuning fields become when a run starts from a model (their home is FINE_TUNING).
_TUNED_FIELDS = ("learning_rate", "eval_every", "patience")
_MODEL_FIELDS = {"layers", "hidden_size", "embedding_size", "dropout"}


class TrainingPanel(QWidget):
    status = Signal(str)
    run_finished = Signal(str)  # the run folder, when a run ends with a checkpoint

    def __init__(self, threads: WorkerThreads, parent: QWidget | None = None):
        super().__init__(parent)
        self.threads = threads
        self.collection = None
        self.worker: Worker | None = None
        self.control = None
        self.run_dir: Path | None = None  # the run shown: the last one started or resumed
        self.training_text = ""  # what the message says while training goes on

        self.preset = QComboBox()
        for name in PRESETS:
            self.preset.addItem(name.capitalize(), name)
            self.preset.setItemData(self.preset.count() - 1, PRESET_HELP[name], 3)  # tooltip role
        self.preset.currentIndexChanged.connect(self._apply_preset)
        self.start_from = StartChoice()
        self.length = TrainLength()
        self.steps = self.length.steps
        self.device = QComboBox()
        for value, label in DEVICES.items():
            self.device.addItem(label, value)
        basics = QFormLayout()
        basics.addRow("Start from", self.start_from)
        basics.addRow("Model size", self.preset)
        basics.addRow("Train for", self.length)
        basics.addRow("Device", self.device)
        self.context = QCheckBox("Hear the bar and the other parts")
        self.context.setChecked(settings.read(settings.CONTEXT))
        basics.addRow("", self.context)

        self.advanced = QGroupBox("Advanced")
        self.advanced.setCheckable(True)
        self.advanced.setChecked(False)
        grid = QFormLayout()
        self.fields: dict[str, QSpinBox | QDoubleSpinBox] = {}
        for name, label, low, high, step, default in _ADVANCED:
            if isinstance(low, int):
                box = QSpinBox()
                box.setRange(low, high)
                box.setSingleStep(step)
            else:
                box = QDoubleSpinBox()
                box.setDecimals(step)
                box.setRange(low, high)
                box.setSingleStep(10**-step * 5 if step > 2 else 0.05)
            if default is not None:
                box.setValue(default)
            self.fields[name] = box
            grid.addRow(label, box)
        inner = QWidget()
        inner.setLayout(grid)
        inner.setVisible(False)
        self.advanced.toggled.connect(inner.setVisible)
        QVBoxLayout(self.advanced).addWidget(inner)
        index = self.preset.findData(settings.read(settings.PRESET))
        self.preset.setCurrentIndex(max(index, 0))
        self._apply_preset()
        self._defaults = {n: self.fields[n].value() for n in _TUNED_FIELDS}
        self.start_from.chosen.connect(self._apply_start)
        self._apply_start()

        self.start_button = QPushButton("Start training")
        self.start_button.clicked.connect(self.start)
        self.start_button.setEnabled(False)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.toggled.connect(self._pause)
        self.pause_button.setEnabled(False)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        self.open_button = QPushButton("Resume a run…")
        self.open_button.clicked.connect(self.choose_run)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.stop_button, self.open_button):
            buttons.addWidget(button)

        for name, text in TRAINING.items():  # each control, by its attribute or field name
            (self.fields[name] if name in self.fields else getattr(self, name)).setToolTip(text)
        self.readouts = Readouts()
        self.message = QLabel("Open a folder of MIDI files first; then train a model on it.")
        self.message.setWordWrap(True)
        self.chart = LossChart()

        layout = QVBoxLayout(self)
        layout.addLayout(basics)
        layout.addWidget(self.advanced)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.readouts)
        layout.addWidget(self.chart, 1)

    # --- settings -----------------------------------------------------------------------------
    @Slot()
    def _apply_preset(self) -> None:
        values = PRESETS[self.preset.currentData()]
        for name in _MODEL_FIELDS:
            self.fields[name].setValue(values[name])

    @Slot()
    def _apply_start(self) -> None:
        """A run from a model trains at the model's size with fine-tuning settings; an empty
        model takes the size and settings chosen here."""
        from composer.core.training.config import FINE_TUNING

        empty = self.start_from.kind == EMPTY
        self.preset.setEnabled(empty)
        for name in _MODEL_FIELDS:
            self.fields[name].setEnabled(empty)
        for name in _TUNED_FIELDS:
            self.fields[name].setValue(self._defaults[name] if empty else FINE_TUNING[name])
        self.length.set_unit("steps" if empty else "minutes")

    def model_config(self, vocab_size: int):
        from composer.core.model import ModelConfig

        return ModelConfig(
            vocab_size=vocab_size, **{n: self.fields[n].value() for n in _MODEL_FIELDS}
        )

    def train_config(self):
        options = {n: self.fields[n].value() for n, *_ in _ADVANCED if n not in _MODEL_FIELDS}
        options["patience"] = options["patience"] or None
        length = self.length.settings()
        if length["steps"]:
            options["eval_every"] = min(options["eval_every"], length["steps"])
        options.update(device=self.device.currentData(), **length)
        # From a model: the fine-tuning settings the fields do not show (the warm-up) too.
        return (
            TrainConfig(**options)
            if self.start_from.kind == EMPTY
            else TrainConfig.fine_tuning(**options)
        )

    # --- running ------------------------------------------------------------------------------
    def set_collection(self, collection) -> None:
        """The folder to train on next (a run going on keeps its own files and its message)."""
        self.collection = collection
        self.start_from.suggest(len(collection.files))
        self.start_button.setEnabled(not self.is_running)
        if not self.is_running:
            # The readouts and chart belong to the run shown: a new folder shows none yet.
            self.run_dir = None
            self.readouts.clear()
            self.chart.clear()
            self.message.setText(f"Ready to train on {len(collection.files):,} files.")

    @property
    def is_running(self) -> bool:
        return self.worker is not None

    @Slot()
    def start(self) -> None:
        if self.collection is None or self.is_running:
            return
        from composer.core.tokens import Vocabulary

        settings.write(settings.PRESET, self.preset.currentData())
        settings.write(settings.CONTEXT, self.context.isChecked())
        self.run_dir = new_run_dir(self.collection.folder)
        try:
            model = self.model_config(len(Vocabulary(self.collection.tokenizer)))
            config = self.train_config()
        except SettingsError as exc:
            self.message.setText(f"{exc}.")
            return
        self.readouts.clear()
        self.chart.clear(config.steps or 1)
        collection, run_dir, source = self.collection, self.run_dir, self.start_from.source()
        context = self.context.isChecked()
        self._launch(
            lambda worker, control: new_job(
                worker, control, collection, run_dir, model, config, source, context
            )
        )

    @Slot()
    def choose_run(self) -> None:
        """The run browser: the runs made here, one row each; the one picked is resumed."""
        from composer.app.panels.run_browser import RunBrowser

        self.browser = RunBrowser(paths.runs_dir(), self)
        self.browser.chosen.connect(self.resume)
        self.browser.open()

    def resume(self, run_dir: Path) -> None:
        """Continue a run towards the steps in the Steps box. A run other than the one shown
        puts its own target there first, so that resuming keeps it; to train a run further,
        raise Steps and resume it again."""
        if self.is_running:
            return
        run_dir = Path(run_dir)
        try:
            state = read_run_state(run_dir)
        except RunFolderError as exc:
            self.message.setText(f"{exc}.")
            return
        if run_dir != self.run_dir:  # its own budget, not the panel's: resuming keeps it
            if state.minutes:
                self.length.minutes.setValue(state.minutes)
                self.length.set_unit("minutes")
            elif state.target:
                self.steps.setValue(state.target)
                self.length.set_unit("steps")
        self.run_dir = run_dir
        self._show_state(state)
        said = f"Resuming {run_dir.name}: {state.describe()}…"
        steps = self.steps.value()
        if self.length.in_minutes:  # a time budget in all, counted from the run's start
            minutes = self.length.minutes.value()
            self._launch(
                lambda worker, control: resume_job(worker, control, run_dir, None, minutes), said
            )
            return
        if steps <= state.step:
            self.message.setText(
                f"{run_dir.name} has trained all its {state.step:,} steps; raise Steps above "
                "that and resume it again to train it further."
            )
            return
        self._launch(
            lambda worker, control: resume_job(worker, control, run_dir, steps, None), said
        )

    def _show_state(self, state: RunState) -> None:
        """A reopened run as it stood: readouts, and its losses so far on the chart."""
        self.readouts.show_state(state)
        self.chart.clear(state.target or 1)
        for step, loss in state.train:
            self.chart.add_train(step, loss)
        for step, loss in state.validation:
            self.chart.add_validation(step, loss)

    def _launch(self, job, said: str = "Starting…") -> None:
        from composer.core.training import TrainControl

        self.control = control = TrainControl()
        self.worker = Worker(
            lambda worker: job(worker, control),
            urgent=lambda p: p.event != TrainEvent.STEP,
        )
        self.worker.progress.connect(self._on_progress)
        self.worker.succeeded.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        for button, enabled in (
            (self.start_button, False),
            (self.pause_button, True),
            (self.stop_button, True),
            (self.open_button, False),
        ):
            button.setEnabled(enabled)
        self.message.setText(said)
        self.status.emit("Training is starting…")
        self.threads.start(self.worker)

    @Slot(bool)
    def _pause(self, paused: bool) -> None:
        if self.control is None:
            return
        if paused:
            self.control.pause()
            self.pause_button.setText("Resume")
        else:
            self.control.resume()
            self.pause_button.setText("Pause")
            self.message.setText(self.training_text or "Training…")

    @Slot()
    def stop(self) -> None:
        """Stop after the current step; the loop then writes a checkpoint."""
        if self.worker is not None:
            self.worker.stop()
            self.control.stop()
            self.message.setText("Stopping after this step and saving a checkpoint…")

    @Slot(object)
    def _on_progress(self, p) -> None:
        self.readouts.show_progress(p)
        self.chart.total_steps = max(1, p.total_steps)  # a time budget's end is an estimate
        if p.event == TrainEvent.STEP:
            if p.train_loss is not None:
                self.chart.add_train(p.step, p.train_loss)
            self.status.emit(
                f"Training: step {p.step:,} of {p.total_steps:,}, loss {p.train_loss:.3f}"
            )
        elif p.event == TrainEvent.STARTED:
            self.chart.total_steps = p.total_steps
            self.training_text = p.message
            self.message.setText(p.message)
        elif p.event == TrainEvent.RESUMED:
            self.message.setText(self.training_text)
        elif p.event == TrainEvent.VALIDATION and p.val_loss is not None:
            self.chart.add_validation(p.step, p.val_loss)
        elif p.event in (TrainEvent.PAUSED, TrainEvent.STOPPED, TrainEvent.FINISHED):
            self.message.setText(p.message or "Paused.")
            self.status.emit(p.message or "Training paused.")

    @Slot(object)
    def _on_finished(self, run_dir) -> None:
        self._idle()
        self.run_finished.emit(str(run_dir))

    @Slot(str, bool)
    def _on_failed(self, message: str, unexpected: bool) -> None:
        self._idle()
        self.message.setText(message)
        self.status.emit(message)
        if self.run_dir and (self.run_dir / "run.json").exists():
            self.run_finished.emit(str(self.run_dir))  # a failed run still has its checkpoints

    def _idle(self) -> None:
        self.worker, self.control = None, None
        self.readouts.blank("ETA")  # nothing left to wait for
        self.pause_button.setChecked(False)
        for button, enabled in (
            (self.start_button, self.collection is not None),
            (self.pause_button, False),
            (self.stop_button, False),
            (self.open_button, True),
        ):
            button.setEnabled(enabled)
