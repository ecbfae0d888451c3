"""What the panels were set to, kept across starts: the Generate panel's model, the Steer box, the
Train panel's length of training, the edit toolbar's grid. One JSON object per panel in the
settings file, read back as hostile input (a value of the wrong kind, or a choice a combo box
no longer offers, is skipped: the widget keeps its default). *View → Reset panels to defaults*
puts every widget back as it was built and forgets what was kept.

The sampling settings (temperature, top-k...) have their own keys in settings.py, written when a
generation starts; this module keeps the widgets that had none.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QLineEdit,
    QSpinBox,
)

PREFIX = "panels/"
MAX_TEXT = 10_000  # a line edit's text kept (a list of instruments is short)


def value_of(widget):
    """A widget's value as JSON: a combo box's choice (its data, else its text), a number, a
    checked state, a text."""
    if isinstance(widget, QComboBox):
        data = widget.currentData()
        return (
            {"data": data}
            if isinstance(data, (str, int, float))
            else {"text": widget.currentText()}
        )
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        return widget.value()
    if isinstance(widget, (QAbstractButton, QGroupBox)):
        return widget.isChecked()
    if isinstance(widget, QLineEdit):
        return widget.text()[:MAX_TEXT]
    raise TypeError(f"cannot keep a {type(widget).__name__}")


def set_value(widget, value) -> bool:
    """Put `value` (as value_of gave it) back in `widget`; False (and nothing changed) when it
    does not fit the widget."""
    if isinstance(widget, QComboBox) and isinstance(value, dict):
        if "data" in value:
            index = widget.findData(value["data"])
        else:
            index = widget.findText(str(value.get("text", "")))
        if index < 0:
            return False
        widget.setCurrentIndex(index)
        return True
    if isinstance(widget, QAbstractSpinBox) and type(value) in (int, float):
        if not widget.minimum() <= value <= widget.maximum():
            return False
        widget.setValue(int(value) if isinstance(widget, QSpinBox) else float(value))
        return True
    if isinstance(widget, (QAbstractButton, QGroupBox)) and type(value) is bool:
        widget.setChecked(value)
        return True
    if isinstance(widget, QLineEdit) and isinstance(value, str):
        widget.setText(value[:MAX_TEXT])
        return True
    return False


class PanelState:
    """The named widgets of one panel, kept under `name` in the settings file."""

    def __init__(self, name: str, widgets: dict) -> None:
        self.key = PREFIX + name
        self.widgets = widgets
        self.defaults = {k: value_of(w) for k, w in widgets.items()}  # as built

    def restore(self) -> None:
        """Set the widgets as they were kept (each value checked; the rest keep defaults)."""
        raw = QSettings().value(self.key, "")
        try:
            kept = json.loads(raw) if isinstance(raw, str) and len(raw) < 1_000_000 else {}
        except (ValueError, RecursionError):
            kept = {}
        if not isinstance(kept, dict):
            return
        for name, widget in self.widgets.items():
            if name in kept:
                set_value(widget, kept[name])

    def save(self) -> None:
        values = {k: value_of(w) for k, w in self.widgets.items()}
        QSettings().setValue(self.key, json.dumps(values))

    def reset(self) -> None:
        """Every widget as it was built, and nothing kept."""
        for name, widget in self.widgets.items():
            set_value(widget, self.defaults[name])
        QSettings().remove(self.key)
