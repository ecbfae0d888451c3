"""The Add a part dialog: which instrument the new part plays, chosen by name from the General
MIDI instruments grouped by family (drums first), as a musician finds them in a DAW."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout

from composer.core.midi.piece import GM_FAMILIES, gm_program_name

DRUMS = "drums"  # the combo's data for a drum part (programs are numbers)
#: The instrument offered first: a bass line is what a tune most often asks for.
DEFAULT_PROGRAM = 32


class PartDialog(QDialog):
    """Asks for the new part's instrument; `chosen(program, drums)` when the musician accepts."""

    chosen = Signal(int, bool)

    def __init__(self, where: str, parent=None, program: int | str = DEFAULT_PROGRAM):
        super().__init__(parent)
        self.setWindowTitle("Add a part")
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        text = QLabel(
            f"A new part that plays along with every track, in {where}. The Steer box's key, "
            "range and grid apply to it; without a range it keeps to its instrument's usual one.",
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
        self.select(program)
        layout.addWidget(self.instrument)
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

    def accept(self) -> None:
        data = self.instrument.currentData(Qt.ItemDataRole.UserRole)
        super().accept()
        if data == DRUMS:
            self.chosen.emit(0, True)
        else:
            self.chosen.emit(int(data), False)
