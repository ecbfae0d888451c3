"""Resume a run…: the training runs made from the app, one row each (name, collection, steps,
best validation, when, what it started from), newest first; a run folder elsewhere can still be
chosen with *Other folder…*. A folder that is not a readable run is listed with why, greyed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

HEADERS = ("Run", "Collection", "Steps", "Best validation", "When", "Started from")
MAX_RUNS = 500  # listed; older ones are reached with Other folder…


@dataclass(frozen=True)
class RunRow:
    """One run as the browser lists it; `problem` is why it cannot be resumed ("" if it can)."""

    folder: Path
    collection: str = ""
    steps: str = ""
    best: str = ""
    when: str = ""
    started_from: str = ""
    problem: str = ""


def run_rows(runs: Path) -> list[RunRow]:
    """The runs under `runs`, newest first (by folder time), read safely."""
    from composer.core.training import CheckpointError
    from composer.core.training.run_info import read_run_info

    try:
        folders = [p for p in runs.iterdir() if p.is_dir()]
    except OSError:
        return []
    folders.sort(key=lambda p: _mtime(p), reverse=True)
    rows = []
    for folder in folders[:MAX_RUNS]:
        try:
            run = read_run_info(folder)
        except (CheckpointError, OSError) as exc:
            rows.append(RunRow(folder, problem=str(exc).split(";")[0]))
            continue
        budget = run.training.get("steps")
        minutes = run.training.get("minutes")
        steps = f"{run.step:,}" + (
            f" of {budget:,}" if budget else f" ({minutes:g} min)" if minutes else ""
        )
        best = f"{run.best_val_loss:.3f}" if run.best_val_loss is not None else "–"
        source = run.started_from.name if run.started_from else "empty"
        when = (run.created or "")[:16].replace("T", " ")
        rows.append(RunRow(folder, Path(run.folder).name, steps, best, when, source))
    return rows


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


class RunBrowser(QDialog):
    """`chosen(Path)` when the musician picks a run (double-click, or Resume)."""

    chosen = Signal(object)

    def __init__(self, runs: Path, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Resume a training run")
        self.runs = runs
        self.rows = run_rows(runs)
        self.table = QTableWidget(len(self.rows), len(HEADERS), self)
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for r, row in enumerate(self.rows):
            values = (row.folder.name, row.collection, row.steps, row.best, row.when)
            for c, value in enumerate((*values, row.started_from or row.problem)):
                item = QTableWidgetItem(value)
                if row.problem:
                    item.setFlags(Qt.ItemFlag.NoItemFlags)  # listed, greyed, not chosen
                    item.setToolTip(row.problem)
                self.table.setItem(r, c, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(HEADERS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda index: self._choose(index.row()))
        empty = QLabel(f"No training run in {runs} yet: start one in the Train panel.", self)
        empty.setVisible(not self.rows)
        buttons = QDialogButtonBox(self)
        self.resume_button = buttons.addButton("Resume", QDialogButtonBox.ButtonRole.AcceptRole)
        other = buttons.addButton("Other folder…", QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.resume_button.clicked.connect(lambda: self._choose(self.table.currentRow()))
        other.clicked.connect(self._other)
        buttons.rejected.connect(self.reject)
        self.resume_button.setEnabled(False)
        self.table.itemSelectionChanged.connect(
            lambda: self.resume_button.setEnabled(self._usable(self.table.currentRow()))
        )
        layout = QVBoxLayout(self)
        layout.addWidget(empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(820, 420)
        if self.rows and self._usable(0):
            self.table.selectRow(0)

    def _usable(self, row: int) -> bool:
        return 0 <= row < len(self.rows) and not self.rows[row].problem

    def _choose(self, row: int) -> None:
        if self._usable(row):
            self.accept()
            self.chosen.emit(self.rows[row].folder)

    def _other(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A training run folder", str(self.runs))
        if folder:
            self.accept()
            self.chosen.emit(Path(folder))
