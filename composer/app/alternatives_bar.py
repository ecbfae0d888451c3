"""The strip above a piano roll while some of its bars are regenerated: what is happening
("Bars 9–12: alternative 2 of 4 — Enter keeps it, Esc restores the original") and buttons for
the window's own actions, so a button, a key and a menu item do the same thing."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from composer.app.pianoroll.render import mix

CHOOSING = ("previous_alternative", "next_alternative", "keep_alternative", "restore_original")
WRITING = ("stop_generating",)


class AlternativesBar(QFrame):
    """`set_text(headline, hint)`; `set_choosing(bool)` swaps the Stop button for the choosing
    ones. `text` is what it says, as plain text."""

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("alternatives-bar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        palette = self.palette()
        window = palette.color(QPalette.ColorRole.Window)
        highlight = palette.color(QPalette.ColorRole.Highlight)
        palette.setColor(QPalette.ColorRole.Window, mix(window, highlight, 0.18))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.label.setWordWrap(True)  # two lines rather than a clipped sentence
        self.label.setMinimumWidth(160)
        self.text = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        layout.addWidget(self.label, 1)
        self.buttons: dict[str, QToolButton] = {}
        for name in (*WRITING, *CHOOSING):
            button = QToolButton()
            button.setDefaultAction(actions[name])
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the piano roll
            layout.addWidget(button)
            self.buttons[name] = button
        self.set_choosing(False)

    def set_text(self, headline: str, hint: str) -> None:
        """What is happening (in bold), then the keys to press."""
        self.text = f"{headline} — {hint}"
        self.label.setText(f"<b>{html.escape(headline)}</b> — {html.escape(hint)}")

    def set_choosing(self, choosing: bool) -> None:
        for name, button in self.buttons.items():
            button.setVisible((name in CHOOSING) == choosing)
