"""One tab of the window: a piece's piano roll, its velocity lane and a legend of its instruments."""

from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from composer.app.editing.operations import EditSettings, NoteEditor
from composer.app.pianoroll.draw_notes import note_groups
from composer.app.pianoroll.velocity_lane import VelocityLane
from composer.app.pianoroll.view import PianoRollView
from composer.core.midi.piece import gm_program_name

MAX_LEGEND_ENTRIES = 8  # more instruments than this are summed up as "and N more"
LEGEND_DELAY_MS = 150


class PieceEditor(QWidget):
    """Shows and edits one PieceDocument."""

    def __init__(self, document, settings: EditSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.note_editor = NoteEditor(document, settings)
        self.view = PianoRollView(document.model)
        self.view.set_editor(self.note_editor)
        self.lane = VelocityLane(self.view)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setToolTip(
            "Note colours: one per instrument family; softer notes are paler. "
            "Drums are diamonds; selected notes take the highlight colour."
        )
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.view)
        splitter.addWidget(self.lane)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([600, 90])
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.legend)
        self._legend_key: tuple = ()
        # Edits come many a second while dragging: the legend catches up once they pause.
        self._legend_timer = QTimer(self)
        self._legend_timer.setSingleShot(True)
        self._legend_timer.setInterval(LEGEND_DELAY_MS)
        self._legend_timer.timeout.connect(self.update_legend)
        for signal in (document.model.changed, document.model.edited, document.model.notes_added):
            signal.connect(self._legend_timer.start)
        self.update_legend()

    def update_legend(self, *_) -> None:
        """List the instruments of the piece with their colours (only redrawn when they change)."""
        notes = self.document.model.notes
        keys = (
            np.unique(notes["program"].astype(np.int64) * 2 + notes["drum"]) if len(notes) else []
        )
        key = tuple(int(k) for k in keys)
        if key == self._legend_key and self.legend.text():
            return
        self._legend_key = key
        colors = self.view.colors()
        entries = []
        for k in key[:MAX_LEGEND_ENTRIES]:
            program, drum = divmod(k, 2)
            row = np.zeros(1, notes.dtype)
            row["program"], row["drum"], row["velocity"] = program, bool(drum), 127
            family, bucket = divmod(int(note_groups(row)[0]), 4)
            color = colors.notes[family][bucket].name()
            name = "Drums" if drum else gm_program_name(program)
            mark = "◆" if drum else "■"
            entries.append(f'<span style="color:{color}">{mark}</span>&nbsp;{html.escape(name)}')
        if len(key) > MAX_LEGEND_ENTRIES:
            entries.append(f"and {len(key) - MAX_LEGEND_ENTRIES} more")
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(entries) or "No notes yet")
