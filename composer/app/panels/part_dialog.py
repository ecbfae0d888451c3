"""The Add a part dialog: which instrument the new part plays, chosen by name from the General
MIDI instruments grouped by family (drums first), as a musician finds them in a DAW, and the
range of notes it keeps to (the instrument's usual one until the musician changes it)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
)

from composer.app.panels.steering_box import NoteBox
from composer.core.midi.piece import GM_FAMILIES, gm_program_name, gm_usual_range

DRUMS = "drums"  # the combo's data for a drum part (programs are numbers)
#: The instrument offered first: a bass line is what a tune most often asks for.
DEFAULT_PROGRAM = 32


class PartDialog(QDialog):
    """Asks for the new part's instrument and range; `chosen(program, drums, lowest, highest)`
    (MIDI notes, inclusive; drums: the whole kit, 0-127) when the musician accepts."""

    chosen = Signal(int, bool, int, int)

    def __init__(self, where: str, parent=None, program: int | str = DEFAULT_PROGRAM):
        super().__init__(parent)
        self.setWindowTitle("Add a part")
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        text = QLabel(
            f"A new part that plays along with every track, in {where}, within the range "
            "below (its instrument's usual one unless you change it). The Steer box's key and "
            "grid apply to it.",
            self,
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        self.instrument = QComboBox(self)
        self.instrument.setAccessibleName("Instrument")
        model = QStandardItemModel(self.instrument)
        drums = QStandardItem("Drums")
        drums.setData(DRUMS, Qt.ItemDataRole.UserRole)
        model.appendRow(drums)
        for family_index, family in enumerate(GM_FAMILIES):
            header = QStandardItem(family)
            header.setEnabled(False)  # a heading, not an instrument
            font = header.font()
            font.setBold(True)
            header.setFont(font)
            model.appendRow(header)
            for number in range(family_index * 8, family_index * 8 + 8):
                item = QStandardItem(gm_program_name(number))
                item.setData(number, Qt.ItemDataRole.UserRole)
                model.appendRow(item)
        self.instrument.setModel(model)
        self.instrument.setMaxVisibleItems(20)
        layout.addWidget(self.instrument)
        self.lowest, self.highest = NoteBox(self), NoteBox(self)
        note_range = QHBoxLayout()
        note_range.addWidget(QLabel("Range", self))
        for box, name in ((self.lowest, "Lowest note"), (self.highest, "Highest note")):
            box.setRange(0, 127)
            box.setAccessibleName(name)
        note_range.addWidget(self.lowest, 1)
        note_range.addWidget(QLabel("to", self))
        note_range.addWidget(self.highest, 1)
        layout.addLayout(note_range)
        self.instrument.currentIndexChanged.connect(self._usual_range)
        self.select(program)
        self._usual_range()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Write the part")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def select(self, program: int | str) -> None:
        """Show `program` (or DRUMS) as the choice."""
        index = self.instrument.findData(program, Qt.ItemDataRole.UserRole)
        self.instrument.setCurrentIndex(max(index, 0))

    def _usual_range(self, *_) -> None:
        """The range boxes show the chosen instrument's usual range (drums: no range)."""
        data = self.instrument.currentData(Qt.ItemDataRole.UserRole)
        drums = data == DRUMS
        low, high = (0, 127) if drums or data is None else gm_usual_range(int(data))
        self.lowest.setValue(low)
        self.highest.setValue(high)
        for box in (self.lowest, self.highest):
            box.setEnabled(not drums)

    def accept(self) -> None:
        data = self.instrument.currentData(Qt.ItemDataRole.UserRole)
        low, high = sorted((self.lowest.value(), self.highest.value()))
        super().accept()
        if data == DRUMS:
            self.chosen.emit(0, True, 0, 127)
        else:
            self.chosen.emit(int(data), False, low, high)
