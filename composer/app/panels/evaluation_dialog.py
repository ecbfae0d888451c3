"""The evaluation report in the app: the figures, two histograms drawn, and warnings in words."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from composer.core.midi.piece import PITCH_CLASS_NAMES

REFERENCE = QColor(120, 170, 120)
GENERATED = QColor(90, 150, 240)
PITCH_CLASSES = list(PITCH_CLASS_NAMES)
IOI_LABELS = ["⅟₁₂", "⅙", "¼", "⅓", "½", "⅔", "1", "1½", "2", "3", "4", "4+"]


class HistogramChart(QWidget):
    """Two histograms side by side per bin: the evaluated files and the generated pieces."""

    def __init__(
        self, title: str, labels: list[str], reference: list[float], generated: list[float]
    ):
        super().__init__()
        self.title, self.labels = title, labels
        self.reference, self.generated = reference, generated
        self.setMinimumSize(360, 200)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        metrics = painter.fontMetrics()
        top, bottom = metrics.height() + 8, metrics.height() + 6
        plot = QRectF(8, top, self.width() - 16, self.height() - top - bottom)
        painter.setPen(text)
        painter.drawText(
            QRectF(8, 2, self.width() - 16, metrics.height()),
            Qt.AlignmentFlag.AlignLeft,
            self.title,
        )
        peak = max([*self.reference, *self.generated, 1e-9])
        slot = plot.width() / max(len(self.labels), 1)
        bar = slot * 0.38
        for i, label in enumerate(self.labels):
            x = plot.left() + i * slot + slot * 0.1
            for j, (values, colour) in enumerate(
                ((self.reference, REFERENCE), (self.generated, GENERATED))
            ):
                height = plot.height() * (values[i] / peak if i < len(values) else 0)
                painter.fillRect(QRectF(x + j * bar, plot.bottom() - height, bar, height), colour)
            painter.setPen(text)
            painter.drawText(
                QRectF(plot.left() + i * slot, plot.bottom() + 2, slot, metrics.height()),
                Qt.AlignmentFlag.AlignHCenter,
                label,
            )
        for k, (name, colour) in enumerate((("your files", REFERENCE), ("generated", GENERATED))):
            x = plot.right() - 190 + k * 95
            painter.fillRect(QRectF(x, 4, 12, 10), colour)
            painter.setPen(text)
            painter.drawText(int(x + 16), 14, name)
        painter.end()


class EvaluationDialog(QDialog):
    def __init__(self, result: dict, report_text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Evaluation — {result['model']}")
        self.result = result
        self.warnings = QLabel(
            "\n".join(result["warnings"]) or "No warnings: the model neither copies nor collapses."
        )
        self.warnings.setWordWrap(True)
        font = self.warnings.font()
        font.setBold(bool(result["warnings"]))
        self.warnings.setFont(font)
        if result["warnings"]:
            self.warnings.setStyleSheet("color: #d04030;")
        self.text = QPlainTextEdit(report_text)
        self.text.setReadOnly(True)
        self.text.setFont(QFont("monospace"))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        stats = result["statistics"]
        charts = QHBoxLayout()
        self.charts = [
            HistogramChart(
                "Pitch classes",
                PITCH_CLASSES,
                stats["pitch_class_histogram"]["reference"],
                stats["pitch_class_histogram"]["generated"],
            ),
            HistogramChart(
                "Time between onsets (beats)",
                IOI_LABELS,
                stats["ioi_histogram"]["reference"],
                stats["ioi_histogram"]["generated"],
            ),
        ]
        for chart in self.charts:
            charts.addWidget(chart)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)  # Close and Esc alike
        layout = QVBoxLayout(self)
        layout.addWidget(self.warnings)
        layout.addLayout(charts)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
        self.resize(980, 720)


def evaluate_job(worker, model, folder):
    """The background job: (result, report text). Model None is the bundled one."""
    from composer.app import paths
    from composer.app.workers import UserError
    from composer.core.evaluation import EvaluationError, evaluate, format_report
    from composer.core.generation import ModelFileError
    from composer.resources import default_model

    try:
        result = evaluate(
            model or default_model(), folder, paths.cache_dir(), on_step=worker.report
        )
    except (ModelFileError, EvaluationError, FileNotFoundError) as exc:  # SettingsError: Worker
        raise UserError(str(exc)) from None
    return result, format_report(result)
