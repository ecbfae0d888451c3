"""Exporting pieces as MIDI, and saving the ones with changes before they close.

Mixed into MainWindow (needs `documents`, `tabs`, `tell`, `ask`, `show_status`, `current`).
Plain methods, no Qt slot decorators: decorated slots in a mixin crashed PySide6 here.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from composer.app import settings


class ExportActions:
    def ask_save(self, document) -> str:
        """Save, discard or keep `document`, whose changes were not exported: "save" (after
        saving it), "discard" or "cancel" (also when saving did not happen). Tests replace
        `choose_save`."""
        answer = self.choose_save(document.title)
        if answer == "save":
            return "save" if self.save_document(document) else "cancel"
        return answer

    def choose_save(self, title: str) -> str:
        """Ask the user: "save", "discard" or "cancel"."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self,
            "Composer",
            f"{title} has changes that were not exported. Save it as a MIDI file?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def export_variation(self, index: int, path: Path, *, overwrite: bool = False) -> Path | None:
        """Write piece `index` to `path` as MIDI; it then counts as exported (None after
        saying why it could not be written)."""
        written = self.write_piece(index, path, overwrite=overwrite)
        if written is not None:
            self.documents.documents[index].mark_saved(written)
            self.show_status(f"Exported {written}")
        return written

    def write_piece(self, index: int, path: Path, *, overwrite: bool = False) -> Path | None:
        """Write piece `index` to `path` as MIDI, or say why not and return None."""
        from composer.core.midi import write_midi

        document = self.documents.documents[index]
        if document.regeneration is not None and document.regeneration.state == "choosing":
            self.tell(document.regeneration.busy_sentence())
            return None
        try:
            return write_midi(document.model.to_piece(), path, overwrite=overwrite)
        except FileExistsError as exc:
            self.tell(str(exc))
        except OSError as exc:
            self.tell(f"Could not write {path} ({exc.strerror or exc}); choose another folder.")
        return None

    def save_document(self, document) -> bool:
        """Export `document` where it was last exported, else where the user chooses; False
        when that did not happen."""
        index = self.documents.documents.index(document)
        if document.export_path is not None:
            return self.export_variation(index, document.export_path, overwrite=True) is not None
        self.tabs.setCurrentIndex(index)
        path = self.ask_save_path("Save MIDI", ".mid", "MIDI files (*.mid)")
        return path is not None and self.export_variation(index, path, overwrite=True) is not None

    def ask_save_path(self, title: str, suffix: str, file_filter: str) -> Path | None:
        """A file to save the piece shown in (the dialog asks before replacing one), or None
        after saying why when there is nothing to save."""
        found = self.current()
        if found is None or len(found[0]) == 0:
            self.tell("There is nothing to export yet; generate or open some music first.")
            return None
        document = self.documents.current()
        name = f"{Path(document.title).stem.replace(' ', '-').lower()}{suffix}"
        start = str(Path(settings.read(settings.LAST_FOLDER) or Path.home()) / name)
        path, _ = QFileDialog.getSaveFileName(self, title, start, file_filter)
        return Path(path) if path else None

    def export_current(self) -> None:
        if path := self.ask_save_path("Export MIDI", ".mid", "MIDI files (*.mid)"):
            self.export_variation(self.tabs.currentIndex(), path, overwrite=True)

    def export_all(self) -> None:
        if not any(len(model) for model, _ in self.variations):
            self.tell("There is nothing to export yet; generate some music first.")
            return
        folder = QFileDialog.getExistingDirectory(self, "Export all pieces into", str(Path.home()))
        if folder:
            self.export_all_to(Path(folder))

    def export_all_to(self, folder: Path, stem: str = "variation") -> list[Path]:
        targets = [folder / f"{stem}-{i + 1}.mid" for i in range(len(self.variations))]
        existing = [t for t in targets if t.exists()]
        if existing and not self.ask(
            f"{len(existing)} of these files already exist in {folder}, such as {existing[0].name}. Replace them?"
        ):
            return []
        return [
            p for i, t in enumerate(targets) if (p := self.export_variation(i, t, overwrite=True))
        ]
