"""Every menu item and shortcut in one table: name, text, shortcuts, menu, toolbar, tip.

The window creates a QAction per row, then connects it to the method of the same name on the
part of the window that does it (see `connect_actions`).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit


@dataclass(frozen=True)
class ActionSpec:
    name: str  # also the method it calls, on the window or one of its parts
    text: str
    shortcuts: tuple = ()
    menu: str = "File"
    toolbar: bool = False
    tip: str = ""
    checkable: bool = False
    short: str = ""  # the toolbar's shorter label, when the menu's text is long


ACTIONS = [
    ActionSpec(
        "open_folder",
        "&Open folder…",
        (QKeySequence.StandardKey.Open,),
        "File",
        True,
        "Read a folder of MIDI files to learn from",
    ),
    ActionSpec(
        "open_midi",
        "Open &MIDI file…",
        ("Ctrl+Shift+O",),
        "File",
        False,
        "Show a MIDI file in the piano roll",
    ),
    ActionSpec(
        "save",
        "&Save",
        (QKeySequence.StandardKey.Save,),
        "File",
        False,
        "Save the piece shown as a MIDI file that keeps how it was made",
    ),
    ActionSpec(
        "save_as",
        "Save &as…",
        ("Ctrl+Shift+S",),
        "File",
        False,
        "Save the piece shown under another name",
    ),
    ActionSpec(
        "save_all",
        "Save a&ll",
        ("Ctrl+Alt+S",),
        "File",
        False,
        "Save every piece with changes",
    ),
    ActionSpec(
        "export_current",
        "&Export MIDI…",
        ("Ctrl+E",),
        "File",
        True,
        "Save the variation shown as a MIDI file",
    ),
    ActionSpec(
        "export_all",
        "Export &all variations…",
        ("Ctrl+Shift+E",),
        "File",
        False,
        "Save every variation as MIDI files",
    ),
    ActionSpec(
        "export_wav",
        "Export &WAV…",
        ("Ctrl+Shift+W",),
        "File",
        False,
        "Save the variation shown as audio",
    ),
    ActionSpec("quit", "&Quit", (QKeySequence.StandardKey.Quit,), "File"),
    ActionSpec(
        "select_all_notes",
        "Select &all notes",
        (QKeySequence.StandardKey.SelectAll,),
        "Edit",
        False,
        "Select every note of the piece shown",
    ),
    ActionSpec("cut_notes", "Cu&t", (QKeySequence.StandardKey.Cut,), "Edit"),
    ActionSpec("copy_notes", "&Copy", (QKeySequence.StandardKey.Copy,), "Edit"),
    ActionSpec(
        "paste_notes",
        "&Paste",
        (QKeySequence.StandardKey.Paste,),
        "Edit",
        False,
        "Paste notes at the playhead",
    ),
    ActionSpec(
        "duplicate_notes",
        "D&uplicate",
        ("Ctrl+D",),
        "Edit",
        False,
        "Copy the selected notes right after themselves",
    ),
    ActionSpec("delete_notes", "&Delete", ("Delete", "Backspace"), "Edit"),
    ActionSpec(
        "transpose_up",
        "Transpose up a semitone",
        (),
        "Edit",
        False,
        "Up arrow in the piano roll; Shift+Up for an octave",
    ),
    ActionSpec(
        "transpose_down",
        "Transpose down a semitone",
        (),
        "Edit",
        False,
        "Down arrow in the piano roll; Shift+Down for an octave",
    ),
    ActionSpec("octave_up", "Transpose up an octave", (), "Edit"),
    ActionSpec("octave_down", "Transpose down an octave", (), "Edit"),
    ActionSpec(
        "quantize_notes",
        "&Quantize to the grid",
        ("Q",),
        "Edit",
        False,
        "Move the selected notes (the active track's, or all, when none is selected) towards "
        "the grid by the strength set",
        short="Quantize",
    ),
    ActionSpec(
        "move_to_track",
        "&Move selection to track…",
        ("Ctrl+M",),
        "Edit",
        False,
        "Put the selected notes in another track: they take its instrument",
    ),
    ActionSpec(
        "draw_tool",
        "Dra&w notes",
        ("B",),
        "Edit",
        False,
        "Pencil: click to draw a note, drag to set its length (also: double-click)",
        True,
        short="Draw",
    ),
    ActionSpec(
        "generate",
        "&Generate",
        ("Ctrl+G", "Ctrl+Return"),
        "Music",
        True,
        "Generate new music with the chosen model",
    ),
    ActionSpec("stop_generating", "&Stop generating", ("Esc",), "Music", False, short="Stop"),
    ActionSpec(
        "regenerate_selection",
        "&Regenerate selection",
        ("Ctrl+R",),
        "Music",
        False,
        "Write new music for the bars selected on the ruler, keeping everything around them",
    ),
    ActionSpec(
        "add_part",
        "Add a &part…",
        ("Ctrl+Shift+R",),
        "Music",
        False,
        "Write a new part that plays along with the piece (in the bars selected on the ruler, "
        "or all of it), in an instrument you choose",
    ),
    ActionSpec(
        "previous_alternative",
        "&Previous alternative",
        ("Shift+Tab", "Left"),
        "Music",
        False,
        "Show the previous new version of the regenerated bars",
        short="◀ Previous",
    ),
    ActionSpec(
        "next_alternative",
        "&Next alternative",
        ("Tab", "Right"),
        "Music",
        False,
        "Show the next new version of the regenerated bars",
        short="Next ▶",
    ),
    ActionSpec(
        "keep_alternative",
        "&Keep this alternative",
        ("Return", "Enter"),
        "Music",
        False,
        "Make the version shown part of the piece (Ctrl+Z gives the original back)",
        short="Keep",
    ),
    ActionSpec(
        "restore_original",
        "Restore the &original",
        ("Esc",),
        "Music",
        False,
        "Put the bars back as they were before regenerating",
        short="Restore original",
    ),
    ActionSpec("start_training", "Start &training", ("Ctrl+T",), "Music", False),
    ActionSpec(
        "evaluate_model",
        "&Evaluate the model…",
        ("Ctrl+Shift+V",),
        "Music",
        False,
        "Measure the chosen model: likelihood, baseline, statistics, copying",
    ),
    ActionSpec(
        "play_pause",
        "&Play / Pause",
        ("Space",),
        "Playback",
        False,  # on the transport bar
        "Play from the playhead, or the selected range",
    ),
    ActionSpec("stop_playback", "&Stop", ("Shift+Space",), "Playback", False),
    ActionSpec(
        "loop_selection",
        "&Loop the selection",
        ("Ctrl+L",),
        "Playback",
        False,
        "Play the selected range again and again",
        True,
        short="Loop",
    ),
    ActionSpec(
        "choose_soundfont",
        "Sound&font…",
        (),
        "Playback",
        False,
        "Choose a General MIDI .sf2 soundfont for playback and WAV export",
    ),
    ActionSpec("zoom_in", "Zoom &in", (QKeySequence.StandardKey.ZoomIn,), "View"),
    ActionSpec("zoom_out", "Zoom &out", (QKeySequence.StandardKey.ZoomOut,), "View"),
    ActionSpec("zoom_to_fit", "Zoom to &fit", ("Ctrl+0",), "View"),
    ActionSpec(
        "reset_panels",
        "&Reset panels to defaults",
        (),
        "View",
        False,
        "The model, Steer box, length of training and grid as on a first start",
    ),
    ActionSpec(
        "show_shortcuts",
        "&Keyboard shortcuts",
        (QKeySequence.StandardKey.HelpContents, "Ctrl+/"),
        "Help",
    ),
    ActionSpec("about", "&About Composer", (), "Help"),
]


def make_actions(window) -> dict[str, QAction]:
    """QActions for ACTIONS, added to the window's menus and toolbar (not yet connected)."""
    actions, menus = {}, {}
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main-toolbar")  # so that saveState can restore it
    for spec in ACTIONS:
        action = QAction(spec.text, window)
        action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
        if spec.tip:
            action.setStatusTip(spec.tip)
            action.setToolTip(spec.tip)
        action.setCheckable(spec.checkable)
        if spec.short:
            action.setIconText(spec.short)
        if spec.menu not in menus:
            menus[spec.menu] = window.menuBar().addMenu(f"&{spec.menu}")
        menus[spec.menu].addAction(action)
        if spec.toolbar:
            toolbar.addAction(action)
        actions[spec.name] = action
    window.toolbar = toolbar
    window.menus = menus
    return actions


def connect_actions(actions: dict[str, QAction], parts) -> None:
    """Connect each action that is not checkable to the method of its name on the first of
    `parts` (the window, then its parts) that has one."""
    for spec in ACTIONS:
        if spec.checkable:
            continue
        owner = next((part for part in parts if hasattr(part, spec.name)), None)
        if owner is None:
            raise AttributeError(f"no part of the window does {spec.name!r}")
        actions[spec.name].triggered.connect(getattr(owner, spec.name))


class TextFieldShortcuts(QObject):
    """Shortcuts of the window that a text field would take for itself: on X11, Ctrl+E moves a
    line edit's cursor to the end (an Emacs key), so Export MIDI did nothing while the Steer
    box's instruments field had the focus. For these actions no text field claims the key.

    The filter sits on a text field once it takes the focus, not on the whole application,
    where every event of every widget (each paint, each mouse move) would pass through it."""

    def __init__(self, window, names: tuple[str, ...]) -> None:
        super().__init__(window)
        self.sequences = [
            sequence for name in names for sequence in window.actions_by_name[name].shortcuts()
        ]
        QApplication.instance().focusChanged.connect(self._watch)

    def _watch(self, _old, new) -> None:
        if isinstance(new, (QLineEdit, QAbstractSpinBox)):
            new.installEventFilter(self)  # installing again moves it, never doubles it

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() != QEvent.Type.ShortcutOverride:
            return False
        pressed = QKeySequence(event.keyCombination())
        exact = QKeySequence.SequenceMatch.ExactMatch
        # Filtered out unaccepted: the field does not claim the key, the window's shortcut runs.
        return any(pressed.matches(s) == exact for s in self.sequences)
