"""Where a new training run starts, and for how long it trains.

*Start from*: the base model (fine-tuning: the model's size comes with it, and the settings
become fine-tuning ones), an empty model, or another run. The suggestion follows the collection's
size: a small collection learns far more from the base model than from nothing, a large one can
afford its own model. *Train for*: a number of steps, or minutes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QSpinBox,
    QWidget,
)

from composer.app import paths
from composer.core.training.config import MAX_MINUTES, MAX_STEPS

#: Collections with fewer files than this start from the base model unless the musician chooses.
BASE_MODEL_BELOW_FILES = 500
BASE, EMPTY, RUN = "base", "empty", "run"
_LABELS = {BASE: "The base model", EMPTY: "An empty model", RUN: "Another run…"}


class StartChoice(QComboBox):
    """The Start from choice. `source()` is what read_start takes, or None for an empty model."""

    chosen = Signal()  # the choice changed (by the musician or by a suggestion)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        for key in (BASE, EMPTY, RUN):
            self.addItem(_LABELS[key], key)
        self.run_dir: Path | None = None  # the run chosen with "Another run…"
        self._touched = False  # the musician chose: suggestions no longer move it
        self._previous = 0
        self.activated.connect(self._on_activated)
        self.currentIndexChanged.connect(lambda _: self.chosen.emit())

    @property
    def kind(self) -> str:
        return self.currentData()

    def suggest(self, files: int) -> None:
        """Mark the choice that suits `files` files as recommended, and take it unless the
        musician has chosen already."""
        best = BASE if files < BASE_MODEL_BELOW_FILES else EMPTY
        for index in range(self.count()):
            key = self.itemData(index)
            label = _LABELS[key] + (" (recommended)" if key == best else "")
            if key == RUN and self.run_dir is not None:
                label = f"Run {self.run_dir.name}"
            self.setItemText(index, label)
        if not self._touched:
            self.set_kind(best)

    def set_kind(self, key: str, run_dir: Path | None = None) -> None:
        if key == RUN:
            if run_dir is None:
                raise ValueError("choosing another run needs its folder")
            self.run_dir = Path(run_dir)
            self.setItemText(self.findData(RUN), f"Run {self.run_dir.name}")
        self.setCurrentIndex(self.findData(key))
        self._previous = self.currentIndex()

    def source(self) -> str | Path | None:
        """The weights to start from: the bundled model's file, a run folder, or None."""
        if self.kind == BASE:
            from composer.resources import asset

            return asset("model", "model.json")
        if self.kind == RUN:
            return self.run_dir
        return None

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        self._touched = True
        if self.itemData(index) != RUN:
            self._previous = index
            return
        folder = QFileDialog.getExistingDirectory(
            self, "Start from which run?", str(paths.runs_dir())
        )
        if folder:
            self.set_kind(RUN, Path(folder))
        else:  # cancelled: keep what was chosen before
            self.setCurrentIndex(self._previous)


class TrainLength(QWidget):
    """Train for N steps, or for M minutes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps = QSpinBox()
        self.steps.setRange(1, MAX_STEPS)
        self.steps.setValue(300)
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(0.1, MAX_MINUTES)
        self.minutes.setDecimals(1)
        self.minutes.setValue(5.0)
        self.unit = QComboBox()
        self.unit.addItem("steps", "steps")
        self.unit.addItem("minutes", "minutes")
        self.unit.currentIndexChanged.connect(self._show_unit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.steps, 1)
        layout.addWidget(self.minutes, 1)
        layout.addWidget(self.unit)
        self._show_unit()

    def setToolTip(self, text: str) -> None:  # noqa: N802 (Qt's name)
        """The same explanation on each box (a tooltip shows over the widget under the mouse)."""
        super().setToolTip(text)
        for box in (self.steps, self.minutes, self.unit):
            box.setToolTip(text)

    @property
    def in_minutes(self) -> bool:
        return self.unit.currentData() == "minutes"

    def set_unit(self, unit: str) -> None:
        self.unit.setCurrentIndex(self.unit.findData(unit))

    def settings(self) -> dict:
        """steps= or minutes= for TrainConfig."""
        if self.in_minutes:
            return {"minutes": self.minutes.value(), "steps": None}
        return {"steps": self.steps.value(), "minutes": None}

    @Slot()
    def _show_unit(self) -> None:
        self.steps.setVisible(not self.in_minutes)
        self.minutes.setVisible(self.in_minutes)
