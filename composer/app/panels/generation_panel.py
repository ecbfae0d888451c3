"""Generation: pick a model and how to sample, then watch the notes stream into the piano roll."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from composer.app import paths, settings
from composer.app.panels.generation_jobs import generate_job, is_started, merge_updates
from composer.app.panels.steering_box import SteeringBox
from composer.app.tooltips import GENERATION
from composer.app.workers import Worker, WorkerThreads
from composer.core.errors import SettingsError
from composer.core.generation.settings import random_seed  # torch-free

BUNDLED = "bundled"
OPEN_FILE = "open"
NO_PRIMER, FILE_PRIMER, SELECTION_PRIMER = "none", "file", "selection"


class GenerationPanel(QWidget):
    started = Signal(int, object)  # variations, the primer's Piece (or None)
    streamed = Signal(object)  # a GenerationUpdate (notes per variation since the last one)
    # The Pieces (None for a variation that wrote no note), and a description (model, seed).
    finished = Signal(object, str)
    failed = Signal(str)  # the sentence shown when generating did not work
    status = Signal(str)

    def __init__(self, threads: WorkerThreads, parent: QWidget | None = None):
        super().__init__(parent)
        self.threads = threads
        self.worker: Worker | None = None
        self.primer_file: Path | None = None
        self.selection_primer = lambda: None  # the window supplies: the selected notes as a Piece

        self.model = QComboBox()
        self.model.activated.connect(self._model_chosen)
        # The styles of the chosen model (none: the row is hidden); data: the style's name.
        self.style = QComboBox()
        self._chosen_style = (None, None)  # (model, style) the musician last chose
        self.style.activated.connect(self._style_chosen)
        self.model.currentIndexChanged.connect(self._list_styles)
        self.temperature = QSlider(Qt.Orientation.Horizontal)
        self.temperature.setRange(10, 200)
        self.temperature_label = QLabel()
        self.temperature.valueChanged.connect(
            lambda v: self.temperature_label.setText(f"{v / 100:.2f}")
        )
        self.temperature.setValue(round(settings.read(settings.TEMPERATURE) * 100))
        temperature = QHBoxLayout()
        temperature.addWidget(self.temperature, 1)
        temperature.addWidget(self.temperature_label)
        self.top_k = QSpinBox()
        self.top_k.setRange(settings.TOP_K.low, settings.TOP_K.high)
        self.top_k.setSpecialValueText("off")
        self.top_k.setValue(settings.read(settings.TOP_K))
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(settings.TOP_P.low, settings.TOP_P.high)
        self.top_p.setSingleStep(0.05)
        self.top_p.setValue(settings.read(settings.TOP_P))
        self.seconds = QDoubleSpinBox()
        self.seconds.setRange(settings.SECONDS.low, settings.SECONDS.high)
        self.seconds.setSuffix(" s")
        self.seconds.setValue(settings.read(settings.SECONDS))
        self.variations = QSpinBox()
        self.variations.setRange(settings.VARIATIONS.low, settings.VARIATIONS.high)
        self.variations.setValue(settings.read(settings.VARIATIONS))
        self.seed = QSpinBox()
        self.seed.setRange(settings.SEED.low, settings.SEED.high)
        self.seed.setValue(settings.read(settings.SEED))
        self.random_seed = QCheckBox("Random")
        self.random_seed.toggled.connect(lambda on: self.seed.setEnabled(not on))
        self.random_seed.setChecked(settings.read(settings.RANDOM_SEED))
        seed = QHBoxLayout()
        seed.addWidget(self.seed, 1)
        seed.addWidget(self.random_seed)
        self.primer = QComboBox()
        self.primer.addItem("None: start from silence", NO_PRIMER)
        self.primer.addItem("Continue a MIDI file…", FILE_PRIMER)
        self.primer.addItem("Continue the selected range", SELECTION_PRIMER)
        self.primer.activated.connect(self._primer_chosen)

        form = QFormLayout()
        form.addRow("Model", self.model)
        form.addRow("Style", self.style)
        self.form = form
        form.addRow("Temperature", temperature)
        form.addRow("Top-k", self.top_k)
        form.addRow("Top-p", self.top_p)
        form.addRow("Length", self.seconds)
        form.addRow("Variations", self.variations)
        form.addRow("Seed", seed)
        form.addRow("Primer", self.primer)

        self.steering = SteeringBox()

        self.generate_button = QPushButton("Generate")
        self.generate_button.clicked.connect(self.generate)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.stop_button)
        self.message = QLabel()
        self.message.setWordWrap(True)

        for widget, name in (
            (self.model, "model"),
            (self.style, "style"),
            (self.temperature, "temperature"),
            (self.temperature_label, "temperature"),
            (self.top_k, "top_k"),
            (self.top_p, "top_p"),
            (self.seconds, "seconds"),
            (self.variations, "variations"),
            (self.seed, "seed"),
            (self.random_seed, "random_seed"),
            (self.primer, "primer"),
            (self.generate_button, "generate"),
            (self.stop_button, "stop"),
        ):
            widget.setToolTip(GENERATION[name])

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.steering)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.refresh_models()

    # --- models -------------------------------------------------------------------------------
    def refresh_models(self, select: str | None = None) -> None:
        """List the bundled model, the runs in the user data folder, and 'Open model file…'."""
        from composer.resources import default_model

        current = select or self.model.currentData()
        self.model.clear()
        try:
            default_model()
            self.model.addItem("Bundled model", BUNDLED)
        except FileNotFoundError:  # not installed: the runs alone
            pass
        runs = sorted(
            paths.runs_dir().glob("*/run.json"), key=lambda p: p.stat().st_mtime, reverse=True
        )
        for run_file in runs:
            label = _run_label(run_file)
            if label:
                self.model.addItem(label, str(run_file.parent))
        self.model.addItem("Open model file…", OPEN_FILE)
        index = self.model.findData(current) if current else -1
        self.model.setCurrentIndex(index if index >= 0 else 0)
        if not self.model.currentData() or self.model.currentData() == OPEN_FILE:
            self.message.setText("No model yet: train one, or open a model file.")
        else:
            self.message.setText("")

    @Slot(int)
    def _model_chosen(self, index: int) -> None:
        if self.model.itemData(index) == OPEN_FILE:
            path, _ = QFileDialog.getOpenFileName(
                self,
                "Open a Composer model",
                str(paths.runs_dir()),
                "Composer model (*.json *.safetensors)",
            )
            if path:
                self.model.insertItem(0, Path(path).name, path)
                self.model.setCurrentIndex(0)

    @Slot()
    def _list_styles(self) -> None:
        """Offer the chosen model's styles, the one it plays in unless told first (a fine-tuned
        run's own collection, else any); a style the musician chose stays chosen while the same
        model is listed again, and a newly chosen model starts at its own."""
        from composer.core.generation import ModelFileError
        from composer.core.generation.loading import model_styles
        from composer.core.model.config import ANY_STYLE
        from composer.resources import default_model

        self.style.clear()
        where = self.model.currentData()
        styles, default = (), 0
        if where and where != OPEN_FILE:
            with suppress(ModelFileError, FileNotFoundError, OSError):  # said when generating
                styles, default = model_styles(default_model() if where == BUNDLED else where)
        named = [(_style_label(n), n) for n in styles]
        if default:  # data None: the model's own default
            self.style.addItem(f"{named[default - 1][0]} (the model's own)", None)
            self.style.addItem("Any: the model chooses", ANY_STYLE)
        else:
            self.style.addItem("Any: the model chooses", None)
        for i, (label, name) in enumerate(named, start=1):
            if i != default:
                self.style.addItem(label, name)
        chosen_for, chosen = self._chosen_style
        found = self.style.findData(chosen) if chosen_for == where and chosen else -1
        self.style.setCurrentIndex(max(found, 0))
        self.form.setRowVisible(self.style, bool(styles))

    @Slot(int)
    def _style_chosen(self, index: int) -> None:
        self._chosen_style = (self.model.currentData(), self.style.itemData(index))

    @Slot(int)
    def _primer_chosen(self, index: int) -> None:
        if self.primer.itemData(index) == FILE_PRIMER:
            path, _ = QFileDialog.getOpenFileName(
                self, "Continue a MIDI file", "", "MIDI files (*.mid *.midi *.kar *.rmi)"
            )
            if path:
                self.primer_file = Path(path)
                self.primer.setItemText(index, f"Continue {self.primer_file.name}")
            else:
                self.primer.setCurrentIndex(0)

    # --- generating ---------------------------------------------------------------------------
    def sampling_settings(self):
        from composer.core.generation import SamplingSettings

        if self.random_seed.isChecked():
            self.seed.setValue(random_seed())
        for key, value in (
            (settings.TEMPERATURE, self.temperature.value() / 100),
            (settings.TOP_K, self.top_k.value()),
            (settings.TOP_P, self.top_p.value()),
            (settings.SECONDS, self.seconds.value()),
            (settings.VARIATIONS, self.variations.value()),
            (settings.SEED, self.seed.value()),
            (settings.RANDOM_SEED, self.random_seed.isChecked()),
        ):
            settings.write(key, value)
        return SamplingSettings(
            temperature=self.temperature.value() / 100,
            top_k=self.top_k.value(),
            top_p=self.top_p.value(),
            seconds=self.seconds.value(),
            seed=self.seed.value(),
            variations=self.variations.value(),
            style=self.style.currentData(),  # None: the model's own default
        )

    @property
    def is_running(self) -> bool:
        return self.worker is not None

    @Slot()
    def generate(self) -> None:
        if self.is_running:
            return
        choice = self.model.currentData()
        if choice in (None, OPEN_FILE):
            self.message.setText("Choose a model first: train one, or open a model file.")
            return
        primer_kind = self.primer.currentData()
        primer = None
        if primer_kind == SELECTION_PRIMER:
            primer = self.selection_primer()
            if primer is None or primer.note_count == 0:
                self.message.setText(
                    "Select a time range with notes on the piano roll's ruler first."
                )
                return
        elif primer_kind == FILE_PRIMER and self.primer_file is not None:
            primer = self.primer_file
        sampling = self.sampling_settings()
        try:
            constraints = self.steering.constraints()
        except SettingsError as exc:
            self.message.setText(str(exc))
            return
        steer = self.steering
        if (steer.wants_primer_key or steer.wants_primer_density) and primer is None:
            self.message.setText(
                "Choose a primer to take its key or density from, or set them yourself."
            )
            return
        detect = (steer.wants_primer_key, steer.wants_primer_density)
        model = None if choice == BUNDLED else Path(choice)
        self.worker = Worker(
            lambda worker: generate_job(worker, model, sampling, primer, constraints, detect),
            merge=merge_updates,
            urgent=is_started,
        )
        self.worker.progress.connect(self._on_progress)
        self.worker.succeeded.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.generate_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        count = f"{sampling.variations} variation{'s' * (sampling.variations != 1)}"
        self.message.setText(f"Generating {count}, seed {sampling.seed}…")
        self.status.emit("Generating…")
        self.threads.start(self.worker)

    @Slot()
    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    @Slot(object)
    def _on_progress(self, item) -> None:
        if is_started(item):
            self.started.emit(item.variations, item.primer)
            return
        self.streamed.emit(item)
        self.status.emit(f"Generating: {max(item.seconds):.1f} s of music")

    @Slot(object)
    def _on_finished(self, result) -> None:
        pieces, description = result
        self._idle()
        self.message.setText(description)
        self.status.emit(description)
        self.finished.emit(pieces, description)

    @Slot(str, bool)
    def _on_failed(self, message: str, unexpected: bool) -> None:
        self._idle()
        self.message.setText(message)
        self.status.emit(message)
        self.failed.emit(message)

    def _idle(self) -> None:
        self.worker = None
        self.generate_button.setEnabled(True)
        self.stop_button.setEnabled(False)


def _style_label(name: str) -> str:
    """A style's name as the panel shows it: 'bach_chorales' -> 'Bach chorales' (a folder's
    name is often written for a file system; --style takes it as it is)."""
    words = name.replace("_", " ").strip() or name
    return words[:1].upper() + words[1:]


def _run_label(run_file: Path) -> str | None:
    """'name (best, step N)': the run and the checkpoint generating with it loads (its best by
    validation, else its latest; see resolve_model_path), with ' — training now' while a training
    here or in another process holds it. None for a run without a checkpoint."""
    from composer.core.training import CheckpointError
    from composer.core.training.checkpoint import read_checkpoint
    from composer.core.training.run_info import read_run_info
    from composer.core.training.runs import being_trained

    try:
        run = read_run_info(run_file.parent)
        which = "best" if run.best else "latest"
        if not (run.best or run.latest):
            return None  # no checkpoint yet
        # Read as the core reads it (safe_files: size-limited, hostile JSON refused).
        step = read_checkpoint(run_file.parent / (run.best or run.latest))["step"]
    except (CheckpointError, OSError):  # damaged or gone: not offered
        return None
    busy = " — training now" if being_trained(run_file.parent) else ""
    return f"{run_file.parent.name} ({which}, step {step:,}){busy}"
