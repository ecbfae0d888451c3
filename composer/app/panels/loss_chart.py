"""A small painted chart of training and validation loss against steps."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

TRAIN_COLOUR = QColor(80, 160, 255)
VALIDATION_COLOUR = QColor(255, 150, 60)


def y_range(values: list[float]) -> tuple[float, float]:
    """The loss axis: fitted to the values with a margin (a fine-tune's small fall is seen,
    not flattened against an axis from 0), never below 0; (0, 1) without values."""
    if not values:
        return 0.0, 1.0
    low, high = min(values), max(values)
    margin = max((high - low) * 0.08, high * 0.01, 1e-3)
    return max(low - margin, 0.0), high + margin


class LossChart(QWidget):
    """Two series of (step, loss in nats per token) against steps from 0; the loss axis fits
    the values, and the legend sits above the plot, never over the curves."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.train: list[tuple[int, float]] = []
        self.validation: list[tuple[int, float]] = []
        self.total_steps = 1
        self.setMinimumHeight(140)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def clear(self, total_steps: int = 1) -> None:
        self.train, self.validation, self.total_steps = [], [], max(1, total_steps)
        self.update()

    def add_train(self, step: int, loss: float) -> None:
        if math.isfinite(loss):
            self.train.append((step, loss))
            self.update()

    def add_validation(self, step: int, loss: float) -> None:
        if math.isfinite(loss):
            self.validation.append((step, loss))
            self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        metrics = painter.fontMetrics()
        left, bottom = metrics.horizontalAdvance("10.00") + 10, metrics.height() + 8
        legend = metrics.height() + 6  # a row above the plot
        plot = QRectF(
            left, legend + 4, self.width() - left - 10, self.height() - bottom - legend - 4
        )
        low, top = y_range([v for _, v in self.train + self.validation])
        x_max = max([self.total_steps] + [s for s, _ in self.train + self.validation])

        grid = QColor(text)
        grid.setAlpha(40)
        painter.setPen(QPen(grid, 1))
        for i in range(5):
            y = plot.bottom() - plot.height() * i / 4
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(text)
            value = low + (top - low) * i / 4
            painter.drawText(
                QRectF(0, y - 8, left - 6, 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                f"{value:.2f}" if top < 10 else f"{value:.1f}",
            )
            painter.setPen(QPen(grid, 1))
        painter.setPen(text)
        painter.drawText(
            QRectF(plot.left(), plot.bottom() + 4, plot.width(), metrics.height()),
            Qt.AlignmentFlag.AlignLeft,
            "0",
        )
        painter.drawText(
            QRectF(plot.left(), plot.bottom() + 4, plot.width(), metrics.height()),
            Qt.AlignmentFlag.AlignRight,
            f"step {x_max:,}",
        )
        painter.drawText(
            QRectF(plot.left(), plot.bottom() + 4, plot.width(), metrics.height()),
            Qt.AlignmentFlag.AlignHCenter,
            "loss: lower is better",
        )

        def point(step: int, value: float) -> QPointF:
            return QPointF(
                plot.left() + plot.width() * step / x_max,
                plot.bottom() - plot.height() * (value - low) / (top - low),
            )

        for series, colour, dots in (
            (self.train, TRAIN_COLOUR, False),
            (self.validation, VALIDATION_COLOUR, True),
        ):
            if not series:
                continue
            painter.setPen(QPen(colour, 2))
            path = QPainterPath(point(*series[0]))
            for step, value in series[1:]:
                path.lineTo(point(step, value))
            painter.drawPath(path)
            if dots:
                painter.setBrush(colour)
                for step, value in series:
                    painter.drawEllipse(point(step, value), 3, 3)
                painter.setBrush(Qt.BrushStyle.NoBrush)
        # The legend, in its row above the plot.
        x, y = plot.left(), legend / 2 + 2
        for label, colour in (
            ("training", TRAIN_COLOUR),
            ("unseen music (validation)", VALIDATION_COLOUR),
        ):
            painter.setPen(QPen(colour, 3))
            painter.drawLine(QPointF(x, y), QPointF(x + 18, y))
            painter.setPen(text)
            painter.drawText(QPointF(x + 24, y + metrics.ascent() / 2 - 1), label)
            x += 24 + metrics.horizontalAdvance(label) + 16
        painter.end()
