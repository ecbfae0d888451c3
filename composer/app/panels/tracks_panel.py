"""The Tracks panel beside the piano roll: one row per track of the piece shown, as in a DAW.

Each row shows the track's colour and name, its instrument (chosen by name from the General MIDI
families, drums as a kit), how many notes it has, and its Mute, Solo and Rewrite boxes. Clicking a
row makes it the active track (drawing and pasting go into it, Ctrl+A selects its notes); a
double click on the name renames it, a click on the instrument offers the others. Adding,
deleting, duplicating, renaming, a new instrument and moving notes between tracks are undo steps
(editing/track_edits.py); mute, solo and rewrite are not (piece/tracks.py says why).

The table is updated in place when only a box or a count changed, so that toggling Mute on a
piece of many tracks costs a few cells, not a new table (benchmarks/gui.py measures it).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from composer.app.editing import track_edits
from composer.app.editing.commands import TrackEdit
from composer.app.pianoroll.render import FAMILY_COLORS
from composer.core.midi.piece import GM_FAMILIES, gm_program_name

NAME, INSTRUMENT, NOTES, MUTE, SOLO, REWRITE = range(6)
HEADERS = ("Track", "Instrument", "Notes", "M", "S", "R")
HEADER_TIPS = (
    "The track's name (double-click to rename) and colour",
    "What the track plays: click to choose another instrument",
    "How many notes the track has",
    "Mute: not heard when playing or rendering audio",
    "Solo: only soloed tracks are heard",
    "Rewrite: Regenerate selection writes new music for ticked tracks and keeps the others "
    "as they are, for the model to play along with",
)
BOXES = {MUTE: "muted", SOLO: "solo", REWRITE: "rewrite"}
COUNT_DELAY_MS = 150  # note counts catch up once a drag pauses
INSTRUMENT_WIDTH = 130  # pixels: "▾ Acoustic Grand…" fits; the tooltip and the menu say the rest
MIN_WIDTH = 300
DRUM_SWATCH = "#9aa5b1"


def instrument_menu(parent, on_chosen) -> QMenu:
    """A menu of every General MIDI instrument by family, drums first as a kit; choosing one
    calls on_chosen(program, drum)."""
    menu = QMenu(parent)
    drums = menu.addAction("Drums (kit)")
    drums.triggered.connect(lambda: on_chosen(0, True))
    for family_index, family in enumerate(GM_FAMILIES):
        submenu = menu.addMenu(family)
        for program in range(family_index * 8, family_index * 8 + 8):
            action = submenu.addAction(gm_program_name(program))
            action.triggered.connect(lambda _=False, p=program: on_chosen(p, False))
    return menu


def swatch(track) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(DRUM_SWATCH if track.drum else FAMILY_COLORS[track.colour]))
    return QIcon(pixmap)


class TracksPanel(QWidget):
    """The tracks of the PieceDocument shown (set_document; None: no piece open)."""

    active_changed = Signal(int)
    busy_refused = Signal()  # a track edit asked for while the piece is being written

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = None
        self.table = QTableWidget(0, len(HEADERS), self)
        self.table.setAccessibleName("Tracks")
        self.table.setHorizontalHeaderLabels(HEADERS)
        for column, tip in enumerate(HEADER_TIPS):
            self.table.horizontalHeaderItem(column).setToolTip(tip)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(INSTRUMENT, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(INSTRUMENT, INSTRUMENT_WIDTH)  # long names are elided
        for column in (NOTES, MUTE, SOLO, REWRITE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setWordWrap(False)  # one line a track: long names are elided
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setMinimumWidth(MIN_WIDTH)
        self.add_button = QToolButton(self)
        self.add_button.setText("Add track")
        self.add_button.setToolTip("A new, empty track for an instrument you choose")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_button.setMenu(instrument_menu(self.add_button, self.add_track))
        self.duplicate_button = QToolButton(self)
        self.duplicate_button.setText("Duplicate")
        self.duplicate_button.setToolTip("A copy of the active track and its notes")
        self.duplicate_button.clicked.connect(lambda: self.duplicate_track(self._active()))
        self.delete_button = QToolButton(self)
        self.delete_button.setText("Delete")
        self.delete_button.setToolTip("Delete the active track and its notes (Ctrl+Z undoes it)")
        self.delete_button.clicked.connect(lambda: self.delete_track(self._active()))
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.add_button, self.duplicate_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.empty = QLabel("Open or generate a piece to see its tracks here.", self)
        self.empty.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        self._shown: tuple = ()  # the tracks the rows show
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(COUNT_DELAY_MS)
        self._counts_timer.timeout.connect(self.update_counts)
        self._connections: list = []  # (signal, slot) of the document shown
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._on_row_chosen)
        self.table.cellClicked.connect(self._on_cell_clicked)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.set_document(None)

    def set_document(self, document) -> None:
        """Show the tracks of `document` (a PieceDocument, or None)."""
        if document is self.document and document is not None:
            return
        for signal, slot in self._connections:
            signal.disconnect(slot)
        self._connections = []
        self.document = document
        if document is not None:
            model = document.model
            self._connections = [
                (model.tracks_changed, self.sync),
                (model.changed, self._counts_timer.start),
                (model.edited, self._counts_timer.start),
                (model.notes_added, self._counts_timer.start),
                (document.active_track_changed, self._show_active),
            ]
            for signal, slot in self._connections:
                signal.connect(slot)
        for widget in (self.table, self.add_button, self.duplicate_button, self.delete_button):
            widget.setVisible(document is not None)
        self.empty.setVisible(document is None)
        self._shown = ()
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        self.table.blockSignals(False)
        self.sync()

    # --- showing ------------------------------------------------------------------------------
    def sync(self) -> None:
        """Show the model's tracks: row by row where only some changed."""
        if self.document is None:
            return
        tracks = self.document.model.tracks
        self.table.blockSignals(True)
        try:
            if len(tracks) != self.table.rowCount():
                self.table.setRowCount(len(tracks))
                self._shown = (None,) * len(tracks)
            for row, (old, new) in enumerate(zip(self._shown, tracks)):
                if old != new:
                    self._show_row(row, old, new)
            self._shown = tuple(tracks)
        finally:
            self.table.blockSignals(False)
        self.update_counts()
        self._show_active()

    def _show_row(self, row: int, old, new) -> None:
        if old is None or (old.name, old.colour, old.drum) != (new.name, new.colour, new.drum):
            item = self._item(row, NAME, editable=True)
            item.setText(new.name)
            item.setIcon(swatch(new))
        if old is None or (old.program, old.drum) != (new.program, new.drum):
            item = self._item(row, INSTRUMENT)
            item.setText(f"▾ {new.instrument}")
            item.setToolTip(f"{new.instrument}: click to choose another instrument")
        if old is None:
            self._item(row, NOTES).setTextAlignment(
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            )
        for column, field in BOXES.items():
            if old is None or getattr(old, field) != getattr(new, field):
                item = self._item(row, column, checkable=True)
                on = getattr(new, field)
                item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def _item(self, row: int, column: int, editable=False, checkable=False) -> QTableWidgetItem:
        item = self.table.item(row, column)
        if item is None:
            item = QTableWidgetItem()
            flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            if editable:
                flags |= Qt.ItemFlag.ItemIsEditable
            if checkable:
                flags |= Qt.ItemFlag.ItemIsUserCheckable
            item.setFlags(flags)
            self.table.setItem(row, column, item)
        return item

    def update_counts(self) -> None:
        if self.document is None:
            return
        counts = self.document.model.track_counts()
        self.table.blockSignals(True)
        try:
            for row, count in enumerate(counts.tolist()):
                text = f"{count:,}"
                item = self._item(row, NOTES)
                if item.text() != text:
                    item.setText(text)
        finally:
            self.table.blockSignals(False)

    def _show_active(self) -> None:
        if self.document is None:
            return
        active = self.document.active_track
        self.table.blockSignals(True)
        try:
            if active is None:
                self.table.clearSelection()
            elif self.table.currentRow() != active or not self.table.selectedItems():
                self.table.selectRow(active)
        finally:
            self.table.blockSignals(False)
        has = active is not None
        self.duplicate_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    # --- what the musician does -----------------------------------------------------------------
    def _active(self) -> int | None:
        return None if self.document is None else self.document.active_track

    def _on_row_chosen(self) -> None:
        if self.document is None:
            return
        rows = {index.row() for index in self.table.selectedIndexes()}
        self.document.set_active_track(min(rows) if rows else None)
        if rows:
            self.active_changed.emit(min(rows))

    def _on_cell_clicked(self, row: int, column: int) -> None:
        if column == INSTRUMENT:
            rect = self.table.visualItemRect(self.table.item(row, column))
            menu = instrument_menu(self, lambda p, d: self.set_instrument(row, p, d))
            menu.popup(self.table.viewport().mapToGlobal(rect.bottomLeft()))
            self._menu = menu  # keep it alive while it is open

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self.document is None:
            return
        row, column = item.row(), item.column()
        tracks = self.document.model.tracks
        if row >= len(tracks):
            return
        if column == NAME:
            # After the item's editor has closed: the rename rebuilds the row it edits.
            name = item.text().strip()
            QTimer.singleShot(0, lambda: self._renamed(row, name))
        elif column in BOXES:
            self.set_box(row, BOXES[column], item.checkState() == Qt.CheckState.Checked)

    def _renamed(self, row: int, name: str) -> None:
        if self.document is None:
            return
        tracks = self.document.model.tracks
        if row < len(tracks) and name and name != tracks[row].name:
            self.rename_track(row, name)
        else:
            self.sync_row(row)  # an empty name: the old one back

    def sync_row(self, row: int) -> None:
        self._shown = self._shown[:row] + (None,) + self._shown[row + 1 :]
        self.sync()

    def set_box(self, row: int, field: str, on: bool) -> None:
        """Mute, solo or rewrite a track (not an undo step; the session keeps it)."""
        tracks = list(self.document.model.tracks)
        if getattr(tracks[row], field) != on:
            tracks[row] = replace(tracks[row], **{field: on})
            self.document.model.set_tracks(tracks)

    def _edit(self, text: str, edited) -> None:
        if self.document.busy:  # being generated or regenerated: no edits, the rows as they are
            self.busy_refused.emit()
            self._shown = (None,) * len(self._shown)
            self.sync()
            return
        rows, tracks, origin = edited
        self.document.push(TrackEdit(self.document, text, rows, tracks, origin))

    def add_track(self, program: int, drum: bool) -> None:
        model = self.document.model
        self._edit("Add a track", track_edits.add_track(model.notes, model.tracks, program, drum))
        self.document.set_active_track(len(model.tracks) - 1)

    def delete_track(self, row: int | None) -> None:
        if row is None or self.document.busy:
            return
        model = self.document.model
        name = model.tracks[row].name
        self._edit(
            f"Delete the track {name}", track_edits.delete_track(model.notes, model.tracks, row)
        )

    def duplicate_track(self, row: int | None) -> None:
        if row is None:
            return
        model = self.document.model
        name = model.tracks[row].name
        edited = track_edits.duplicate_track(model.notes, model.tracks, row)
        self._edit(f"Duplicate the track {name}", edited)
        self.document.set_active_track(row + 1)

    def rename_track(self, row: int, name: str) -> None:
        model = self.document.model
        self._edit("Rename a track", track_edits.rename_track(model.notes, model.tracks, row, name))

    def set_instrument(self, row: int, program: int, drum: bool) -> None:
        model = self.document.model
        if (model.tracks[row].program, model.tracks[row].drum) == (program, bool(drum)):
            return
        edited = track_edits.set_instrument(model.notes, model.tracks, row, program, drum)
        self._edit(f"Give {model.tracks[row].name} another instrument", edited)

    def move_selection_to(self, row: int) -> bool:
        """Move the selected notes into track `row`; False when no note is selected."""
        model = self.document.model
        indices = model.selected_indices()
        if not len(indices) or not 0 <= row < len(model.tracks):
            return False
        edited = track_edits.move_notes(model.notes, model.tracks, indices, row)
        if np.array_equal(edited[0], model.notes):
            return True
        self._edit(f"Move notes to {model.tracks[row].name}", edited)
        model.select(indices)
        return True

    def move_menu(self, parent) -> QMenu:
        """A menu of the tracks; choosing one moves the selected notes there."""
        menu = QMenu("Move selection to track", parent)
        active = self.document.active_track
        for row, track in enumerate(self.document.model.tracks):
            action = menu.addAction(swatch(track), f"{track.name} ({track.instrument})")
            action.triggered.connect(lambda _=False, r=row: self.move_selection_to(r))
            if row == active:
                menu.setActiveAction(action)
        return menu

    def _context_menu(self, point: QPoint) -> None:
        if self.document is None:
            return
        row = self.table.rowAt(point.y())
        menu = QMenu(self)
        if row >= 0:
            self.document.set_active_track(row)
            rename = QAction("Rename", menu)
            rename.triggered.connect(lambda: self.table.editItem(self.table.item(row, NAME)))
            menu.addAction(rename)
            instrument = instrument_menu(menu, lambda p, d: self.set_instrument(row, p, d))
            instrument.setTitle("Instrument")
            menu.addMenu(instrument)
            move = menu.addAction("Move selected notes here")
            move.setEnabled(bool(len(self.document.model.selected_indices())))
            move.triggered.connect(lambda: self.move_selection_to(row))
            menu.addAction("Duplicate", lambda: self.duplicate_track(row))
            menu.addAction("Delete", lambda: self.delete_track(row))
            menu.addSeparator()
        add = instrument_menu(menu, self.add_track)
        add.setTitle("Add track")
        menu.addMenu(add)
        menu.popup(self.table.viewport().mapToGlobal(point))
        self._menu = menu
