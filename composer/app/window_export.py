"""Exporting pieces as MIDI and as WAV audio, and saving the ones with changes before they close
(Save / Discard / Cancel).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog

from composer.app import settings
from composer.app.regeneration import RegenerationState
from composer.app.workers import UserError, Worker


class Exporting(QObject):
    """Needs the window's `documents`, `tabs`, `threads`, its `pieces` part (the piece shown) and
    `playback` (the soundfont of WAV export); asks through `window.choose_save`, `window.ask`
    and `window.tell`, which tests replace."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.documents, self.tabs, self.threads = window.documents, window.tabs, window.threads
        self.pieces, self.playback = window.pieces, window.playback

    def ask_save(self, document) -> str:
        """Save, discard or keep `document`, whose changes were not exported: "save" (after
        saving it), "discard" or "cancel" (also when saving did not happen)."""
        answer = self.window.choose_save(document.title)
        if answer == "save":
            return "save" if self.save_document(document) else "cancel"
        return answer

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
        found = self.pieces.current()
        if found is None or len(found[0]) == 0:
            self.window.tell("There is nothing to export yet; generate or open some music first.")
            return None
        document = self.documents.current()
        name = f"{Path(document.title).stem.replace(' ', '-').lower()}{suffix}"
        start = str(Path(settings.read(settings.LAST_FOLDER) or Path.home()) / name)
        path, _ = QFileDialog.getSaveFileName(self.window, title, start, file_filter)
        return Path(path) if path else None

    # --- MIDI -----------------------------------------------------------------------------------
    def export_variation(self, index: int, path: Path, *, overwrite: bool = False) -> Path | None:
        """Write piece `index` to `path` as MIDI; it then counts as exported (None after
        saying why it could not be written)."""
        written = self.write_piece(index, path, overwrite=overwrite)
        if written is not None:
            self.documents.documents[index].mark_saved(written)
            self.window.show_status(f"Exported {written}")
        return written

    def write_piece(self, index: int, path: Path, *, overwrite: bool = False) -> Path | None:
        """Write piece `index` to `path` as MIDI, or say why not and return None."""
        from composer.core.errors import SettingsError
        from composer.core.midi import write_midi

        document = self.documents.documents[index]
        if (
            document.regeneration is not None
            and document.regeneration.state == RegenerationState.CHOOSING
        ):
            self.window.tell(document.regeneration.busy_sentence())
            return None
        try:
            return write_midi(document.model.to_piece(), path, overwrite=overwrite)
        except FileExistsError as exc:
            self.window.tell(str(exc))
        except SettingsError as exc:  # a piece MIDI cannot hold
            self.window.tell(f"{exc}.")
        except OSError as exc:
            self.window.tell(
                f"Could not write {path} ({exc.strerror or exc}); choose another folder."
            )
        return None

    def export_current(self) -> None:
        if path := self.ask_save_path("Export MIDI", ".mid", "MIDI files (*.mid)"):
            self.export_variation(self.tabs.currentIndex(), path, overwrite=True)

    def export_all(self) -> None:
        if not any(len(model) for model, _ in self.pieces.variations):
            self.window.tell("There is nothing to export yet; generate some music first.")
            return
        folder = QFileDialog.getExistingDirectory(
            self.window, "Export all pieces into", str(Path.home())
        )
        if folder:
            self.export_all_to(Path(folder))

    def export_all_to(self, folder: Path, stem: str = "variation") -> list[Path]:
        targets = [folder / f"{stem}-{i + 1}.mid" for i in range(len(self.pieces.variations))]
        existing = [t for t in targets if t.exists()]
        if existing and not self.window.ask(
            f"{len(existing)} of these files already exist in {folder}, such as {existing[0].name}. Replace them?"
        ):
            return []
        return [
            p for i, t in enumerate(targets) if (p := self.export_variation(i, t, overwrite=True))
        ]

    # --- WAV ------------------------------------------------------------------------------------
    def export_wav(self) -> None:
        if path := self.ask_save_path("Export WAV", ".wav", "WAV audio (*.wav)"):
            self.export_wav_to(self.tabs.currentIndex(), path, overwrite=True)

    def export_wav_to(self, index: int, path: Path, *, overwrite: bool = False) -> Worker:
        """Render variation `index` as it is heard (muted tracks left out, soloed ones alone)
        and write it to `path` in the background."""
        piece = self.pieces.variations[index][0].to_piece(audible_only=True)
        soundfont = self.playback.soundfont
        worker = Worker(lambda w: _write_wav(w, piece, soundfont, path, overwrite))
        worker.succeeded.connect(self.window.show_status)
        worker.failed.connect(self._on_export_failed)
        self.window.show_status(f"Rendering {path.name}…")
        return self.threads.start(worker)

    @Slot(str, bool)
    def _on_export_failed(self, message: str, unexpected: bool) -> None:
        self.window.tell(message)


def _write_wav(worker, piece, soundfont, path: Path, overwrite: bool) -> str:
    from composer.core.audio import AudioError, render, write_wav

    if path.exists() and not overwrite:
        raise UserError(f"{path} already exists; choose another name")
    try:
        audio = render(piece, soundfont, should_stop=lambda: worker.stop_requested)
        write_wav(audio.samples, audio.sample_rate, path, overwrite=overwrite)
    except (AudioError, OSError) as exc:
        raise UserError(f"Could not write {path}: {exc}") from None
    return f"Exported {path} ({audio.seconds:.1f} s)" + (f"; {audio.note}" if audio.note else "")
