"""The open pieces as the window's menus see them: the piece shown, the list of variations, opening
MIDI files (from the menu or dropped on the window), the selected range as a primer, zoom.

The tabs themselves, the undo stack and the autosaved session belong to `Documents` and
`SessionKeeper`; this part is what the window asks of them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog

from composer.app import settings

MIDI_SUFFIXES = (".mid", ".midi", ".kar", ".rmi")


def is_openable(path: Path) -> bool:
    """A folder (for the library) or a MIDI file (for the piano roll)."""
    return path.is_dir() or path.suffix.lower() in MIDI_SUFFIXES


class Pieces(QObject):
    """Given the window's `documents` and `library`; says things through `window.tell` and
    `window.show_status`, and names what is open with `window.set_item_name`."""

    def __init__(self, window, *, documents, library) -> None:
        super().__init__(window)
        self.window = window
        self.documents, self.library = documents, library

    @property
    def variations(self) -> list[tuple]:
        """(NoteModel, PianoRollView) of every open piece, in tab order."""
        return [(d.model, self.documents.editor(d).view) for d in self.documents.documents]

    def current(self) -> tuple | None:
        """(NoteModel, PianoRollView) of the piece shown, or None."""
        editor = self.documents.current_editor()
        return (editor.document.model, editor.view) if editor else None

    def show_pieces(self, pieces, titles: list[str], text: str = "Open") -> list:
        """Open each piece as a new tab beside those already open (one undo step)."""
        documents = [
            self.documents.new_document(self.documents.titled(title), piece)
            for piece, title in zip(pieces, titles)
        ]
        self.documents.open(documents, text)
        for document in documents:
            self.documents.editor(document).view.framing.zoom_to_fit()
        return documents

    # --- opening --------------------------------------------------------------------------------
    def open_midi(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window,
            "Open a MIDI file",
            settings.read(settings.LAST_FOLDER),
            "MIDI files (*.mid *.midi *.kar *.rmi)",
        )
        if path:
            self.open_midi_file(Path(path))

    def open_midi_file(self, path: Path) -> bool:
        from composer.core.midi import read_midi
        from composer.core.midi.reader import MidiReadError

        try:
            piece = read_midi(path)
        except MidiReadError as exc:
            self.window.tell(str(exc))
            return False
        (document,) = self.show_pieces([piece], [path.name], f"Open {path.name}")
        document.source = Path(path).resolve()
        if made := _how_made(path):  # a piece Composer saved: how it was made, and Save goes back
            document.metadata = made
            document.export_path = document.source
        self.window.set_item_name(path.name)
        self.window.show_status(
            f"Opened {path.name}: {piece.note_count:,} notes, {piece.duration_seconds:.1f} s"
        )
        return True

    def open_paths(self, paths: list[Path]) -> None:
        """A dropped folder is read into the library; dropped MIDI files open in the piano roll."""
        folders = [p for p in paths if p.is_dir()]
        files = [p for p in paths if p.is_file() and p.suffix.lower() in MIDI_SUFFIXES]
        if folders:
            self.library.open_folder(folders[0])
        for path in files[:1]:
            self.open_midi_file(path)

    # --- the piece shown ------------------------------------------------------------------------
    def selected_piece(self):
        """The notes in the piano roll's selected time range, moved to start at 0, with the
        tempo and time signatures in force there (or None)."""
        from composer.core.midi.excerpt import excerpt

        found = self.current()
        if found is None or found[1].selection() is None:
            return None
        model, view = found
        return excerpt(model.to_piece(), *view.selection())

    def zoom_in(self) -> None:
        if found := self.current():
            found[1].zoom_in()

    def zoom_out(self) -> None:
        if found := self.current():
            found[1].zoom_out()

    def zoom_to_fit(self) -> None:
        if found := self.current():
            found[1].framing.zoom_to_fit()


def _how_made(path: Path) -> dict:
    """The metadata a MIDI file saved by Composer keeps (core/midi/metadata.py), or {}."""
    from composer.core.files.safe_files import MAX_MIDI_BYTES, read_regular
    from composer.core.midi.metadata import read_metadata

    try:
        return read_metadata(read_regular(path, MAX_MIDI_BYTES, "MIDI file"))
    except (OSError, ValueError):  # read a moment ago: gone or changed since, so nothing kept
        return {}
