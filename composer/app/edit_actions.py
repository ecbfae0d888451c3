"""The window's Edit menu, edit toolbar and undo history: each item acts on the piece shown.

Undo and Redo go through the window's `regenerating` part first: while a Regenerate selection is
under way, Ctrl+Z restores the original bars (and undoes nothing else).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDockWidget,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolBar,
    QUndoView,
    QVBoxLayout,
)

from composer.app.editing import note_math

#: Gestures of the piano roll that are not menu items, for the shortcuts list.
ROLL_GESTURES = [
    ("Click, Shift/Ctrl+click", "Select a note, add it to the selection or take it out"),
    ("Drag on empty space", "Select the notes inside a rectangle"),
    ("Drag a note", "Move the selected notes (snapped to the grid; hold Alt not to snap)"),
    ("Drag a note's right end", "Change the length of the selected notes"),
    ("Double-click empty space", "Draw a note (the grid's length, the last velocity)"),
    ("Right-click a note", "Delete it"),
    ("Left / Right", "Move the selected notes by one grid step"),
    ("Shift+Left / Right", "Move the selected notes by a bar"),
    ("Up / Down", "Transpose the selected notes by a semitone"),
    ("Shift+Up / Down", "Transpose the selected notes by an octave"),
    ("Drag across the velocity lane", "Set how hard the notes under the pointer are played"),
    ("Click / drag on the ruler", "Move the playhead / select a range of bars"),
    ("Ctrl+wheel, Ctrl+Shift+wheel", "Zoom time, zoom pitch"),
    ("Wheel, Shift+wheel", "Scroll pitch, scroll time"),
]


class EditActions(QObject):
    """Adds Undo and Redo to the window's Edit menu, the edit toolbar and the History dock. Needs
    the window's `documents`, `menus`, `actions_by_name` and `docks`; says things through
    `window.show_status`."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.documents, self.menus = window.documents, window.menus
        self.actions_by_name, self.docks = window.actions_by_name, window.docks
        stack = self.documents.undo_stack
        menu = self.menus["Edit"]
        first = menu.actions()[0] if menu.actions() else None
        undo = stack.createUndoAction(window, "&Undo")
        undo.setShortcuts(QKeySequence.StandardKey.Undo)
        redo = stack.createRedoAction(window, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        # Through undo() and redo() here, which first end a Regenerate selection:
        # the stack's commands address rows that the alternatives shown have moved.
        undo.triggered.disconnect()
        undo.triggered.connect(self.undo)
        redo.triggered.disconnect()
        redo.triggered.connect(self.redo)
        menu.insertActions(first, [undo, redo])
        menu.insertSeparator(first)
        self.actions_by_name["undo"], self.actions_by_name["redo"] = undo, redo
        self.actions_by_name["draw_tool"].toggled.connect(self._set_draw_tool)
        self._build_edit_toolbar()
        history = QDockWidget("History", window)
        history.setObjectName("history-dock")
        history.setWidget(QUndoView(stack))
        history.widget().setEmptyLabel("Nothing done yet")
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, history)
        history.hide()
        self.menus["View"].addAction(history.toggleViewAction())
        self.docks["history"] = history

    def _build_edit_toolbar(self) -> None:
        settings = self.documents.settings
        bar = QToolBar("Edit")
        bar.setObjectName("edit-toolbar")
        bar.addAction(self.actions_by_name["draw_tool"])
        bar.addWidget(QLabel(" Grid "))
        self.grid_box = QComboBox()
        for name in note_math.GRIDS:
            self.grid_box.addItem(name)
        self.grid_box.setCurrentText(settings.grid)
        self.grid_box.setToolTip(
            "Where notes land when you draw, move, lengthen or quantize them "
            "(triplets split a beat in three). Hold Alt while dragging to place freely."
        )
        self.grid_box.currentTextChanged.connect(lambda name: settings.update(grid=name))
        bar.addWidget(self.grid_box)
        self.snap_box = QCheckBox("Snap")
        self.snap_box.setChecked(settings.snap)
        self.snap_box.setToolTip("Snap notes to the grid while editing")
        self.snap_box.toggled.connect(lambda on: settings.update(snap=on))
        bar.addWidget(self.snap_box)
        bar.addAction(self.actions_by_name["quantize_notes"])
        self.strength_box = QSpinBox()
        self.strength_box.setRange(0, 100)
        self.strength_box.setSuffix(" %")
        self.strength_box.setValue(round(settings.quantize_strength * 100))
        self.strength_box.setToolTip(
            "Quantize strength: how far Quantize (Q) moves notes towards the grid, "
            "100% onto it, 50% half way (keeps some of the human feel)"
        )
        self.strength_box.valueChanged.connect(lambda v: settings.update(quantize_strength=v / 100))
        bar.addWidget(self.strength_box)
        self.window.addToolBar(bar)
        self.edit_toolbar = bar

    def _set_draw_tool(self, on: bool) -> None:
        self.documents.settings.update(tool="draw" if on else "select")
        self.window.show_status(
            "Draw: click to draw a note, drag to set its length."
            if on
            else "Select: click or drag to select notes, drag them to move."
        )

    # --- the menu items -------------------------------------------------------------------------
    def _editor(self):
        """The NoteEditor of the piece shown, or None (after saying why)."""
        editor = self.documents.current_editor()
        if editor is None:
            self.window.show_status("Open or generate a piece first.")
            return None
        if editor.document.regeneration is not None:
            self.window.show_status(editor.document.regeneration.busy_sentence())
            return None
        if editor.document.busy:
            self.window.show_status("This piece is still being generated; edit it when it is done.")
            return None
        return editor.note_editor

    def undo(self) -> None:
        if not self.window.regenerating.regeneration_takes_undo():
            self.documents.undo_stack.undo()

    def redo(self) -> None:
        if not self.window.regenerating.regeneration_takes_redo():
            self.documents.undo_stack.redo()

    def select_all_notes(self) -> None:
        if editor := self._editor():
            editor.select_all()

    def copy_notes(self) -> None:
        if (editor := self._editor()) and not editor.copy():
            self.window.show_status("Select some notes to copy first.")

    def cut_notes(self) -> None:
        if (editor := self._editor()) and not editor.cut():
            self.window.show_status("Select some notes to cut first.")

    def paste_notes(self) -> None:
        if not (editor := self._editor()):
            return
        view = self.documents.current_editor().view
        at = int(note_math.snap(view.playhead() or 0, editor.step()))
        if not editor.paste(at):
            self.window.show_status("There are no notes on the clipboard; copy some first.")

    def duplicate_notes(self) -> None:
        if editor := self._editor():
            editor.duplicate()

    def delete_notes(self) -> None:
        if editor := self._editor():
            editor.delete()

    def transpose_up(self) -> None:
        if editor := self._editor():
            editor.transpose(1)

    def transpose_down(self) -> None:
        if editor := self._editor():
            editor.transpose(-1)

    def octave_up(self) -> None:
        if editor := self._editor():
            editor.transpose(12)

    def octave_down(self) -> None:
        if editor := self._editor():
            editor.transpose(-12)

    def quantize_notes(self) -> None:
        if editor := self._editor():
            editor.quantize()

    def move_to_track(self) -> None:
        """A menu of the piece's tracks, under the pointer: the selected notes go to the one
        chosen (one undo step)."""
        if not (editor := self._editor()):
            return
        if not len(editor.model.selected_indices()):
            self.window.show_status("Select the notes to move first.")
            return
        from PySide6.QtGui import QCursor

        self.track_menu = self.window.tracks.move_menu(self.window)
        self.track_menu.popup(QCursor.pos())

    def draw_tool(self) -> None:
        pass  # checkable: handled through toggled (_set_draw_tool)

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.actions_by_name, self.window).exec()


class ShortcutsDialog(QDialog):
    """Help → Keyboard shortcuts: every menu item's keys and the piano roll's gestures."""

    def __init__(self, actions: dict[str, QAction], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        # Undo and redo name the step they would take ("Undo Move notes"): not here.
        fixed = {"undo": "Undo", "redo": "Redo"}
        rows = [
            (", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in a.shortcuts()),
             fixed.get(name, a.text().replace("&", "")))
            for name, a in actions.items()
            if a.shortcuts()
        ]  # fmt: skip
        rows += ROLL_GESTURES
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Keys or gesture", "What it does"])
        for row, (keys, text) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(text))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table = table
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        self.resize(640, 560)
